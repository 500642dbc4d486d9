"""Fixed seeds, so two builds print the same numbers."""

from __future__ import annotations

import random
import sys

import numpy as np

from nnbook import checks


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and whichever of PyTorch / TensorFlow this process has
    imported.

    For TensorFlow it also switches on deterministic ops: seeds fix the random
    draws, but some of its kernels add in an order that changes from run to run,
    and a ResNet trained twice from the same seed ended a few 1e-5 apart after one
    epoch. PyTorch's CPU kernels are deterministic as they are."""
    seed = checks.non_negative_int("seed", seed)
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)  # seeds every device, CUDA included
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        tf.keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
    return seed
