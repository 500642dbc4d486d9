"""Attention in TensorFlow / Keras: the function and the layer of the chapter
"Attention".

Mirrors `nnbook.torch.attention` function for function, in the same order; read the
two files side by side. Shapes in comments: B is the batch size, H the number of heads,
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

import keras
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import checks

__all__ = [
    "causal_mask",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
]


# ------------------------------------------------------------------------ masks


def causal_mask(t_q: int, t_k: int | None = None) -> tf.Tensor:
    """(T_q, T_k) additive: 0 on and below the diagonal, -inf above, so query i sees
    keys 0..i and never a later one. (Lengths may be scalar tensors: a length unknown
    until the graph runs.)"""
    t_q = t_q if tf.is_tensor(t_q) else checks.positive_int("t_q", t_q)
    if t_k is None:
        t_k = t_q
    elif not tf.is_tensor(t_k):
        t_k = checks.positive_int("t_k", t_k)
    # 1 on and below the diagonal, 0 above
    lower = tf.linalg.band_part(tf.ones((t_q, t_k)), -1, 0)
    return tf.where(lower == 1, 0.0, float("-inf"))  # (T_q, T_k), 0 = may attend


def _with_causal(mask: tf.Tensor | None, t_q: int, t_k: int) -> tf.Tensor:
    """`mask` with every later key hidden as well (a causal mask alone when `mask`
    is None)."""
    hide = causal_mask(t_q, t_k)  # (T_q, T_k)
    if mask is None:
        return hide
    if mask.dtype == tf.bool:
        mask = tf.where(mask, 0.0, float("-inf"))
    return mask + tf.cast(hide, mask.dtype)


def _check_mask(mask, target: tuple, name: str = "mask") -> None:
    """ValueError naming `name` unless `mask` is a boolean or float tensor whose shape
    broadcasts to `target`."""
    checks.require(
        name,
        tf.is_tensor(mask) and (mask.dtype == tf.bool or mask.dtype.is_floating),
        "a boolean or float tensor",
        checks.describe(mask),
    )
    # None where unknown while tracing: not checked
    shape = None if mask.shape.rank is None else tuple(mask.shape)
    checks.require(
        name,
        shape is not None
        and len(shape) <= len(target)
        and all(
            m in (1, t)
            for m, t in zip(shape[::-1], target[::-1])
            if m is not None and t is not None
        ),
        f"a shape that broadcasts to {tuple(target)}",
        checks.describe(mask),
    )


def _check_inputs(q, k, v, mask) -> None:
    """Shapes of scaled_dot_product_attention's arguments; ValueError naming the first
    one that is wrong."""
    for name, x in (("q", q), ("k", k), ("v", v)):
        checks.shape(name, x, ("...", "T", "d"), kind=tf.is_tensor, non_empty=True)
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
        batch = tf.broadcast_static_shape(q.shape[:-2], k.shape[:-2])
        _check_mask(mask, (*batch, q.shape[-2], k.shape[-2]))


# -------------------------------------------------------------------- attention


def scaled_dot_product_attention(
    q: tf.Tensor,
    k: tf.Tensor,
    v: tf.Tensor,
    mask: tf.Tensor | None = None,
    scale: bool = True,
) -> tuple[tf.Tensor, tf.Tensor]:
    """softmax(q @ k^T / sqrt(d_k) + mask) @ v, and the weights: (..., T_q, d_v),
    (..., T_q, T_k).

    `mask`: boolean (True = may attend) or float (added to the scores), broadcastable
    to (..., T_q, T_k). `scale=False` leaves out the 1 / sqrt(d_k), to show what it is
    for."""
    _check_inputs(q, k, v, mask)
    scale = checks.boolean("scale", scale)
    # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
    scores = tf.matmul(q, k, transpose_b=True)
    if scale:  # variance d_k -> 1 for unit-variance q, k
        scores = scores / math.sqrt(q.shape[-1])
    if mask is not None and mask.dtype == tf.bool:
        scores = tf.where(mask, scores, float("-inf"))  # exp(-inf) = 0: no weight
    elif mask is not None:  # additive: 0 keeps a score, -inf removes it
        scores = scores + tf.cast(mask, scores.dtype)
    weights = tf.nn.softmax(scores, axis=-1)  # (..., T_q, T_k), each row sums to 1
    # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    return weights @ v, weights


@keras.saving.register_keras_serializable(package="nnbook")
class MultiHeadAttention(keras.layers.Layer):
    """Project, split into heads, attend in each head, concatenate, project:
    (B, T_q, D) -> (B, T_q, D).

    Called as `mha(query, key=None, value=None, attn_mask=None, causal=False,
    need_weights=True)`, it returns `(output, weights)` with the weights of every head,
    (B, H, T_q, T_k). key defaults to query (self-attention), value to key. `attn_mask`
    is a mask as the function takes it (boolean, True = may attend, or float, added),
    shaped (T_q, T_k), (B, T_q, T_k) or (B, H, T_q, T_k); `causal=True` also hides
    every later key. (Not named `mask`: Keras reserves that name for the padding masks
    it passes along.) With `need_weights=False` the weights are None; TensorFlow has no
    fused kernel to call, so the same explicit computation runs, and inside
    `tf.function(jit_compile=True)` XLA fuses it: the fast path for training."""

    def __init__(self, d_model: int, n_heads: int, **kwargs):
        super().__init__(**kwargs)
        self.d_model = d_model = checks.positive_int("d_model", d_model)
        self.n_heads = n_heads = checks.positive_int("n_heads", n_heads)
        checks.require(
            "n_heads",
            d_model % n_heads == 0,
            f"a divisor of d_model = {d_model}",
            n_heads,
        )
        self.d_head = d_model // n_heads
        # kernels (D, D): (in, out); output feature h * d_head + i belongs to head h
        self.q_proj = keras.layers.Dense(d_model, name="q_proj")
        self.k_proj = keras.layers.Dense(d_model, name="k_proj")
        self.v_proj = keras.layers.Dense(d_model, name="v_proj")
        self.out_proj = keras.layers.Dense(d_model, name="out_proj")
        # Dense's defaults: Glorot uniform kernels and zero biases, set explicitly in
        # PyTorch. d_model is known: weights now, as in PyTorch
        self.build((None, None, d_model))

    def build(self, input_shape) -> None:
        for dense in (self.q_proj, self.k_proj, self.v_proj, self.out_proj):
            dense.build((None, None, self.d_model))

    def _split_heads(self, x: tf.Tensor) -> tf.Tensor:  # (B, T, D) -> (B, H, T, d_head)
        b, t = tf.shape(x)[0], tf.shape(x)[1]
        return tf.transpose(
            tf.reshape(x, (b, t, self.n_heads, self.d_head)), (0, 2, 1, 3)
        )

    def _check(self, name: str, x) -> None:
        _, t, _ = checks.shape(
            name,
            x,
            ("B", "T", self.d_model),
            kind=tf.is_tensor,
            what="a tensor of shape",
        )
        checks.require(name, t != 0, "a non-empty sequence (T > 0)", checks.describe(x))

    def call(
        self,
        query: tf.Tensor,
        key: tf.Tensor | None = None,
        value: tf.Tensor | None = None,
        attn_mask: tf.Tensor | None = None,
        causal: bool = False,
        need_weights: bool = True,
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        key = query if key is None else key  # self-attention
        value = key if value is None else value
        for name, x in (("query", query), ("key", key), ("value", value)):
            self._check(name, x)
        causal = checks.boolean("causal", causal)
        need_weights = checks.boolean("need_weights", need_weights)
        # None where unknown while tracing
        b, t_q, t_k = query.shape[0], query.shape[1], key.shape[1]
        mask = attn_mask
        if mask is not None:
            if tf.is_tensor(mask) and mask.shape.rank == 3:
                # (B, T_q, T_k) -> (B, 1, T_q, T_k): the same for every head
                mask = mask[:, None]
            _check_mask(mask, (b, self.n_heads, t_q, t_k), "attn_mask")
        if causal:
            # fold causality into the one mask (there is no causal kernel to hand it to)
            mask = _with_causal(mask, tf.shape(query)[1], tf.shape(key)[1])
        q = self._split_heads(self.q_proj(query))  # (B, H, T_q, d_head)
        k = self._split_heads(self.k_proj(key))  # (B, H, T_k, d_head)
        v = self._split_heads(self.v_proj(value))  # (B, H, T_k, d_head)
        # (B, H, T_q, d_head)
        y, weights = scaled_dot_product_attention(q, k, v, mask=mask)
        if not need_weights:
            # under jit_compile, XLA keeps no (T_q, T_k) weights it need not return
            weights = None
        # concatenate the heads: (B, T_q, D)
        y = tf.reshape(tf.transpose(y, (0, 2, 1, 3)), tf.shape(query))
        return self.out_proj(y), weights  # (B, T_q, D), (B, H, T_q, T_k) or None

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "d_model": self.d_model,
            "n_heads": self.n_heads,
        }
