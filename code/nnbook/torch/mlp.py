"""Multilayer perceptrons in PyTorch: the classes of the chapters "Fully
connected networks" and "MLP: depth, width and non-linearity".

Mirrors `nnbook.tf.mlp` class for class, in the same order; read the two files
side by side. Shapes in comments: B is the batch size, d_in / d_out / H are
feature sizes.

The second half holds the models-and-layers walk-through's pieces for the fully
connected chapter: linear layers sized when made and sized lazily on the first
call, a hand-written ReLU, the small networks built from them, and full-batch
gradient descent. They are written out rather than taken from the framework so
that the chapter can show what a lazy layer or a fused activation does, and the
tests hold each against the built-in layer it imitates.
"""

from __future__ import annotations

from collections.abc import Sequence as _SequenceType

import torch
from torch import nn

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


# --------------------------------------------------------------------------- the
# models-and-layers walk-through: linear layers built by hand, eager and lazy, a
# hand-written ReLU, and full-batch gradient descent on the toy problem and Boston.


class Linear(nn.Module):
    """A linear map without bias whose size is fixed when it is made, as in the
    walk-through: `weight` (d_out, d_in), like `nn.Linear`'s, drawn uniformly from
    [0, 1) as the walk-through draws it."""

    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.d_in = checks.positive_int("d_in", d_in)
        self.d_out = checks.positive_int("d_out", d_out)
        self.weight = nn.Parameter(torch.rand(self.d_out, self.d_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, d_out)
        return x @ self.weight.T


class LazyLinear(nn.Module):
    """A linear layer that learns its input size from the first batch it sees, with
    an optional bias (started at ones, as in the walk-through) and activation."""

    def __init__(self, units: int, use_bias: bool = False, activation: str = "linear"):
        super().__init__()
        self.units = checks.positive_int("units", units)
        self.use_bias = checks.boolean("use_bias", use_bias)
        self.activation = checks.one_of("activation", activation, ["linear", "relu"])
        # No parameters yet: `parameters()` is empty until the first call.
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)

    def build(self, x: torch.Tensor) -> None:
        # Glorot-uniform weights: what Keras' `add_weight` gives the TensorFlow twin.
        weight = torch.empty(self.units, x.shape[-1], device=x.device)
        self.weight = nn.Parameter(nn.init.xavier_uniform_(weight))
        if self.use_bias:
            self.bias = nn.Parameter(torch.ones(self.units, device=x.device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, units)
        if self.weight is None:
            self.build(x)
        output = x @ self.weight.T
        if self.use_bias:
            output = output + self.bias
        if self.activation == "relu":
            output = torch.clamp_min(output, 0.0)
        return output


class ReLU(nn.Module):
    """max(0, x), element by element: an activation written as a layer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.clamp_min(x, 0.0)


class Regression(nn.Module):
    """Eagerly sized linear layers applied in turn: layer i maps num_inputs[i]
    features to num_outputs[i], e.g. Regression([5, 3], [3, 1])."""

    def __init__(self, num_inputs: _SequenceType[int], num_outputs: _SequenceType[int]):
        super().__init__()
        num_inputs = checks.widths("num_inputs", num_inputs)
        num_outputs = checks.widths("num_outputs", num_outputs)
        checks.require(
            "num_outputs",
            num_inputs[1:] == num_outputs[:-1] and len(num_inputs) == len(num_outputs),
            f"as many sizes as num_inputs, matching its tail {num_inputs[1:]}",
            repr(num_outputs),
        )
        self.linears = nn.ModuleList(
            Linear(d_in, d_out) for d_in, d_out in zip(num_inputs, num_outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for linear in self.linears:
            x = linear(x)
        return x


class LazyRegression(nn.Module):
    """Linear layers without bias sized on the first call, `units[i]` outputs each:
    our `LazyLinear`, or PyTorch's own `nn.LazyLinear(bias=False)` with use_builtin."""

    def __init__(self, units: _SequenceType[int], use_builtin: bool = False):
        super().__init__()
        self.units = checks.widths("units", units)
        self.use_builtin = checks.boolean("use_builtin", use_builtin)
        self.linears = nn.ModuleList(
            nn.LazyLinear(unit, bias=False) if self.use_builtin else LazyLinear(unit)
            for unit in self.units
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for linear in self.linears:
            x = linear(x)
        return x


class NeuralNetwork(nn.Module):
    """Lazy linear layers without bias with our ReLU layer after each one, except
    after the last when `last_linear`."""

    def __init__(self, units: _SequenceType[int], last_linear: bool = True):
        super().__init__()
        self.units = checks.widths("units", units)
        self.last_linear = checks.boolean("last_linear", last_linear)
        layers = []
        for i, unit in enumerate(self.units):
            layers.append(LazyLinear(unit))
            if i < len(self.units) - 1 or not self.last_linear:
                layers.append(ReLU())
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class FusedNeuralNetwork(nn.Module):
    """The same network with the activation inside each linear layer
    (`LazyLinear(activation="relu")`) and, by default, a bias."""

    def __init__(
        self,
        units: _SequenceType[int],
        use_bias: bool = True,
        last_linear: bool = True,
    ):
        super().__init__()
        self.units = checks.widths("units", units)
        self.use_bias = checks.boolean("use_bias", use_bias)
        self.last_linear = checks.boolean("last_linear", last_linear)
        last = "linear" if self.last_linear else "relu"
        self.linears = nn.ModuleList(
            [LazyLinear(unit, self.use_bias, "relu") for unit in self.units[:-1]]
            + [LazyLinear(self.units[-1], self.use_bias, last)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for linear in self.linears:
            x = linear(x)
        return x


def matrix_product(model: nn.Module) -> torch.Tensor:
    """The model's weight matrices multiplied in order, as one (d_in, d_out) matrix
    that acts as `x @ product` (each (d_out, d_in) weight is transposed)."""
    checks.instance("model", model, nn.Module)
    matrices = [p.T for p in model.parameters() if p.ndim == 2]
    checks.require("model", bool(matrices), "a model with weight matrices", "none")
    product = matrices[0]
    for matrix in matrices[1:]:
        product = product @ matrix
    return product


def gradient_descent(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    learning_rate: float,
    iterations: int,
    x_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
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
    model(x)  # a lazy model creates its parameters before they are listed
    parameters = list(model.parameters())
    history = {"train": [], "test": []}
    for _ in range(iterations):
        loss = torch.mean(torch.square(y - model(x)))
        gradients = torch.autograd.grad(loss, parameters)
        with torch.no_grad():  # the update itself is not part of the graph
            for parameter, gradient in zip(parameters, gradients):
                parameter -= learning_rate * gradient
            history["train"].append(loss.item())
            if x_test is not None:
                test_loss = torch.mean(torch.square(y_test - model(x_test)))
                history["test"].append(test_loss.item())
    return history
