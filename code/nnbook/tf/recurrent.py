"""Recurrent networks in TensorFlow / Keras: the classes of the chapter "Recurrent
networks: vanilla RNN vs LSTM".

Mirrors `nnbook.torch.recurrent` class for class, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, T the number of time
steps, C the input features, H the hidden size, V the vocabulary size, E the embedding
width.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from nnbook import checks, history
from nnbook.tf import predicted_labels  # TensorFlow, imported without its C++ logging

__all__ = [
    "VanillaRNN",
    "LSTM",
    "load_builtin",
    "set_gate_biases",
    "SequenceClassifier",
    "from_scratch_copy",
    "evaluate",
    "fit_sequence_classifier",
    "input_gradient_norms",
]


def _check_sequence(x, input_size: int) -> None:
    _, steps, features = checks.shape("x", x, ("B", "T", "C"))
    # a Python loop unrolls the steps: their number must be known when tracing
    checks.require(
        "x", steps is not None, "a known number of time steps to unroll", None
    )
    checks.require(
        "x", steps != 0, "at least one time step", "an empty sequence (T = 0)"
    )
    checks.require(
        "x",
        features == input_size,
        f"C = input_size = {input_size} features",
        features,
    )


@keras.saving.register_keras_serializable(package="nnbook")
def _unit_forget_bias(shape, dtype=None):
    # keras.layers.LSTM's default bias: 0 for the gates i, c, o and 1 for the forget
    # gate f
    H = shape[0] // 4
    dtype = dtype or "float32"
    return tf.concat([tf.zeros(H, dtype), tf.ones(H, dtype), tf.zeros(2 * H, dtype)], 0)


# ------------------------------------------------------------ the cells, unrolled


@keras.saving.register_keras_serializable(package="nnbook")
class VanillaRNN(keras.layers.Layer):
    """h_t = tanh(x_t W_x + h_{t-1} W_h + b), unrolled over time:
    what keras.layers.SimpleRNN computes."""

    def __init__(self, input_size: int, hidden_size: int, **kwargs):
        super().__init__(**kwargs)
        self.input_size = input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = hidden_size = checks.positive_int("hidden_size", hidden_size)
        # SimpleRNN's defaults: Glorot-uniform kernel, orthogonal recurrent kernel,
        # zero bias
        self.ih = keras.layers.Dense(  # W_x (C, H), b (H,)
            hidden_size, dtype=self.dtype_policy, name="ih"
        )
        self.hh = keras.layers.Dense(  # W_h (H, H), no bias: Keras has one
            hidden_size,
            use_bias=False,
            kernel_initializer="orthogonal",
            dtype=self.dtype_policy,
            name="hh",
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
        # x_t W_x + b for every t in one call: T tensors (B, H); unstack, not
        # x_terms[:, t], whose gradient would fill a (B, T, H) tensor per step
        x_terms = tf.unstack(self.ih(x), axis=1)
        h = tf.zeros((tf.shape(x)[0], self.hidden_size), x.dtype)  # h_{-1} = 0: (B, H)
        outputs = []
        for x_term in x_terms:  # in order: h_t needs h_{t-1}
            h = tf.tanh(x_term + self.hh(h))  # (B, H)
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
    """Long short-term memory, unrolled over time: what keras.layers.LSTM computes.
    Gates in Keras' order i, f, c, o (input, forget, candidate, output), stacked in
    one (C, 4H) and one (H, 4H) kernel."""

    def __init__(self, input_size: int, hidden_size: int, **kwargs):
        super().__init__(**kwargs)
        self.input_size = input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = hidden_size = checks.positive_int("hidden_size", hidden_size)
        # LSTM's defaults: Glorot-uniform kernel, orthogonal recurrent kernel,
        # forget-gate bias 1
        self.ih = keras.layers.Dense(  # W_x (C, 4H), b (4H,)
            4 * hidden_size,
            bias_initializer=_unit_forget_bias,
            dtype=self.dtype_policy,
            name="ih",
        )
        self.hh = keras.layers.Dense(  # W_h (H, 4H), no bias: Keras has one
            4 * hidden_size,
            use_bias=False,
            kernel_initializer="orthogonal",
            dtype=self.dtype_policy,
            name="hh",
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
        x_terms = tf.unstack(self.ih(x), axis=1)  # x_t W_x + b: T tensors (B, 4H)
        h = tf.zeros((tf.shape(x)[0], self.hidden_size), x.dtype)  # h_{-1} = 0: (B, H)
        c = tf.zeros((tf.shape(x)[0], self.hidden_size), x.dtype)  # c_{-1} = 0: (B, H)
        outputs = []
        for x_term in x_terms:
            gates = x_term + self.hh(h)  # (B, 4H)
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
    """Copy a built SimpleRNN (tanh) / LSTM into VanillaRNN / LSTM: the same layout,
    no transposes."""
    pairs = {VanillaRNN: keras.layers.SimpleRNN, LSTM: keras.layers.LSTM}
    checks.require(
        "ours", type(ours) in pairs, "a VanillaRNN or an LSTM", type(ours).__name__
    )
    expected = pairs[type(ours)]
    checks.require(
        "builtin",
        type(builtin) is expected and builtin.built and builtin.cell.use_bias,
        f"a built keras.layers.{expected.__name__} with a bias",
        repr(builtin),
    )
    checks.require(
        "builtin",
        builtin.cell.activation is keras.activations.tanh,
        "activation='tanh'",
        repr(builtin.cell.activation),
    )
    ours.ih.kernel.assign(builtin.cell.kernel)  # (C, H) or (C, 4H)
    ours.ih.bias.assign(builtin.cell.bias)
    ours.hh.kernel.assign(builtin.cell.recurrent_kernel)  # (H, H) or (H, 4H)
    return ours


# set_gate_biases' rule in words both frameworks share (an nn.LSTM is built when made,
# a Keras LSTM has one layer)
_AN_LSTM = "an LSTM, or a built one-layer LSTM of this framework with biases"


def set_gate_biases(
    layer: LSTM | keras.layers.LSTM, *, forget_bias: float, input_bias: float
) -> None:
    """Start the forget gate at sigmoid(forget_bias), the input gate at
    sigmoid(input_bias).

    Keras has one bias per gate: it gets the value."""
    forget_bias = checks.number("forget_bias", forget_bias)
    input_bias = checks.number("input_bias", input_bias)
    builtin = (
        isinstance(layer, keras.layers.LSTM) and layer.built and layer.cell.use_bias
    )
    checks.require(
        "layer",
        isinstance(layer, LSTM) or builtin,
        _AN_LSTM,
        type(layer).__name__,
    )
    if isinstance(layer, LSTM):
        bias, H = layer.ih.bias, layer.hidden_size  # (4H,)
    else:
        bias, H = layer.cell.bias, layer.units
    values = bias.numpy()
    values[0:H] = input_bias  # i = entries [0, H)
    values[H : 2 * H] = forget_bias  # f = entries [H, 2H)
    bias.assign(values)


# ---------------------------------------------------- the long-sequence classifier


@keras.saving.register_keras_serializable(package="nnbook")
class SequenceClassifier(keras.Model):
    """Tokens -> embedding -> a recurrent layer -> a dense layer on the last hidden
    state. The recurrent layer is SimpleRNN or LSTM (the built-in kernels), or with
    `from_scratch=True` our VanillaRNN or LSTM above, unrolled in Python."""

    def __init__(
        self,
        cell: str = "lstm",
        vocab_size: int = 8,
        embed_dim: int = 16,
        hidden_size: int = 64,
        from_scratch: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.cell = cell = checks.one_of("cell", cell, ["rnn", "lstm"])
        self.vocab_size = vocab_size = checks.positive_int("vocab_size", vocab_size)
        self.embed_dim = embed_dim = checks.positive_int("embed_dim", embed_dim)
        self.hidden_size = hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.from_scratch = checks.boolean("from_scratch", from_scratch)
        normal = keras.initializers.RandomNormal(stddev=1.0)  # as in nn.Embedding
        self.embedding = keras.layers.Embedding(  # embeddings (V, E) ~ N(0, 1)
            vocab_size,
            embed_dim,
            embeddings_initializer=normal,
            dtype=self.dtype_policy,
            name="embedding",
        )
        if from_scratch:
            layer = LSTM if cell == "lstm" else VanillaRNN
            self.recurrent = layer(  # (B, T, E) -> (B, T, H), the last state
                embed_dim, hidden_size, dtype=self.dtype_policy, name="recurrent"
            )
        else:
            layer = keras.layers.LSTM if cell == "lstm" else keras.layers.SimpleRNN
            self.recurrent = layer(  # (B, T, E) -> (B, T, H), the last state
                hidden_size,
                return_sequences=True,
                return_state=True,
                dtype=self.dtype_policy,
                name="recurrent",
            )
        self.head = keras.layers.Dense(  # (B, H) -> (B, V)
            vocab_size, dtype=self.dtype_policy, name="head"
        )
        self.build((None, None))  # weights now, as in PyTorch

    def build(self, input_shape) -> None:
        self.embedding.build((None, None))
        if not self.recurrent.built:  # our cells build themselves when made
            self.recurrent.build((None, None, self.embed_dim))
        self.head.build((None, self.hidden_size))

    def __call__(self, tokens, *args, **kwargs):
        # checked here, not in call(): Keras rewrites the errors raised in call()
        checks.shape("tokens", tokens, ("B", "T"))
        return super().__call__(tokens, *args, **kwargs)

    def call(self, tokens: tf.Tensor) -> tf.Tensor:  # (B, T) -> (B, V)
        return self.classify(self.embedding(tokens))

    def classify(self, x: tf.Tensor) -> tf.Tensor:  # (B, T, E) -> (B, V)
        outputs = self.recurrent(x)[0]  # (B, T, H)
        return self.head(outputs[:, -1])  # the label is read from the last hidden state

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "cell": self.cell,
            "vocab_size": self.vocab_size,
            "embed_dim": self.embed_dim,
            "hidden_size": self.hidden_size,
            "from_scratch": self.from_scratch,
        }


def from_scratch_copy(model: SequenceClassifier) -> SequenceClassifier:
    """The same classifier, weights included, with our unrolled cell in place of the
    built-in layer: the two compute the same function."""
    checks.require(
        "model",
        isinstance(model, SequenceClassifier) and not model.from_scratch,
        "a SequenceClassifier with a built-in recurrent layer",
        repr(model),
    )
    copy_ = SequenceClassifier(
        model.cell,
        model.vocab_size,
        model.embed_dim,
        model.hidden_size,
        from_scratch=True,
    )
    copy_.embedding.set_weights(model.embedding.get_weights())
    load_builtin(copy_.recurrent, model.recurrent)
    copy_.head.set_weights(model.head.get_weights())
    return copy_


def evaluate(
    model: SequenceClassifier,
    tokens: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 1000,
) -> float:
    """Test accuracy of `model` on int tokens (N, T) and labels (N,), in inference
    mode; the prediction is compiled once per model (`nnbook.tf.predicted_labels`)."""
    correct = 0
    for i in range(0, len(tokens), batch_size):
        batch = tf.constant(tokens[i : i + batch_size])  # (b, T)
        predicted = predicted_labels(model, batch).numpy()  # (b,)
        correct += (predicted == labels[i : i + batch_size]).sum()
    return float(correct / len(tokens))


def fit_sequence_classifier(
    model: SequenceClassifier,
    batches,
    test: tuple[np.ndarray, np.ndarray],
    *,
    lr: float = 3e-3,
    eval_every: int = 50,
) -> history.TrainingHistory:
    """Adam on cross-entropy, one step per (tokens, labels) batch; the test set scored
    before training and every `eval_every` steps."""
    lr = checks.positive_float("lr", lr)
    eval_every = checks.positive_int("eval_every", eval_every)
    optimizer = keras.optimizers.Adam(learning_rate=lr, epsilon=1e-8)  # PyTorch's eps
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function  # one graph for every step: the batches have one shape
    def compiled_step(tokens, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(tokens, training=True))  # (B, V) logits
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    def train_step(step: int, batch) -> tf.Tensor:
        tokens, labels = batch
        return compiled_step(tf.constant(tokens), tf.constant(labels))

    def test_model() -> dict[str, float]:
        return {"test_accuracy": evaluate(model, *test)}

    return history.run_training_loop(
        train_step,
        batches,
        test_model,
        eval_at=history.every(eval_every),
        items_per_step=lambda batch: len(batch[0]),  # sequences
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
