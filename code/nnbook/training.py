"""What both frameworks' CIFAR-10 classifier training shares: statistics and draws.

Both `nnbook.torch.training` and `nnbook.tf.training` take the same random draws from
here (batch order, crop offsets, flips), so the two tabs of a chapter train on exactly
the same batches. The schedule is in `nnbook.schedules`, the record and the loop's
bookkeeping in `nnbook.history`.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    """One epoch's random choices: batch order, crop offsets (dy, dx) in
    [0, 2·padding], flips."""

    order: np.ndarray  # (N,) permutation of the training set
    offsets: np.ndarray  # (N, 2) int32, indexed like `order`
    flips: np.ndarray  # (N,) bool, indexed like `order`

    def batches(self, batch_size: int):
        """(indices, offsets, flips) per batch; the last, smaller batch is dropped
        (BatchNorm likes full ones)."""
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
        # the centre crop is the image itself
        offsets = np.full((n, 2), CROP_PADDING, dtype=np.int32)
        flips = np.zeros(n, dtype=bool)
    return EpochDraws(order, offsets, flips)


def every_batch(
    n: int, *, epochs: int, batch_size: int, seed: int, augment: bool
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(indices, offsets, flips) of every batch of every epoch, in training order; each
    epoch's draws are made when its first batch is asked for."""
    for epoch in range(epochs):
        draws = epoch_draws(n, seed=seed, epoch=epoch, augment=augment)
        yield from draws.batches(batch_size)


def check_fit_arguments(
    train, test, epochs, batch_size, peak_lr, weight_decay, augment=True, seed=0
) -> tuple[int, int, float, float, bool, int]:
    """The checks both frameworks' `fit_classifier` make before training; returns
    (epochs, batch_size, peak_lr, weight_decay, augment, seed) as Python values."""
    for name, split in (("train", train), ("test", test)):
        checks.images_and_labels(name, split)
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    n_train = len(train[0])
    checks.require(
        "batch_size",
        batch_size <= n_train,
        f"at most the {n_train} training images",
        batch_size,
    )
    peak_lr = checks.positive_float("peak_lr", peak_lr)
    weight_decay = checks.non_negative_number("weight_decay", weight_decay)
    augment = checks.boolean("augment", augment)
    seed = checks.non_negative_int("seed", seed)
    return epochs, batch_size, peak_lr, weight_decay, augment, seed


def random_subset(split, n: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` images and labels drawn without replacement (the JPEG stand-in is stored
    sorted by class)."""
    x, y = checks.images_and_labels("split", split)
    n = checks.integer("n", n, 1, len(x))
    seed = checks.non_negative_int("seed", seed)
    chosen = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
    return x[chosen], y[chosen]
