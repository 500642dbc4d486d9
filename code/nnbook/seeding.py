"""Fixed seeds, so two builds print the same numbers."""

from __future__ import annotations

import random
import sys

import numpy as np

from nnbook import checks


def seed_everything(seed: int = 0) -> int:
    """Seed Python, NumPy and whichever of PyTorch / TensorFlow this process has
    imported."""
    seed = checks.non_negative_int("seed", seed)
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)  # seeds every device, CUDA included
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].keras.utils.set_random_seed(seed)
    return seed
