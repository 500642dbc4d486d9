"""What both frameworks' CIFAR-10 classifier training shares: statistics and draws.

Both `nnbook.torch.training` and `nnbook.tf.training` take the same random draws from
here (batch order, crop offsets, flips), so the two tabs of a chapter train on exactly
the same batches. The schedule is in `nnbook.schedules`, the record in `nnbook.history`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks

# Per-channel statistics of the CIFAR-10 training images (RGB, on the 0..1 scale).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
# Random crops are taken from the image zero-padded by this many pixels.
CROP_PADDING = 4


@dataclass
class EpochDraws:
    """One epoch's random choices: batch order, crop offsets (dy, dx) in [0, 2·padding], flips."""

    order: np.ndarray  # (N,) permutation of the training set
    offsets: np.ndarray  # (N, 2) int32, indexed like `order`
    flips: np.ndarray  # (N,) bool, indexed like `order`

    def batches(self, batch_size: int):
        """(indices, offsets, flips) per batch; the last, smaller batch is dropped (BatchNorm likes full ones)."""
        for start in range(0, len(self.order) - batch_size + 1, batch_size):
            batch = slice(start, start + batch_size)
            yield self.order[batch], self.offsets[batch], self.flips[batch]


def epoch_draws(n: int, *, seed: int, epoch: int, augment: bool) -> EpochDraws:
    """The same draws for both frameworks, from NumPy, seeded by (seed, epoch)."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n)
    if augment:
        offsets = rng.integers(0, 2 * CROP_PADDING + 1, size=(n, 2)).astype(np.int32)
        flips = rng.random(n) < 0.5
    else:
        offsets = np.full(
            (n, 2), CROP_PADDING, dtype=np.int32
        )  # the centre crop is the image itself
        flips = np.zeros(n, dtype=bool)
    return EpochDraws(order, offsets, flips)


def check_fit_arguments(train, test, epochs, batch_size, peak_lr, weight_decay) -> None:
    """The checks both frameworks' `fit_classifier` make before training."""
    for name, split in (("train", train), ("test", test)):
        check_images(name, split)
    checks.positive_int("epochs", epochs)
    checks.positive_int("batch_size", batch_size)
    if batch_size > len(train[0]):
        raise ValueError(
            f"batch_size: expected at most the {len(train[0])} training images, got {batch_size}"
        )
    checks.positive_float("peak_lr", peak_lr)
    if (
        isinstance(weight_decay, bool)
        or not isinstance(weight_decay, (int, float))
        or weight_decay < 0
    ):
        raise ValueError(
            f"weight_decay: expected a non-negative number, got {weight_decay!r}"
        )


def check_images(name: str, split) -> None:
    """`split` must be (uint8 images (N, H, W, 3), integer labels (N,))."""
    if not isinstance(split, (tuple, list)) or len(split) != 2:
        raise ValueError(
            f"{name}: expected a pair (images, labels), got {type(split).__name__}"
        )
    x, y = (np.asarray(a) for a in split)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(
            f"{name}: expected uint8 images of shape (N, H, W, 3), got {x.dtype} {x.shape}"
        )
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"{name}: expected integer labels of shape ({len(x)},), got {y.dtype} {y.shape}"
        )


def random_subset(split, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` images and labels drawn without replacement (the JPEG stand-in is stored sorted by class)."""
    check_images("split", split)
    x, y = split
    if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= len(x):
        raise ValueError(f"n: expected an int in [1, {len(x)}], got {n!r}")
    chosen = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
    return np.asarray(x)[chosen], np.asarray(y)[chosen]
