"""The chapter's models: each against its framework's built-in, and the two frameworks against each other.

Cross-framework checks load the same float32 weights into the PyTorch and the Keras version and compare
outputs with atol 1e-5 (float32 matmuls of width <= 64, summed in different orders, differ by ~1e-6).
PyTorch stores a linear weight as (out, in), Keras a kernel as (in, out): copies transpose it.
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
from torch.nn.parameter import UninitializedParameter

from nnbook import plots
from nnbook.tf import layers as K
from nnbook.torch import layers as T
from helpers import rand

matplotlib.use("Agg")

ATOL = 1e-5  # float32, see the module docstring
CLASSES = [
    "LinearRegressionScratch", "LinearRegression", "LinearRegressionV2", "PartlyRegistered",  # tests: test_walkthrough.py
    "Dense", "Sequential", "FixedHiddenMLP", "NestMLP",
]


def to_keras(torch_params: list[torch.Tensor], keras_weights: list) -> None:
    """Copy PyTorch parameters into Keras weights, pairing them in order; 2-D weights are transposed."""
    assert len(torch_params) == len(keras_weights)
    for p, v in zip(torch_params, keras_weights):
        value = p.detach().cpu().numpy()
        v.assign(value.T if value.ndim == 2 else value)


def torch_out(module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


# --------------------------------------------------------------------------- what the tests here cover


def test_the_classes_tested_here_are_the_public_classes_the_module_lists_first():
    assert CLASSES == T.__all__[: len(CLASSES)]  # the mirror of the names: test_mirror.py


# --------------------------------------------------------------------------- against the built-ins


def test_torch_dense_computes_what_nn_linear_computes_with_the_same_weights():
    ours, builtin = T.Dense(7), nn.Linear(5, 7)
    x = rand(4, 5)
    torch_out(ours, x)  # materialise
    builtin.load_state_dict(ours.state_dict())
    np.testing.assert_allclose(torch_out(ours, x), torch_out(builtin, x), atol=1e-6)


def test_keras_dense_computes_what_keras_dense_computes_with_the_same_weights():
    ours, builtin = K.Dense(7), keras.layers.Dense(7)
    x = rand(4, 5)
    ours(x), builtin(x)
    builtin.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)


def test_dense_initialises_like_nn_linear_within_one_over_sqrt_d_in():
    bound = 1 / np.sqrt(50)
    t, k = T.Dense(40), K.Dense(40)
    t(torch.zeros(1, 50)), k(np.zeros((1, 50), np.float32))
    for w in [t.weight.detach().numpy(), t.bias.detach().numpy(), k.kernel.numpy(), k.bias.numpy()]:
        assert np.abs(w).max() <= bound and np.abs(w).max() > bound / 2


def test_torch_sequential_equals_nn_sequential_after_load_state_dict():
    ours = T.Sequential(T.Dense(16), nn.ReLU(), T.Dense(3))
    builtin = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x = rand(5, 8)
    torch_out(ours, x)
    assert list(ours.state_dict()) == list(builtin.state_dict())  # the same keys: "0.weight", ...
    builtin.load_state_dict(ours.state_dict())
    np.testing.assert_allclose(torch_out(ours, x), torch_out(builtin, x), atol=1e-6)


def test_keras_sequential_equals_keras_sequential_after_set_weights():
    ours = K.Sequential(K.Dense(16), keras.layers.ReLU(), K.Dense(3))
    builtin = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.ReLU(), keras.layers.Dense(3)])
    x = rand(5, 8)
    ours(x)
    builtin.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)


def test_torch_linear_regression_is_a_bare_nn_linear_started_at_small_weights_and_zero_bias():
    model, bare = T.LinearRegression(d_in=3, sigma=0.01), nn.Linear(3, 1)
    bare.load_state_dict(model.linear.state_dict())
    x = rand(6, 3)
    np.testing.assert_allclose(torch_out(model, x), torch_out(bare, x), atol=1e-6)
    assert model.linear.bias.item() == 0 and model.linear.weight.abs().max() < 0.1


def test_keras_linear_regression_is_a_bare_dense_with_weights_made_at_construction():
    model = K.LinearRegression(d_in=3, sigma=0.01)
    assert [tuple(v.shape) for v in model.weights] == [(3, 1), (1,)]  # built before any call
    bare = keras.layers.Dense(1)
    bare.build((None, 3))
    bare.set_weights(model.get_weights())
    x = rand(6, 3)
    np.testing.assert_allclose(model(x).numpy(), bare(x).numpy(), atol=1e-6)
    assert float(model.linear.bias[0]) == 0 and np.abs(model.linear.kernel.numpy()).max() < 0.1


# --------------------------------------------------------------------------- PyTorch and TensorFlow agree


def test_scratch_linear_regression_gives_the_same_predictions_and_loss_in_both_frameworks():
    t, k = T.LinearRegressionScratch(d_in=3), K.LinearRegressionScratch(d_in=3)
    w, b, x, y = rand(3, 1), rand(1), rand(8, 3), rand(8, 1)
    with torch.no_grad():
        t.w.copy_(torch.from_numpy(w)), t.b.copy_(torch.from_numpy(b))
    k.w.assign(w), k.b.assign(b)
    y_t, y_k = t.forward(torch.from_numpy(x)), k.forward(tf.constant(x))
    np.testing.assert_allclose(y_t.detach().numpy(), y_k.numpy(), atol=ATOL)
    loss_t = t.loss(y_t, torch.from_numpy(y)).item()
    loss_k = float(k.loss(y_k, tf.constant(y)))
    assert loss_t == pytest.approx(loss_k, abs=ATOL)
    assert [tuple(p.shape) for p in t.parameters()] == [tuple(p.shape) for p in k.parameters()] == [(3, 1), (1,)]


@pytest.mark.parametrize(
    "make_torch, make_keras, d_in",
    [
        (lambda: T.Dense(7), lambda: K.Dense(7), 5),
        (lambda: T.LinearRegression(d_in=4), lambda: K.LinearRegression(d_in=4), 4),
        (lambda: T.Sequential(T.Dense(16), nn.ReLU(), T.Dense(3)),
         lambda: K.Sequential(K.Dense(16), keras.layers.ReLU(), K.Dense(3)), 8),
        (lambda: T.NestMLP(widths=(64, 32), d_out=16), lambda: K.NestMLP(widths=(64, 32), d_out=16), 20),
    ],
    ids=["Dense", "LinearRegression", "Sequential", "NestMLP"],
)
def test_the_same_weights_give_the_same_outputs_in_both_frameworks(make_torch, make_keras, d_in):
    t, k = make_torch(), make_keras()
    x = rand(6, d_in)
    torch_out(t, x), k(x)  # materialise / build
    to_keras(list(t.parameters()), k.trainable_weights)
    np.testing.assert_allclose(torch_out(t, x), k(x).numpy(), atol=ATOL)


def test_fixed_hidden_mlp_gives_the_same_output_and_gradients_in_both_frameworks():
    t, k = T.FixedHiddenMLP(d_hidden=20), K.FixedHiddenMLP(d_hidden=20)
    x = rand(2, 20) / 4
    torch_out(t, x), k(x)
    to_keras(list(t.parameters()), k.trainable_weights)
    k.fixed_weight.assign(t.fixed_weight.numpy())  # (H, H), used as x @ fixed in both: no transpose
    out_t = t(torch.from_numpy(x))
    out_t.backward()
    with tf.GradientTape() as tape:
        out_k = k(x)
    grads_k = tape.gradient(out_k, k.trainable_weights)
    assert out_t.item() == pytest.approx(float(out_k), abs=ATOL)
    np.testing.assert_allclose(t.linear.weight.grad.numpy().T, grads_k[0].numpy(), atol=ATOL)
    np.testing.assert_allclose(t.linear.bias.grad.numpy(), grads_k[1].numpy(), atol=ATOL)


# --------------------------------------------------------------------------- lazy shape inference


def test_torch_dense_holds_placeholders_until_the_first_call_then_real_parameters():
    layer = T.Dense(3)
    assert all(isinstance(p, UninitializedParameter) for p in layer.parameters())
    assert layer.has_uninitialized_params()
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)  # possible before the shapes are known
    layer(torch.ones(2, 5)).sum().backward()
    assert {n: tuple(p.shape) for n, p in layer.named_parameters()} == {"weight": (3, 5), "bias": (3,)}
    assert type(layer) is T.Dense and not layer.has_uninitialized_params()
    before = layer.weight.detach().clone()
    optimizer.step()  # the optimizer holds the now materialised parameters
    assert not torch.equal(before, layer.weight)


def test_keras_dense_has_no_weights_until_the_first_call_then_kernel_and_bias():
    layer = K.Dense(3)
    assert layer.weights == [] and not layer.built
    layer(np.ones((2, 5), np.float32))
    assert [(v.name, tuple(v.shape)) for v in layer.weights] == [("kernel", (5, 3)), ("bias", (3,))]


def test_lazy_layers_take_the_input_width_of_the_first_call_and_then_reject_another():
    t, k = T.Dense(2), K.Dense(2)
    t(torch.ones(1, 4)), k(np.ones((1, 4), np.float32))
    with pytest.raises(RuntimeError):  # the matmul's shape check
        t(torch.ones(1, 6))
    with pytest.raises(tf.errors.InvalidArgumentError):
        k(np.ones((1, 6), np.float32))


def test_nest_mlp_parameters_are_collected_recursively_in_both_frameworks():
    t, k = T.NestMLP(widths=(8, 4), d_out=2), K.NestMLP(widths=(8, 4), d_out=2)
    torch_out(t, rand(1, 3)), k(rand(1, 3))
    assert [n for n, _ in t.named_parameters()] == [
        "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias", "head.weight", "head.bias"]
    assert [tuple(p.shape)[::-1] for p in t.parameters()] == [tuple(v.shape) for v in k.weights]
    assert [v.path.split("/")[1] for v in k.weights] == ["body"] * 4 + ["head"] * 2


# --------------------------------------------------------------------------- plain-Python forward


def test_fixed_hidden_mlp_halves_to_at_most_one_and_trains_only_its_shared_layer():
    t, k = T.FixedHiddenMLP(d_hidden=10), K.FixedHiddenMLP(d_hidden=10)
    x = rand(3, 10) * 10  # big input: the while loop must run
    out = t(torch.from_numpy(x))
    out.backward()
    assert abs(out.item()) <= 1
    assert [n for n, _ in t.named_parameters()] == ["linear.weight", "linear.bias"]
    assert [n for n, _ in t.named_buffers()] == ["fixed_weight"] and t.fixed_weight.grad is None
    assert all(p.grad.abs().sum() > 0 for p in t.parameters())
    with tf.GradientTape() as tape:
        out_k = k(x)
    grads = tape.gradient(out_k, k.weights)
    assert abs(float(out_k)) <= 1
    assert [v.name for v in k.trainable_weights] == ["kernel", "bias"]
    assert [v.name for v in k.non_trainable_weights] == ["fixed_weight"]
    assert grads[[v.name for v in k.weights].index("fixed_weight")] is None


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda L: L.LinearRegressionScratch(d_in=0), "d_in"),
        (lambda L: L.LinearRegressionScratch(d_in=2, sigma=-1.0), "sigma"),
        (lambda L: L.LinearRegression(d_in=-3), "d_in"),
        (lambda L: L.LinearRegression(d_in=2.5), "d_in"),
        (lambda L: L.LinearRegression(d_in=True), "d_in"),
        (lambda L: L.LinearRegression(d_in=2, sigma=0), "sigma"),
        (lambda L: L.Dense(0), "d_out"),
        (lambda L: L.Dense("3"), "d_out"),
        (lambda L: L.Sequential(), "layers"),
        (lambda L: L.Sequential(L.Dense(2), "relu"), "layers[1]"),
        (lambda L: L.FixedHiddenMLP(d_hidden=0), "d_hidden"),
        (lambda L: L.NestMLP(widths=()), "widths"),
        (lambda L: L.NestMLP(widths=(8, -1)), "widths[1]"),
        (lambda L: L.NestMLP(widths="64"), "widths"),
        (lambda L: L.NestMLP(d_out=0), "d_out"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(framework, make, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        make(framework)


@pytest.mark.parametrize("fit", ["fit_custom_loop", "fit_builtin"])
@pytest.mark.parametrize(
    "change, argument",
    [({"epochs": 0}, "epochs"), ({"lr": -0.1}, "lr"), ({"batch_size": 0}, "batch_size"),
     ({"x": "x"}, "x"), ({"y": "y"}, "y")],
)
def test_training_helpers_reject_bad_arguments_by_name(fit, change, argument):
    x, y = rand(8, 2), rand(8, 1)
    for L, convert in [(T, torch.from_numpy), (K, tf.constant)]:
        args = {"x": convert(x), "y": convert(y), "epochs": 1, "lr": 0.1, "batch_size": 4, **change}
        model = L.LinearRegression(d_in=2)
        with pytest.raises(ValueError, match=rf"^{argument}: expected"):
            getattr(L, fit)(model, **args)


# --------------------------------------------------------------------------- training helpers


@pytest.mark.parametrize("fit", ["fit_custom_loop", "fit_builtin"])
def test_training_helpers_recover_known_weights_in_both_frameworks(fit):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-3.4]]) + 4.2).astype(np.float32)
    for L, convert, weights in [
        (T, torch.from_numpy, lambda m: np.r_[m.linear.weight.detach().numpy().ravel(), m.linear.bias.item()]),
        (K, tf.constant, lambda m: np.r_[m.linear.kernel.numpy().ravel(), m.linear.bias.numpy()]),
    ]:
        model = L.LinearRegression(d_in=2)
        losses = getattr(L, fit)(model, convert(x), convert(y), epochs=4, lr=0.1, batch_size=32)
        assert len(losses) == 4 and losses[-1] < losses[0] and losses[-1] < 1e-3
        np.testing.assert_allclose(weights(model), [2.0, -3.4, 4.2], atol=0.02)


def test_tf_fit_custom_loop_trains_each_model_it_is_given_not_a_stale_one():
    x, y = tf.constant(rand(64, 2)), tf.constant(rand(64, 1))
    first, second = K.LinearRegression(d_in=2), K.LinearRegression(d_in=2)
    K.fit_custom_loop(first, x, y, epochs=1, lr=0.1, batch_size=16)
    before_first, before_second = first.get_weights(), second.get_weights()
    K.fit_custom_loop(second, x, y, epochs=1, lr=0.1, batch_size=16)
    assert all(np.array_equal(a, b) for a, b in zip(before_first, first.get_weights()))
    assert not np.array_equal(before_second[0], second.get_weights()[0])


# --------------------------------------------------------------------------- Keras configs


@pytest.mark.parametrize(
    "make",
    [
        lambda: K.LinearRegression(d_in=3, sigma=0.05),
        lambda: K.LinearRegressionV2(d_in=3, bias_init=7.0),
        lambda: K.Dense(4),
        lambda: K.Sequential(K.Dense(4), keras.layers.ReLU(), K.Dense(2)),
        lambda: K.FixedHiddenMLP(d_hidden=3),
        lambda: K.NestMLP(widths=(5, 4), d_out=2),
    ],
    ids=["LinearRegression", "LinearRegressionV2", "Dense", "Sequential", "FixedHiddenMLP", "NestMLP"],
)
def test_keras_models_are_recreated_from_their_config(make):
    original = make()
    x = rand(2, 3)
    original(x)
    config = keras.saving.serialize_keras_object(original)
    copy = keras.saving.deserialize_keras_object(config)
    assert type(copy) is type(original)
    copy(x)
    assert [tuple(v.shape) for v in copy.weights] == [tuple(v.shape) for v in original.weights]
    copy.set_weights(original.get_weights())
    np.testing.assert_allclose(copy(x).numpy(), original(x).numpy(), atol=1e-6)


# --------------------------------------------------------------------------- plots


def test_loss_curve_draws_one_line_per_run_on_a_log_scale():
    fig = plots.loss_curve({"a": [1.0, 0.5, 0.1], "b": [2.0, 0.2]}, title="t")
    ax = fig.axes[0]
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [3, 2]
    assert ax.get_yscale() == "log" and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    single = plots.loss_curve([3.0, -1.0], log=False)
    assert single.axes[0].get_legend() is None
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("losses", [[], {}, [[1.0, 2.0]], [1.0, 0.0]])
def test_loss_curve_rejects_empty_or_unplottable_losses(losses):
    with pytest.raises(ValueError, match="^losses: expected"):
        plots.loss_curve(losses)
