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
        checks.require(
            "text",
            isinstance(text, str) and bool(text),
            "a non-empty str",
            f"{text!r:.40}",
        )
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:  # str of length N -> (N,) int64
        table = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - table.keys())
        checks.require(
            "text",
            not unknown,
            "only characters of the vocabulary",
            repr(unknown[:5]),
        )
        return np.array([table[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:  # (N,) ints -> str of length N
        ids = checks.array("ids", ids, ("N",))
        checks.require(
            "ids",
            ids.size == 0 or (ids.min() >= 0 and ids.max() < self.size),
            f"ids in [0, {self.size})",
            f"ids in [{ids.min()}, {ids.max()}]" if ids.size else "none",
        )
        return "".join(self.chars[i] for i in ids)


def train_val_split(
    ids: np.ndarray, train_fraction: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """The first `train_fraction` of the tokens for training, the rest (the end of the
    text) for validation."""
    ids = checks.array("ids", ids, ("N",), at_least={"N": 2})
    train_fraction = checks.number(
        "train_fraction", train_fraction, 0, 1, low_open=True, high_open=True
    )
    cut = int(len(ids) * train_fraction)
    return ids[:cut], ids[cut:]


# --------------------------------------------------------------------------- batches


def _check_windows(ids, context: int) -> tuple[np.ndarray, int]:
    """(ids, context) checked: 1-D ids long enough for two windows and a target."""
    context = checks.positive_int("context", context)
    ids = checks.array("ids", ids, ("N",), at_least={"N": 2 * context + 1})
    return ids, context


def windows_per_epoch(n_tokens: int, context: int) -> int:
    """How many windows of `context` targets one epoch (one pass over `n_tokens`
    tokens) holds."""
    n_tokens = checks.positive_int("n_tokens", n_tokens)
    context = checks.positive_int("context", context)
    # the same for every starting phase in [0, context)
    return (n_tokens - context) // context


def epoch_batches(
    ids: np.ndarray, *, context: int, batch_size: int, seed: int, epoch: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of (inputs, targets), each (B, T) int64, targets shifted by one token.

    The tokens are cut into back-to-back windows from a random phase, the windows
    shuffled, seeded by (seed, epoch): every token is a target once per epoch (bar the
    ends). The last, smaller batch is dropped."""
    ids, context = _check_windows(ids, context)
    batch_size = checks.positive_int("batch_size", batch_size)
    seed = checks.non_negative_int("seed", seed)
    epoch = checks.non_negative_int("epoch", epoch)
    rng = np.random.default_rng([seed, epoch])
    phase = int(rng.integers(context))
    n = windows_per_epoch(len(ids), context)
    checks.require(
        "batch_size",
        batch_size <= n,
        f"at most the {n} windows of an epoch",
        batch_size,
    )
    starts = phase + context * rng.permutation(n)  # (n,)
    offsets = np.arange(context + 1)  # (T + 1,)
    for first in range(0, n - batch_size + 1, batch_size):
        chunk = ids[starts[first : first + batch_size, None] + offsets]  # (B, T + 1)
        yield chunk[:, :-1], chunk[:, 1:]  # (B, T), (B, T)


def eval_windows(ids: np.ndarray, *, context: int) -> tuple[np.ndarray, np.ndarray]:
    """Every back-to-back window of `ids` from its start, as (inputs, targets), each
    (N, T) int64."""
    ids, context = _check_windows(ids, context)
    n = (len(ids) - 1) // context
    chunk = ids[context * np.arange(n)[:, None] + np.arange(context + 1)]  # (N, T + 1)
    return chunk[:, :-1], chunk[:, 1:]
