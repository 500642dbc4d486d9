"""Layers, modules and models in PyTorch: the classes of the chapter
"Layers, modules and models".

Mirrors `nnbook.tf.layers` class for class, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, d_in / d_out / H
are feature sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence as _SequenceType

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter
from torch.utils.data import DataLoader, TensorDataset

from nnbook import checks

__all__ = [
    "LinearRegressionScratch",
    "LinearRegression",
    "LinearRegressionV2",
    "PartlyRegistered",
    "Dense",
    "Sequential",
    "FixedHiddenMLP",
    "NestMLP",
    "fit_custom_loop",
    "fit_builtin",
]

# Both frameworks' Sequential say the same: nn.Module and keras Layer are each
# framework's word for a layer.
_A_LAYER = "a layer of this framework"


# ---------------------------------------------- a model is parameters + computation


class LinearRegressionScratch:
    """y_hat = x @ w (+ b) from bare tensors: no nn.Module, no optimizer."""

    def __init__(self, d_in: int, sigma: float = 0.01, device="cpu", bias=True):
        d_in = checks.positive_int("d_in", d_in)
        sigma = checks.positive_float("sigma", sigma)
        bias = checks.boolean("bias", bias)
        w = torch.randn(d_in, 1, device=device) * sigma
        self.w = w.requires_grad_()  # (d_in, 1)
        # bias=False: the walk-through's model, whose data has no intercept
        self.b = None
        if bias:
            self.b = torch.zeros(1, device=device, requires_grad=True)  # (1,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, 1)
        return x @ self.w if self.b is None else x @ self.w + self.b

    def __call__(self, x: torch.Tensor) -> torch.Tensor:  # model(x) works too
        return self.forward(x)

    def loss(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((y_hat - y) ** 2 / 2).mean()  # (B, 1), (B, 1) -> ()

    def parameters(self) -> list[torch.Tensor]:
        return [self.w] if self.b is None else [self.w, self.b]


class LinearRegression(nn.Module):
    """The same model as a module: nn.Linear holds w (and b), and the module
    finds them for us."""

    def __init__(self, d_in: int, sigma: float = 0.01, bias=True):
        super().__init__()
        d_in = checks.positive_int("d_in", d_in)
        sigma = checks.positive_float("sigma", sigma)
        bias = checks.boolean("bias", bias)
        # weight (1, d_in), bias (1,)
        self.linear = nn.Linear(d_in, 1, bias=bias)
        # the same start as LinearRegressionScratch
        nn.init.normal_(self.linear.weight, std=sigma)
        if bias:
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, 1)
        return self.linear(x)


class LinearRegressionV2(LinearRegression):
    """LinearRegression without bias, plus an extra bias that starts far from
    the 0 the walk-through's data needs: a new parameter a stale compiled step
    would not know about."""

    def __init__(
        self,
        d_in: int,
        sigma: float = 0.01,
        bias_init: float = 100.0,
    ):
        super().__init__(d_in, sigma, bias=False)
        bias_init = checks.number("bias_init", bias_init)
        self.extra_bias = nn.Parameter(torch.full((1,), bias_init))  # (1,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, 1)
        return self.linear(x) + self.extra_bias


class PartlyRegistered(nn.Module):
    """y = linear(x) * scale + sum of the extra layers' outputs, with only
    `linear` registered: `scale` is a tensor in a plain attribute and `extras`
    a plain list, so parameters(), state_dict() and .to() do not see them."""

    def __init__(self, d_in: int, n_extras: int = 2):
        super().__init__()
        d_in = checks.positive_int("d_in", d_in)
        n_extras = checks.positive_int("n_extras", n_extras)
        self.linear = nn.Linear(d_in, 1)  # a module attribute: registered
        self.scale = torch.ones(1)  # a plain tensor: not a parameter or buffer
        # a plain list: its layers are not registered
        self.extras = [nn.Linear(d_in, 1) for _ in range(n_extras)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, 1)
        out = self.linear(x) * self.scale
        for extra in self.extras:
            out = out + extra(x)
        return out


# ------------------------------------------------------------------------ layers


class Dense(LazyModuleMixin, nn.Module):
    """y = x @ W.T + b, with d_in read from the first input (as in
    nn.LazyLinear)."""

    def __init__(self, d_out: int):
        super().__init__()
        self.d_out = checks.positive_int("d_out", d_out)
        # No shape yet: placeholders that an optimizer can already hold.
        self.weight = UninitializedParameter()  # (d_out, d_in): PyTorch's layout
        self.bias = UninitializedParameter()  # (d_out,)

    def initialize_parameters(self, x: torch.Tensor) -> None:
        # LazyModuleMixin calls this with the input, just before the first forward.
        if not self.has_uninitialized_params():
            return
        d_in = x.shape[-1]
        bound = 1 / math.sqrt(d_in)  # nn.Linear's default range
        with torch.no_grad():
            self.weight.materialize((self.d_out, d_in))
            self.bias.materialize((self.d_out,))
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, d_out)
        return x @ self.weight.T + self.bias


# --------------------------------------------------------- models made of layers


class Sequential(nn.Module):
    """Layers applied one after another: all of nn.Sequential's forward."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        checks.require("layers", len(layers) > 0, "at least one layer", "none")
        for i, layer in enumerate(layers):
            checks.instance(f"layers[{i}]", layer, nn.Module, _A_LAYER)
            # registered as "0", "1", ...: the names nn.Sequential uses
            self.add_module(str(i), layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, ...) -> (B, ...)
        for layer in self.children():  # in the order they were added
            x = layer(x)
        return x


class FixedHiddenMLP(nn.Module):
    """Forward is plain Python: a fixed random weight, one layer used twice,
    a while loop."""

    def __init__(self, d_hidden: int = 20):
        super().__init__()
        self.d_hidden = d_hidden = checks.positive_int("d_hidden", d_hidden)
        # used twice in forward: one set of weights
        self.linear = Dense(d_hidden)
        # A buffer: saved and moved by .to(device) with the model, never trained.
        fixed = torch.rand(d_hidden, d_hidden)  # (H, H)
        self.register_buffer("fixed_weight", fixed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, H) -> ()
        x = self.linear(x)  # (B, H)
        x = torch.relu(x @ self.fixed_weight + 1)  # (B, H)
        x = self.linear(x)  # the same layer again: its gradient sums both uses
        # data decides how often this loop runs
        while x.abs().sum() > 1:
            x = x / 2
        return x.sum()


class NestMLP(nn.Module):
    """Nesting: Dense layers inside a Sequential inside this model."""

    def __init__(self, widths: _SequenceType[int] = (64, 32), d_out: int = 16):
        super().__init__()
        self.widths = checks.widths("widths", widths)
        self.d_out = checks.positive_int("d_out", d_out)
        blocks = [layer for w in self.widths for layer in (Dense(w), nn.ReLU())]
        self.body = Sequential(*blocks)  # (B, d_in) -> (B, widths[-1])
        self.head = Dense(self.d_out)  # (B, widths[-1]) -> (B, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, d_in) -> (B, d_out)
        return self.head(self.body(x))


# ---------------------------------------------------------------------- training


def _check_fit_args(x, y, epochs, lr, batch_size) -> tuple[int, float, int]:
    """(epochs, lr, batch_size) as Python numbers, once x and y are checked."""
    n, _ = checks.shape("x", x, ("N", "d_in"), kind=torch.is_tensor)
    checks.shape("y", y, (n, "d_out"), kind=torch.is_tensor)
    return (
        checks.positive_int("epochs", epochs),
        checks.positive_float("lr", lr),
        checks.positive_int("batch_size", batch_size),
    )


def fit_custom_loop(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
) -> list[float]:
    """Minibatch SGD on mean squared error, batches cut by indexing.
    Returns each epoch's mean loss."""
    epochs, lr, batch_size = _check_fit_args(x, y, epochs, lr, batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = torch.zeros((), device=x.device)  # summed on the device
        order = torch.randperm(len(x), device=x.device)  # a shuffled epoch
        for idx in order.split(batch_size):
            loss = nn.functional.mse_loss(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(idx)
        losses.append(total.item() / len(x))  # one sync per epoch
    return losses


def fit_builtin(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
) -> list[float]:
    """The same loop, with batches from PyTorch's built-in DataLoader.
    Returns each epoch's mean loss."""
    epochs, lr, batch_size = _check_fit_args(x, y, epochs, lr, batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    data = TensorDataset(x, y)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True)
    losses = []
    for _ in range(epochs):
        total = torch.zeros((), device=x.device)
        for xb, yb in loader:  # per batch: batch_size lookups data[i], then a stack
            loss = nn.functional.mse_loss(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(xb)
        losses.append(total.item() / len(x))
    return losses
