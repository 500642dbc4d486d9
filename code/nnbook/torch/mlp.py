"""Multilayer perceptrons in PyTorch: the classes of the chapters "Fully
connected networks" and "MLP: depth, width and non-linearity".

Mirrors `nnbook.tf.mlp` class for class, in the same order; read the two files
side by side. Shapes in comments: B is the batch size, d_in / d_out / H are
feature sizes.
"""

from __future__ import annotations

from collections.abc import Sequence as _SequenceType

import torch
from torch import nn

from nnbook import checks

__all__ = ["ACTIVATIONS", "MLP"]

# The activations an MLP accepts: name -> the framework's layer for it.
# None means "linear" (no activation). nn.GELU is the exact GELU, x * Phi(x).
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "linear": nn.Identity,
}


class MLP(nn.Module):
    """Fully connected layers with an activation between them:
    d_in -> hidden_dims[0] -> ... -> hidden_dims[-1] -> d_out."""

    def __init__(
        self,
        d_in: int,
        hidden_dims: _SequenceType[int],
        d_out: int,
        activation: str | None = "relu",
    ):
        super().__init__()
        self.d_in = checks.positive_int("d_in", d_in)
        self.hidden_dims = checks.widths("hidden_dims", hidden_dims)
        self.d_out = checks.positive_int("d_out", d_out)
        activation = "linear" if activation is None else activation
        self.activation = checks.one_of("activation", activation, [*ACTIVATIONS])
        dims = (self.d_in, *self.hidden_dims, self.d_out)
        # One affine layer per pair of neighbouring widths; framework default init.
        self.linears = nn.ModuleList(  # weight (d_next, d_prev), bias (d_next,)
            nn.Linear(d_prev, d_next) for d_prev, d_next in zip(dims, dims[1:])
        )
        # No parameters: one activation object serves every hidden layer.
        self.act = ACTIVATIONS[self.activation]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, d_out)
        checks.shape("x", x, ("B", self.d_in))
        *hidden, last = self.linears
        for linear in hidden:
            x = self.act(linear(x))  # (B, H)
        return last(x)  # (B, d_out): no activation on the output
