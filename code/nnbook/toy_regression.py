"""The models-and-layers walk-through's toy problem, made once for both frameworks.

Five inputs, five true weights 0, 1, 2, 3, 4 and no bias, 32 samples drawn uniformly
from [0, 1): small enough that full-batch gradient descent at learning rate 0.05 for
1,001 iterations recovers the weights, so every model of the walk-through (a plain
class, a module, `fit`, stacked and lazy layers, activations) can be trained on it and
judged by how close it gets to the known answer. NumPy makes the data so that both
frameworks train on the very same numbers.
"""

from __future__ import annotations

import numpy as np

from nnbook import checks

__all__ = [
    "ITERATIONS",
    "LEARNING_RATE",
    "N_INPUTS",
    "N_SAMPLES",
    "PRINT_EVERY",
    "TRUE_WEIGHTS",
    "make_data",
]

N_INPUTS, N_SAMPLES = 5, 32
TRUE_WEIGHTS = np.arange(N_INPUTS, dtype=np.float32)[:, None]  # (5, 1): 0, 1, 2, 3, 4
LEARNING_RATE = 0.05  # full-batch gradient descent
ITERATIONS = 1001  # 0, 1, ..., 1000: the loss is printed at every PRINT_EVERY-th
PRINT_EVERY = 200


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [0, 1) of shape (32, 5); y = x @ TRUE_WEIGHTS of shape (32, 1)."""
    seed = checks.non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(N_SAMPLES, N_INPUTS)).astype(np.float32)  # (32, 5)
    y = x @ TRUE_WEIGHTS  # (32, 1): no noise, no bias
    return x, y
