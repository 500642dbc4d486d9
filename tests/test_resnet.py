"""Residual blocks and the CIFAR ResNet: each against the framework's functional ops, and the two frameworks
against each other.

Cross-framework checks load the same float32 weights and BatchNorm statistics into the PyTorch and the Keras
version and compare outputs: atol 1e-5 for one block, 1e-4 for the 20-layer network (float32 convolutions
summed in different orders differ by ~1e-6 per layer, and BatchNorm divides by small standard deviations).
PyTorch stores a conv weight as (out, in, kh, kw) and images as (B, C, H, W); Keras a kernel as
(kh, kw, in, out) and images as (B, H, W, C): copies transpose both.
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

from nnbook import plots
from nnbook.resnet import STANDARD_ERRORS, CifarResNetConfig, compare_runs, gradient_regime
from nnbook.tf import resnet as K
from nnbook.torch import resnet as T
from helpers import rand

matplotlib.use("Agg")

ATOL_BLOCK, ATOL_NET = 1e-5, 1e-4  # float32, see the module docstring
EPS = 1e-5  # BatchNorm epsilon in both frameworks


# --------------------------------------------------------------------------- helpers


def nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def to_nhwc(x: torch.Tensor) -> np.ndarray:
    return x.detach().numpy().transpose(0, 2, 3, 1)


def randomise_batchnorm(module: torch.nn.Module, seed: int = 2) -> None:
    """Give every BatchNorm non-trivial weights and running statistics, as after training."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, c).astype(np.float32)))
                m.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, c).astype(np.float32)))
                m.running_mean.copy_(torch.from_numpy(rng.normal(0, 0.1, c).astype(np.float32)))
                m.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, c).astype(np.float32)))


def copy_conv(t: torch.nn.Conv2d, k: keras.layers.Conv2D) -> None:
    k.kernel.assign(t.weight.detach().numpy().transpose(2, 3, 1, 0))  # OIHW -> HWIO
    assert (t.bias is None) == (not k.use_bias)
    if t.bias is not None:
        k.bias.assign(t.bias.detach().numpy())


def copy_bn(t: torch.nn.BatchNorm2d, k: keras.layers.BatchNormalization) -> None:
    if isinstance(t, torch.nn.Identity):  # batch_norm=False: nothing to copy
        assert isinstance(k, keras.layers.Identity)
        return
    for source, target in [(t.weight, k.gamma), (t.bias, k.beta),
                           (t.running_mean, k.moving_mean), (t.running_var, k.moving_variance)]:
        target.assign(source.detach().numpy())


def copy_block(t, k) -> None:
    for name in ("conv1", "conv2", "conv3"):
        if hasattr(t, name):
            copy_conv(getattr(t, name), getattr(k, name))
            copy_bn(getattr(t, "bn" + name[-1]), getattr(k, "bn" + name[-1]))
    assert (t.shortcut is None) == (k.shortcut is None)
    if t.shortcut is not None:
        copy_conv(t.shortcut[0], k.shortcut.layers[0])
        copy_bn(t.shortcut[1], k.shortcut.layers[1])


def copy_model(t: T.CifarResNet, k: K.CifarResNet) -> None:
    copy_conv(t.conv, k.conv)
    copy_bn(t.bn, k.bn)
    for tb, kb in zip(t.blocks, k.blocks, strict=True):
        copy_block(tb, kb)
    k.head.kernel.assign(t.head.weight.detach().numpy().T)  # (out, in) -> (in, out)
    k.head.bias.assign(t.head.bias.detach().numpy())


def torch_bn(m: torch.nn.BatchNorm2d, z: torch.Tensor, training: bool) -> torch.Tensor:
    return F.batch_norm(z, m.running_mean.clone(), m.running_var.clone(), m.weight, m.bias,
                        training=training, eps=EPS)


def keras_bn(m: keras.layers.BatchNormalization, z: tf.Tensor, training: bool) -> tf.Tensor:
    if training:
        mean, var = tf.nn.moments(z, axes=[0, 1, 2])  # biased variance, as PyTorch normalises with
    else:
        mean, var = m.moving_mean, m.moving_variance
    return tf.nn.batch_normalization(z, mean, var, m.beta, m.gamma, EPS)


PAD1 = [[0, 0], [1, 1], [1, 1], [0, 0]]  # NHWC: one pixel on every side of H and W


# (in_channels, out_channels, stride): the three transitions of a BasicBlock
TRANSITIONS = [(16, 16, 1), (16, 32, 2), (16, 32, 1), (32, 32, 2)]
TRANSITION_IDS = ["identity", "stride-2 projection", "channel projection", "stride-only projection"]


# --------------------------------------------------------------------------- the configuration


def test_config_counts_6n_plus_2_layers():
    assert CifarResNetConfig().depth == 20
    assert CifarResNetConfig(n=9).depth == 56


def test_the_network_has_as_many_weighted_layers_on_its_main_path_as_the_config_says():
    for n in (1, 3):
        t = T.CifarResNet(CifarResNetConfig(n=n))
        main_convs = sum(1 for name, m in t.named_modules()
                         if isinstance(m, torch.nn.Conv2d) and "shortcut" not in name)
        linears = sum(1 for m in t.modules() if isinstance(m, torch.nn.Linear))
        assert main_convs + linears == 6 * n + 2 == t.config.depth


# --------------------------------------------------------------------------- against the functional ops


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("c_in, c_out, stride", TRANSITIONS, ids=TRANSITION_IDS)
def test_torch_basic_block_computes_conv_bn_relu_conv_bn_plus_shortcut(c_in, c_out, stride, training):
    block = T.BasicBlock(c_in, c_out, stride)
    randomise_batchnorm(block)
    block.train(training)
    x = torch.from_numpy(rand(4, c_in, 8, 8))
    out = F.relu(torch_bn(block.bn1, F.conv2d(x, block.conv1.weight, stride=stride, padding=1), training))
    out = torch_bn(block.bn2, F.conv2d(out, block.conv2.weight, padding=1), training)
    if block.shortcut is None:
        shortcut = x
    else:
        shortcut = torch_bn(block.shortcut[1], F.conv2d(x, block.shortcut[0].weight, stride=stride), training)
    expected = F.relu(out + shortcut)
    with torch.no_grad():
        np.testing.assert_allclose(block(x).numpy(), expected.detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("c_in, c_out, stride", TRANSITIONS, ids=TRANSITION_IDS)
def test_keras_basic_block_computes_conv_bn_relu_conv_bn_plus_shortcut(c_in, c_out, stride, training):
    block = K.BasicBlock(c_in, c_out, stride)
    x = tf.constant(rand(4, 8, 8, c_in))
    # tf.nn.conv2d with explicit padding: what PyTorch's padding=1 does, independently of the block's tf.pad
    out = tf.nn.relu(keras_bn(block.bn1, tf.nn.conv2d(x, block.conv1.kernel, stride, PAD1), training))
    out = keras_bn(block.bn2, tf.nn.conv2d(out, block.conv2.kernel, 1, PAD1), training)
    if block.shortcut is None:
        shortcut = x
    else:
        conv, bn = block.shortcut.layers
        shortcut = keras_bn(bn, tf.nn.conv2d(x, conv.kernel, stride, "VALID"), training)
    expected = tf.nn.relu(out + shortcut)
    np.testing.assert_allclose(block(x, training=training).numpy(), expected.numpy(), atol=1e-5)


@pytest.mark.parametrize("stride", [1, 2])
def test_torch_bottleneck_computes_reduce_conv_expand_plus_shortcut(stride):
    block = T.Bottleneck(16, 8, stride)  # 16 -> 32 channels: a projection shortcut
    randomise_batchnorm(block)
    block.eval()
    x = torch.from_numpy(rand(2, 16, 8, 8))
    out = F.relu(torch_bn(block.bn1, F.conv2d(x, block.conv1.weight), False))
    out = F.relu(torch_bn(block.bn2, F.conv2d(out, block.conv2.weight, stride=stride, padding=1), False))
    out = torch_bn(block.bn3, F.conv2d(out, block.conv3.weight), False)
    shortcut = torch_bn(block.shortcut[1], F.conv2d(x, block.shortcut[0].weight, stride=stride), False)
    with torch.no_grad():
        np.testing.assert_allclose(block(x).numpy(), F.relu(out + shortcut).numpy(), atol=1e-6)


def test_keras_bottleneck_computes_reduce_conv_expand_plus_shortcut():
    block = K.Bottleneck(16, 8, 2)  # 16 -> 32 channels: a projection shortcut
    x = tf.constant(rand(2, 8, 8, 16))
    out = tf.nn.relu(keras_bn(block.bn1, tf.nn.conv2d(x, block.conv1.kernel, 1, "VALID"), False))
    out = tf.nn.relu(keras_bn(block.bn2, tf.nn.conv2d(out, block.conv2.kernel, 2, PAD1), False))
    out = keras_bn(block.bn3, tf.nn.conv2d(out, block.conv3.kernel, 1, "VALID"), False)
    conv, bn = block.shortcut.layers
    shortcut = keras_bn(bn, tf.nn.conv2d(x, conv.kernel, 2, "VALID"), False)
    np.testing.assert_allclose(block(x, training=False).numpy(), tf.nn.relu(out + shortcut).numpy(), atol=1e-5)


def test_keras_same_padding_would_sample_other_pixels_than_pytorch_when_the_stride_is_2():
    x = tf.constant(rand(1, 8, 8, 3))
    kernel = tf.constant(rand(3, 3, 3, 4))
    explicit = tf.nn.conv2d(x, kernel, 2, PAD1)  # PyTorch's padding=1: what the blocks do
    same = tf.nn.conv2d(x, kernel, 2, "SAME")  # pads only bottom and right for an even size
    assert explicit.shape == same.shape == (1, 4, 4, 4)
    assert np.abs(explicit.numpy() - same.numpy()).max() > 0.1
    np.testing.assert_allclose(tf.nn.conv2d(x, kernel, 1, PAD1).numpy(),  # stride 1: the same
                               tf.nn.conv2d(x, kernel, 1, "SAME").numpy(), atol=1e-6)


# --------------------------------------------------------------------------- shapes at every transition


@pytest.mark.parametrize(
    "make_torch, make_keras, c_in, expected",
    [
        (lambda: T.BasicBlock(16, 16, 1), lambda: K.BasicBlock(16, 16, 1), 16, (16, 32)),
        (lambda: T.BasicBlock(16, 32, 2), lambda: K.BasicBlock(16, 32, 2), 16, (32, 16)),
        (lambda: T.BasicBlock(16, 32, 1), lambda: K.BasicBlock(16, 32, 1), 16, (32, 32)),
        (lambda: T.Bottleneck(64, 16, 1), lambda: K.Bottleneck(64, 16, 1), 64, (64, 32)),
        (lambda: T.Bottleneck(16, 16, 1), lambda: K.Bottleneck(16, 16, 1), 16, (64, 32)),
        (lambda: T.Bottleneck(64, 32, 2), lambda: K.Bottleneck(64, 32, 2), 64, (128, 16)),
    ],
    ids=["basic identity", "basic stride-2", "basic channels", "bottleneck identity",
         "bottleneck expansion", "bottleneck stride-2"],
)
def test_blocks_give_the_expected_shape_in_both_layouts(make_torch, make_keras, c_in, expected):
    c_out, size = expected
    t, k = make_torch(), make_keras()
    with torch.no_grad():
        assert tuple(t(torch.zeros(2, c_in, 32, 32)).shape) == (2, c_out, size, size)  # NCHW
    assert tuple(k(tf.zeros((2, 32, 32, c_in))).shape) == (2, size, size, c_out)  # NHWC
    assert t.out_channels == k.out_channels == c_out


def test_the_cifar_resnet_halves_the_resolution_and_doubles_the_channels_per_stage():
    t, k = T.CifarResNet(), K.CifarResNet()
    x_t, x_k = torch.zeros(2, 16, 32, 32), tf.zeros((2, 32, 32, 16))
    shapes_t, shapes_k = [], []
    with torch.no_grad():
        for tb, kb in zip(t.blocks, k.blocks, strict=True):
            x_t, x_k = tb(x_t), kb(x_k)
            shapes_t.append(tuple(x_t.shape[1:]))
            shapes_k.append(tuple(x_k.shape[1:]))
    expected = [(16, 32)] * 3 + [(32, 16)] * 3 + [(64, 8)] * 3  # (C, H = W)
    assert shapes_t == [(c, s, s) for c, s in expected]
    assert shapes_k == [(s, s, c) for c, s in expected]
    assert [b.stride for b in t.blocks] == [b.stride for b in k.blocks] == [1, 1, 1, 2, 1, 1, 2, 1, 1]
    with torch.no_grad():
        assert tuple(t(torch.zeros(3, 3, 32, 32)).shape) == (3, 10)
    assert tuple(k(tf.zeros((3, 32, 32, 3))).shape) == (3, 10)


# --------------------------------------------------------------------------- shortcuts, and their absence


@pytest.mark.parametrize("c_in, c_out, stride", TRANSITIONS, ids=TRANSITION_IDS)
def test_zeroing_the_residual_branch_leaves_relu_of_the_shortcut(c_in, c_out, stride):
    t = T.BasicBlock(c_in, c_out, stride).eval()
    plain = T.BasicBlock(c_in, c_out, stride, residual=False).eval()
    for block in (t, plain):
        with torch.no_grad():
            block.conv2.weight.zero_()  # bn2 of zeros is its bias: 0 at initialisation
    x = torch.from_numpy(rand(2, c_in, 8, 8))
    with torch.no_grad():
        expected = F.relu(x if t.shortcut is None else t.shortcut(x))
        np.testing.assert_allclose(t(x).numpy(), expected.numpy(), atol=1e-6)
        assert plain(x).abs().max().item() == 0  # no shortcut: nothing gets through
    k = K.BasicBlock(c_in, c_out, stride)
    k.conv2.kernel.assign(np.zeros(k.conv2.kernel.shape, np.float32))
    x_k = tf.constant(rand(2, 8, 8, c_in))
    shortcut = x_k if k.shortcut is None else k.shortcut(x_k, training=False)
    np.testing.assert_allclose(k(x_k, training=False).numpy(), tf.nn.relu(shortcut).numpy(), atol=1e-6)


def test_the_plain_network_has_the_same_layers_minus_the_projections_and_no_shortcut():
    res, plain = T.CifarResNet(CifarResNetConfig(residual=True)), T.CifarResNet(CifarResNetConfig(residual=False))
    assert all(b.shortcut is None and not b.residual for b in plain.blocks)
    assert [b.shortcut is not None for b in res.blocks] == [False] * 3 + [True, False, False] * 2
    res_names = {n for n, _ in res.named_parameters() if "shortcut" not in n}
    assert res_names == {n for n, _ in plain.named_parameters()}
    k_res, k_plain = K.CifarResNet(CifarResNetConfig(residual=True)), K.CifarResNet(CifarResNetConfig(residual=False))
    assert all(b.shortcut is None for b in k_plain.blocks)
    extra = 16 * 32 + 32 * 64 + 2 * (32 + 64)  # two 1x1 projections and their BatchNorm scale and shift
    n_res, n_plain = (sum(p.numel() for p in m.parameters()) for m in (res, plain))
    assert n_res - n_plain == extra
    n_k_res, n_k_plain = (sum(int(np.prod(v.shape)) for v in m.trainable_weights) for m in (k_res, k_plain))
    assert n_k_res - n_k_plain == extra


# --------------------------------------------------------------------------- PyTorch and TensorFlow agree


@pytest.mark.parametrize("residual, batch_norm", [(True, True), (False, True), (False, False), (True, False)],
                         ids=["resnet", "plain", "plain without BN", "resnet without BN"])
@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_the_same_weights_give_the_same_logits_in_both_frameworks(residual, batch_norm, training):
    config = CifarResNetConfig(residual=residual, batch_norm=batch_norm)
    t, k = T.CifarResNet(config), K.CifarResNet(config)
    randomise_batchnorm(t)
    copy_model(t, k)
    t.train(training)
    x = rand(4, 32, 32, 3)
    with torch.no_grad():
        out_t = t(nchw(x)).numpy()
    np.testing.assert_allclose(out_t, k(x, training=training).numpy(), atol=ATOL_NET)


@pytest.mark.parametrize(
    "make_torch, make_keras, c_in",
    [
        (lambda: T.BasicBlock(16, 16, 1), lambda: K.BasicBlock(16, 16, 1), 16),
        (lambda: T.BasicBlock(16, 32, 2), lambda: K.BasicBlock(16, 32, 2), 16),
        (lambda: T.BasicBlock(16, 32, 1, residual=False), lambda: K.BasicBlock(16, 32, 1, residual=False), 16),
        (lambda: T.Bottleneck(16, 16, 1), lambda: K.Bottleneck(16, 16, 1), 16),
        (lambda: T.Bottleneck(64, 32, 2), lambda: K.Bottleneck(64, 32, 2), 64),
    ],
    ids=["basic identity", "basic stride-2", "plain", "bottleneck expansion", "bottleneck stride-2"],
)
def test_blocks_with_the_same_weights_agree_across_frameworks(make_torch, make_keras, c_in):
    t, k = make_torch(), make_keras()
    randomise_batchnorm(t)
    copy_block(t, k)
    x = rand(2, 9, 9, c_in)  # odd size: the strided conv's padding must match too
    with torch.no_grad():
        out_t = to_nhwc(t.eval()(nchw(x)))
    np.testing.assert_allclose(out_t, k(x, training=False).numpy(), atol=ATOL_BLOCK)


def test_batchnorm_running_statistics_update_alike_in_both_frameworks():
    t, k = T.BasicBlock(8, 8, 1), K.BasicBlock(8, 8, 1)
    copy_block(t, k)
    x = rand(16, 6, 6, 8)
    t.train()(nchw(x))
    k(x, training=True)
    np.testing.assert_allclose(t.bn1.running_mean.numpy(), k.bn1.moving_mean.numpy(), atol=1e-6)
    # both average in the unbiased batch variance (FusedBatchNormalization; Keras' own: the biased one)
    np.testing.assert_allclose(t.bn1.running_var.numpy(), k.bn1.moving_variance.numpy(), atol=1e-6)


def test_block_gradient_norms_agree_across_frameworks_and_leave_the_weights_alone():
    config = CifarResNetConfig(n=1)
    t, k = T.CifarResNet(config), K.CifarResNet(config)
    copy_model(t, k)
    x, y = rand(8, 16, 16, 3), np.arange(8) % 10
    before = [p.detach().clone() for p in t.parameters()]
    t.eval()
    norms_t = T.block_grad_norms(t, nchw(x), torch.from_numpy(y))
    norms_k = K.block_grad_norms(k, tf.constant(x), tf.constant(y))
    assert norms_t.shape == norms_k.shape == (3,)
    assert np.all(norms_t > 0)
    np.testing.assert_allclose(norms_t, norms_k, rtol=1e-4)
    assert not t.training  # the mode is restored
    assert all(torch.equal(p, q) for p, q in zip(before, t.parameters()))
    assert all(p.grad is None for p in t.parameters())


def test_block_gradient_norms_are_the_norms_of_the_first_convs_weight_gradient():
    t = T.CifarResNet(CifarResNetConfig(n=1))
    x, y = nchw(rand(8, 16, 16, 3)), torch.arange(8) % 10
    norms = T.block_grad_norms(t, x, y)
    F.cross_entropy(t.train()(x), y).backward()
    np.testing.assert_allclose(norms, [b.conv1.weight.grad.norm().item() for b in t.blocks], rtol=1e-5)


# --------------------------------------------------------------------------- initialisation


def test_convolutions_start_he_initialised_and_batchnorm_matches_pytorch_defaults():
    t, k = T.CifarResNet(), K.CifarResNet()
    w_t, w_k = t.blocks[8].conv2.weight.detach().numpy(), k.blocks[8].conv2.kernel.numpy()
    he = np.sqrt(2 / (64 * 9))  # fan_in = C_in * 3 * 3
    assert w_t.std() == pytest.approx(he, rel=0.05) and w_k.std() == pytest.approx(he, rel=0.05)
    bn = k.blocks[0].bn1
    assert (bn.momentum, bn.epsilon) == (0.9, 1e-5)
    assert (t.blocks[0].bn1.momentum, t.blocks[0].bn1.eps) == (0.1, 1e-5)  # the same update, other convention
    assert k.blocks[0].conv1.use_bias is False and t.blocks[0].conv1.bias is None


def test_without_batchnorm_the_convolutions_have_biases_and_each_frameworks_default_init():
    config = CifarResNetConfig(residual=False, batch_norm=False)
    t, k = T.CifarResNet(config), K.CifarResNet(config)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in t.modules())
    assert not any("batch_normalization" in type(layer).__name__.lower() for layer in k._flatten_layers())
    w_t, w_k = t.blocks[8].conv2.weight.detach().numpy(), k.blocks[8].conv2.kernel.numpy()
    fan_in, fan_out = 64 * 9, 64 * 9
    # nn.Conv2d: Kaiming-uniform with a = sqrt(5), i.e. uniform in +-1/sqrt(fan_in); Keras: Glorot-uniform
    assert w_t.std() == pytest.approx(1 / np.sqrt(3 * fan_in), rel=0.05)
    assert w_k.std() == pytest.approx(np.sqrt(2 / (fan_in + fan_out)), rel=0.05)
    assert t.blocks[0].conv1.bias is not None and k.blocks[0].conv1.use_bias


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda L: L.BasicBlock(0, 16), "in_channels"),
        (lambda L: L.BasicBlock(16, -1), "out_channels"),
        (lambda L: L.BasicBlock(16, "16"), "out_channels"),
        (lambda L: L.BasicBlock(16, 16, stride=0), "stride"),
        (lambda L: L.BasicBlock(16, 16, stride=3), "stride"),
        (lambda L: L.BasicBlock(16, 16, stride=1.5), "stride"),
        (lambda L: L.BasicBlock(16, 16, stride=True), "stride"),
        (lambda L: L.BasicBlock(16, 16, residual="yes"), "residual"),
        (lambda L: L.Bottleneck(0, 16), "in_channels"),
        (lambda L: L.Bottleneck(16, 0), "channels"),
        (lambda L: L.Bottleneck(16, 16, stride=-2), "stride"),
        (lambda L: L.Bottleneck(16, 16, residual=1), "residual"),
        (lambda L: L.CifarResNet(L.CifarResNetConfig(n=0)), "n"),
        (lambda L: L.CifarResNet(L.CifarResNetConfig(n=2.0)), "n"),
        (lambda L: L.CifarResNet(L.CifarResNetConfig(residual=None)), "residual"),
        (lambda L: L.CifarResNet(L.CifarResNetConfig(batch_norm="no")), "batch_norm"),
        (lambda L: L.BasicBlock(16, 16, batch_norm=0), "batch_norm"),
        (lambda L: L.CifarResNet(L.CifarResNetConfig(widths=())), "widths"),
        (lambda L: L.CifarResNet(L.CifarResNetConfig(widths=(16, 0, 64))), "widths[1]"),
        (lambda L: L.CifarResNet(L.CifarResNetConfig(n_classes=0)), "n_classes"),
        (lambda L: L.CifarResNet({"n": 3}), "config"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(framework, make, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        make(framework)


def test_inputs_of_the_wrong_rank_or_channel_count_are_rejected_by_name():
    t, k = T.CifarResNet(CifarResNetConfig(n=1)), K.CifarResNet(CifarResNetConfig(n=1))
    for bad in [np.zeros((3, 32, 32), np.float32), np.zeros((1, 32, 32, 1), np.float32)]:
        with pytest.raises(ValueError, match=r"^x: expected images \(B, 3, H, W\)"):
            t(torch.from_numpy(bad.transpose(0, 3, 1, 2) if bad.ndim == 4 else bad))
        # Keras re-raises the same ValueError with a note naming the layer's call around the message
        with pytest.raises(ValueError, match=r"x: expected images \(B, H, W, 3\)"):
            k(bad)


# --------------------------------------------------------------------------- Keras configs


@pytest.mark.parametrize(
    "make",
    [
        lambda: K.BasicBlock(16, 32, 2),
        lambda: K.Bottleneck(16, 8, 1, residual=False),
        lambda: K.CifarResNet(CifarResNetConfig(n=1, residual=False, widths=(8, 16))),
        lambda: K.CifarResNet(CifarResNetConfig(n=1, batch_norm=False, widths=(8, 16))),
    ],
    ids=["BasicBlock", "Bottleneck", "CifarResNet", "CifarResNet without BN"],
)
def test_keras_blocks_and_models_are_recreated_from_their_config(make):
    original = make()
    x = rand(2, 8, 8, original.in_channels if hasattr(original, "in_channels") else 3)
    config = keras.saving.serialize_keras_object(original)
    copy = keras.saving.deserialize_keras_object(config)
    assert type(copy) is type(original)
    assert [tuple(v.shape) for v in copy.weights] == [tuple(v.shape) for v in original.weights]
    copy.set_weights(original.get_weights())
    np.testing.assert_allclose(copy(x, training=False).numpy(), original(x, training=False).numpy(), atol=1e-6)


# --------------------------------------------------------------------------- plots


def test_gradient_norms_draws_a_mean_line_and_a_min_to_max_band_per_network():
    runs = {"plain": [[1.0, 0.5, 0.2], [3.0, 0.5, 0.4]], "res": [[0.4, 0.3, 0.3], [0.2, 0.3, 0.5]]}
    fig = plots.gradient_norms(runs, boundaries=(1.5,), regions=("a", "b"), title="t")
    ax = fig.axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 3]
    np.testing.assert_allclose(lines[0].get_ydata(), [2.0, 0.5, 0.3])
    np.testing.assert_allclose(lines[1].get_xdata(), [1, 2, 3])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(0.2) and band.max() == pytest.approx(3.0)
    assert ax.get_yscale() == "log" and fig.get_suptitle() == "t"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["plain", "res"]
    assert [t.get_text() for t in ax.texts] == ["a", "b"]
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("norms", [{}, {"a": [1.0, 2.0]}, {"a": [[1.0, 0.0]]}, {"a": [[]]}])
def test_gradient_norms_rejects_empty_flat_or_non_positive_norms(norms):
    with pytest.raises(ValueError, match="^norms: expected"):
        plots.gradient_norms(norms)


def test_gradient_norms_wants_one_region_caption_more_than_boundaries():
    with pytest.raises(ValueError, match="^regions: expected 2 captions"):
        plots.gradient_norms({"a": [[1.0, 2.0]]}, boundaries=(1.5,), regions=("x",))


def test_depth_curves_draws_each_runs_running_mean_and_shades_the_compared_steps():
    runs = {"plain-20": [4.0, 2.0, 2.0, 0.0], "plain-56": [1.0, 1.0, 1.0, 1.0]}
    fig = plots.depth_curves(runs, smooth=2, compared=2, title="t")
    ax = fig.axes[0]
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_xdata(), [2, 3, 4])  # the step each mean ends on
    np.testing.assert_allclose(lines[0].get_ydata(), [3.0, 2.0, 1.0])
    np.testing.assert_allclose(lines[1].get_ydata(), [1.0, 1.0, 1.0])
    (shaded,) = ax.patches  # the last 2 steps, 3 and 4, edge to edge
    assert shaded.get_x() == pytest.approx(2.5)
    assert shaded.get_x() + shaded.get_width() == pytest.approx(4.5)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["plain-20", "plain-56"]
    assert fig.get_suptitle() == "t"
    matplotlib.pyplot.close("all")


def test_depth_curves_marks_a_run_no_longer_than_the_smoothing_window():
    (short,) = plots.depth_curves({"a": [2.0, 1.0]}, smooth=3).axes[0].get_lines()
    np.testing.assert_allclose(short.get_ydata(), [1.5])  # the window shrinks to the run
    (longer,) = plots.depth_curves({"a": [2.0, 1.0, 3.0]}, smooth=2).axes[0].get_lines()
    assert short.get_marker() == "o" and longer.get_marker() == "None"
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize(
    "runs, kwargs, argument",
    [
        ({}, {}, "step_losses"),
        ({"a": [[1.0, 2.0]]}, {}, "step_losses"),
        ({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]}, {}, "step_losses"),
        ({"a": [1.0, 2.0]}, {"compared": 3}, "compared"),
        ({"a": [1.0, 2.0]}, {"smooth": 0}, "smooth"),
    ],
)
def test_depth_curves_rejects_bad_runs_by_name(runs, kwargs, argument):
    with pytest.raises(ValueError, match=f"^{argument}: expected"):
        plots.depth_curves(runs, **kwargs)
    matplotlib.pyplot.close("all")


# --------------------------------------------------------------------------- run comparison


def test_compare_runs_averages_the_last_steps_and_pairs_their_differences():
    reference = np.array([9.0, 9.0, 2.0, 1.0, 3.0, 2.0])
    run = reference + np.array([0.0, 0.0, 0.4, 0.6, 0.4, 0.6])  # differences: mean 0.5
    c = compare_runs(reference, run, last=4)
    assert c.reference_loss == pytest.approx(2.0) and c.loss == pytest.approx(2.5)
    assert c.difference == pytest.approx(0.5) and c.steps == 4
    # sample std of (0.4, 0.6, 0.4, 0.6) is sqrt(0.04 / 3); the standard error divides by 2
    assert c.margin == pytest.approx(STANDARD_ERRORS * np.sqrt(0.04 / 3) / 2)
    assert c.verdict == "trains worse"


@pytest.mark.parametrize(
    "offsets, verdict",
    [
        ([0.1, 0.3, 0.1, 0.3], "trains worse"),  # mean 0.2, margin 0.115
        ([-0.1, -0.3, -0.1, -0.3], "trains better"),
        ([0.5, -0.3, 0.4, -0.4], "trains as well"),  # mean 0.05, margin 0.48
        ([0.0, 0.0, 0.0, 0.0], "trains as well"),
    ],
)
def test_compare_runs_counts_a_difference_only_beyond_two_standard_errors(offsets, verdict):
    reference = np.linspace(2.0, 1.0, 4)
    assert compare_runs(reference, reference + np.array(offsets), last=4).verdict == verdict


def test_a_batch_hard_for_both_runs_does_not_blur_the_paired_comparison():
    # the loss of both networks jumps on the same batches; only the offset between them counts
    batch_difficulty = np.array([0.0, 2.0, 0.0, 2.0, 0.0, 2.0])
    reference = 1.0 + batch_difficulty
    run = reference + np.array([0.11, 0.09, 0.1, 0.11, 0.09, 0.1])
    assert compare_runs(reference, run, last=6).verdict == "trains worse"


@pytest.mark.parametrize(
    "reference, run, last, argument",
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0], 2, "step_loss"),
        ([1.0], [1.0], 2, "reference_step_loss"),
        ([1, 2, 3], [1.0, 2.0, 3.0], 2, "reference_step_loss"),
        ([[1.0, 2.0]], [1.0, 2.0], 2, "reference_step_loss"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 1, "last"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 4, "last"),
    ],
)
def test_compare_runs_rejects_bad_arguments_by_name(reference, run, last, argument):
    with pytest.raises(ValueError, match=f"^{argument}: expected"):
        compare_runs(reference, run, last=last)


# --------------------------------------------------------------------------- gradient regimes


@pytest.mark.parametrize(
    "norms, regime",
    [
        ([0.2, 0.3, 0.25, 0.39], "roughly constant"),  # largest / smallest 1.95
        ([1e-8, 1e-6, 1e-4, 1e-2], "decays toward the input"),
        ([0.5, 0.1, 0.3, 0.2], "grows toward the input"),  # not monotone: the trend decides
        ([0.2, 0.8, 0.1, 0.3], "oscillates"),  # varies 8x, first / last 0.67
    ],
)
def test_gradient_regime_names_the_trend_by_the_stated_rule(norms, regime):
    assert gradient_regime(np.array(norms)) == regime


@pytest.mark.parametrize("norms", [[1.0], [1.0, -1.0], [[1.0, 2.0]], [1, 2]])
def test_gradient_regime_rejects_fewer_than_two_positive_float_norms(norms):
    with pytest.raises(ValueError, match=r"^norms: expected"):
        gradient_regime(norms)
