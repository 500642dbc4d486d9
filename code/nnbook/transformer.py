"""The mini decoder-only transformer's framework-neutral parts, in plain NumPy.

Both `nnbook.torch.transformer` and `nnbook.tf.transformer` take their configuration,
their positional encoding and their sampling from here, so the two tabs of the chapter
build the same model and draw the same characters. Shapes in comments: T is the context,
D = d_model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from nnbook import checks

__all__ = ["GPTConfig", "sinusoidal_encoding", "shift_matrix", "sample_token"]


@dataclass
class GPTConfig:
    """The chapter's decoder-only transformer; both frameworks' MiniGPT take it
    (nanoGPT's names in brackets)."""

    vocab_size: int = 65  # V: tiny-shakespeare's characters
    context: int = 256  # the longest input the model takes [block_size]
    n_layers: int = 4  # transformer blocks [n_layer]
    n_heads: int = 4  # H [n_head]
    d_model: int = 128  # D, the residual stream's width [n_embd]
    d_ff: int = 512  # the feed-forward layer's hidden width (4 D)
    # after the embedding, the attention and the feed-forward layer
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("vocab_size", "context", "n_layers", "n_heads", "d_model", "d_ff"):
            setattr(self, name, checks.positive_int(name, getattr(self, name)))
        checks.require(
            "n_heads",
            self.d_model % self.n_heads == 0,
            f"a divisor of d_model = {self.d_model}",
            self.n_heads,
        )
        _check_even(self.d_model)
        self.dropout = checks.fraction("dropout", self.dropout)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# --------------------------------------------------------------- positional encoding


def _check_even(d_model: int) -> None:
    checks.require(
        "d_model", d_model % 2 == 0, "an even number (sine-cosine pairs)", d_model
    )


def _frequencies(d_model: int, base: float) -> np.ndarray:
    """(D / 2,) angular frequencies base^(-2i / D): one per sine-cosine pair of
    dimensions."""
    d_model = checks.positive_int("d_model", d_model)
    base = checks.positive_float("base", base)
    _check_even(d_model)
    return base ** (-np.arange(0, d_model, 2) / d_model)


def sinusoidal_encoding(
    length: int, d_model: int, base: float = 10_000.0
) -> np.ndarray:
    """(length, D) float32: PE[p, 2i] = sin(p w_i), PE[p, 2i + 1] = cos(p w_i), with
    w_i = base^(-2i / D)."""
    length = checks.positive_int("length", length)
    d_model = checks.positive_int("d_model", d_model)
    # (length, D / 2)
    angles = np.arange(length)[:, None] * _frequencies(d_model, base)
    pe = np.empty((length, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angles), np.cos(angles)
    return pe.astype(np.float32)


def shift_matrix(offset: int, d_model: int, base: float = 10_000.0) -> np.ndarray:
    """(D, D) M with PE[p + offset] = M @ PE[p] for every p: a rotation by
    offset * w_i in each pair."""
    offset = checks.integer("offset", offset)
    d_model = checks.positive_int("d_model", d_model)
    angles = offset * _frequencies(d_model, base)  # (D / 2,)
    cos, sin = np.cos(angles), np.sin(angles)
    m = np.zeros((d_model, d_model))
    m[0::2, 0::2] = np.diag(cos)  # sin(a + b) = sin a cos b + cos a sin b
    m[0::2, 1::2] = np.diag(sin)
    m[1::2, 0::2] = np.diag(-sin)  # cos(a + b) = cos a cos b - sin a sin b
    m[1::2, 1::2] = np.diag(cos)
    return m


# ------------------------------------------------------------------------ sampling


def sample_token(logits, rng: np.random.Generator, temperature: float = 1.0) -> int:
    """One id drawn from softmax(logits / temperature) with NumPy's `rng`: both
    frameworks sample alike."""
    checks.instance("rng", rng, np.random.Generator)
    temperature = checks.positive_float("temperature", temperature)
    logits = np.asarray(logits, dtype=np.float64)
    z = checks.array("logits", logits, ("V",), non_empty=True) / temperature
    p = np.exp(z - z.max())
    cumulative = np.cumsum(p / p.sum())
    return int(min(np.searchsorted(cumulative, rng.random(), side="right"), z.size - 1))
