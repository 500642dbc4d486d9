"""Character-level text for the chapter "A mini decoder-only transformer", in plain NumPy.

Both `nnbook.torch.transformer` and `nnbook.tf.transformer` take their vocabulary, their train / validation
split, their batches and their positional encoding from here, so the two tabs of the chapter train on exactly
the same windows of text in the same order. Shapes in comments: B is the batch size, T the context (the window
length), D = d_model, H the number of heads.
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
    "sinusoidal_encoding",
    "shift_matrix",
    "attention_statistics",
    "sample_token",
    "LMHistory",
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


# --------------------------------------------------------------- positional encoding


def _frequencies(d_model: int, base: float) -> np.ndarray:
    """(D / 2,) angular frequencies base^(-2i / D): one per sine-cosine pair of dimensions."""
    checks.positive_int("d_model", d_model)
    checks.positive_float("base", base)
    if d_model % 2:
        raise ValueError(
            f"d_model: expected an even number (sine-cosine pairs), got {d_model}"
        )
    return base ** (-np.arange(0, d_model, 2) / d_model)


def sinusoidal_encoding(
    length: int, d_model: int, base: float = 10_000.0
) -> np.ndarray:
    """(length, D) float32: PE[p, 2i] = sin(p w_i), PE[p, 2i + 1] = cos(p w_i), with w_i = base^(-2i / D)."""
    checks.positive_int("length", length)
    angles = np.arange(length)[:, None] * _frequencies(d_model, base)  # (length, D / 2)
    pe = np.empty((length, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return pe.astype(np.float32)


def shift_matrix(offset: int, d_model: int, base: float = 10_000.0) -> np.ndarray:
    """(D, D) M with PE[p + offset] = M @ PE[p] for every p: a rotation by offset * w_i in each pair."""
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
        raise ValueError(f"offset: expected an int, got {offset!r}")
    angles = offset * _frequencies(d_model, base)  # (D / 2,)
    cos, sin = np.cos(angles), np.sin(angles)
    m = np.zeros((d_model, d_model))
    m[0::2, 0::2] = np.diag(cos)  # sin(a + b) = sin a cos b + cos a sin b
    m[0::2, 1::2] = np.diag(sin)
    m[1::2, 0::2] = np.diag(-sin)  # cos(a + b) = cos a cos b - sin a sin b
    m[1::2, 1::2] = np.diag(cos)
    return m


# ------------------------------------------------------------------- what heads do


def attention_statistics(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per head, averaged over queries: the mean distance back to the attended keys (in tokens) and the
    entropy of the weights (nats). `weights` (H, T, T) are causal: query i attends to keys 0..i."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 3 or w.shape[1] != w.shape[2] or 0 in w.shape:
        raise ValueError(
            f"weights: expected a non-empty (H, T, T) array, got shape {w.shape}"
        )
    if (
        not np.allclose(w.sum(-1), 1.0, atol=1e-4)
        or np.abs(np.triu(w, k=1)).max() > 1e-6
    ):
        raise ValueError(
            "weights: expected causal attention weights, rows summing to 1, zero above the diagonal"
        )
    t = w.shape[-1]
    distance = (
        np.arange(t)[:, None] - np.arange(t)[None, :]
    )  # (T, T): query i minus key j
    mean_distance = (w * np.maximum(distance, 0)).sum(-1).mean(-1)  # (H,)
    entropy = -(w * np.log(np.where(w > 0, w, 1.0))).sum(-1).mean(-1)  # (H,)
    return mean_distance, entropy


# ------------------------------------------------------------------------ sampling


def sample_token(logits, rng: np.random.Generator, temperature: float = 1.0) -> int:
    """One id drawn from softmax(logits / temperature) with NumPy's `rng`: both frameworks sample alike."""
    checks.positive_float("temperature", temperature)
    z = np.asarray(logits, dtype=np.float64) / temperature
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"logits: expected a non-empty 1-D array, got shape {z.shape}")
    p = np.exp(z - z.max())
    cumulative = np.cumsum(p / p.sum())
    return int(min(np.searchsorted(cumulative, rng.random(), side="right"), z.size - 1))


# ------------------------------------------------------------------------ the record


@dataclass
class LMHistory:
    """What one language-model training run measured; losses in nats per character."""

    step_loss: np.ndarray  # (steps,) training loss of every batch
    tokens_per_step: int  # B * T targets
    eval_steps: np.ndarray  # (evals,) the number of steps taken before each validation
    val_loss: np.ndarray  # (evals,) mean validation loss at those steps
    train_seconds: float  # wall time of the training steps (validation excluded)
    first_step_seconds: (
        float  # of which the first step's: tracing, compiling, allocating
    )

    @property
    def tokens_per_second(self) -> float:
        """Training throughput in targets per second, the first step left out."""
        tokens = (len(self.step_loss) - 1) * self.tokens_per_step
        return tokens / max(self.train_seconds - self.first_step_seconds, 1e-9)

    @property
    def final_val_loss(self) -> float:
        return float(self.val_loss[-1])
