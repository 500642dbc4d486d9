"""The long-sequence task of the chapter "Recurrent networks: vanilla RNN vs LSTM",
in plain NumPy.

A sequence is `length` random tokens from a vocabulary of `vocab_size`; its label is
the token at position 0, and every later token is a distractor. Both frameworks draw
their training batches and their test set from here, seeded, so the two tabs of the
chapter train and test on exactly the same sequences.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import checks

__all__ = ["first_token_task", "training_batches"]

TEST_SEED = 1_000_003  # the fixed test set's seed, apart from any training stream's


def first_token_task(
    n: int, *, length: int = 200, vocab_size: int = 8, seed: int = TEST_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """`n` sequences (n, length) of int64 tokens and their labels (n,): the token at
    position 0."""
    n = checks.positive_int("n", n)
    length = checks.positive_int("length", length)
    vocab_size = checks.positive_int("vocab_size", vocab_size)
    seed = checks.non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab_size, size=(n, length), dtype=np.int64)  # (n, T)
    return tokens, tokens[:, 0].copy()  # (n, T), (n,)


def training_batches(
    steps: int,
    batch_size: int,
    *,
    length: int = 200,
    vocab_size: int = 8,
    seed: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`steps` fresh batches (tokens (B, length), labels (B,)), the same stream for the
    same seed."""
    steps = checks.positive_int("steps", steps)
    batch_size = checks.positive_int("batch_size", batch_size)
    length = checks.positive_int("length", length)
    vocab_size = checks.positive_int("vocab_size", vocab_size)
    seed = checks.non_negative_int("seed", seed)
    checks.require(
        "seed",
        seed != TEST_SEED,
        f"a seed other than the test set's {TEST_SEED}",
        seed,
    )
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        tokens = rng.integers(
            0, vocab_size, size=(batch_size, length), dtype=np.int64
        )  # (B, T)
        yield tokens, tokens[:, 0].copy()
