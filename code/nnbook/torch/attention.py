"""Attention in PyTorch: the function and the layer of the chapter "Attention".

Mirrors `nnbook.tf.attention` function for function, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, H the number of heads,
T_q / T_k the query / key lengths, d_k the width of a query or key, d_v of a value,
D = d_model = H * d_head.

Masks say which keys each query may attend to. Both frameworks' functions take either
kind:
- a boolean mask, True where a query may attend (the convention of
  F.scaled_dot_product_attention and of Keras' attention_mask; nn.MultiheadAttention's
  boolean attn_mask means the opposite);
- a float mask, added to the scores: 0 where a query may attend, -inf (or a large
  negative number) where not.
A query row with no key to attend to has no softmax: its output is NaN.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from nnbook import checks

__all__ = [
    "causal_mask",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
]


# ------------------------------------------------------------------------ masks


def causal_mask(t_q: int, t_k: int | None = None, device=None) -> torch.Tensor:
    """(T_q, T_k) boolean: True on and below the diagonal, so query i sees keys 0..i
    and never a later one."""
    t_q = checks.positive_int("t_q", t_q)
    t_k = t_q if t_k is None else checks.positive_int("t_k", t_k)
    ones = torch.ones(t_q, t_k, dtype=torch.bool, device=device)
    return torch.tril(ones)  # (T_q, T_k), True = may attend


def _with_causal(
    mask: torch.Tensor | None, t_q: int, t_k: int, device=None
) -> torch.Tensor:
    """`mask` with every later key hidden as well (a causal mask alone when `mask`
    is None)."""
    keep = causal_mask(t_q, t_k, device=device)  # (T_q, T_k)
    if mask is None:
        return keep
    if mask.dtype == torch.bool:
        return mask & keep
    return mask.masked_fill(~keep, float("-inf"))


def _check_mask(mask, target: tuple, name: str = "mask") -> None:
    """ValueError naming `name` unless `mask` is a boolean or float tensor whose shape
    broadcasts to `target`."""
    checks.require(
        name,
        torch.is_tensor(mask)
        and (mask.dtype == torch.bool or mask.is_floating_point()),
        "a boolean or float tensor",
        checks.describe(mask),
    )
    shape = tuple(mask.shape)
    checks.require(
        name,
        len(shape) <= len(target)
        and all(m in (1, t) for m, t in zip(shape[::-1], target[::-1])),
        f"a shape that broadcasts to {tuple(target)}",
        checks.describe(mask),
    )


def _check_inputs(q, k, v, mask) -> None:
    """Shapes of scaled_dot_product_attention's arguments; ValueError naming the first
    one that is wrong."""
    for name, x in (("q", q), ("k", k), ("v", v)):
        checks.shape(name, x, ("...", "T", "d"), kind=torch.is_tensor, non_empty=True)
    checks.require(
        "k",
        k.shape[-1] == q.shape[-1],
        f"the query width d_k = {q.shape[-1]}",
        checks.describe(k),
    )
    checks.require(
        "v",
        v.shape[-2] == k.shape[-2],
        f"one value per key (T_k = {k.shape[-2]})",
        checks.describe(v),
    )
    if mask is not None:  # (..., T_q, T_k)
        _check_mask(
            mask,
            (
                *torch.broadcast_shapes(q.shape[:-2], k.shape[:-2]),
                q.shape[-2],
                k.shape[-2],
            ),
        )


# -------------------------------------------------------------------- attention


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    scale: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q @ k^T / sqrt(d_k) + mask) @ v, and the weights: (..., T_q, d_v),
    (..., T_q, T_k).

    `mask`: boolean (True = may attend) or float (added to the scores), broadcastable
    to (..., T_q, T_k). `scale=False` leaves out the 1 / sqrt(d_k), to show what it is
    for."""
    _check_inputs(q, k, v, mask)
    scale = checks.boolean("scale", scale)
    # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
    scores = q @ k.transpose(-2, -1)
    if scale:  # variance d_k -> 1 for unit-variance q, k
        scores = scores / math.sqrt(q.shape[-1])
    if mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))  # exp(-inf) = 0: no weight
    elif mask is not None:
        scores = scores + mask  # additive: 0 keeps a score, -inf removes it
    weights = torch.softmax(scores, dim=-1)  # (..., T_q, T_k), each row sums to 1
    # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Project, split into heads, attend in each head, concatenate, project:
    (B, T_q, D) -> (B, T_q, D).

    Called as `mha(query, key=None, value=None, attn_mask=None, causal=False,
    need_weights=True)`, it returns `(output, weights)` with the weights of every head,
    (B, H, T_q, T_k). key defaults to query (self-attention), value to key. `attn_mask`
    is a mask as the function takes it (boolean, True = may attend, or float, added),
    shaped (T_q, T_k), (B, T_q, T_k) or (B, H, T_q, T_k); `causal=True` also hides
    every later key. With `need_weights=False` the weights are None and PyTorch's fused
    kernel F.scaled_dot_product_attention does the attending: the fast path for
    training (with no attn_mask, causal or not, a flash-attention kernel that never
    stores the weights)."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.d_model = d_model = checks.positive_int("d_model", d_model)
        self.n_heads = n_heads = checks.positive_int("n_heads", n_heads)
        checks.require(
            "n_heads",
            d_model % n_heads == 0,
            f"a divisor of d_model = {d_model}",
            n_heads,
        )
        self.d_head = d_model // n_heads
        # weights (D, D): (out, in); output feature h * d_head + i belongs to head h
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        for linear in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            # Glorot uniform and zero bias: Keras' Dense defaults
            nn.init.xavier_uniform_(linear.weight)
            nn.init.zeros_(linear.bias)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        # (B, T, D) -> (B, H, T, d_head)
        b, t, _ = x.shape
        return x.view(b, t, self.n_heads, self.d_head).transpose(1, 2)

    def _check(self, name: str, x) -> None:
        _, t, _ = checks.shape(
            name,
            x,
            ("B", "T", self.d_model),
            kind=torch.is_tensor,
            what="a tensor of shape",
        )
        checks.require(name, t != 0, "a non-empty sequence (T > 0)", checks.describe(x))

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        attn_mask: torch.Tensor | None = None,
        causal: bool = False,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        key = query if key is None else key  # self-attention
        value = key if value is None else value
        for name, x in (("query", query), ("key", key), ("value", value)):
            self._check(name, x)
        causal = checks.boolean("causal", causal)
        need_weights = checks.boolean("need_weights", need_weights)
        b, t_q, t_k = query.shape[0], query.shape[1], key.shape[1]
        mask = attn_mask
        if mask is not None:
            if isinstance(mask, torch.Tensor) and mask.ndim == 3:
                # (B, T_q, T_k) -> (B, 1, T_q, T_k): the same for every head
                mask = mask.unsqueeze(1)
            _check_mask(mask, (b, self.n_heads, t_q, t_k), "attn_mask")
        if causal and (need_weights or mask is not None):
            # fold causality into the one mask
            mask, causal = _with_causal(mask, t_q, t_k, query.device), False
        q = self._split_heads(self.q_proj(query))  # (B, H, T_q, d_head)
        k = self._split_heads(self.k_proj(key))  # (B, H, T_k, d_head)
        v = self._split_heads(self.v_proj(value))  # (B, H, T_k, d_head)
        if need_weights:  # (B, H, T_q, d_head)
            y, weights = scaled_dot_product_attention(q, k, v, mask=mask)
        else:  # the fused kernel: the same numbers, and no (T_q, T_k) weights kept
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=causal
            )
            weights = None
        # concatenate the heads: (B, T_q, D)
        y = y.transpose(1, 2).reshape(b, t_q, self.d_model)
        return self.out_proj(y), weights  # (B, T_q, D), (B, H, T_q, T_k) or None
