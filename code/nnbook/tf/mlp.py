"""Multilayer perceptrons in TensorFlow / Keras: the classes of the chapters
"Fully connected networks" and "MLP: depth, width and non-linearity".

Mirrors `nnbook.torch.mlp` class for class, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, d_in / d_out / H
are feature sizes.

The second half holds the models-and-layers walk-through's pieces for the fully
connected chapter: linear layers sized when made and sized lazily on the first
call, a hand-written ReLU, the small networks built from them, and full-batch
gradient descent. They are written out rather than taken from the framework so
that the chapter can show what a lazy layer or a fused activation does, and the
tests hold each against the built-in layer it imitates.
"""

from __future__ import annotations

from collections.abc import Sequence as _SequenceType

import keras
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import checks

__all__ = [
    "ACTIVATIONS",
    "FusedNeuralNetwork",
    "LazyLinear",
    "LazyRegression",
    "Linear",
    "MLP",
    "NeuralNetwork",
    "ReLU",
    "Regression",
    "gradient_descent",
    "matrix_product",
]

# The activations an MLP accepts: name -> the framework's function for it.
# None means "linear" (no activation). Keras' gelu is exact by default, x * Phi(x).
ACTIVATIONS = {
    "relu": keras.activations.relu,
    "tanh": keras.activations.tanh,
    "gelu": keras.activations.gelu,
    "sigmoid": keras.activations.sigmoid,
    "linear": keras.activations.linear,
}


@keras.saving.register_keras_serializable(package="nnbook")
class MLP(keras.Model):
    """Fully connected layers with an activation between them:
    d_in -> hidden_dims[0] -> ... -> hidden_dims[-1] -> d_out."""

    def __init__(
        self,
        d_in: int,
        hidden_dims: _SequenceType[int],
        d_out: int,
        activation: str | None = "relu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.d_in = checks.positive_int("d_in", d_in)
        self.hidden_dims = checks.widths("hidden_dims", hidden_dims)
        self.d_out = checks.positive_int("d_out", d_out)
        activation = "linear" if activation is None else activation
        self.activation = checks.one_of("activation", activation, [*ACTIVATIONS])
        widths = (*self.hidden_dims, self.d_out)
        # One affine layer per pair of neighbouring widths; framework default init.
        self.linears = [  # kernel (d_prev, d_next), bias (d_next,)
            keras.layers.Dense(d_next, name=f"linear_{i}")
            for i, d_next in enumerate(widths)
        ]
        # No weights: one activation layer serves every hidden layer.
        self.act = keras.layers.Activation(ACTIVATIONS[self.activation], name="act")
        self.build((None, self.d_in))  # d_in is known: weights now, as in PyTorch

    def build(self, input_shape) -> None:
        for linear in self.linears:
            linear.build(input_shape)
            input_shape = (*input_shape[:-1], linear.units)

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, d_out)
        checks.shape("x", x, ("B", self.d_in))
        *hidden, last = self.linears
        for linear in hidden:
            x = self.act(linear(x))  # (B, H)
        return last(x)  # (B, d_out): no activation on the output

    def get_config(self) -> dict:
        config = {
            "d_in": self.d_in,
            "hidden_dims": list(self.hidden_dims),
            "d_out": self.d_out,
            "activation": self.activation,
        }
        return {**super().get_config(), **config}


# --------------------------------------------------------------------------- the
# models-and-layers walk-through: linear layers built by hand, eager and lazy, a
# hand-written ReLU, and full-batch gradient descent on the toy problem and Boston.


class Linear(keras.layers.Layer):
    """A linear map without bias whose size is fixed when it is made, as in the
    walk-through: `kernel` (d_in, d_out), drawn uniformly from [0, 1)."""

    def __init__(self, d_in: int, d_out: int, **kwargs):
        super().__init__(**kwargs)
        self.d_in = checks.positive_int("d_in", d_in)
        self.d_out = checks.positive_int("d_out", d_out)
        self.kernel = self.add_weight(
            shape=(self.d_in, self.d_out),
            initializer=keras.initializers.RandomUniform(0.0, 1.0),
        )

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, d_out)
        return x @ self.kernel


class LazyLinear(keras.layers.Layer):
    """A linear layer that learns its input size from the first batch it sees, with
    an optional bias (started at ones, as in the walk-through) and activation."""

    def __init__(
        self, units: int, use_bias: bool = False, activation: str = "linear", **kwargs
    ):
        super().__init__(**kwargs)
        self.units = checks.positive_int("units", units)
        self.use_bias = checks.boolean("use_bias", use_bias)
        self.activation = checks.one_of("activation", activation, ["linear", "relu"])
        # No weights yet: `weights` is empty until `build` runs on the first call.

    def build(self, input_shape) -> None:
        # add_weight's default initializer is Glorot uniform
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer="ones")

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, units)
        output = x @ self.kernel
        if self.use_bias:
            output = output + self.bias
        if self.activation == "relu":
            output = tf.maximum(tf.constant(0, output.dtype), output)
        return output


class ReLU(keras.layers.Layer):
    """max(0, x), element by element: an activation written as a layer."""

    def call(self, x: tf.Tensor) -> tf.Tensor:
        return tf.maximum(tf.constant(0, x.dtype), x)


class Regression(keras.Model):
    """Eagerly sized linear layers applied in turn: layer i maps num_inputs[i]
    features to num_outputs[i], e.g. Regression([5, 3], [3, 1])."""

    def __init__(
        self, num_inputs: _SequenceType[int], num_outputs: _SequenceType[int], **kwargs
    ):
        super().__init__(**kwargs)
        num_inputs = checks.widths("num_inputs", num_inputs)
        num_outputs = checks.widths("num_outputs", num_outputs)
        checks.require(
            "num_outputs",
            num_inputs[1:] == num_outputs[:-1] and len(num_inputs) == len(num_outputs),
            f"as many sizes as num_inputs, matching its tail {num_inputs[1:]}",
            repr(num_outputs),
        )
        self.linears = [
            Linear(d_in, d_out) for d_in, d_out in zip(num_inputs, num_outputs)
        ]

    def call(self, x: tf.Tensor) -> tf.Tensor:
        for linear in self.linears:
            x = linear(x)
        return x


class LazyRegression(keras.Model):
    """Linear layers without bias sized on the first call, `units[i]` outputs each:
    our `LazyLinear`, or Keras' own `Dense(use_bias=False)` with use_builtin."""

    def __init__(self, units: _SequenceType[int], use_builtin: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units = checks.widths("units", units)
        self.use_builtin = checks.boolean("use_builtin", use_builtin)
        self.linears = [
            keras.layers.Dense(unit, use_bias=False)
            if self.use_builtin
            else LazyLinear(unit)
            for unit in self.units
        ]

    def call(self, x: tf.Tensor) -> tf.Tensor:
        for linear in self.linears:
            x = linear(x)
        return x


class NeuralNetwork(keras.Model):
    """Lazy linear layers without bias with our ReLU layer after each one, except
    after the last when `last_linear`."""

    def __init__(self, units: _SequenceType[int], last_linear: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units = checks.widths("units", units)
        self.last_linear = checks.boolean("last_linear", last_linear)
        layers = []
        for i, unit in enumerate(self.units):
            layers.append(LazyLinear(unit))
            if i < len(self.units) - 1 or not self.last_linear:
                layers.append(ReLU())
        self.stack = layers

    def call(self, x: tf.Tensor) -> tf.Tensor:
        for layer in self.stack:
            x = layer(x)
        return x


class FusedNeuralNetwork(keras.Model):
    """The same network with the activation inside each linear layer
    (`LazyLinear(activation="relu")`) and, by default, a bias."""

    def __init__(
        self,
        units: _SequenceType[int],
        use_bias: bool = True,
        last_linear: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = checks.widths("units", units)
        self.use_bias = checks.boolean("use_bias", use_bias)
        self.last_linear = checks.boolean("last_linear", last_linear)
        last = "linear" if self.last_linear else "relu"
        self.linears = [
            LazyLinear(unit, self.use_bias, "relu") for unit in self.units[:-1]
        ] + [LazyLinear(self.units[-1], self.use_bias, last)]

    def call(self, x: tf.Tensor) -> tf.Tensor:
        for linear in self.linears:
            x = linear(x)
        return x


def matrix_product(model: keras.Model) -> tf.Tensor:
    """The model's weight matrices multiplied in order, as one (d_in, d_out) matrix
    that acts as `x @ product`."""
    checks.instance("model", model, keras.layers.Layer)
    matrices = [v for v in model.weights if len(v.shape) == 2]
    checks.require("model", bool(matrices), "a model with weight matrices", "none")
    product = tf.convert_to_tensor(matrices[0])
    for matrix in matrices[1:]:
        product = product @ matrix
    return product


def gradient_descent(
    model: keras.Model,
    x: tf.Tensor,
    y: tf.Tensor,
    learning_rate: float,
    iterations: int,
    x_test: tf.Tensor | None = None,
    y_test: tf.Tensor | None = None,
) -> dict[str, list[float]]:
    """Full-batch gradient descent on mean((y - model(x))**2): the loss of each
    iteration before its step ("train") and, given test data, the test loss after it
    ("test"). The loss is written as the walk-through writes it, so a target of shape
    (N,) against a prediction (N, 1) broadcasts to an N x N matrix, on purpose."""
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    iterations = checks.positive_int("iterations", iterations)
    checks.require(
        "x_test, y_test",
        (x_test is None) == (y_test is None),
        "both or neither",
        "only one",
    )
    model(x)  # a lazy model creates its variables outside the traced step

    @tf.function  # a new function per call: traced for this model only
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(y - model(x)))
        gradients = tape.gradient(loss, model.trainable_variables)
        for variable, gradient in zip(model.trainable_variables, gradients):
            variable.assign_sub(learning_rate * gradient)
        if x_test is None:
            return loss, tf.constant(0.0)
        return loss, tf.reduce_mean(tf.square(y_test - model(x_test)))

    history = {"train": [], "test": []}
    for _ in range(iterations):
        loss, test_loss = step()
        history["train"].append(float(loss))
        if x_test is not None:
            history["test"].append(float(test_loss))
    return history
