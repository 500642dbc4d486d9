"""Residual networks in TensorFlow / Keras: the classes of the chapter
"Residual networks and gradient flow".

Mirrors `nnbook.torch.resnet` class for class, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, C channels, H and
W the height and width, s the stride; Keras images are (B, H, W, C).
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from nnbook import checks
from nnbook.resnet import CifarResNetConfig  # shared by both frameworks
from nnbook.tf import FusedBatchNormalization

__all__ = [
    "CifarResNetConfig",
    "BasicBlock",
    "Bottleneck",
    "CifarResNet",
    "block_grad_norms",
]

STRIDES = (1, 2)  # a block keeps the resolution, or halves it


# ------------------------------------------------------------------ the pieces


def _conv(
    c_out: int,
    kernel: int,
    stride: int = 1,
    batch_norm: bool = True,
    name: str | None = None,
):
    """A k x k convolution. With BatchNorm after it: no bias, He initialised;
    without: a bias and Keras' default initialisation, as Conv2D has."""
    # He et al. (2015): std sqrt(2 / fan_in) keeps the scale through ReLUs
    he = keras.initializers.VarianceScaling(
        2.0, mode="fan_in", distribution="untruncated_normal"
    )
    return keras.layers.Conv2D(  # kernel (k, k, C_in, C_out)
        c_out,
        kernel,
        strides=stride,
        # stride 1: "same" pads k // 2 on every side, as PyTorch's padding=k // 2;
        # stride 2: "valid", the caller pads (see _pad)
        padding="same" if stride == 1 else "valid",
        use_bias=not batch_norm,  # BatchNorm's shift would cancel a bias
        kernel_initializer=he if batch_norm else "glorot_uniform",
        name=name,
    )


def _pad(x: tf.Tensor, stride: int) -> tf.Tensor:
    """PyTorch's padding=1 before a 3x3 convolution. With stride 2 on an even size,
    Keras' padding="same" pads only the bottom and right, and the windows would see
    other pixels: (B, H, W, C) -> (B, H+2, W+2, C). With stride 1 the convolution's
    own "same" pads alike, without copying x (a separate pad made the training step
    about a tenth slower)."""
    return x if stride == 1 else tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])


def _bn(batch_norm: bool = True, name: str | None = None) -> keras.layers.Layer:
    if not batch_norm:
        return keras.layers.Identity(name=name)
    # PyTorch's defaults; Keras' own are momentum 0.99, epsilon 1e-3
    return FusedBatchNormalization(momentum=0.9, epsilon=1e-5, name=name)


def _projection(c_out: int, stride: int, batch_norm: bool = True) -> keras.Sequential:
    """The shortcut when the shape changes: 1x1 conv, stride s, BatchNorm."""
    return keras.Sequential(
        [_conv(c_out, 1, stride, batch_norm), _bn(batch_norm)], name="shortcut"
    )


# ---------------------------------------------------------------------- blocks


@keras.saving.register_keras_serializable(package="nnbook")
class BasicBlock(keras.layers.Layer):
    """Two 3x3 convolutions plus a shortcut (He et al. 2016):
    relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
    With residual=False: the same layers, no shortcut; with batch_norm=False:
    no BatchNorm (identities in its place)."""

    expansion = 1  # out_channels / the block's inner width

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        residual: bool = True,
        batch_norm: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.in_channels = in_channels = checks.positive_int("in_channels", in_channels)
        self.out_channels = out_channels = checks.positive_int(
            "out_channels", out_channels
        )
        self.stride = stride = checks.one_of("stride", stride, STRIDES)
        self.residual = residual = checks.boolean("residual", residual)
        self.batch_norm = bn = checks.boolean("batch_norm", batch_norm)
        self.conv1 = _conv(out_channels, 3, stride, bn, name="conv1")
        self.bn1 = _bn(bn, "bn1")
        self.conv2 = _conv(out_channels, 3, 1, bn, name="conv2")
        self.bn2 = _bn(bn, "bn2")
        # identity if the shape is kept, a projection if not; none if plain
        reshapes = stride != 1 or in_channels != out_channels
        self.shortcut = (
            _projection(out_channels, stride, bn) if residual and reshapes else None
        )
        self.build((None, None, None, in_channels))  # weights now, as in PyTorch

    def build(self, input_shape) -> None:
        c_out = (None, None, None, self.out_channels)
        self.conv1.build(input_shape)
        self.bn1.build(c_out)
        self.conv2.build(c_out)
        self.bn2.build(c_out)
        if self.shortcut is not None:
            self.shortcut.build(input_shape)

    def call(self, x: tf.Tensor, training=None) -> tf.Tensor:
        # (B, H, W, C_in) -> (B, H/s, W/s, C_out)
        out = self.bn1(self.conv1(_pad(x, self.stride)), training=training)
        out = tf.nn.relu(out)  # (B, H/s, W/s, C_out)
        out = self.bn2(self.conv2(out), training=training)  # same shape
        if self.residual:
            out = out + (
                x if self.shortcut is None else self.shortcut(x, training=training)
            )
        return tf.nn.relu(out)

    def get_config(self) -> dict:
        config = {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "stride": self.stride,
            "residual": self.residual,
            "batch_norm": self.batch_norm,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="nnbook")
class Bottleneck(keras.layers.Layer):
    """1x1 reduce, 3x3, 1x1 expand (by 4), plus a shortcut (He et al. 2016):
    cheaper than two 3x3 convolutions at the output's width.
    With residual=False: the same layers, no shortcut."""

    expansion = 4  # out_channels / the block's inner width

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        residual: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.in_channels = in_channels = checks.positive_int("in_channels", in_channels)
        self.channels = channels = checks.positive_int("channels", channels)
        self.stride = stride = checks.one_of("stride", stride, STRIDES)
        self.residual = residual = checks.boolean("residual", residual)
        self.out_channels = out_channels = channels * self.expansion
        self.conv1 = _conv(channels, 1, name="conv1")  # reduce
        self.bn1 = _bn(name="bn1")
        self.conv2 = _conv(channels, 3, stride, name="conv2")  # the stride
        self.bn2 = _bn(name="bn2")
        self.conv3 = _conv(out_channels, 1, name="conv3")  # expand
        self.bn3 = _bn(name="bn3")
        reshapes = stride != 1 or in_channels != out_channels
        self.shortcut = (
            _projection(out_channels, stride) if residual and reshapes else None
        )
        self.build((None, None, None, in_channels))  # weights now, as in PyTorch

    def build(self, input_shape) -> None:
        inner = (None, None, None, self.channels)
        c_out = (None, None, None, self.out_channels)
        self.conv1.build(input_shape)
        self.bn1.build(inner)
        self.conv2.build(inner)
        self.bn2.build(inner)
        self.conv3.build(inner)
        self.bn3.build(c_out)
        if self.shortcut is not None:
            self.shortcut.build(input_shape)

    def call(self, x: tf.Tensor, training=None) -> tf.Tensor:
        # (B, H, W, C_in) -> (B, H/s, W/s, 4 C)
        out = self.bn1(self.conv1(x), training=training)
        out = tf.nn.relu(out)  # (B, H, W, C)
        out = self.bn2(self.conv2(_pad(out, self.stride)), training=training)
        out = tf.nn.relu(out)  # (B, H/s, W/s, C)
        out = self.bn3(self.conv3(out), training=training)  # (B, H/s, W/s, 4 C)
        if self.residual:
            out = out + (
                x if self.shortcut is None else self.shortcut(x, training=training)
            )
        return tf.nn.relu(out)

    def get_config(self) -> dict:
        config = {
            "in_channels": self.in_channels,
            "channels": self.channels,
            "stride": self.stride,
            "residual": self.residual,
        }
        return {**super().get_config(), **config}


# ----------------------------------------------------------------------- model


@keras.saving.register_keras_serializable(package="nnbook")
class CifarResNet(keras.Model):
    """The CIFAR-10 network of He et al. (2016), 6n + 2 layers: a 3x3 conv,
    three stages of n BasicBlocks (16, 32, 64 channels; the 2nd and 3rd stage
    start with stride 2), global average pooling, a linear classifier."""

    def __init__(self, config: CifarResNetConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        config = CifarResNetConfig() if config is None else config
        self.config = config = checks.instance("config", config, CifarResNetConfig)
        bn = config.batch_norm
        self.conv = _conv(config.widths[0], 3, 1, bn, name="conv")  # the stem
        self.bn = _bn(bn, "bn")
        blocks, c_in = [], config.widths[0]
        for stage, width in enumerate(config.widths):
            for i in range(config.n):
                stride = 2 if stage > 0 and i == 0 else 1  # halve H, W
                blocks.append(
                    BasicBlock(
                        c_in,
                        width,
                        stride,
                        config.residual,
                        bn,
                        name=f"block_{len(blocks)}",
                    )
                )
                c_in = width
        self.blocks = blocks  # 3n blocks, in order (a tracked list)
        # kernel (64, 10); nn.Linear's init, not Keras': both tabs start alike
        init = keras.initializers.RandomUniform(-1 / c_in**0.5, 1 / c_in**0.5)
        self.head = keras.layers.Dense(
            config.n_classes,
            kernel_initializer=init,
            bias_initializer=init,
            name="head",
        )
        self.build((None, None, None, 3))  # weights now, as in PyTorch

    def build(self, input_shape) -> None:
        self.conv.build(input_shape)
        self.bn.build((None, None, None, self.config.widths[0]))
        self.head.build((None, self.config.widths[-1]))  # the blocks: built

    def call(self, x: tf.Tensor, training=None) -> tf.Tensor:
        # (B, H, W, 3) -> (B, 10)
        checks.shape("x", x, ("B", "H", "W", 3), what="images")
        x = self.bn(self.conv(x), training=training)
        x = tf.nn.relu(x)  # (B, H, W, 16)
        for block in self.blocks:
            x = block(x, training=training)  # (B, H/1|2|4, W/1|2|4, 16|32|64)
        x = tf.reduce_mean(x, axis=(1, 2))  # global average pool: (B, 64)
        return self.head(x)  # (B, 10) logits

    def get_config(self) -> dict:
        config = dataclasses.asdict(self.config)
        return {**super().get_config(), "config": config}

    @classmethod
    def from_config(cls, config: dict) -> CifarResNet:
        config = dict(config)
        return cls(CifarResNetConfig(**config.pop("config")), **config)


# --------------------------------------------------------------- gradient flow


def block_grad_norms(model: CifarResNet, x: tf.Tensor, y: tf.Tensor) -> np.ndarray:
    """The norm of the loss gradient with respect to the first convolution of
    every block, after one forward (training mode) and backward pass.
    Returns (n_blocks,) floats. Like a training step, the forward pass updates
    the BatchNorm moving statistics; parameters are not changed."""
    kernels = [block.conv1.kernel for block in model.blocks]
    with tf.GradientTape() as tape:  # records the forward pass
        logits = model(x, training=True)  # BatchNorm: the batch's statistics
        loss = tf.reduce_mean(
            keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        )  # mean over the batch
    grads = tape.gradient(loss, kernels)  # returned, not stored
    return np.array([float(tf.norm(g)) for g in grads])
