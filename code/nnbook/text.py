"""Character-level text for the chapter "A mini decoder-only transformer", in NumPy.

Both `nnbook.torch.transformer` and `nnbook.tf.transformer` take their vocabulary,
their train / validation split and their batches from here, so the two tabs of the
chapter train on exactly the same windows of text in the same order. Shapes in
comments: B is the batch size, T the context (the window length).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from . import checks

__all__ = [
    "CharVocab",
    "train_val_split",
    "windows_per_epoch",
    "epoch_batches",
    "eval_windows",
]


# ------------------------------------------------------------------------ characters


@dataclass(frozen=True)
class CharVocab:
    """The characters of a text, sorted: character i has id i."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        if not isinstance(text, str) or not text:
            raise ValueError(f"text: expected a non-empty str, got {text!r:.40}")
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:  # str of length N -> (N,) int64
        table = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - table.keys())
        if unknown:
            raise ValueError(
                f"text: expected only characters of the vocabulary, got {unknown[:5]!r}"
            )
        return np.array([table[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:  # (N,) ints -> str of length N
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and (ids.min() < 0 or ids.max() >= self.size)):
            raise ValueError(
                f"ids: expected a 1-D sequence of ids in [0, {self.size}), got shape {ids.shape}"
            )
        return "".join(self.chars[i] for i in ids)


def train_val_split(
    ids: np.ndarray, train_fraction: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """The first `train_fraction` of the tokens for training, the rest (the end of the text) for validation."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.size < 2:
        raise ValueError(
            f"ids: expected a 1-D array of at least 2 tokens, got shape {ids.shape}"
        )
    if (
        isinstance(train_fraction, bool)
        or not isinstance(train_fraction, float)
        or not 0 < train_fraction < 1
    ):
        raise ValueError(
            f"train_fraction: expected a float in (0, 1), got {train_fraction!r}"
        )
    cut = int(len(ids) * train_fraction)
    return ids[:cut], ids[cut:]


# --------------------------------------------------------------------------- batches


def _check_windows(ids, context: int) -> np.ndarray:
    checks.positive_int("context", context)
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2 * context + 1:
        raise ValueError(
            f"ids: expected a 1-D array of at least 2 * context + 1 = {2 * context + 1} tokens, "
            f"got shape {ids.shape}"
        )
    return ids


def windows_per_epoch(n_tokens: int, context: int) -> int:
    """How many windows of `context` targets one epoch (one pass over `n_tokens` tokens) holds."""
    checks.positive_int("n_tokens", n_tokens)
    checks.positive_int("context", context)
    return (
        n_tokens - context
    ) // context  # the same for every starting phase in [0, context)


def epoch_batches(
    ids: np.ndarray, *, context: int, batch_size: int, seed: int, epoch: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of (inputs, targets), each (B, T) int64, targets shifted by one token.

    The tokens are cut into back-to-back windows from a random phase, the windows shuffled, seeded by
    (seed, epoch): every token is a target once per epoch (bar the ends). The last, smaller batch is dropped."""
    ids = _check_windows(ids, context)
    checks.positive_int("batch_size", batch_size)
    checks.non_negative_int("seed", seed)
    checks.non_negative_int("epoch", epoch)
    rng = np.random.default_rng([seed, epoch])
    phase = int(rng.integers(context))
    n = windows_per_epoch(len(ids), context)
    if batch_size > n:
        raise ValueError(
            f"batch_size: expected at most the {n} windows of an epoch, got {batch_size}"
        )
    starts = phase + context * rng.permutation(n)  # (n,)
    offsets = np.arange(context + 1)  # (T + 1,)
    for first in range(0, n - batch_size + 1, batch_size):
        chunk = ids[starts[first : first + batch_size, None] + offsets]  # (B, T + 1)
        yield chunk[:, :-1], chunk[:, 1:]  # (B, T), (B, T)


def eval_windows(ids: np.ndarray, *, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every back-to-back window of `ids` from its start, as (inputs, targets), each (N, T) int64."""
    ids = _check_windows(ids, context)
    n = (len(ids) - 1) // context
    chunk = ids[context * np.arange(n)[:, None] + np.arange(context + 1)]  # (N, T + 1)
    return chunk[:, :-1], chunk[:, 1:]
