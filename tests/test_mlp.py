"""The MLP of the chapters "Fully connected networks" and "MLP: depth, width and non-linearity": each framework's
class against a hand-built Sequential of built-in layers, the two frameworks against each other, the parameter
count formula, argument checks, and the plotting helpers the chapters add.

Cross-framework checks load the same float32 weights into the PyTorch and the Keras MLP and compare outputs with
atol 1e-5 (float32 matmuls of width <= 64, summed in different orders, differ by ~1e-6). PyTorch stores a linear
weight as (out, in), Keras a kernel as (in, out): copies transpose it.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from nnbook import plots
from nnbook.tf import mlp as K
from nnbook.torch import mlp as T
from helpers import rand

matplotlib.use("Agg")

ATOL = 1e-5  # float32, see the module docstring
ACTIVATIONS = ["relu", "tanh", "gelu", "sigmoid", "linear", None]
BUILTIN_TORCH = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid, "linear": None}
SHAPES = [(3, (5,), 2), (8, (16, 16), 4), (13, (64, 64), 1), (784, (256, 128, 64), 10), (2, (1, 1, 1, 1), 3)]


def torch_out(module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def to_keras(torch_params: list[torch.Tensor], keras_weights: list) -> None:
    """Copy PyTorch parameters into Keras weights, pairing them in order; 2-D weights are transposed."""
    assert len(torch_params) == len(keras_weights)
    for p, v in zip(torch_params, keras_weights):
        value = p.detach().cpu().numpy()
        assert value.T.shape == tuple(v.shape) if value.ndim == 2 else value.shape == tuple(v.shape)
        v.assign(value.T if value.ndim == 2 else value)


def formula(d_in: int, hidden_dims: tuple[int, ...], d_out: int) -> int:
    dims = (d_in, *hidden_dims, d_out)
    return sum((a + 1) * b for a, b in zip(dims, dims[1:]))


# --------------------------------------------------------------------------- what the tests here cover


def test_the_activations_tested_here_are_those_the_mlp_accepts():
    assert list(T.ACTIVATIONS) == ["relu", "tanh", "gelu", "sigmoid", "linear"]  # tf's: test_mirror.py


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_both_frameworks_store_the_same_arguments_and_layer_shapes(activation):
    t, k = T.MLP(8, [16, 4], 3, activation), K.MLP(8, [16, 4], 3, activation)
    for m in (t, k):
        assert (m.d_in, m.hidden_dims, m.d_out, m.activation) == (8, (16, 4), 3, activation or "linear")
    assert [tuple(p.shape)[::-1] for p in t.parameters()] == [tuple(v.shape) for v in k.weights]


# --------------------------------------------------------------------------- against the built-ins


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_torch_mlp_equals_a_hand_built_nn_sequential_with_the_same_weights(activation):
    ours = T.MLP(6, (16, 8), 3, activation)
    act = BUILTIN_TORCH[activation or "linear"]
    between = [act()] if act else []
    builtin = nn.Sequential(nn.Linear(6, 16), *between, nn.Linear(16, 8), *between, nn.Linear(8, 3))
    builtin_linears = [m for m in builtin if isinstance(m, nn.Linear)]
    for mine, theirs in zip(ours.linears, builtin_linears, strict=True):
        theirs.load_state_dict(mine.state_dict())
    x = rand(5, 6)
    np.testing.assert_allclose(torch_out(ours, x), torch_out(builtin, x), atol=1e-6)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_keras_mlp_equals_a_hand_built_keras_sequential_with_the_same_weights(activation):
    ours = K.MLP(6, (16, 8), 3, activation)
    builtin = keras.Sequential([keras.Input((6,)),
                                keras.layers.Dense(16, activation=activation),
                                keras.layers.Dense(8, activation=activation),
                                keras.layers.Dense(3)])
    builtin.set_weights(ours.get_weights())  # the same order: kernel (in, out), then bias, per layer
    x = rand(5, 6)
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)


def test_keras_mlp_creates_its_weights_in_the_constructor_named_by_layer():
    model = K.MLP(4, (8,), 2)
    assert [tuple(v.shape) for v in model.weights] == [(4, 8), (8,), (8, 2), (2,)]  # before any call
    assert [v.path.split("/", 1)[1] for v in model.weights] == [  # "mlp_<n>/": Keras numbers the models
        "linear_0/kernel", "linear_0/bias", "linear_1/kernel", "linear_1/bias"]


def test_torch_mlp_registers_its_layers_as_submodules():
    model = T.MLP(4, (8,), 2)
    assert [n for n, _ in model.named_parameters()] == [
        "linears.0.weight", "linears.0.bias", "linears.1.weight", "linears.1.bias"]


# --------------------------------------------------------------------------- PyTorch and TensorFlow agree


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_the_same_weights_give_the_same_outputs_in_both_frameworks(activation):
    t, k = T.MLP(13, (64, 64), 5, activation), K.MLP(13, (64, 64), 5, activation)
    to_keras(list(t.parameters()), k.weights)
    x = rand(32, 13) * 3  # wide enough to reach the curved parts of every activation
    np.testing.assert_allclose(torch_out(t, x), k(x).numpy(), atol=ATOL)


def test_the_same_weights_give_the_same_gradients_in_both_frameworks():
    t, k = T.MLP(8, (32, 32), 4, "gelu"), K.MLP(8, (32, 32), 4, "gelu")
    to_keras(list(t.parameters()), k.weights)
    x = rand(16, 8)
    (t(torch.from_numpy(x)) ** 2).mean().backward()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(k(x) ** 2)
    grads = tape.gradient(loss, k.weights)
    for p, g in zip(t.parameters(), grads, strict=True):
        expected = p.grad.numpy().T if p.ndim == 2 else p.grad.numpy()
        np.testing.assert_allclose(expected, g.numpy(), atol=ATOL)


# --------------------------------------------------------------------------- parameter count


@pytest.mark.parametrize("d_in, hidden_dims, d_out", SHAPES)
def test_parameter_count_equals_the_sum_of_d_i_plus_one_times_d_next(d_in, hidden_dims, d_out):
    expected = formula(d_in, hidden_dims, d_out)
    t, k = T.MLP(d_in, hidden_dims, d_out), K.MLP(d_in, hidden_dims, d_out)
    assert sum(p.numel() for p in t.parameters()) == expected
    assert k.count_params() == expected
    assert len(list(t.parameters())) == len(k.weights) == 2 * (len(hidden_dims) + 1)


# --------------------------------------------------------------------------- depth without non-linearity


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_a_deep_linear_mlp_has_output_rank_d_in_and_a_relu_mlp_more(framework):
    x = rand(256, 4)
    ranks = {}
    for activation in [None, "relu"]:
        if framework == "torch":
            torch.manual_seed(0)
            y = torch.from_numpy(torch_out(T.MLP(4, (64, 64, 64), 32, activation), x))
            ranks[activation] = torch.linalg.matrix_rank(y - y.mean(dim=0)).item()
        else:
            keras.utils.set_random_seed(0)
            y = K.MLP(4, (64, 64, 64), 32, activation)(x)
            ranks[activation] = int(tf.linalg.matrix_rank(y - tf.reduce_mean(y, axis=0)))
    assert ranks[None] == 4
    assert ranks["relu"] > 4


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(d_in=0, hidden_dims=(4,), d_out=1), "d_in"),
        (dict(d_in=-3, hidden_dims=(4,), d_out=1), "d_in"),
        (dict(d_in=2.5, hidden_dims=(4,), d_out=1), "d_in"),
        (dict(d_in=True, hidden_dims=(4,), d_out=1), "d_in"),
        (dict(d_in=3, hidden_dims=(), d_out=1), "hidden_dims"),
        (dict(d_in=3, hidden_dims="64", d_out=1), "hidden_dims"),
        (dict(d_in=3, hidden_dims=64, d_out=1), "hidden_dims"),
        (dict(d_in=3, hidden_dims=None, d_out=1), "hidden_dims"),
        (dict(d_in=3, hidden_dims=(8, -1), d_out=1), "hidden_dims[1]"),
        (dict(d_in=3, hidden_dims=(8, 0), d_out=1), "hidden_dims[1]"),
        (dict(d_in=3, hidden_dims=(8.0,), d_out=1), "hidden_dims[0]"),
        (dict(d_in=3, hidden_dims=(4,), d_out=0), "d_out"),
        (dict(d_in=3, hidden_dims=(4,), d_out=-1), "d_out"),
        (dict(d_in=3, hidden_dims=(4,), d_out=1, activation="swish"), "activation"),
        (dict(d_in=3, hidden_dims=(4,), d_out=1, activation="ReLU"), "activation"),
        (dict(d_in=3, hidden_dims=(4,), d_out=1, activation=True), "activation"),
        (dict(d_in=3, hidden_dims=(4,), d_out=1, activation=torch.relu), "activation"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(framework, kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        framework.MLP(**kwargs)


@pytest.mark.parametrize("shape", [(3,), (2, 3, 1), (2, 4)], ids=["rank 1", "rank 3", "wrong width"])
def test_inputs_of_the_wrong_rank_or_width_raise_value_error_naming_x(shape):
    x = np.ones(shape, np.float32)
    with pytest.raises(ValueError, match=r"^x: expected a 2-D tensor \(B, 3\)"):
        T.MLP(3, (4,), 1)(torch.from_numpy(x))
    # Keras re-raises the same ValueError with a note naming the layer's call around the message
    with pytest.raises(ValueError, match=r"x: expected a 2-D tensor \(B, 3\)"):
        K.MLP(3, (4,), 1)(x)


# --------------------------------------------------------------------------- Keras config


@pytest.mark.parametrize("activation", ["gelu", None])
def test_keras_mlp_is_recreated_from_its_config(activation):
    original = K.MLP(5, (7, 3), 2, activation)
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(original))
    assert type(copy) is K.MLP
    assert (copy.d_in, copy.hidden_dims, copy.d_out, copy.activation) == (5, (7, 3), 2, activation or "linear")
    copy.set_weights(original.get_weights())
    x = rand(4, 5)
    np.testing.assert_allclose(copy(x).numpy(), original(x).numpy(), atol=1e-6)


# --------------------------------------------------------------------------- plots


def test_fit_and_recovery_draws_the_loss_and_one_labelled_point_per_parameter():
    fig = plots.fit_and_recovery([1.0, 0.1, 0.01], [2.0, -1.0, 0.5], [1.9, -1.1, 0.5], names=["a", "b", "c"],
                                 title="t")
    loss_ax, weights_ax = fig.axes
    assert loss_ax.get_yscale() == "log" and len(loss_ax.get_lines()[0].get_xdata()) == 3
    assert weights_ax.collections[0].get_offsets().shape == (3, 2)
    assert [t.get_text() for t in weights_ax.texts] == ["a", "b", "c"]
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize(
    "args, argument",
    [(([], [1.0], [1.0]), "losses"), (([1.0, 0.0], [1.0], [1.0]), "losses"),
     (([1.0], [1.0, 2.0], [1.0]), "learned"), (([1.0], [], []), "learned")],
)
def test_fit_and_recovery_rejects_bad_input(args, argument):
    with pytest.raises(ValueError, match=f"^{argument}: expected"):
        plots.fit_and_recovery(*args)
    with pytest.raises(ValueError, match="^names: expected"):
        plots.fit_and_recovery([1.0], [1.0, 2.0], [1.0, 2.0], names=["only one"])


def test_activations_draws_each_function_and_its_derivative():
    x = np.linspace(-1, 1, 5)
    fig = plots.activations(x, {"id": x, "sq": x**2}, {"id": np.ones(5), "sq": 2 * x})
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2]
    with pytest.raises(ValueError, match="^derivatives: expected"):
        plots.activations(x, {"id": x}, {"other": x})
    with pytest.raises(ValueError, match="^values, derivatives: expected"):
        plots.activations(x, {"id": x[:3]}, {"id": x[:3]})
    matplotlib.pyplot.close("all")


def test_singular_values_normalises_each_spectrum_and_floors_zeros_on_a_log_scale():
    fig = plots.singular_values({"a": [4.0, 2.0, 0.0], "b": [1.0, 1.0]}, tol=1e-3, floor=1e-8)
    ax = fig.axes[0]
    a, b, tol = ax.get_lines()
    np.testing.assert_allclose(a.get_ydata(), [1.0, 0.5, 1e-8])
    np.testing.assert_allclose(b.get_ydata(), [1.0, 1.0])
    assert tol.get_ydata()[0] == 1e-3 and ax.get_yscale() == "log"
    for bad in [{}, {"a": [0.0, 0.0]}, {"a": [1.0, -1.0]}]:
        with pytest.raises(ValueError, match="^spectra: expected"):
            plots.singular_values(bad)
    matplotlib.pyplot.close("all")
