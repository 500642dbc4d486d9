"""The models-and-layers walk-through's classes in `nnbook.torch.mlp` / `nnbook.tf.mlp` (chapter "Fully
connected networks"): eager and lazy linear layers, the hand-written ReLU, the networks built from them, the
product of a stack's matrices and full-batch gradient descent, each against the framework's built-in layers
with copied weights, the two frameworks against each other, and their argument checks.

Cross-framework checks share float32 weights and compare outputs with atol 1e-5 (widths <= 8: float32
rounding is ~1e-6). PyTorch stores a linear weight as (out, in), Keras a kernel as (in, out): copies transpose.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from nnbook import toy_regression as toy
from nnbook.tf import mlp as K
from nnbook.torch import mlp as T
from helpers import rand

ATOL = 1e-5  # float32, see the module docstring


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The models here are tiny: one thread avoids splitting 32 x 5 products (and is
    far faster when other processes share the cores), as the chapter does."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torch_out(module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def copy_to_keras(torch_model: nn.Module, keras_model) -> None:
    """Copy parameters in order; 2-D weights are transposed."""
    params, variables = list(torch_model.parameters()), keras_model.weights
    assert len(params) == len(variables)
    for p, v in zip(params, variables):
        value = p.detach().numpy()
        v.assign(value.T if value.ndim == 2 else value)


# --------------------------------------------------------------------------- against the built-ins


def test_torch_linear_equals_nn_linear_without_bias_with_the_same_weight():
    ours, builtin = T.Linear(5, 3), nn.Linear(5, 3, bias=False)
    builtin.load_state_dict(ours.state_dict())  # the same key and (out, in) shape
    x = rand(4, 5)
    np.testing.assert_allclose(torch_out(ours, x), torch_out(builtin, x), atol=1e-6)


def test_keras_linear_equals_dense_without_bias_with_the_same_kernel():
    ours, builtin = K.Linear(5, 3), keras.layers.Dense(3, use_bias=False)
    builtin.build((None, 5))
    builtin.set_weights(ours.get_weights())
    x = rand(4, 5)
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
def test_eager_linear_draws_its_weights_from_zero_to_one(framework):
    layer = framework.Linear(40, 50)
    values = np.asarray(layer.weight.detach() if framework is T else layer.kernel)
    assert values.min() >= 0 and values.max() < 1 and 0.45 < values.mean() < 0.55


@pytest.mark.parametrize("use_bias, activation", [(False, "linear"), (True, "linear"), (True, "relu")])
def test_torch_lazy_linear_equals_nn_linear_and_relu_with_the_same_weights(use_bias, activation):
    ours = T.LazyLinear(3, use_bias, activation)
    x = rand(6, 4) * 3  # wide enough for the ReLU to switch some outputs off
    ours(torch.from_numpy(x))
    builtin = nn.Linear(4, 3, bias=use_bias)
    builtin.load_state_dict(ours.state_dict())
    after = nn.ReLU() if activation == "relu" else nn.Identity()
    np.testing.assert_allclose(torch_out(ours, x), torch_out(nn.Sequential(builtin, after), x), atol=1e-6)


@pytest.mark.parametrize("use_bias, activation", [(False, "linear"), (True, "linear"), (True, "relu")])
def test_keras_lazy_linear_equals_dense_with_the_same_weights(use_bias, activation):
    ours = K.LazyLinear(3, use_bias, activation)
    x = rand(6, 4) * 3
    ours(x)
    builtin = keras.layers.Dense(3, use_bias=use_bias, activation=activation)
    builtin.build((None, 4))
    builtin.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)


def test_lazy_linear_has_no_weights_until_its_first_call_then_sizes_them_from_the_input():
    t, k = T.LazyLinear(3, use_bias=True), K.LazyLinear(3, use_bias=True)
    assert list(t.parameters()) == [] and k.weights == []
    x = rand(2, 7)
    t(torch.from_numpy(x)), k(x)
    assert [tuple(p.shape) for p in t.parameters()] == [(3, 7), (3,)]
    assert [tuple(v.shape) for v in k.weights] == [(7, 3), (3,)]
    np.testing.assert_array_equal(t.bias.detach().numpy(), np.ones(3))  # biases start at ones
    np.testing.assert_array_equal(k.bias.numpy(), np.ones(3))


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
def test_hand_written_relu_equals_the_builtin(framework):
    x = rand(5, 6) * 3
    if framework is T:
        np.testing.assert_array_equal(torch_out(T.ReLU(), x), torch_out(nn.ReLU(), x))
    else:
        np.testing.assert_array_equal(K.ReLU()(x).numpy(), keras.layers.ReLU()(x).numpy())


def test_torch_lazy_regression_with_use_builtin_becomes_nn_linear_without_bias():
    model = T.LazyRegression([3, 1], use_builtin=True)
    model(torch.from_numpy(rand(2, 5)))
    assert [type(m) for m in model.linears] == [nn.Linear, nn.Linear]
    assert all(m.bias is None for m in model.linears)


def test_keras_lazy_regression_with_use_builtin_uses_dense_without_bias():
    model = K.LazyRegression([3, 1], use_builtin=True)
    model(rand(2, 5))
    assert [type(m) for m in model.linears] == [keras.layers.Dense] * 2
    assert [tuple(v.shape) for v in model.weights] == [(5, 3), (3, 1)]


@pytest.mark.parametrize("last_linear, layers", [(True, ["LazyLinear", "ReLU", "LazyLinear"]),
                                                 (False, ["LazyLinear", "ReLU", "LazyLinear", "ReLU"])])
def test_neural_network_puts_a_relu_after_each_layer_but_a_linear_last(last_linear, layers):
    assert [type(m).__name__ for m in T.NeuralNetwork([3, 1], last_linear).layers] == layers
    assert [type(m).__name__ for m in K.NeuralNetwork([3, 1], last_linear).stack] == layers


@pytest.mark.parametrize("last_linear", [True, False])
def test_keras_fused_network_equals_a_sequential_of_dense_layers_with_the_same_weights(last_linear):
    ours = K.FusedNeuralNetwork([8, 3], last_linear=last_linear)
    x = rand(6, 4) * 3
    ours(x)
    builtin = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                keras.layers.Dense(3, activation="linear" if last_linear else "relu")])
    builtin.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)


# --------------------------------------------------------------------------- PyTorch and TensorFlow agree


@pytest.mark.parametrize(
    "make",
    [lambda F: F.Regression([4, 8], [8, 2]), lambda F: F.LazyRegression([8, 2]),
     lambda F: F.NeuralNetwork([8, 8, 2]), lambda F: F.NeuralNetwork([8, 2], last_linear=False),
     lambda F: F.FusedNeuralNetwork([8, 2]), lambda F: F.FusedNeuralNetwork([8, 2], use_bias=False)],
    ids=["Regression", "LazyRegression", "NeuralNetwork", "NeuralNetwork-relu-last", "Fused", "Fused-no-bias"],
)
def test_the_same_weights_give_the_same_outputs_in_both_frameworks(make):
    x = rand(16, 4) * 3
    t, k = make(T), make(K)
    t(torch.from_numpy(x)), k(x)
    copy_to_keras(t, k)
    np.testing.assert_allclose(torch_out(t, x), k(x).numpy(), atol=ATOL)


def test_gradient_descent_follows_the_same_losses_in_both_frameworks():
    x, y = toy.make_data()
    t, k = T.Regression([5, 3], [3, 1]), K.Regression([5, 3], [3, 1])
    copy_to_keras(t, k)
    pt = T.gradient_descent(t, torch.from_numpy(x), torch.from_numpy(y), toy.LEARNING_RATE, 100)
    tf_ = K.gradient_descent(k, tf.constant(x), tf.constant(y), toy.LEARNING_RATE, 100)
    np.testing.assert_allclose(pt["train"], tf_["train"], rtol=1e-4)  # float32 over 100 steps
    np.testing.assert_allclose(T.matrix_product(t).detach().numpy(), K.matrix_product(k).numpy(), atol=ATOL)


# --------------------------------------------------------------------------- the stack's matrix product


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
def test_trained_stack_collapses_to_its_matrix_product_which_is_the_true_weights(framework):
    x, y = toy.make_data()
    model = framework.LazyRegression([3, 1])
    if framework is T:
        torch.manual_seed(0)
        framework.gradient_descent(model, torch.from_numpy(x), torch.from_numpy(y), toy.LEARNING_RATE,
                                   toy.ITERATIONS)
        output, product = torch_out(model, x), T.matrix_product(model).detach().numpy()
    else:
        keras.utils.set_random_seed(0)
        framework.gradient_descent(model, tf.constant(x), tf.constant(y), toy.LEARNING_RATE, toy.ITERATIONS)
        output, product = model(x).numpy(), K.matrix_product(model).numpy()
    assert product.shape == (5, 1)
    np.testing.assert_allclose(output, x @ product, atol=ATOL)
    np.testing.assert_allclose(product, toy.TRUE_WEIGHTS, atol=1e-4)  # measured ~6e-6 on a CPU


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
def test_gradient_descent_with_a_flat_target_minimises_the_variance_plus_the_spread_of_predictions(
        framework):
    x, y = rand(12, 3), rand(12) * 10  # y (N,) against predictions (N, 1): an N x N difference
    model = framework.MLP(3, [4], 1)
    p = (torch_out(model, x) if framework is T else model(x).numpy()).astype(np.float64).ravel()
    expected = y.var() + np.mean((p - y.mean()) ** 2)
    convert = torch.from_numpy if framework is T else tf.constant
    history = framework.gradient_descent(model, convert(x), convert(y), 0.01, 1)
    assert history["train"][0] == pytest.approx(expected, rel=1e-5)
    assert history["test"] == []


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
def test_gradient_descent_records_the_test_loss_after_each_step(framework):
    x, y = rand(10, 3), rand(10, 1)
    convert = torch.from_numpy if framework is T else tf.constant
    model = framework.Regression([3], [1])
    history = framework.gradient_descent(model, convert(x), convert(y), 0.1, 3, convert(x), convert(y))
    assert len(history["train"]) == len(history["test"]) == 3
    assert history["test"][0] == pytest.approx(history["train"][1], rel=1e-6)  # same data, one step later


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda F: F.Linear(0, 3), "d_in"),
        (lambda F: F.Linear(3, 2.5), "d_out"),
        (lambda F: F.LazyLinear(0), "units"),
        (lambda F: F.LazyLinear(3, use_bias=1), "use_bias"),
        (lambda F: F.LazyLinear(3, activation="tanh"), "activation"),
        (lambda F: F.Regression([5, 3], [2, 1]), "num_outputs"),
        (lambda F: F.Regression([5, 3], [3]), "num_outputs"),
        (lambda F: F.Regression([], [3]), "num_inputs"),
        (lambda F: F.LazyRegression([3, 0]), "units[1]"),
        (lambda F: F.LazyRegression([3, 1], use_builtin="yes"), "use_builtin"),
        (lambda F: F.NeuralNetwork(3), "units"),
        (lambda F: F.NeuralNetwork([3, 1], last_linear=None), "last_linear"),
        (lambda F: F.FusedNeuralNetwork([3, 1], use_bias=0), "use_bias"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(framework, make, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        make(framework)


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize(
    "kwargs, argument",
    [(dict(learning_rate=0.0), "learning_rate"), (dict(learning_rate=-0.1), "learning_rate"),
     (dict(iterations=0), "iterations"), (dict(iterations=1.5), "iterations"),
     (dict(x_test="only x"), "x_test, y_test")],
)
def test_gradient_descent_rejects_bad_arguments_naming_them(framework, kwargs, argument):
    convert = torch.from_numpy if framework is T else tf.constant
    arguments = {"learning_rate": 0.1, "iterations": 2} | kwargs
    if "x_test" in kwargs:
        arguments["x_test"] = convert(rand(2, 3))
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        framework.gradient_descent(framework.Regression([3], [1]), convert(rand(2, 3)), convert(rand(2, 1)),
                                   **arguments)


def test_matrix_product_needs_a_model_with_weight_matrices():
    with pytest.raises(ValueError, match="^model: expected a model with weight matrices"):
        T.matrix_product(T.ReLU())
    with pytest.raises(ValueError, match="^model: expected a model with weight matrices"):
        K.matrix_product(K.ReLU())
    with pytest.raises(ValueError, match="^model: expected"):
        T.matrix_product("not a model")
