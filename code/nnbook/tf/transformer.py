"""A mini decoder-only transformer in TensorFlow / Keras: the classes of the chapter "A mini decoder-only
transformer".

Mirrors `nnbook.torch.transformer` class for class, in the same order; read the two files side by side. The
attention is `nnbook.tf.attention.MultiHeadAttention`; the vocabulary, batches and positional encoding come
from `nnbook.text`, so both frameworks train on the same windows. Shapes in comments: B is the batch size,
T the sequence length (at most config.context), D = d_model, H the number of heads, V the vocabulary size.
"""

from __future__ import annotations

import math
import time
import weakref

import keras
import numpy as np
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import checks, history, schedules, text
from nnbook.transformer import (  # shared by both frameworks
    GPTConfig,
    sample_token,
    sinusoidal_encoding,
)
from nnbook.tf.attention import MultiHeadAttention

__all__ = [
    "GPTConfig",
    "FeedForward",
    "TransformerBlock",
    "MiniGPT",
    "evaluate",
    "fit_char_lm",
    "final_layer_attention",
    "generate",
]


# ------------------------------------------------------------------------ the block


@keras.saving.register_keras_serializable(package="nnbook")
class FeedForward(keras.layers.Layer):
    """Position-wise: Dense D -> d_ff, GELU, Dense d_ff -> D, dropout. (B, T, D) -> (B, T, D)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.d_model = checks.positive_int("d_model", d_model)
        self.d_ff = checks.positive_int("d_ff", d_ff)
        self.rate = checks.fraction("dropout", dropout)
        self.up = keras.layers.Dense(d_ff, name="up")  # kernel (D, d_ff): (in, out)
        self.down = keras.layers.Dense(d_model, name="down")  # kernel (d_ff, D)
        self.dropout = keras.layers.Dropout(dropout)  # active with training=True only
        self.build((None, None, d_model))

    def build(self, input_shape) -> None:
        self.up.build((None, None, self.d_model))
        self.down.build((None, None, self.d_ff))

    def call(
        self, x: tf.Tensor, training: bool = False
    ) -> tf.Tensor:  # (B, T, D) -> (B, T, D)
        h = keras.activations.gelu(self.up(x), approximate=False)  # exact (erf) GELU
        return self.dropout(self.down(h), training=training)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "d_model": self.d_model,
            "d_ff": self.d_ff,
            "dropout": self.rate,
        }


@keras.saving.register_keras_serializable(package="nnbook")
class TransformerBlock(keras.layers.Layer):
    """Pre-LayerNorm block: x + attention(LN(x)), then x + feed_forward(LN(x)). (B, T, D) -> (B, T, D).

    Returns (x, weights): the attention weights (B, H, T, T) when need_weights, else None (fused by XLA)."""

    def __init__(
        self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.d_model, self.n_heads, self.d_ff = d_model, n_heads, d_ff
        self.ln_1 = keras.layers.LayerNormalization(
            epsilon=1e-5, name="ln_1"
        )  # PyTorch's eps
        self.attn = MultiHeadAttention(
            d_model, n_heads, name="attn"
        )  # checks d_model % n_heads
        self.dropout = keras.layers.Dropout(checks.fraction("dropout", dropout))
        self.ln_2 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_2")
        self.ffn = FeedForward(d_model, d_ff, dropout, name="ffn")
        self.build((None, None, d_model))

    def build(self, input_shape) -> None:
        self.ln_1.build((None, None, self.d_model))
        self.ln_2.build((None, None, self.d_model))

    def call(
        self,
        x: tf.Tensor,
        training: bool = False,
        need_weights: bool = False,
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        a, weights = self.attn(
            self.ln_1(x), causal=True, need_weights=need_weights
        )  # (B, T, D)
        x = x + self.dropout(
            a, training=training
        )  # the residual stream carries x past the attention
        x = x + self.ffn(self.ln_2(x), training=training)  # (B, T, D)
        return x, weights  # (B, T, D), (B, H, T, T) or None

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "d_ff": self.d_ff,
            "dropout": self.dropout.rate,
        }


# ------------------------------------------------------------------------ the model


@keras.saving.register_keras_serializable(package="nnbook")
class MiniGPT(keras.Model):
    """Token embedding + sinusoidal positions, n_layers blocks, a final LayerNorm, and a head tied to the
    embedding (logits = h @ E^T). (B, T) int ids -> logits (B, T, V), and per-layer attention weights."""

    def __init__(self, config: GPTConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = c = GPTConfig() if config is None else config
        if not isinstance(c, GPTConfig):
            raise ValueError(f"config: expected a GPTConfig, got {type(c).__name__}")
        self.embed = (
            keras.layers.Embedding(  # E: (V, D); E * sqrt(D) has unit-variance entries
                c.vocab_size,
                c.d_model,
                embeddings_initializer=keras.initializers.RandomNormal(
                    stddev=c.d_model**-0.5
                ),
                name="embed",
            )
        )
        self.positions = tf.constant(
            sinusoidal_encoding(c.context, c.d_model)
        )  # (context, D): fixed
        self.dropout = keras.layers.Dropout(c.dropout)
        self.blocks = [
            TransformerBlock(c.d_model, c.n_heads, c.d_ff, c.dropout, name=f"block_{i}")
            for i in range(c.n_layers)
        ]
        self.ln_f = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_f")
        self.build((None, None))

    def build(self, input_shape) -> None:
        self.embed.build((None, None))
        self.ln_f.build((None, None, self.config.d_model))

    def _check(self, idx) -> None:
        if not tf.is_tensor(idx) or idx.shape.rank != 2 or not idx.dtype.is_integer:
            raise ValueError(
                f"idx: expected integer token ids of shape (B, T), "
                f"got {getattr(idx, 'shape', type(idx).__name__)}"
            )
        if idx.shape[1] == 0:
            raise ValueError(
                f"idx: expected a non-empty sequence (T > 0), got shape {tuple(idx.shape)}"
            )
        if idx.shape[1] is not None and idx.shape[1] > self.config.context:
            raise ValueError(
                f"idx: expected at most context = {self.config.context} tokens, "
                f"got {idx.shape[1]}"
            )

    def __call__(self, idx, *args, **kwargs):
        idx = tf.convert_to_tensor(idx)
        self._check(idx)  # here, not in call(): Keras rewrites errors raised in call()
        return super().__call__(idx, *args, **kwargs)

    def call(
        self,
        idx: tf.Tensor,
        training: bool = False,
        need_weights: bool = False,
    ) -> tuple[tf.Tensor, list[tf.Tensor] | None]:
        t = tf.shape(idx)[1]
        x = (
            self.embed(idx) * math.sqrt(self.config.d_model) + self.positions[:t]
        )  # (B, T, D)
        x = self.dropout(x, training=training)
        weights = []
        for block in self.blocks:
            x, w = block(
                x, training=training, need_weights=need_weights
            )  # (B, T, D), (B, H, T, T) or None
            weights.append(w)
        x = self.ln_f(x)
        logits = tf.matmul(
            x, self.embed.embeddings, transpose_b=True
        )  # tied head: (B, T, D) @ (D, V)
        return logits, (weights if need_weights else None)

    def get_config(self) -> dict:
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config: dict) -> MiniGPT:
        config = dict(config)
        return cls(GPTConfig(**config.pop("config")), **config)


# ---------------------------------------------------------------------- training


def _loss(model: MiniGPT, x: tf.Tensor, y: tf.Tensor, training: bool) -> tf.Tensor:
    logits, _ = model(
        x, training=training
    )  # (B, T, V): weights not asked for, XLA drops them
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=y, logits=logits
    )  # (B, T)
    return tf.reduce_mean(losses)  # nats per character


_EVAL_FUNCTIONS: weakref.WeakKeyDictionary = (
    weakref.WeakKeyDictionary()
)  # model -> its compiled loss


def _eval_function(model: MiniGPT):
    """The model's inference-mode loss, compiled once per model (and per batch shape) and then reused."""
    if model not in _EVAL_FUNCTIONS:
        _EVAL_FUNCTIONS[model] = tf.function(
            lambda x, y: _loss(model, x, y, training=False), jit_compile=True
        )
    return _EVAL_FUNCTIONS[model]


def evaluate(model: MiniGPT, ids: np.ndarray, batch_size: int = 32) -> float:
    """Mean loss (nats per character) over every back-to-back window of `ids`, in inference mode (no dropout)."""
    checks.positive_int("batch_size", batch_size)
    x, y = text.eval_windows(ids, context=model.config.context)  # (N, T), (N, T)
    loss = _eval_function(model)
    total = 0.0
    for i in range(0, len(x), batch_size):
        total += float(loss(x[i : i + batch_size], y[i : i + batch_size])) * len(
            x[i : i + batch_size]
        )
    return total / len(x)


def fit_char_lm(
    model: MiniGPT,
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    peak_lr: float,
    weight_decay: float = 0.1,
    warmup: float = 0.05,
    evals_per_epoch: int = 1,
    max_steps: int | None = None,
    fused: bool = True,
    seed: int = 0,
) -> history.LMHistory:
    """AdamW (betas 0.9, 0.99) with linear warm-up and cosine decay on the batches of `nnbook.text`.

    Weight decay applies to matrices only (not to biases or LayerNorm). Validation `evals_per_epoch` times an
    epoch. `max_steps` stops early; the schedule still spans all epochs. `fused=False` traces the
    step without XLA (`jit_compile=False`): the same explicit attention, unfused, to compare."""
    checks.positive_int("epochs", epochs)
    checks.positive_int("batch_size", batch_size)
    checks.positive_float("peak_lr", peak_lr)
    checks.fraction("weight_decay", weight_decay)
    checks.positive_int("evals_per_epoch", evals_per_epoch)
    checks.boolean("fused", fused)
    context = model.config.context
    optimizer = keras.optimizers.AdamW(
        learning_rate=peak_lr,
        weight_decay=weight_decay,
        beta_1=0.9,
        beta_2=0.99,
        epsilon=1e-8,
    )  # PyTorch's eps
    optimizer.exclude_from_weight_decay(
        var_list=[v for v in model.trainable_variables if len(v.shape) < 2]
    )
    steps_per_epoch = text.windows_per_epoch(len(train_ids), context) // batch_size
    total_steps = epochs * steps_per_epoch
    max_steps = (
        total_steps
        if max_steps is None
        else min(checks.positive_int("max_steps", max_steps), total_steps)
    )
    eval_at = {
        round(steps_per_epoch * (e + k / evals_per_epoch))
        for e in range(epochs)
        for k in range(1, evals_per_epoch + 1)
    } | {max_steps}

    @tf.function(
        jit_compile=fused
    )  # XLA: one fused program per step, attention included
    def train_step(x, y, learning_rate):
        optimizer.learning_rate.assign(learning_rate)
        with tf.GradientTape() as tape:
            loss = _loss(model, x, y, training=True)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    step_loss, eval_steps, val_loss, seconds, first_step_seconds, step = (
        [],
        [],
        [],
        0.0,
        0.0,
        0,
    )
    for epoch in range(epochs):
        start = time.perf_counter()
        for x, y in text.epoch_batches(
            train_ids, context=context, batch_size=batch_size, seed=seed, epoch=epoch
        ):
            learning_rate = tf.constant(
                schedules.one_cycle_lr(step, total_steps, peak_lr, warmup), tf.float32
            )
            step_loss.append(train_step(x, y, learning_rate))
            step += 1
            if (
                step == 1
            ):  # tracing and compiling happen here: kept apart from the throughput
                first_step_seconds = time.perf_counter() - start
            if step in eval_at:
                seconds += time.perf_counter() - start
                eval_steps.append(step)
                val_loss.append(evaluate(model, val_ids, batch_size))
                start = time.perf_counter()
            if step == max_steps:
                break
        seconds += time.perf_counter() - start
        if step == max_steps:
            break
    return history.LMHistory(
        step_loss=tf.stack(step_loss).numpy(),
        tokens_per_step=batch_size * context,
        eval_steps=np.array(eval_steps),
        val_loss=np.array(val_loss),
        train_seconds=seconds,
        first_step_seconds=first_step_seconds,
    )


# -------------------------------------------------------------------- using the model


def final_layer_attention(model: MiniGPT, ids: np.ndarray) -> np.ndarray:
    """The last block's attention weights for one sequence of ids (T,), per head: (H, T, T)."""
    idx = tf.constant(np.asarray(ids, dtype=np.int64)[None])  # (1, T)
    _, weights = model(
        idx, training=False, need_weights=True
    )  # explicit attention: weights kept
    return weights[-1][0].numpy()  # (H, T, T)


def generate(
    model: MiniGPT,
    prompt_ids: np.ndarray,
    n_new: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """`prompt_ids` followed by `n_new` sampled ids, one at a time, each seeing at most the last context ids.

    The input is always a full window (zero-padded on the right): causal attention keeps the padding from
    reaching the position read, and one input shape is one compiled graph in TensorFlow."""
    checks.positive_int("n_new", n_new)
    ids = [int(i) for i in np.asarray(prompt_ids).ravel()]
    if not ids:
        raise ValueError("prompt_ids: expected at least one id, got none")
    rng, context = np.random.default_rng(seed), model.config.context
    window = np.zeros((1, context), dtype=np.int64)

    @tf.function  # traced once: every call has the same input shape
    def window_logits(window):  # (1, context) -> (context, V)
        logits, _ = model(window, training=False)
        return logits[0]

    for _ in range(n_new):
        last = ids[-context:]
        window[0, : len(last)] = last
        logits = window_logits(tf.constant(window)).numpy()  # (context, V)
        ids.append(sample_token(logits[len(last) - 1], rng, temperature))
    return np.array(ids)
