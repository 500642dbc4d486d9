"""A mini decoder-only transformer in TensorFlow / Keras: the classes of the chapter
"A mini decoder-only transformer".

Mirrors `nnbook.torch.transformer` class for class, in the same order; read the two
files side by side. The attention is `nnbook.tf.attention.MultiHeadAttention`; the
vocabulary, batches and positional encoding come from `nnbook.text`, so both
frameworks train on the same windows. Shapes in comments: B is the batch size, T the
sequence length (at most config.context), D = d_model, H the number of heads, V the
vocabulary size.

One function has no twin: `load_torch_weights` takes a PyTorch MiniGPT's weights, as
`nnbook.torch.transformer.numpy_weights` gives them, into a Keras MiniGPT.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from nnbook import checks, history, schedules, text
from nnbook.tf import compiled  # TensorFlow, imported without its C++ logging
from nnbook.tf.attention import MultiHeadAttention
from nnbook.transformer import (  # shared by both frameworks
    GPTConfig,
    sample_token,
    sinusoidal_encoding,
)

__all__ = [
    "GPTConfig",
    "FeedForward",
    "TransformerBlock",
    "MiniGPT",
    "evaluate",
    "fit_char_lm",
    "final_layer_attention",
    "generate",
    "load_torch_weights",
]


# ------------------------------------------------------------------------ the block


@keras.saving.register_keras_serializable(package="nnbook")
class FeedForward(keras.layers.Layer):
    """Position-wise: Dense D -> d_ff, GELU, Dense d_ff -> D, dropout.
    (B, T, D) -> (B, T, D)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.d_model = d_model = checks.positive_int("d_model", d_model)
        self.d_ff = d_ff = checks.positive_int("d_ff", d_ff)
        self.rate = dropout = checks.fraction("dropout", dropout)
        self.up = keras.layers.Dense(d_ff, name="up")  # kernel (D, d_ff): (in, out)
        self.down = keras.layers.Dense(d_model, name="down")  # kernel (d_ff, D)
        self.dropout = keras.layers.Dropout(dropout)  # active with training=True only
        self.build((None, None, d_model))

    def build(self, input_shape) -> None:
        self.up.build((None, None, self.d_model))
        self.down.build((None, None, self.d_ff))

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        # (B, T, D) -> (B, T, D)
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
    """Pre-LayerNorm block: x + attention(LN(x)), then x + feed_forward(LN(x)).
    (B, T, D) -> (B, T, D).

    Returns (x, weights): the attention weights (B, H, T, T) when need_weights, else
    None (fused by XLA)."""

    def __init__(
        self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.d_model = d_model = checks.positive_int("d_model", d_model)
        self.n_heads = n_heads = checks.positive_int("n_heads", n_heads)
        self.d_ff = d_ff = checks.positive_int("d_ff", d_ff)
        dropout = checks.fraction("dropout", dropout)
        # PyTorch's eps
        self.ln_1 = keras.layers.LayerNormalization(epsilon=1e-5, name="ln_1")
        # checks d_model % n_heads
        self.attn = MultiHeadAttention(d_model, n_heads, name="attn")
        self.dropout = keras.layers.Dropout(dropout)
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
        # (B, T, D)
        a, weights = self.attn(self.ln_1(x), causal=True, need_weights=need_weights)
        # the residual stream carries x past the attention
        x = x + self.dropout(a, training=training)
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
    """Token embedding + sinusoidal positions, n_layers blocks, a final LayerNorm, and
    a head tied to the embedding (logits = h @ E^T). (B, T) int ids -> logits
    (B, T, V), and per-layer attention weights."""

    def __init__(self, config: GPTConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        c = GPTConfig() if config is None else config
        self.config = c = checks.instance("config", c, GPTConfig)
        # E: (V, D); E * sqrt(D) has unit-variance entries
        self.embed = keras.layers.Embedding(
            c.vocab_size,
            c.d_model,
            embeddings_initializer=keras.initializers.RandomNormal(
                stddev=c.d_model**-0.5
            ),
            name="embed",
        )
        # (context, D): fixed
        self.positions = tf.constant(sinusoidal_encoding(c.context, c.d_model))
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
        _, t = checks.shape(
            "idx",
            idx,
            ("B", "T"),
            dtype="integer",
            kind=tf.is_tensor,
            what="integer token ids of shape",
        )
        checks.require(
            "idx", t != 0, "a non-empty sequence (T > 0)", checks.describe(idx)
        )
        context = self.config.context  # T is None while tracing: not checked
        checks.require(
            "idx", t is None or t <= context, f"at most context = {context} tokens", t
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
        # (B, T, D)
        x = self.embed(idx) * math.sqrt(self.config.d_model) + self.positions[:t]
        x = self.dropout(x, training=training)
        weights = []
        for block in self.blocks:
            # (B, T, D), (B, H, T, T) or None
            x, w = block(x, training=training, need_weights=need_weights)
            weights.append(w)
        x = self.ln_f(x)
        # tied head: (B, T, D) @ (D, V)
        logits = tf.matmul(x, self.embed.embeddings, transpose_b=True)
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


def _optimizer(
    model: MiniGPT, peak_lr: float, weight_decay: float
) -> keras.optimizers.AdamW:
    """AdamW (betas 0.9, 0.99) that decays the matrices (the embedding included), not
    the biases and LayerNorm's weights."""
    optimizer = keras.optimizers.AdamW(
        learning_rate=peak_lr,
        weight_decay=weight_decay,
        beta_1=0.9,
        beta_2=0.99,
        epsilon=1e-8,  # PyTorch's
    )
    optimizer.exclude_from_weight_decay(
        var_list=[v for v in model.trainable_variables if len(v.shape) < 2]
    )
    return optimizer


def _inference_loss(model: MiniGPT, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    return _loss(model, x, y, training=False)


def evaluate(model: MiniGPT, ids: np.ndarray, batch_size: int = 32) -> float:
    """Mean loss (nats per character) over every back-to-back window of `ids`, in
    inference mode (no dropout); the loss is compiled once per model, with XLA."""
    checks.positive_int("batch_size", batch_size)
    x, y = text.eval_windows(ids, context=model.config.context)  # (N, T), (N, T)
    loss = compiled(model, _inference_loss, jit_compile=True)
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
) -> history.TrainingHistory:
    """AdamW (betas 0.9, 0.99) with linear warm-up and cosine decay on the batches of
    `nnbook.text`.

    Weight decay applies to matrices only (not to biases or LayerNorm). Validation
    `evals_per_epoch` times an epoch. `max_steps` stops early; the schedule still spans
    all epochs. `fused=False` traces the step without XLA (`jit_compile=False`): the
    same explicit attention, unfused, to compare."""
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    peak_lr = checks.positive_float("peak_lr", peak_lr)
    weight_decay = checks.non_negative_number("weight_decay", weight_decay)
    warmup = checks.number("warmup", warmup, 0, 1)
    evals_per_epoch = checks.positive_int("evals_per_epoch", evals_per_epoch)
    fused = checks.boolean("fused", fused)
    seed = checks.non_negative_int("seed", seed)
    context = model.config.context
    optimizer = _optimizer(model, peak_lr, weight_decay)
    steps_per_epoch = text.windows_per_epoch(len(train_ids), context) // batch_size
    total_steps = epochs * steps_per_epoch
    max_steps = (
        total_steps
        if max_steps is None
        else min(checks.positive_int("max_steps", max_steps), total_steps)
    )

    @tf.function(jit_compile=fused)  # XLA: one fused program per step, attention too
    def compiled_step(x, y, learning_rate):
        optimizer.learning_rate.assign(learning_rate)
        with tf.GradientTape() as tape:
            loss = _loss(model, x, y, training=True)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    def train_step(step: int, batch) -> tf.Tensor:
        x, y = batch
        learning_rate = schedules.one_cycle_lr(step, total_steps, peak_lr, warmup)
        # a tensor, not a Python float: a new float would trace a new graph
        return compiled_step(x, y, tf.constant(learning_rate, tf.float32))

    def validate() -> dict[str, float]:
        return {"val_loss": evaluate(model, val_ids, batch_size)}

    batches = (
        batch
        for epoch in range(epochs)
        for batch in text.epoch_batches(
            train_ids, context=context, batch_size=batch_size, seed=seed, epoch=epoch
        )
    )
    return history.run_training_loop(
        train_step,
        batches,
        validate,
        eval_at=history.epoch_evaluations(
            steps_per_epoch, epochs, evals_per_epoch, last_step=max_steps
        ),
        items_per_step=batch_size * context,  # tokens
        steps_per_epoch=steps_per_epoch,
        max_steps=max_steps,
    )


# ------------------------------------------------------------------ using the model


def final_layer_attention(model: MiniGPT, ids: np.ndarray) -> np.ndarray:
    """The last block's attention weights for one sequence of ids (T,), per head:
    (H, T, T)."""
    idx = tf.constant(np.asarray(ids, dtype=np.int64)[None])  # (1, T)
    # explicit attention: weights kept
    _, weights = model(idx, training=False, need_weights=True)
    return weights[-1][0].numpy()  # (H, T, T)


def generate(
    model: MiniGPT,
    prompt_ids: np.ndarray,
    n_new: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """`prompt_ids` followed by `n_new` sampled ids, one at a time, each seeing at most
    the last context ids.

    The input is always a full window (zero-padded on the right): causal attention
    keeps the padding from reaching the position read, and one input shape is one
    compiled graph in TensorFlow."""
    n_new = checks.positive_int("n_new", n_new)
    temperature = checks.positive_float("temperature", temperature)
    seed = checks.non_negative_int("seed", seed)
    ids = [int(i) for i in np.asarray(prompt_ids).ravel()]
    checks.require("prompt_ids", len(ids) > 0, "at least one id", "none")
    rng, context = np.random.default_rng(seed), model.config.context
    window = np.zeros((1, context), dtype=np.int64)
    # traced once per model: every call has the same input shape
    window_logits = compiled(model, _window_logits)
    for _ in range(n_new):
        last = ids[-context:]
        window[0, : len(last)] = last
        logits = window_logits(tf.constant(window)).numpy()  # (context, V)
        ids.append(sample_token(logits[len(last) - 1], rng, temperature))
    return np.array(ids)


def _window_logits(model: MiniGPT, window: tf.Tensor) -> tf.Tensor:
    logits, _ = model(window, training=False)  # (1, context) -> (1, context, V)
    return logits[0]  # (context, V)


def _torch_names(model: MiniGPT) -> dict[str, tuple[tf.Variable, bool]]:
    """PyTorch's state_dict name -> (the Keras variable, whether to transpose).

    PyTorch stores a linear weight as (out, in), Keras a Dense kernel as (in, out);
    the embedding (V, D) has the same layout in both, and both heads reuse it."""
    names = {"embed.weight": (model.embed.embeddings, False)}

    def norm(prefix: str, layer: keras.layers.LayerNormalization) -> None:
        names[f"{prefix}.weight"] = (layer.gamma, False)
        names[f"{prefix}.bias"] = (layer.beta, False)

    def dense(prefix: str, layer: keras.layers.Dense) -> None:
        names[f"{prefix}.weight"] = (layer.kernel, True)
        names[f"{prefix}.bias"] = (layer.bias, False)

    for i, block in enumerate(model.blocks):
        norm(f"blocks.{i}.ln_1", block.ln_1)
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            dense(f"blocks.{i}.attn.{proj}", getattr(block.attn, proj))
        norm(f"blocks.{i}.ln_2", block.ln_2)
        dense(f"blocks.{i}.ffn.up", block.ffn.up)
        dense(f"blocks.{i}.ffn.down", block.ffn.down)
    norm("ln_f", model.ln_f)
    return names


def load_torch_weights(model: MiniGPT, weights: dict) -> MiniGPT:
    """Copy a PyTorch MiniGPT's weights, NumPy arrays under its state_dict names (see
    `nnbook.torch.transformer.numpy_weights`), into `model`; returns it.

    The two models must have the same configuration: a missing, extra or misshapen
    weight is named in the error, before anything is copied."""
    checks.instance("model", model, MiniGPT)
    checks.instance("weights", weights, dict, "a dict of NumPy arrays by name")
    targets = _torch_names(model)
    missing = sorted(set(targets) - set(weights))
    extra = sorted(set(weights) - set(targets))
    checks.require(
        "weights",
        not missing and not extra,
        f"the {len(targets)} weights of a PyTorch MiniGPT with {model.config}",
        f"missing {missing[:3]}, unexpected {extra[:3]}",
    )
    arrays = {}
    for name, (variable, transpose) in targets.items():
        expected = tuple(variable.shape[::-1] if transpose else variable.shape)
        array = checks.array(f"weights[{name!r}]", weights[name], expected)
        arrays[name] = array.T if transpose else array
    for name, (variable, _) in targets.items():
        variable.assign(arrays[name].astype(np.float32))
    return model
