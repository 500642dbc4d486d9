"""Convolutions in TensorFlow / Keras: the blocks and the network of the chapter
"Convolutions and depthwise separable convolutions".

Mirrors `nnbook.torch.convolutions` class for class, in the same order; read the two
files side by side. Keras is channels-last: images are (B, H, W, C) ("NHWC") and
a convolution kernel is (K, K, in_ch / groups, out_ch) ("HWIO"). Shapes in comments:
B is the batch size, C channels, H x W the image, K the kernel size, S the stride,
P the padding.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from nnbook import checks
from nnbook.convolutions import (  # shared by both frameworks
    CNNConfig,
    check_conv_arguments,
    same_is_symmetric,
)
from nnbook.tf import FusedBatchNormalization

__all__ = ["ConvBlock", "DepthwiseSeparable", "CNNConfig", "FiveBlockCNN"]


def _check_images(x, channels: int, min_size: int = 1) -> None:
    checks.shape(
        "x", x, ("B", "H", "W", channels), at_least={"H": min_size, "W": min_size}
    )


def _channels_last(input_shape, channels: int) -> tuple:
    return (*tuple(input_shape)[:-1], channels)


def _zero_padding(padding: int, kernel_size: int, stride: int):
    """P zeros on every side, the Keras way: (a layer that pads, Conv2D's padding).
    Conv2D has no numeric padding, so ZeroPadding2D pads and the convolution is
    'valid'; where "same" pads alike (stride 1, odd K, P = K // 2) the convolution
    pads itself, without the copy of x (and of its gradient) a separate pad costs."""
    if same_is_symmetric(kernel_size, stride) and padding == kernel_size // 2:
        return keras.layers.Identity(name="pad"), "same"
    return keras.layers.ZeroPadding2D(padding, name="pad"), "valid"


# ------------------------------------------------------------------------ blocks


@keras.saving.register_keras_serializable(package="nnbook")
class ConvBlock(keras.layers.Layer):
    """Convolution (K x K, stride S, P zeros on every side) -> BatchNorm -> ReLU,
    then an optional 2 x 2 max-pool. The convolution is standard (optionally grouped)
    or, with separable=True, depthwise separable."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | str = 0,
        *,
        groups: int = 1,
        separable: bool = False,
        pool: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        in_ch, out_ch, kernel_size, stride, padding, groups = check_conv_arguments(
            in_ch, out_ch, kernel_size, stride, padding, groups
        )
        separable = checks.boolean("separable", separable)
        checks.require(
            "groups", groups == 1 or not separable, "1 with separable=True", groups
        )
        pool = checks.boolean("pool", pool)
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.stride, self.padding, self.groups = stride, padding, groups
        self.separable, self.pooled = separable, pool
        if separable:  # no biases: BatchNorm's shift makes them redundant
            with keras.name_scope(self.name):  # weights made now: paths <block>/conv/..
                self.conv = DepthwiseSeparable(
                    in_ch, out_ch, kernel_size, stride, padding, bias=False, name="conv"
                )
        else:  # kernel (K, K, in_ch / groups, out_ch)
            pad, conv_padding = _zero_padding(padding, kernel_size, stride)
            self.conv = keras.Sequential(
                [
                    pad,
                    keras.layers.Conv2D(
                        out_ch,
                        kernel_size,
                        stride,
                        padding=conv_padding,
                        groups=groups,
                        use_bias=False,
                        name="conv2d",
                    ),
                ],
                name="conv",
            )
        self.norm = FusedBatchNormalization(  # PyTorch's defaults
            momentum=0.9, epsilon=1e-5, name="norm"
        )
        self.pool = keras.layers.MaxPooling2D(2) if pool else keras.layers.Identity()
        self.build((None, None, None, in_ch))  # in_ch known: weights now, as in PyTorch

    def build(self, input_shape) -> None:
        if not self.conv.built:  # DepthwiseSeparable builds itself
            self.conv.build(input_shape)
        self.norm.build(_channels_last(input_shape, self.out_ch))

    def call(self, x: tf.Tensor, training=None) -> tf.Tensor:  # (B, H, W, in_ch)
        _check_images(x, self.in_ch)
        x = self.conv(x)  # (B, H', W', out_ch), H' = (H + 2P - K) // S + 1
        x = keras.ops.relu(self.norm(x, training=training))  # (B, H', W', out_ch)
        return self.pool(x)  # (B, H' // 2, W' // 2, out_ch) with pool=True

    def get_config(self) -> dict:
        config = {
            "in_ch": self.in_ch,
            "out_ch": self.out_ch,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "groups": self.groups,
            "separable": self.separable,
            "pool": self.pooled,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="nnbook")
class DepthwiseSeparable(keras.layers.Layer):
    """A depthwise K x K convolution (one K x K filter per input channel, stride S,
    padding P) followed by a pointwise 1 x 1 convolution that mixes the channels."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | str = 0,
        bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        in_ch, out_ch, kernel_size, stride, padding, _ = check_conv_arguments(
            in_ch, out_ch, kernel_size, stride, padding
        )
        bias = checks.boolean("bias", bias)
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.stride, self.padding, self.use_bias = stride, padding, bias
        self.pad, conv_padding = _zero_padding(padding, kernel_size, stride)
        # DepthwiseConv2D, not Conv2D(groups=in_ch): on CPU, TensorFlow runs grouped
        # Conv2D far slower. depthwise_kernel (K, K, in_ch, 1)
        self.depthwise = keras.layers.DepthwiseConv2D(
            kernel_size, stride, padding=conv_padding, use_bias=bias, name="depthwise"
        )
        # kernel (1, 1, in_ch, out_ch)
        self.pointwise = keras.layers.Conv2D(out_ch, 1, use_bias=bias, name="pointwise")
        self.build((None, None, None, in_ch))  # in_ch known: weights now, as in PyTorch

    def build(self, input_shape) -> None:
        self.depthwise.build(input_shape)
        self.pointwise.build(_channels_last(input_shape, self.in_ch))

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, H, W, in_ch)
        _check_images(x, self.in_ch)
        x = self.depthwise(self.pad(x))  # (B, H', W', in_ch): no channel mixing
        return self.pointwise(x)  # (B, H', W', out_ch): mixing only across channels

    def get_config(self) -> dict:
        config = {
            "in_ch": self.in_ch,
            "out_ch": self.out_ch,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "bias": self.use_bias,
        }
        return {**super().get_config(), **config}


# ------------------------------------------------------------------------ the network


@keras.saving.register_keras_serializable(package="nnbook")
class FiveBlockCNN(keras.Model):
    """Five ConvBlocks (conv -> BatchNorm -> ReLU -> 2 x 2 max-pool), global
    average pooling, and a linear classifier. With config.separable, blocks 2 to 5
    use depthwise separable convolutions; block 1 (RGB input) stays standard."""

    def __init__(self, config: CNNConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        config = CNNConfig() if config is None else config
        self.config = config = checks.instance("config", config, CNNConfig)
        K, widths = config.kernel_size, config.widths
        in_widths = (config.in_channels, *widths[:-1])
        self.blocks = [  # K x K, stride 1, padding K // 2: size kept
            ConvBlock(
                c_in,
                c_out,
                K,
                1,
                K // 2,
                separable=config.separable and i > 0,
                pool=True,
                name=f"block_{i}",
            )
            for i, (c_in, c_out) in enumerate(zip(in_widths, widths))
        ]
        # kernel (C, n_classes)
        self.head = keras.layers.Dense(config.n_classes, name="head")
        self.build((None, None, None, config.in_channels))

    def build(self, input_shape) -> None:
        self.head.build((None, self.config.widths[-1]))

    def call(
        self, x: tf.Tensor, training=None
    ) -> tf.Tensor:  # (B, H, W, 3), H, W >= 32
        _check_images(x, self.config.in_channels, min_size=2 ** len(self.blocks))
        for block in self.blocks:
            x = block(x, training=training)  # each block halves H and W
        x = keras.ops.mean(x, axis=(1, 2))  # (B, C): global average pooling
        return self.head(x)  # (B, n_classes): logits

    def get_config(self) -> dict:
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config: dict) -> FiveBlockCNN:
        config = dict(config)
        return cls(CNNConfig(**config.pop("config")), **config)
