"""Multilayer perceptrons in TensorFlow / Keras: the classes of the chapters
"Fully connected networks" and "MLP: depth, width and non-linearity".

Mirrors `nnbook.torch.mlp` class for class, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, d_in / d_out / H
are feature sizes.
"""

from __future__ import annotations

from collections.abc import Sequence as _SequenceType

import keras
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import checks

__all__ = ["ACTIVATIONS", "MLP"]

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
