"""Convolution blocks and the five-block CNN: the arithmetic, each block against its framework's built-ins,
and the two frameworks against each other.

Layouts: PyTorch images are NCHW and conv weights OIHW (out, in / groups, K, K), a depthwise weight (C, 1, K, K);
Keras images are NHWC and conv kernels HWIO (K, K, in / groups, out), a depthwise kernel (K, K, C, 1). Copies
permute accordingly. Cross-framework checks compare float32 outputs with atol 1e-5 for single blocks and
1e-4 for the whole network (five convolutions of up to 2,304 terms per output, summed in different orders).
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
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nnbook import convolutions as ca
from nnbook import plots
from nnbook.tf import convolutions as K
from nnbook.torch import convolutions as T
from helpers import rand

matplotlib.use("Agg")

ATOL = 1e-5  # one block, float32
ATOL_NET = 1e-4  # the whole network, float32


# --------------------------------------------------------------------------- helpers


def nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def oihw_to_hwio(w: torch.Tensor) -> np.ndarray:
    return w.detach().permute(2, 3, 1, 0).numpy()  # (O, I, K, K) -> (K, K, I, O)


def depthwise_to_keras(w: torch.Tensor) -> np.ndarray:
    return w.detach().permute(2, 3, 0, 1).numpy()  # (C, 1, K, K) -> (K, K, C, 1)


def copy_separable(t: T.DepthwiseSeparable, k: K.DepthwiseSeparable) -> None:
    k.depthwise.kernel.assign(depthwise_to_keras(t.depthwise.weight))
    k.pointwise.kernel.assign(oihw_to_hwio(t.pointwise.weight))
    if t.depthwise.bias is not None:
        k.depthwise.bias.assign(t.depthwise.bias.detach().numpy())
        k.pointwise.bias.assign(t.pointwise.bias.detach().numpy())


def copy_block(t: T.ConvBlock, k: K.ConvBlock) -> None:
    if isinstance(t.conv, T.DepthwiseSeparable):
        copy_separable(t.conv, k.conv)
    else:
        k.conv.layers[1].kernel.assign(oihw_to_hwio(t.conv.weight))
    for source, target in [(t.norm.weight, k.norm.gamma), (t.norm.bias, k.norm.beta),
                           (t.norm.running_mean, k.norm.moving_mean), (t.norm.running_var, k.norm.moving_variance)]:
        target.assign(source.detach().numpy())


def copy_network(t: T.FiveBlockCNN, k: K.FiveBlockCNN) -> None:
    for t_block, k_block in zip(t.blocks, k.blocks, strict=True):
        copy_block(t_block, k_block)
    k.head.kernel.assign(t.head.weight.detach().numpy().T)
    k.head.bias.assign(t.head.bias.detach().numpy())


def randomise_batchnorm(model: nn.Module) -> None:
    """Non-trivial BatchNorm parameters and running statistics, so eval-mode parity tests something."""
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=generator)
                m.bias.normal_(0, 0.1, generator=generator)
                m.running_mean.normal_(0, 0.1, generator=generator)
                m.running_var.uniform_(0.5, 2.0, generator=generator)


def torch_out(module: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def n_params(model) -> int:
    if isinstance(model, nn.Module):
        return sum(p.numel() for p in model.parameters())
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (32, 3, 1, 1, 32), (32, 3, 2, 1, 16), (33, 3, 2, 1, 17), (28, 5, 1, 0, 24), (7, 7, 1, 0, 1),
    (224, 7, 2, 3, 112), (10, 4, 3, 2, 4), (5, 1, 3, 0, 2),
])
def test_output_size_is_floor_of_padded_size_minus_kernel_over_stride_plus_one(size, kernel, stride, padding,
                                                                                 expected):
    assert ca.output_size(size, kernel, stride, padding) == expected


def test_tf_same_padding_puts_the_odd_zero_after_and_keeps_ceil_size_over_stride():
    assert ca.same_padding(8, 3, 2) == (0, 1)
    assert ca.same_padding(7, 3, 2) == (1, 1)
    assert ca.same_padding(32, 3, 1) == (1, 1)
    assert ca.same_padding(32, 4, 1) == (1, 2)
    assert ca.same_padding(9, 1, 3) == (0, 0)
    for size in range(1, 20):
        for kernel in range(1, 6):
            for stride in range(1, 4):
                before, after = ca.same_padding(size, kernel, stride)
                assert 0 <= after - before <= 1
                total = size + before + after
                if total >= kernel:
                    assert (total - kernel) // stride + 1 == -(-size // stride)


def test_same_is_symmetric_exactly_where_same_padding_adds_k_over_2_on_both_sides():
    for size in range(1, 20):
        for kernel in range(1, 6):
            for stride in range(1, 4):
                symmetric = ca.same_padding(size, kernel, stride) == (kernel // 2,) * 2
                if ca.same_is_symmetric(kernel, stride):
                    assert symmetric
    # at stride 2 'same' can happen to be symmetric for one size, never for all
    assert not ca.same_is_symmetric(3, 2) and ca.same_padding(7, 3, 2) == (1, 1)
    assert not ca.same_is_symmetric(4, 1)


def test_parameter_counts_of_the_issue_example():
    assert ca.conv_params(64, 128, 3) == 73_856
    assert ca.separable_params(64, 128, 3) == 8_960
    assert ca.conv_params(64, 128, 3, bias=False) / ca.separable_params(64, 128, 3, bias=False) == \
        pytest.approx(ca.separable_ratio(128, 3))
    assert ca.separable_ratio(128, 3) == pytest.approx(8.41, abs=0.005)
    assert ca.conv_params(64, 128, 3, bias=False, groups=4) == 128 * 16 * 9


def test_macs_are_kernel_weights_times_output_positions_and_the_ratio_holds_for_macs_too():
    assert ca.conv_macs(64, 128, 3, 32, 32) == 64 * 128 * 9 * 32 * 32
    assert ca.separable_macs(64, 128, 3, 32, 32) == (64 * 9 + 64 * 128) * 32 * 32
    ratio = ca.conv_macs(64, 128, 3, 16, 16) / ca.separable_macs(64, 128, 3, 16, 16)
    assert ratio == pytest.approx(ca.separable_ratio(128, 3))


@pytest.mark.parametrize("separable", [False, True])
def test_cnn_cost_counts_what_both_frameworks_build_and_what_torch_counts_as_flops(separable):
    config = ca.CNNConfig(separable=separable)
    params, macs = ca.cnn_cost(config)
    assert n_params(T.FiveBlockCNN(config)) == n_params(K.FiveBlockCNN(config)) == params
    model = T.FiveBlockCNN(config).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    assert counter.get_total_flops() == 2 * macs  # a multiply-add is two floating-point operations


def test_the_standard_cnn_has_about_a_million_parameters_and_the_separable_one_eight_times_fewer():
    standard, separable = ca.cnn_cost(ca.CNNConfig())[0], ca.cnn_cost(ca.CNNConfig(separable=True))[0]
    assert standard == 981_802 and separable == 117_770


# --------------------------------------------------------------------------- output sizes in both frameworks


SIZE_CASES = [  # (H, W, K, S, P): strides 1-3, kernels 1-7, padding 0..K//2, odd and even sizes
    (32, 32, 3, 1, 1), (32, 31, 3, 2, 1), (15, 16, 5, 2, 2), (28, 27, 5, 1, 0), (9, 10, 7, 3, 3),
    (8, 9, 1, 2, 0), (17, 12, 4, 3, 2), (7, 7, 7, 1, 0), (11, 6, 2, 2, 1), (13, 14, 6, 3, 1),
]


@pytest.mark.parametrize("H, W, kernel, stride, padding", SIZE_CASES)
def test_both_frameworks_produce_the_output_size_the_formula_predicts(H, W, kernel, stride, padding):
    expected = (ca.output_size(H, kernel, stride, padding), ca.output_size(W, kernel, stride, padding))
    x = rand(1, 4, H, W)
    assert torch_out(nn.Conv2d(4, 2, kernel, stride, padding), x).shape[2:] == expected
    assert torch_out(T.ConvBlock(4, 2, kernel, stride, padding).eval(), x).shape[2:] == expected
    assert tuple(K.ConvBlock(4, 2, kernel, stride, padding)(nhwc(x)).shape[1:3]) == expected
    assert tuple(K.DepthwiseSeparable(4, 2, kernel, stride, padding)(nhwc(x)).shape[1:3]) == expected
    assert torch_out(T.DepthwiseSeparable(4, 2, kernel, stride, padding), x).shape[2:] == expected


def test_tf_same_padding_at_stride_two_pads_bottom_right_and_differs_from_symmetric_padding():
    x = rand(1, 8, 8, 3)
    conv = keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)
    same = conv(x).numpy()
    explicit = tf.nn.conv2d(tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]]), conv.kernel, 2, "VALID").numpy()
    symmetric = tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), conv.kernel, 2, "VALID").numpy()
    np.testing.assert_allclose(same, explicit, atol=ATOL)
    assert same.shape == symmetric.shape == (1, 4, 4, 4)
    assert np.abs(same - symmetric).max() > 0.1
    weight = torch.from_numpy(conv.kernel.numpy()).permute(3, 2, 0, 1)  # HWIO -> OIHW
    torch_padded = F.conv2d(F.pad(torch.from_numpy(nchw(x)), (0, 1, 0, 1)), weight, stride=2)
    torch_symmetric = F.conv2d(torch.from_numpy(nchw(x)), weight, stride=2, padding=1)
    np.testing.assert_allclose(nhwc(torch_padded.numpy()), same, atol=ATOL)
    np.testing.assert_allclose(nhwc(torch_symmetric.numpy()), symmetric, atol=ATOL)


def test_same_padding_of_our_blocks_keeps_the_size_at_stride_one():
    x = rand(2, 3, 9, 10)
    assert torch_out(T.ConvBlock(3, 5, 5, padding="same").eval(), x).shape == (2, 5, 9, 10)
    assert tuple(K.ConvBlock(3, 5, 5, padding="same")(nhwc(x)).shape) == (2, 9, 10, 5)


# --------------------------------------------------------------------------- against the built-ins


def test_torch_depthwise_convolution_filters_each_channel_on_its_own():
    layer = T.DepthwiseSeparable(3, 4, 3, stride=2, padding=1)
    x = torch.from_numpy(rand(2, 3, 9, 9))
    with torch.no_grad():
        depthwise = layer.depthwise(x)
        for c in range(3):  # channel c, filtered with its own (1, 1, K, K) filter only
            alone = F.conv2d(x[:, c:c + 1], layer.depthwise.weight[c:c + 1], layer.depthwise.bias[c:c + 1],
                             stride=2, padding=1)
            np.testing.assert_allclose(depthwise[:, c:c + 1].numpy(), alone.numpy(), atol=1e-6)


def test_torch_depthwise_separable_equals_a_grouped_conv2d_then_a_1x1_conv2d():
    ours = T.DepthwiseSeparable(6, 10, 5, stride=2, padding=2)
    builtin = nn.Sequential(nn.Conv2d(6, 6, 5, 2, 2, groups=6), nn.Conv2d(6, 10, 1))
    builtin.load_state_dict({"0.weight": ours.depthwise.weight, "0.bias": ours.depthwise.bias,
                             "1.weight": ours.pointwise.weight, "1.bias": ours.pointwise.bias})
    x = rand(2, 6, 11, 12)
    np.testing.assert_allclose(torch_out(ours, x), torch_out(builtin, x), atol=1e-6)
    assert tuple(ours.depthwise.weight.shape) == (6, 1, 5, 5) and tuple(ours.pointwise.weight.shape) == (10, 6, 1, 1)


def test_keras_depthwise_separable_equals_depthwise_conv2d_then_a_1x1_conv2d():
    ours = K.DepthwiseSeparable(6, 10, 5, stride=2, padding=2)
    builtin = keras.Sequential([keras.Input((None, None, 6)), keras.layers.ZeroPadding2D(2),
                                keras.layers.DepthwiseConv2D(5, 2), keras.layers.Conv2D(10, 1)])
    builtin.set_weights(ours.get_weights())
    x = rand(2, 11, 12, 6)
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)
    assert tuple(ours.depthwise.kernel.shape) == (5, 5, 6, 1) and tuple(ours.pointwise.kernel.shape) == (1, 1, 6, 10)


def test_keras_depthwise_kernel_is_a_grouped_conv2d_kernel_with_its_last_two_axes_swapped():
    depthwise = keras.layers.DepthwiseConv2D(3, use_bias=False)
    grouped = keras.layers.Conv2D(4, 3, groups=4, use_bias=False)
    x = rand(1, 6, 6, 4)
    depthwise(x), grouped(x)
    assert tuple(depthwise.kernel.shape) == (3, 3, 4, 1) and tuple(grouped.kernel.shape) == (3, 3, 1, 4)
    grouped.kernel.assign(np.swapaxes(depthwise.kernel.numpy(), 2, 3))
    np.testing.assert_allclose(depthwise(x).numpy(), grouped(x).numpy(), atol=1e-6)


def test_keras_depthwise_separable_without_depthwise_bias_equals_separable_conv2d():
    ours = K.DepthwiseSeparable(4, 8, 3, stride=1, padding=0)
    builtin = keras.layers.SeparableConv2D(8, 3)  # one bias, after the pointwise convolution
    x = rand(2, 7, 7, 4)
    builtin(x)
    ours.depthwise.bias.assign(np.zeros(4, np.float32))
    ours.pointwise.bias.assign(rand(8))
    builtin.set_weights([ours.depthwise.kernel.numpy(), ours.pointwise.kernel.numpy(), ours.pointwise.bias.numpy()])
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=1e-6)


def test_a_depthwise_bias_folds_into_the_single_bias_of_separable_conv2d():
    ours = K.DepthwiseSeparable(4, 8, 3)
    ours.depthwise.bias.assign(rand(4, seed=2))
    ours.pointwise.bias.assign(rand(8, seed=3))
    builtin = keras.layers.SeparableConv2D(8, 3)
    x = rand(2, 7, 7, 4)
    builtin(x)
    pointwise = ours.pointwise.kernel.numpy()[0, 0]  # (in_ch, out_ch)
    folded = ours.pointwise.bias.numpy() + ours.depthwise.bias.numpy() @ pointwise
    builtin.set_weights([ours.depthwise.kernel.numpy(), ours.pointwise.kernel.numpy(), folded])
    np.testing.assert_allclose(ours(x).numpy(), builtin(x).numpy(), atol=ATOL)


def test_torch_conv_block_equals_built_in_layers_in_sequence():
    ours = T.ConvBlock(4, 8, 3, 2, 1, groups=2, pool=True)
    builtin = nn.Sequential(nn.Conv2d(4, 8, 3, 2, 1, groups=2, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                            nn.MaxPool2d(2))
    randomise_batchnorm(ours)
    builtin.load_state_dict({k.replace("conv.", "0.").replace("norm.", "1."): v
                             for k, v in ours.state_dict().items()})
    x = rand(3, 4, 17, 16)
    for mode in ("train", "eval"):
        ours.train(mode == "train"), builtin.train(mode == "train")
        np.testing.assert_allclose(torch_out(ours, x), torch_out(builtin, x), atol=1e-6)


def test_keras_conv_block_equals_built_in_layers_in_sequence():
    ours = K.ConvBlock(4, 8, 3, 2, 1, groups=2, pool=True)
    builtin = keras.Sequential([keras.Input((None, None, 4)), keras.layers.ZeroPadding2D(1),
                                keras.layers.Conv2D(8, 3, 2, groups=2, use_bias=False),
                                keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5),
                                keras.layers.ReLU(), keras.layers.MaxPooling2D(2)])
    ours.norm.moving_variance.assign(np.linspace(0.5, 2.0, 8, dtype=np.float32))
    builtin.set_weights(ours.get_weights())
    x = rand(3, 17, 16, 4)
    np.testing.assert_allclose(ours(x, training=True).numpy(), builtin(x, training=True).numpy(), atol=1e-5)
    # the moving variances now differ by design (FusedBatchNormalization averages the unbiased batch variance)
    builtin.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x, training=False).numpy(), builtin(x, training=False).numpy(), atol=1e-5)


def test_batchnorm_running_statistics_update_alike_in_both_frameworks():
    t, k = T.ConvBlock(3, 4, 3, 1, 1), K.ConvBlock(3, 4, 3, 1, 1)
    copy_block(t, k)
    x = rand(8, 3, 6, 6)
    t.train()(torch.from_numpy(x))
    k(nhwc(x), training=True)
    np.testing.assert_allclose(t.norm.running_mean.numpy(), k.norm.moving_mean.numpy(), atol=ATOL)
    # both average in the unbiased batch variance (Keras' own BatchNormalization: the biased one)
    np.testing.assert_allclose(t.norm.running_var.numpy(), k.norm.moving_variance.numpy(), atol=ATOL)


def fused_and_builtin_batchnorm(channels: int = 5, ndim: int = 4, **kwargs):
    """The book's FusedBatchNormalization and Keras' own, with the same non-trivial weights."""
    fused = nnbook.tf.FusedBatchNormalization(momentum=0.9, epsilon=1e-5, **kwargs)
    builtin = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, **kwargs)
    for layer in (fused, builtin):
        layer.build((*[None] * (ndim - 1), channels))
    rng = np.random.default_rng(3)
    weights = [rng.uniform(0.5, 1.5, channels).astype(np.float32) for _ in fused.get_weights()]
    fused.set_weights(weights), builtin.set_weights(weights)
    return fused, builtin


def test_fused_batchnorm_trains_like_keras_batchnorm_outputs_and_gradients():
    fused, builtin = fused_and_builtin_batchnorm()
    x = tf.constant(rand(4, 6, 7, 5) * 3 + 1)
    grads = []
    for layer in (fused, builtin):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.sin(y))  # a loss whose gradient differs per element
        grads.append([y, *tape.gradient(loss, [x, *layer.trainable_variables])])
    for ours, keras_own in zip(*grads):  # float32 sums over 168 positions: relative 1e-6
        np.testing.assert_allclose(ours.numpy(), keras_own.numpy(), rtol=1e-5, atol=1e-5)


def test_fused_batchnorm_moving_variance_averages_the_unbiased_batch_variance_as_pytorch_does():
    fused, builtin = fused_and_builtin_batchnorm()
    start_mean, start_var = fused.moving_mean.numpy(), fused.moving_variance.numpy()
    x = rand(4, 6, 7, 5)
    torch_bn = nn.BatchNorm2d(5)  # momentum 0.1 = Keras' 0.9
    with torch.no_grad():
        torch_bn.running_mean.copy_(torch.from_numpy(start_mean))
        torch_bn.running_var.copy_(torch.from_numpy(start_var))
    torch_bn.train()(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))
    fused(x, training=True), builtin(x, training=True)
    np.testing.assert_allclose(fused.moving_mean.numpy(), torch_bn.running_mean.numpy(), atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance.numpy(), torch_bn.running_var.numpy(), atol=1e-6)
    pixels = x.reshape(-1, 5).astype(np.float64)  # n = 168 values per channel
    np.testing.assert_allclose(fused.moving_variance.numpy(), 0.9 * start_var + 0.1 * pixels.var(axis=0, ddof=1),
                               rtol=1e-5)
    # Keras' own BatchNormalization averages in the biased variance, / n
    np.testing.assert_allclose(builtin.moving_variance.numpy(), 0.9 * start_var + 0.1 * pixels.var(axis=0),
                               rtol=1e-5)


@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5)], ids=["features", "sequence"])
def test_fused_batchnorm_leaves_other_shapes_and_inference_to_keras(shape):
    fused, builtin = fused_and_builtin_batchnorm(ndim=len(shape))
    x = rand(*shape)
    for training in (True, False):
        np.testing.assert_allclose(fused(x, training=training).numpy(), builtin(x, training=training).numpy(),
                                   atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance.numpy(), builtin.moving_variance.numpy(), atol=1e-7)


def test_fused_batchnorm_is_recreated_from_its_config():
    fused, _ = fused_and_builtin_batchnorm(center=False)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(fused))
    assert type(again) is nnbook.tf.FusedBatchNormalization and again.get_config() == fused.get_config()
    again.set_weights(fused.get_weights())
    x = rand(2, 3, 3, 5)
    np.testing.assert_allclose(again(x, training=True).numpy(), fused(x, training=True).numpy(), atol=1e-6)


# --------------------------------------------------------------------------- PyTorch and TensorFlow agree


@pytest.mark.parametrize("kwargs", [
    dict(in_ch=3, out_ch=8, kernel_size=3, stride=1, padding=1),
    dict(in_ch=4, out_ch=6, kernel_size=5, stride=2, padding=2, pool=True),
    dict(in_ch=4, out_ch=8, kernel_size=3, stride=3, padding=0, groups=4),
    dict(in_ch=6, out_ch=4, kernel_size=4, stride=2, padding=1, separable=True),
    dict(in_ch=5, out_ch=7, kernel_size=3, stride=1, padding="same", separable=True, pool=True),
], ids=["plain", "stride2-pool", "grouped", "separable-even-K", "separable-same-pool"])
def test_the_same_weights_give_the_same_conv_block_outputs_in_both_frameworks(kwargs):
    t, k = T.ConvBlock(**kwargs), K.ConvBlock(**kwargs)
    randomise_batchnorm(t)
    copy_block(t, k)
    x = rand(2, kwargs["in_ch"], 13, 12)
    for training in (False, True):  # eval first: a training call updates the running statistics (differently)
        t.train(training)
        np.testing.assert_allclose(nhwc(torch_out(t, x)), k(nhwc(x), training=training).numpy(), atol=ATOL)


@pytest.mark.parametrize("bias", [True, False])
def test_the_same_weights_give_the_same_depthwise_separable_outputs_in_both_frameworks(bias):
    t, k = T.DepthwiseSeparable(8, 16, 3, 2, 1, bias=bias), K.DepthwiseSeparable(8, 16, 3, 2, 1, bias=bias)
    copy_separable(t, k)
    x = rand(2, 8, 15, 16)
    np.testing.assert_allclose(nhwc(torch_out(t, x)), k(nhwc(x)).numpy(), atol=ATOL)
    assert n_params(t) == n_params(k) == ca.separable_params(8, 16, 3, bias=bias)


@pytest.mark.parametrize("separable", [False, True])
def test_the_same_weights_give_the_same_network_outputs_in_both_frameworks(separable):
    config = ca.CNNConfig(widths=(8, 16, 16, 32, 32), separable=separable)
    t, k = T.FiveBlockCNN(config), K.FiveBlockCNN(config)
    randomise_batchnorm(t)
    copy_network(t, k)
    x = rand(4, 3, 32, 32)
    t.eval()
    np.testing.assert_allclose(torch_out(t, x), k(nhwc(x), training=False).numpy(), atol=ATOL_NET)
    t.train()
    np.testing.assert_allclose(torch_out(t, x), k(nhwc(x), training=True).numpy(), atol=ATOL_NET)


def test_the_same_weights_give_the_same_gradients_in_both_frameworks():
    t, k = T.ConvBlock(3, 4, 3, 2, 1, separable=True), K.ConvBlock(3, 4, 3, 2, 1, separable=True)
    copy_block(t, k)
    x = rand(2, 3, 8, 8)
    (t(torch.from_numpy(x)) ** 2).sum().backward()
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(k(nhwc(x), training=True) ** 2)
    grads = dict(zip([v.path for v in k.trainable_weights], tape.gradient(loss, k.trainable_weights)))
    depthwise = next(g for p, g in grads.items() if p.endswith("depthwise/kernel"))
    pointwise = next(g for p, g in grads.items() if p.endswith("pointwise/kernel"))
    np.testing.assert_allclose(depthwise_to_keras(t.conv.depthwise.weight.grad), depthwise.numpy(), atol=1e-4)
    np.testing.assert_allclose(oihw_to_hwio(t.conv.pointwise.weight.grad), pointwise.numpy(), atol=1e-4)


def test_torch_network_gives_the_same_outputs_in_channels_last_memory_format():
    model = T.FiveBlockCNN(ca.CNNConfig(widths=(8, 8, 16, 16, 16), separable=True)).eval()
    x = torch.from_numpy(rand(2, 3, 32, 32))
    with torch.no_grad():
        expected = model(x)
        model.to(memory_format=torch.channels_last)
        np.testing.assert_allclose(model(x.contiguous(memory_format=torch.channels_last)).numpy(), expected.numpy(),
                                   atol=ATOL)


# --------------------------------------------------------------------------- argument validation


BAD_BLOCKS = [
    (dict(in_ch=4, out_ch=8, kernel_size=4, padding="same"), "padding"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, stride=2, padding="same"), "padding"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, padding="valid"), "padding"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, padding=-1), "padding"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, padding=1.5), "padding"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, stride=0), "stride"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, stride=1.0), "stride"),
    (dict(in_ch=4, out_ch=8, kernel_size=0), "kernel_size"),
    (dict(in_ch=0, out_ch=8, kernel_size=3), "in_ch"),
    (dict(in_ch=4, out_ch=-8, kernel_size=3), "out_ch"),
    (dict(in_ch=6, out_ch=8, kernel_size=3, groups=4), "in_ch"),
    (dict(in_ch=8, out_ch=6, kernel_size=3, groups=4), "out_ch"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, groups=0), "groups"),
    (dict(in_ch=4, out_ch=8, kernel_size=3, groups=2, separable=True), "groups"),
]


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize("kwargs, argument", BAD_BLOCKS)
def test_conv_block_rejects_bad_arguments_by_name(framework, kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        framework.ConvBlock(**kwargs)


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize("kwargs, argument", [
    (dict(in_ch=4, out_ch=8, kernel_size=2, padding="same"), "padding"),
    (dict(in_ch=4, out_ch=8, stride=-1), "stride"),
    (dict(in_ch=4, out_ch=8, padding=-2), "padding"),
    (dict(in_ch=4.0, out_ch=8), "in_ch"),
    (dict(in_ch=4, out_ch=0), "out_ch"),
])
def test_depthwise_separable_rejects_bad_arguments_by_name(framework, kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        framework.DepthwiseSeparable(**kwargs)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(widths=(32, 64, 128, 256)), "widths"),
    (dict(widths=(32, 64, 0, 256, 256)), "widths[2]"),
    (dict(widths="32"), "widths"),
    (dict(separable="yes"), "separable"),
    (dict(kernel_size=4), "kernel_size"),
    (dict(kernel_size=0), "kernel_size"),
    (dict(in_channels=0), "in_channels"),
    (dict(n_classes=-1), "n_classes"),
])
def test_cnn_config_rejects_bad_arguments_by_name(kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        ca.CNNConfig(**kwargs)


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
def test_models_reject_a_bad_config_and_inputs_of_the_wrong_shape(framework):
    with pytest.raises(ValueError, match="^config: expected a CNNConfig"):
        framework.FiveBlockCNN({"widths": (8,) * 5})
    model = framework.FiveBlockCNN(ca.CNNConfig(widths=(4,) * 5))
    block = framework.ConvBlock(3, 4, 3)
    to_layout = (lambda x: x) if framework is T else nhwc
    convert = torch.from_numpy if framework is T else tf.constant
    for layer, x in [(model, rand(2, 4, 32, 32)), (model, rand(2, 3, 16, 16)), (block, rand(2, 5, 8, 8))]:
        with pytest.raises(ValueError, match="x: expected a 4-D tensor"):
            layer(convert(to_layout(x)))
    with pytest.raises(ValueError, match="x: expected a 4-D tensor"):
        block(convert(rand(3, 8, 8)))


@pytest.mark.parametrize("call, argument", [
    (lambda: ca.output_size(0, 3), "size"),
    (lambda: ca.output_size(8, 3, 0), "stride"),
    (lambda: ca.output_size(8, 3, 1, -1), "padding"),
    (lambda: ca.output_size(2, 5, 1, 1), "kernel_size"),
    (lambda: ca.same_padding(8, 0), "kernel_size"),
    (lambda: ca.conv_params(6, 8, 3, groups=4), "in_ch"),
    (lambda: ca.conv_params(8, 8, 3, bias=1), "bias"),
    (lambda: ca.conv_macs(8, 8, 3, 0, 4), "out_h"),
    (lambda: ca.separable_ratio(0, 3), "out_ch"),
    (lambda: ca.cnn_cost(ca.CNNConfig(), image_size=16), "image_size"),
    (lambda: ca.cnn_cost("config"), "config"),
])
def test_arithmetic_rejects_bad_arguments_by_name(call, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        call()


# --------------------------------------------------------------------------- Keras configs


@pytest.mark.parametrize("make", [
    lambda: K.ConvBlock(3, 4, 3, 2, 1, pool=True),
    lambda: K.ConvBlock(4, 6, 5, padding="same", separable=True),
    lambda: K.DepthwiseSeparable(3, 5, 3, 1, 1, bias=False),
    lambda: K.FiveBlockCNN(ca.CNNConfig(widths=(4, 4, 8, 8, 8), separable=True)),
], ids=["ConvBlock", "ConvBlock-separable", "DepthwiseSeparable", "FiveBlockCNN"])
def test_keras_layers_are_recreated_from_their_config(make):
    original = make()
    x = rand(2, 32, 32, original.get_config().get("in_ch", 3))
    config = keras.saving.serialize_keras_object(original)
    copy = keras.saving.deserialize_keras_object(config)
    assert type(copy) is type(original)
    assert [tuple(v.shape) for v in copy.weights] == [tuple(v.shape) for v in original.weights]
    copy.set_weights(original.get_weights())
    np.testing.assert_allclose(copy(x).numpy(), original(x).numpy(), atol=1e-6)


# --------------------------------------------------------------------------- plots


def test_padding_windows_draws_a_bracket_per_output_and_a_cell_per_padded_input():
    fig = plots.padding_windows(8, 3, 2, {"symmetric": (1, 1), "same": (0, 1)})
    ax = fig.axes[0]
    assert len(ax.patches) == 10 + 9  # padded lengths
    assert len(ax.get_lines()) == 4 + 4  # ca.output_size(8, 3, 2, 1) windows per row
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("call, argument", [
    (lambda: plots.padding_windows(8, 3, 2, {}), "paddings"),
    (lambda: plots.padding_windows(8, 0, 2, {"a": (1, 1)}), "kernel_size"),
    (lambda: plots.padding_windows(2, 5, 1, {"a": (0, 1)}), "paddings"),
    (lambda: plots.ratio_curves([1, 2], {}), "curves"),
    (lambda: plots.ratio_curves([0, 2], {"a": [1, 2]}), "x"),
    (lambda: plots.ratio_curves([1, 2], {"a": [1, 2, 3]}), "curves"),
    (lambda: plots.ratio_curves([1, 2], {"a": [1, 2]}, limits={"b": 1.0}), "limits"),
    (lambda: plots.training_curves({}), "runs"),
    (lambda: plots.training_curves({"a": ([], [0.5])}), "runs"),
    (lambda: plots.training_curves({"a": ([1.0], [0.5])}, smooth=0), "smooth"),
    (lambda: plots.image_grid(np.zeros((2, 4, 4, 3)), ["a", "b"]), "images"),
    (lambda: plots.image_grid(np.zeros((2, 4, 4, 3), np.uint8), ["a"]), "titles"),
    (lambda: plots.image_grid(np.zeros((2, 4, 4, 3), np.uint8), ["a", "b"], ncols=0), "ncols"),
])
def test_convolution_plots_reject_bad_input_by_name(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}: expected"):
        call()


def test_ratio_and_training_curves_and_image_grid_draw_what_they_are_given():
    ratio = plots.ratio_curves([8, 16, 32], {"K = 3": [4.0, 5.5, 7.0]}, limits={"K = 3": 9.0})
    ax = ratio.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 2  # the curve and its limit
    curves = plots.training_curves({"a": (np.linspace(2, 1, 50), [0.3, 0.5]), "b": (np.ones(50), [0.2, 0.4])},
                                   smooth=10)
    loss, accuracy = curves.axes
    assert [len(line.get_xdata()) for line in loss.get_lines()] == [41, 41]
    assert list(accuracy.get_lines()[0].get_ydata()) == [30.0, 50.0]
    grid = plots.image_grid(np.zeros((5, 8, 8, 3), np.uint8), list("abcde"), ncols=3)
    assert len(grid.axes) == 6 and [ax.get_title() for ax in grid.axes[:5]] == list("abcde")
    matplotlib.pyplot.close("all")
