"""The facts of the page "PyTorch ⇄ TensorFlow: the key differences", with both frameworks in one process.

Cross-framework checks give PyTorch and Keras the same float32 inputs and weights and compare outputs with
atol 1e-5 (float32 sums of at most a few hundred products, added in different orders, differ by ~1e-6).
PyTorch stores a linear weight as (out, in) and a convolution kernel as (out, in, kH, kW) on NCHW batches;
Keras stores (in, out) and (kH, kW, in, out) on NHWC batches. Initialisation checks draw >= 10^5 weights, so
the standard deviation of a uniform sample is within ~0.3% of a/√3 and each decile within ~0.5% of a; the
tests allow 2%.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import torch.nn.functional as F
from torch import nn
from helpers import rand

ATOL = 1e-5  # float32, see the module docstring
REL = 0.02  # initialisation statistics, see the module docstring


def torch_out(module: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


# --------------------------------------------------------------------------- weight layouts


@pytest.mark.parametrize("d_in, d_out", [(3, 5), (5, 3), (64, 1)])
def test_linear_weight_is_out_in_and_dense_kernel_is_in_out(d_in, d_out):
    linear, dense = nn.Linear(d_in, d_out), keras.layers.Dense(d_out)
    dense.build((None, d_in))
    assert tuple(linear.weight.shape) == (d_out, d_in)
    assert tuple(dense.kernel.shape) == (d_in, d_out)


@pytest.mark.parametrize("d_in, d_out", [(3, 5), (20, 7)])
def test_a_linear_weight_transposed_into_a_dense_kernel_gives_the_same_outputs(d_in, d_out):
    linear, dense = nn.Linear(d_in, d_out), keras.layers.Dense(d_out)
    dense.build((None, d_in))
    dense.set_weights([linear.weight.detach().numpy().T, linear.bias.detach().numpy()])
    x = rand(6, d_in)
    np.testing.assert_allclose(torch_out(linear, x), dense(x).numpy(), atol=ATOL)
    # without the transpose a square weight loads silently and computes something else
    square_t, square_k = nn.Linear(4, 4), keras.layers.Dense(4)
    square_k.build((None, 4))
    square_k.set_weights([square_t.weight.detach().numpy(), square_t.bias.detach().numpy()])
    assert not np.allclose(torch_out(square_t, rand(6, 4)), square_k(rand(6, 4)).numpy(), atol=1e-3)


def test_conv_kernels_are_oihw_in_torch_and_hwio_in_keras():
    conv_t, conv_k = nn.Conv2d(3, 4, kernel_size=(2, 5)), keras.layers.Conv2D(4, kernel_size=(2, 5))
    conv_k.build((None, 9, 9, 3))
    assert tuple(conv_t.weight.shape) == (4, 3, 2, 5)
    assert tuple(conv_k.kernel.shape) == (2, 5, 3, 4)
    oihw = rand(4, 3, 2, 5)
    assert np.array_equal(oihw.transpose(2, 3, 1, 0).transpose(3, 2, 0, 1), oihw)  # to Keras and back


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch pads a copy
@pytest.mark.parametrize(
    "kernel, stride, padding",
    [((2, 3), 1, "valid"), ((3, 3), 2, "valid"), ((1, 1), 1, "valid"), ((3, 5), 1, "same"), ((2, 4), 1, "same")],
)
def test_a_conv_kernel_permuted_oihw_to_hwio_gives_the_same_outputs_on_transposed_batches(kernel, stride, padding):
    conv_t = nn.Conv2d(3, 4, kernel_size=kernel, stride=stride, padding=0 if padding == "valid" else "same")
    conv_k = keras.layers.Conv2D(4, kernel_size=kernel, strides=stride, padding=padding)
    images = rand(2, 9, 11, 3)  # (N, H, W, C)
    conv_k.build(images.shape)
    conv_k.set_weights([conv_t.weight.detach().numpy().transpose(2, 3, 1, 0), conv_t.bias.detach().numpy()])
    out_t = torch_out(conv_t, images.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)  # NCHW in, back to NHWC
    out_k = conv_k(images).numpy()
    assert out_t.shape == out_k.shape
    np.testing.assert_allclose(out_t, out_k, atol=ATOL)


def test_both_convolutions_compute_the_cross_correlation_formula():
    images, kernel, bias = rand(2, 6, 7, 3), rand(4, 3, 2, 3, seed=2), rand(4, seed=3)  # kernel[o, i, u, v]
    patches = np.lib.stride_tricks.sliding_window_view(images.astype(np.float64), (2, 3), axis=(1, 2))
    expected = np.einsum("nrciuv,oiuv->nrco", patches, kernel) + bias
    conv_t, conv_k = nn.Conv2d(3, 4, (2, 3)), keras.layers.Conv2D(4, (2, 3))
    conv_t.load_state_dict({"weight": torch.from_numpy(kernel), "bias": torch.from_numpy(bias)})
    conv_k.build(images.shape)
    conv_k.set_weights([kernel.transpose(2, 3, 1, 0), bias])
    np.testing.assert_allclose(torch_out(conv_t, images.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1), expected,
                               atol=ATOL)
    np.testing.assert_allclose(conv_k(images).numpy(), expected, atol=ATOL)


# --------------------------------------------------------------------------- model definition and Sequential


def test_a_module_forward_and_a_keras_call_compute_the_same_mlp_from_the_same_weights():
    class TorchMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.head = nn.Linear(3, 5), nn.Linear(5, 2)

        def forward(self, x):
            return self.head(torch.relu(self.hidden(x)))

    class KerasMLP(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.head = keras.layers.Dense(5), keras.layers.Dense(2)

        def call(self, x):
            return self.head(tf.nn.relu(self.hidden(x)))

    t, k, x = TorchMLP(), KerasMLP(), rand(4, 3)
    k(x)  # builds the weights, reading d_in from x
    assert [tuple(p.shape)[::-1] for p in t.parameters()] == [tuple(v.shape) for v in k.weights]
    k.set_weights([p.detach().numpy().T for p in t.parameters()])  # .T of a 1-D bias is the bias
    np.testing.assert_allclose(torch_out(t, x), k(x).numpy(), atol=ATOL)


def test_sequentials_with_the_same_weights_give_the_same_outputs_and_name_weights_differently():
    t = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    k = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, name="hidden"), keras.layers.ReLU(),
                          keras.layers.Dense(3, name="head")], name="mlp")
    k.set_weights([p.detach().numpy().T for p in t.parameters()])
    x = rand(5, 8)
    np.testing.assert_allclose(torch_out(t, x), k(x).numpy(), atol=ATOL)
    assert list(t.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # by position
    assert [v.path for v in k.weights] == ["mlp/hidden/kernel", "mlp/hidden/bias", "mlp/head/kernel", "mlp/head/bias"]


# --------------------------------------------------------------------------- gradients


def test_backward_and_gradient_tape_give_the_analytic_least_squares_gradient():
    x, y, w0 = rand(6, 3), rand(6, 1, seed=2), rand(3, 1, seed=3)
    expected = x.T.astype(np.float64) @ (x.astype(np.float64) @ w0 - y)
    w_t = torch.tensor(w0, requires_grad=True)
    (0.5 * ((torch.from_numpy(x) @ w_t - torch.from_numpy(y)) ** 2).sum()).backward()
    w_k = tf.Variable(w0)
    with tf.GradientTape() as tape:
        loss = 0.5 * tf.reduce_sum((x @ w_k - y) ** 2)
    np.testing.assert_allclose(w_t.grad.numpy(), expected, atol=ATOL)
    np.testing.assert_allclose(tape.gradient(loss, w_k).numpy(), expected, atol=ATOL)


def test_backward_accumulates_into_grad_while_a_tape_gives_gradients_once():
    w_t = torch.tensor([1.0, 2.0], requires_grad=True)
    (w_t**2).sum().backward()
    (w_t**2).sum().backward()
    assert torch.equal(w_t.grad, torch.tensor([4.0, 8.0]))  # 2 * (2w)
    w_k = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w_k**2)
    np.testing.assert_array_equal(tape.gradient(loss, w_k).numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(loss, w_k)


# --------------------------------------------------------------------------- data layout


def test_max_pooling_agrees_once_the_batch_is_permuted_from_nhwc_to_nchw():
    images = rand(2, 8, 8, 3)
    expected = images.reshape(2, 4, 2, 4, 2, 3).max(axis=(2, 4))
    out_t = torch_out(nn.MaxPool2d(2), images.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)
    out_k = keras.layers.MaxPooling2D(2)(images).numpy()
    assert np.array_equal(out_t, expected) and np.array_equal(out_k, expected)


def test_a_batch_in_the_other_layout_is_pooled_over_the_wrong_axes_without_an_error():
    images = rand(2, 8, 8, 3)  # NHWC
    assert tuple(nn.MaxPool2d(2)(torch.from_numpy(images)).shape) == (2, 8, 4, 1)
    assert tuple(keras.layers.MaxPooling2D(2)(images.transpose(0, 3, 1, 2)).shape) == (2, 1, 4, 8)


# --------------------------------------------------------------------------- causal masks


def reference_causal_weights(q: np.ndarray, k: np.ndarray) -> np.ndarray:
    scores = q.astype(np.float64) @ k.T / math.sqrt(q.shape[-1])
    scores[np.triu_indices(len(q), k=1)] = -np.inf
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("t", [1, 5, 16])
def test_triu_masked_fill_and_band_part_additive_masks_give_identical_attention_weights(t):
    q, k = rand(t, 8), rand(t, 8, seed=2)
    hide = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    scores_t = torch.from_numpy(q) @ torch.from_numpy(k).T / math.sqrt(8)
    weights_t = torch.softmax(scores_t.masked_fill(hide, float("-inf")), dim=-1).numpy()
    keep = tf.linalg.band_part(tf.ones((t, t)), -1, 0)
    scores_k = tf.matmul(q, k, transpose_b=True) / math.sqrt(8)
    weights_k = tf.nn.softmax(scores_k + (1.0 - keep) * -1e9, axis=-1).numpy()
    np.testing.assert_array_equal(hide.numpy(), keep.numpy() == 0)  # the same positions, opposite polarity
    np.testing.assert_allclose(weights_t, reference_causal_weights(q, k), atol=1e-6)
    np.testing.assert_allclose(weights_k, weights_t, atol=1e-6)
    assert (weights_t[hide.numpy()] == 0).all() and (weights_k[hide.numpy()] == 0).all()  # exactly zero


def test_builtin_attention_masks_mark_the_positions_to_keep():
    t, d = 6, 4
    q, k, v = rand(t, d), rand(t, d, seed=2), rand(t, d, seed=3)
    expected = reference_causal_weights(q, k) @ v
    hide = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    q_t, k_t, v_t = map(torch.from_numpy, (q, k, v))
    np.testing.assert_allclose(F.scaled_dot_product_attention(q_t, k_t, v_t, attn_mask=~hide).numpy(), expected,
                               atol=1e-6)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q_t, k_t, v_t, is_causal=True).numpy(), expected,
                               atol=1e-6)
    wrong = F.scaled_dot_product_attention(q_t, k_t, v_t, attn_mask=hide).numpy()  # the masked_fill polarity
    assert not np.allclose(wrong, expected, atol=1e-3)  # the future kept, the past hidden
    keep = np.tril(np.ones((t, t), bool))
    bthd = [a[None, :, None, :] for a in (q, k, v)]  # Keras: (batch, positions, heads, head dim)
    out_mask = keras.ops.dot_product_attention(*bthd, mask=keep[None, None])
    out_causal = keras.ops.dot_product_attention(*bthd, is_causal=True)
    np.testing.assert_allclose(np.asarray(out_mask)[0, :, 0], expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out_causal)[0, :, 0], expected, atol=1e-6)


def test_a_fully_masked_row_is_nan_with_minus_inf_and_uniform_with_an_additive_minus_1e9():
    scores = np.zeros((1, 3), np.float32)
    with_inf = torch.softmax(torch.from_numpy(scores).masked_fill(torch.ones(1, 3, dtype=torch.bool), float("-inf")),
                             dim=-1)
    with_additive = tf.nn.softmax(scores - 1e9, axis=-1)
    assert torch.isnan(with_inf).all()
    np.testing.assert_allclose(with_additive.numpy(), np.full((1, 3), 1 / 3), atol=1e-6)


# --------------------------------------------------------------------------- the training flag


def test_torch_modules_start_in_training_mode_and_keras_layers_infer_without_the_flag():
    x = np.ones((4, 256), np.float32)
    drop_t = nn.Dropout(0.5)
    assert drop_t.training and (torch_out(drop_t, x) == 0).any()
    model = nn.Sequential(nn.Linear(256, 256), nn.Dropout(0.5))
    model.eval()  # switches every submodule
    assert not any(m.training for m in model.modules())
    np.testing.assert_array_equal(torch_out(drop_t.eval(), x), x)
    drop_k = keras.layers.Dropout(0.5)
    np.testing.assert_array_equal(drop_k(x).numpy(), x)
    np.testing.assert_array_equal(drop_k(x, training=False).numpy(), x)
    assert (drop_k(x, training=True).numpy() == 0).any()


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_training_dropout_zeroes_units_or_scales_them_by_one_over_one_minus_p_in_both(p):
    x = np.random.default_rng(0).uniform(1, 2, size=(64, 256)).astype(np.float32)
    for out in [torch_out(nn.Dropout(p), x), keras.layers.Dropout(p)(x, training=True).numpy()]:
        zeroed = out == 0
        np.testing.assert_allclose(out[~zeroed], x[~zeroed] / (1 - p), rtol=1e-6)
        assert abs(zeroed.mean() - p) < 0.01  # 16,384 units: the standard error is below 0.004


def test_a_keras_model_passes_the_training_flag_to_its_layers():
    model = keras.Sequential([keras.Input((256,)), keras.layers.Dropout(0.5)])
    x = np.ones((4, 256), np.float32)
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()


def test_batch_norm_defaults_differ():
    t, k = nn.BatchNorm1d(4), keras.layers.BatchNormalization()
    assert (t.eps, t.momentum) == (1e-5, 0.1)
    assert (k.epsilon, k.momentum) == pytest.approx((1e-3, 0.99))


def test_batch_norm_momentum_is_the_new_batch_weight_in_torch_and_the_old_value_weight_in_keras():
    x = rand(16, 4) * 3 + 1
    t = nn.BatchNorm1d(4, momentum=0.1)
    k = keras.layers.BatchNormalization(momentum=0.1)  # the same number: the opposite meaning
    torch_out(t, x), k(x, training=True)
    np.testing.assert_allclose(t.running_mean.numpy(), 0.1 * x.mean(0), atol=ATOL)
    np.testing.assert_allclose(k.moving_mean.numpy(), 0.9 * x.mean(0), atol=ATOL)


def test_batch_norm_running_variance_is_unbiased_in_torch_and_biased_in_keras():
    x = rand(8, 4) * 3 + 1
    t = nn.BatchNorm1d(4, eps=1e-3, momentum=0.1)
    k = keras.layers.BatchNormalization(epsilon=1e-3, momentum=0.9)  # configured alike
    out_t, out_k = torch_out(t, x), k(x, training=True).numpy()
    normalised = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)  # both normalise with the biased variance
    np.testing.assert_allclose(out_t, normalised, atol=ATOL)
    np.testing.assert_allclose(out_k, normalised, atol=ATOL)
    np.testing.assert_allclose(t.running_var.numpy(), 0.9 + 0.1 * x.var(0, ddof=1), atol=ATOL)
    np.testing.assert_allclose(k.moving_variance.numpy(), 0.9 + 0.1 * x.var(0), atol=ATOL)
    t.eval()
    assert not np.allclose(torch_out(t, x), k(x, training=False).numpy(), atol=1e-3)  # inference differs


# --------------------------------------------------------------------------- initialisation


def assert_uniform(values: np.ndarray, bound: float) -> None:
    """`values` look like U(-bound, bound): range, standard deviation and deciles within REL of the formulas."""
    values = values.ravel()
    assert np.abs(values).max() <= bound and np.abs(values).max() > (1 - REL) * bound
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=REL)
    deciles = np.quantile(values, np.linspace(0.1, 0.9, 9))
    np.testing.assert_allclose(deciles, bound * (2 * np.linspace(0.1, 0.9, 9) - 1), atol=REL * bound)


def test_linear_weight_and_bias_are_uniform_within_one_over_sqrt_fan_in():
    layer = nn.Linear(512, 256)
    bound = 1 / math.sqrt(512)
    assert_uniform(layer.weight.detach().numpy(), bound)
    bias = layer.bias.detach().numpy()
    assert np.abs(bias).max() <= bound and bias.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)


def test_dense_kernel_is_glorot_uniform_and_its_bias_zero():
    layer = keras.layers.Dense(256)
    layer.build((None, 512))
    assert_uniform(layer.kernel.numpy(), math.sqrt(6 / (512 + 256)))
    assert not layer.bias.numpy().any()


def test_conv_initialisers_count_the_receptive_field_in_the_fans():
    conv_t = nn.Conv2d(64, 128, kernel_size=3)
    conv_k = keras.layers.Conv2D(128, kernel_size=3)
    conv_k.build((None, 8, 8, 64))
    assert_uniform(conv_t.weight.detach().numpy(), 1 / math.sqrt(64 * 9))
    assert_uniform(conv_k.kernel.numpy(), math.sqrt(6 / (64 * 9 + 128 * 9)))
    assert not conv_k.bias.numpy().any()
