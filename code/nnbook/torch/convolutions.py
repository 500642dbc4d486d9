"""Convolutions in PyTorch: the blocks and the network of the chapter
"Convolutions and depthwise separable convolutions".

Mirrors `nnbook.tf.convolutions` class for class, in the same order; read the two
files side by side. PyTorch is channels-first: images are (B, C, H, W) ("NCHW") and
a convolution weight is (out_ch, in_ch / groups, K, K) ("OIHW"). Shapes in comments:
B is the batch size, C channels, H x W the image, K the kernel size, S the stride,
P the padding.
"""

from __future__ import annotations

import torch
from torch import nn

from nnbook import checks
from nnbook.convolutions import (  # shared by both frameworks
    CNNConfig,
    check_conv_arguments,
)

__all__ = ["ConvBlock", "DepthwiseSeparable", "CNNConfig", "FiveBlockCNN"]


def _check_images(x, channels: int, min_size: int = 1) -> None:
    checks.shape(
        "x",
        x,
        ("B", channels, "H", "W"),
        kind=torch.is_tensor,
        at_least={"H": min_size, "W": min_size},
    )


# ------------------------------------------------------------------------ blocks


class ConvBlock(nn.Module):
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
    ):
        super().__init__()
        in_ch, out_ch, kernel_size, stride, padding, groups = check_conv_arguments(
            in_ch, out_ch, kernel_size, stride, padding, groups
        )
        separable = checks.boolean("separable", separable)
        checks.require(
            "groups", groups == 1 or not separable, "1 with separable=True", groups
        )
        pool = checks.boolean("pool", pool)
        self.in_ch, self.out_ch = in_ch, out_ch
        if separable:  # no biases: BatchNorm's shift makes them redundant
            self.conv = DepthwiseSeparable(
                in_ch, out_ch, kernel_size, stride, padding, bias=False
            )
        else:  # weight (out_ch, in_ch / groups, K, K); nn.Conv2d pads P itself
            self.conv = nn.Conv2d(
                in_ch, out_ch, kernel_size, stride, padding, groups=groups, bias=False
            )
        self.norm = nn.BatchNorm2d(out_ch)  # momentum 0.1, eps 1e-5
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in_ch, H, W)
        _check_images(x, self.in_ch)
        x = self.conv(x)  # (B, out_ch, H', W'), H' = (H + 2P - K) // S + 1
        x = torch.relu(self.norm(x))  # (B, out_ch, H', W')
        return self.pool(x)  # (B, out_ch, H' // 2, W' // 2) with pool=True


class DepthwiseSeparable(nn.Module):
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
    ):
        super().__init__()
        in_ch, out_ch, kernel_size, stride, padding, _ = check_conv_arguments(
            in_ch, out_ch, kernel_size, stride, padding
        )
        bias = checks.boolean("bias", bias)
        self.in_ch, self.out_ch = in_ch, out_ch
        # groups=in_ch: each input channel is its own group. weight (in_ch, 1, K, K)
        self.depthwise = nn.Conv2d(
            in_ch, in_ch, kernel_size, stride, padding, groups=in_ch, bias=bias
        )
        # weight (out_ch, in_ch, 1, 1)
        self.pointwise = nn.Conv2d(in_ch, out_ch, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, in_ch, H, W)
        _check_images(x, self.in_ch)
        x = self.depthwise(x)  # (B, in_ch, H', W'): no mixing across channels
        return self.pointwise(x)  # (B, out_ch, H', W'): mixing only across channels


# ------------------------------------------------------------------------ the network


class FiveBlockCNN(nn.Module):
    """Five ConvBlocks (conv -> BatchNorm -> ReLU -> 2 x 2 max-pool), global
    average pooling, and a linear classifier. With config.separable, blocks 2 to 5
    use depthwise separable convolutions; block 1 (RGB input) stays standard."""

    def __init__(self, config: CNNConfig | None = None):
        super().__init__()
        config = CNNConfig() if config is None else config
        self.config = config = checks.instance("config", config, CNNConfig)
        K, widths = config.kernel_size, config.widths
        in_widths = (config.in_channels, *widths[:-1])
        self.blocks = nn.Sequential(
            *(  # K x K, stride 1, padding K // 2: size kept
                ConvBlock(
                    c_in,
                    c_out,
                    K,
                    1,
                    K // 2,
                    separable=config.separable and i > 0,
                    pool=True,
                )
                for i, (c_in, c_out) in enumerate(zip(in_widths, widths))
            )
        )
        # weight (n_classes, C)
        self.head = nn.Linear(widths[-1], config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 3, H, W), H, W >= 32
        _check_images(x, self.config.in_channels, min_size=2 ** len(self.blocks))
        x = self.blocks(x)  # (B, C, H / 32, W / 32): each block halves H and W
        x = x.mean(dim=(2, 3))  # (B, C): global average pooling
        return self.head(x)  # (B, n_classes): logits
