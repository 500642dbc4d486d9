"""Recurrent networks in TensorFlow / Keras: the classes of the chapter "Recurrent networks: vanilla RNN vs LSTM".

Mirrors `nnbook.torch.recurrent` class for class, in the same order; read the two files side by side.
Shapes in comments: B is the batch size, T the number of time steps, C the input features, H the hidden
size, V the vocabulary size, E the embedding width.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import checks
from nnbook.history import TrainingRecord

__all__ = [
    "VanillaRNN",
    "LSTM",
    "load_builtin",
    "set_gate_biases",
    "SequenceClassifier",
    "evaluate",
    "fit_sequence_classifier",
    "input_gradient_norms",
]


def _check_sequence(x, input_size: int) -> None:
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) != 3:
        raise ValueError(f"x: expected a 3-D tensor (B, T, C), got shape {shape}")
    if shape[1] is None:
        raise ValueError("x: expected a known number of time steps to unroll, got None")
    if shape[1] == 0:
        raise ValueError(
            "x: expected at least one time step, got an empty sequence (T = 0)"
        )
    if shape[2] != input_size:
        raise ValueError(
            f"x: expected C = input_size = {input_size} features, got {shape[2]}"
        )


@keras.saving.register_keras_serializable(package="nnbook")
def _unit_forget_bias(shape, dtype=None):
    # keras.layers.LSTM's default bias: 0 for the gates i, c, o and 1 for the forget gate f
    H = shape[0] // 4
    return tf.concat([tf.zeros(H), tf.ones(H), tf.zeros(2 * H)], axis=0)


# ---------------------------------------------------------------------- the cells, unrolled


@keras.saving.register_keras_serializable(package="nnbook")
class VanillaRNN(keras.layers.Layer):
    """h_t = tanh(x_t W_x + h_{t-1} W_h + b), unrolled over time:
    what keras.layers.SimpleRNN computes."""

    def __init__(self, input_size: int, hidden_size: int, **kwargs):
        super().__init__(**kwargs)
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        # SimpleRNN's defaults: Glorot-uniform kernel, orthogonal recurrent kernel,
        # zero bias
        self.ih = keras.layers.Dense(hidden_size, name="ih")  # W_x (C, H), b (H,)
        self.hh = keras.layers.Dense(  # W_h (H, H), no bias: Keras has one
            hidden_size, use_bias=False, kernel_initializer="orthogonal", name="hh"
        )
        self.build((None, None, input_size))  # C is known: weights now, as in PyTorch

    def build(self, input_shape) -> None:
        self.ih.build((None, self.input_size))
        self.hh.build((None, self.hidden_size))

    def __call__(self, x, *args, **kwargs):
        # checked here, not in call(): Keras rewrites the errors raised in call()
        _check_sequence(x, self.input_size)
        return super().__call__(x, *args, **kwargs)

    def call(self, x: tf.Tensor):  # (B, T, C) -> (B, T, H), (B, H)
        h = tf.zeros((tf.shape(x)[0], self.hidden_size))  # h_{-1} = 0: (B, H)
        outputs = []
        for t in range(x.shape[1]):  # in order: h_t needs h_{t-1}
            h = tf.tanh(self.ih(x[:, t]) + self.hh(h))  # (B, H)
            outputs.append(h)
        return tf.stack(outputs, axis=1), h  # every h_t (B, T, H), the last (B, H)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
        }


@keras.saving.register_keras_serializable(package="nnbook")
class LSTM(keras.layers.Layer):
    """Long short-term memory, unrolled over time: what keras.layers.LSTM computes. Gates
    in Keras' order i, f, c, o (input, forget, candidate, output), stacked in one
    (C, 4H) and one (H, 4H) kernel."""

    def __init__(self, input_size: int, hidden_size: int, **kwargs):
        super().__init__(**kwargs)
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        # LSTM's defaults: Glorot-uniform kernel, orthogonal recurrent kernel,
        # forget-gate bias 1
        self.ih = keras.layers.Dense(  # W_x (C, 4H), b (4H,)
            4 * hidden_size, bias_initializer=_unit_forget_bias, name="ih"
        )
        self.hh = keras.layers.Dense(  # W_h (H, 4H), no bias: Keras has one
            4 * hidden_size, use_bias=False, kernel_initializer="orthogonal", name="hh"
        )
        self.build((None, None, input_size))

    def build(self, input_shape) -> None:
        self.ih.build((None, self.input_size))
        self.hh.build((None, self.hidden_size))

    def __call__(self, x, *args, **kwargs):
        # checked here, not in call(): Keras rewrites the errors raised in call()
        _check_sequence(x, self.input_size)
        return super().__call__(x, *args, **kwargs)

    def call(self, x: tf.Tensor):  # (B, T, C) -> (B, T, H), ((B, H), (B, H))
        h = tf.zeros((tf.shape(x)[0], self.hidden_size))  # h_{-1} = 0: (B, H)
        c = tf.zeros((tf.shape(x)[0], self.hidden_size))  # c_{-1} = 0: (B, H)
        outputs = []
        for t in range(x.shape[1]):
            gates = self.ih(x[:, t]) + self.hh(h)  # (B, 4H)
            i, f, g, o = tf.split(gates, 4, axis=-1)  # each (B, H)
            i, f, o = tf.sigmoid(i), tf.sigmoid(f), tf.sigmoid(o)  # in (0, 1)
            g = tf.tanh(g)  # the candidate, in (-1, 1)
            c = f * c + i * g  # keep a fraction f of the cell, write a fraction i of g
            h = o * tf.tanh(c)  # (B, H)
            outputs.append(h)
        return tf.stack(outputs, axis=1), (h, c)  # (B, T, H), the last (h, c)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
        }


def load_builtin(
    ours: VanillaRNN | LSTM, builtin: keras.layers.SimpleRNN | keras.layers.LSTM
) -> VanillaRNN | LSTM:
    """Copy a built SimpleRNN (tanh) / LSTM into VanillaRNN / LSTM: the same layout, no transposes."""
    pairs = {VanillaRNN: keras.layers.SimpleRNN, LSTM: keras.layers.LSTM}
    if type(ours) not in pairs:
        raise ValueError(
            f"ours: expected a VanillaRNN or an LSTM, got {type(ours).__name__}"
        )
    expected = pairs[type(ours)]
    if type(builtin) is not expected or not builtin.built or not builtin.cell.use_bias:
        raise ValueError(
            f"builtin: expected a built keras.layers.{expected.__name__} with a bias, got {builtin!r}"
        )
    if builtin.cell.activation is not keras.activations.tanh:
        raise ValueError(
            f"builtin: expected activation='tanh', got {builtin.cell.activation!r}"
        )
    ours.ih.kernel.assign(builtin.cell.kernel)  # (C, H) or (C, 4H)
    ours.ih.bias.assign(builtin.cell.bias)
    ours.hh.kernel.assign(builtin.cell.recurrent_kernel)  # (H, H) or (H, 4H)
    return ours


def set_gate_biases(
    layer: LSTM | keras.layers.LSTM, *, forget_bias: float, input_bias: float
) -> None:
    """Start the forget gate at sigmoid(forget_bias), the input gate at sigmoid(input_bias).

    Keras has one bias per gate: it gets the value."""
    if isinstance(layer, LSTM):
        bias, H = layer.ih.bias, layer.hidden_size  # (4H,)
    elif isinstance(layer, keras.layers.LSTM) and layer.built and layer.cell.use_bias:
        bias, H = layer.cell.bias, layer.units
    else:
        raise ValueError(
            "layer: expected an LSTM or a built keras.layers.LSTM with a "
            f"bias, got {type(layer).__name__}"
        )
    values = bias.numpy()
    values[0:H] = input_bias  # i = entries [0, H)
    values[H : 2 * H] = forget_bias  # f = entries [H, 2H)
    bias.assign(values)


# -------------------------------------------------------------------- the long-sequence classifier


@keras.saving.register_keras_serializable(package="nnbook")
class SequenceClassifier(keras.Model):
    """Tokens -> embedding -> SimpleRNN or LSTM (the built-in kernels) -> a dense
    layer on the last hidden state."""

    def __init__(
        self,
        cell: str = "lstm",
        vocab_size: int = 8,
        embed_dim: int = 16,
        hidden_size: int = 64,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.cell = checks.one_of("cell", cell, ["rnn", "lstm"])
        self.vocab_size = checks.positive_int("vocab_size", vocab_size)
        self.embed_dim = checks.positive_int("embed_dim", embed_dim)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        normal = keras.initializers.RandomNormal(stddev=1.0)  # as in nn.Embedding
        self.embedding = keras.layers.Embedding(  # embeddings (V, E) ~ N(0, 1)
            vocab_size,
            embed_dim,
            embeddings_initializer=normal,
            dtype=self.dtype_policy,
            name="embedding",
        )
        layer = keras.layers.LSTM if cell == "lstm" else keras.layers.SimpleRNN
        self.recurrent = layer(  # (B, T, E) -> (B, T, H)
            hidden_size,
            return_sequences=True,
            dtype=self.dtype_policy,
            name="recurrent",
        )
        self.head = keras.layers.Dense(  # (B, H) -> (B, V)
            vocab_size, dtype=self.dtype_policy, name="head"
        )
        self.build((None, None))  # weights now, as in PyTorch

    def build(self, input_shape) -> None:
        self.embedding.build((None, None))
        self.recurrent.build((None, None, self.embed_dim))
        self.head.build((None, self.hidden_size))

    def __call__(self, tokens, *args, **kwargs):
        # checked here, not in call(): Keras rewrites the errors raised in call()
        shape = tuple(getattr(tokens, "shape", ()))
        if len(shape) != 2:
            raise ValueError(f"tokens: expected a 2-D tensor (B, T), got shape {shape}")
        return super().__call__(tokens, *args, **kwargs)

    def call(self, tokens: tf.Tensor) -> tf.Tensor:  # (B, T) -> (B, V)
        return self.classify(self.embedding(tokens))

    def classify(self, x: tf.Tensor) -> tf.Tensor:  # (B, T, E) -> (B, V)
        outputs = self.recurrent(x)  # (B, T, H)
        return self.head(outputs[:, -1])  # the label is read from the last hidden state

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "cell": self.cell,
            "vocab_size": self.vocab_size,
            "embed_dim": self.embed_dim,
            "hidden_size": self.hidden_size,
        }


def evaluate(
    model: SequenceClassifier,
    tokens: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 1000,
) -> float:
    """Test accuracy of `model` on int tokens (N, T) and labels (N,)."""
    return _accuracy(_predict_function(model), tokens, labels, batch_size)


def _accuracy(
    predict, tokens: np.ndarray, labels: np.ndarray, batch_size: int = 1000
) -> float:
    correct = 0
    for i in range(0, len(tokens), batch_size):
        predicted = predict(tf.constant(tokens[i : i + batch_size])).numpy()  # (b,)
        correct += (predicted == labels[i : i + batch_size]).sum()
    return float(correct / len(tokens))


def _predict_function(model: keras.Model):
    @tf.function(reduce_retracing=True)
    def predict(tokens):
        return tf.argmax(model(tokens, training=False), axis=1)

    return predict


def fit_sequence_classifier(
    model: SequenceClassifier,
    batches,
    test: tuple[np.ndarray, np.ndarray],
    *,
    lr: float = 3e-3,
    eval_every: int = 50,
) -> TrainingRecord:
    """Adam on cross-entropy, one step per (tokens, labels) batch; the test set scored
    before training and every `eval_every` steps."""
    checks.positive_float("lr", lr)
    checks.positive_int("eval_every", eval_every)
    optimizer = keras.optimizers.Adam(
        learning_rate=lr, epsilon=1e-8
    )  # PyTorch's epsilon
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function  # one graph for every step: the batches have one shape
    def train_step(tokens, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(tokens, training=True))  # (B, V) logits
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    predict = _predict_function(model)  # traced once for the whole run
    losses, eval_steps, accuracy, seconds = [], [0], [_accuracy(predict, *test)], 0.0
    for step, (tokens, labels) in enumerate(batches, start=1):
        start = time.perf_counter()
        losses.append(float(train_step(tf.constant(tokens), tf.constant(labels))))
        seconds += time.perf_counter() - start
        if step % eval_every == 0:
            eval_steps.append(step)
            accuracy.append(_accuracy(predict, *test))
    if not losses:
        raise ValueError("batches: expected at least one batch, got none")
    return TrainingRecord(
        np.array(losses), np.array(eval_steps), np.array(accuracy), seconds
    )


def input_gradient_norms(
    model: SequenceClassifier, tokens: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """||d loss / d x_t|| for every time step t, averaged over the sequences: (T,).

    x_t is the embedded token at step t, the recurrent layer's input; each sequence's
    own loss. Computed in float64, on a copy of the model: the smallest norms
    underflow float32 (nothing below ~1e-45)."""
    model64 = type(model).from_config({**model.get_config(), "dtype": "float64"})
    model64.set_weights(model.get_weights())  # cast to float64
    x = model64.embedding(tf.constant(tokens))  # (B, T, E) float64
    with tf.GradientTape() as tape:
        tape.watch(x)  # a tensor, not a variable: watched only when asked
        logits = model64.classify(x)  # (B, V)
        losses = keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True
        )  # (B,)
        loss = tf.reduce_sum(losses)
    grad = tape.gradient(loss, x)  # (B, T, E)
    return tf.reduce_mean(tf.norm(grad, axis=-1), axis=0).numpy()  # (T,)
