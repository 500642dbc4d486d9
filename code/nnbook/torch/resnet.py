"""Residual networks in PyTorch: the classes of the chapter "Residual networks
and gradient flow".

Mirrors `nnbook.tf.resnet` class for class, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, C channels, H and
W the height and width, s the stride; PyTorch images are (B, C, H, W).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnbook import checks
from nnbook.resnet import CifarResNetConfig  # shared by both frameworks

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
    c_in: int, c_out: int, kernel: int, stride: int = 1, batch_norm: bool = True
) -> nn.Conv2d:
    """A k x k convolution. With BatchNorm after it: no bias, He initialised;
    without: a bias and PyTorch's default initialisation, as nn.Conv2d has."""
    conv = nn.Conv2d(
        c_in,
        c_out,
        kernel,
        stride=stride,
        padding=kernel // 2,  # 3x3: pad 1 on every side; 1x1: none
        bias=not batch_norm,  # BatchNorm's shift would cancel a bias
    )  # weight (C_out, C_in, k, k)
    if batch_norm:  # He et al. (2015): std sqrt(2 / fan_in) keeps the scale
        nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    return conv


def _bn(channels: int, batch_norm: bool = True) -> nn.Module:
    if not batch_norm:
        return nn.Identity()
    return nn.BatchNorm2d(channels)  # PyTorch's defaults: momentum 0.1, eps 1e-5


def _projection(
    c_in: int, c_out: int, stride: int, batch_norm: bool = True
) -> nn.Sequential:
    """The shortcut when the shape changes: 1x1 conv, stride s, BatchNorm."""
    return nn.Sequential(
        _conv(c_in, c_out, 1, stride, batch_norm), _bn(c_out, batch_norm)
    )


# ---------------------------------------------------------------------- blocks


class BasicBlock(nn.Module):
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
    ):
        super().__init__()
        self.in_channels = in_channels = checks.positive_int("in_channels", in_channels)
        self.out_channels = out_channels = checks.positive_int(
            "out_channels", out_channels
        )
        self.stride = stride = checks.one_of("stride", stride, STRIDES)
        self.residual = residual = checks.boolean("residual", residual)
        self.batch_norm = bn = checks.boolean("batch_norm", batch_norm)
        self.conv1 = _conv(in_channels, out_channels, 3, stride, bn)
        self.bn1 = _bn(out_channels, bn)
        self.conv2 = _conv(out_channels, out_channels, 3, 1, bn)
        self.bn2 = _bn(out_channels, bn)
        # identity if the shape is kept, a projection if not; none if plain
        reshapes = stride != 1 or in_channels != out_channels
        self.shortcut = (
            _projection(in_channels, out_channels, stride, bn)
            if residual and reshapes
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C_in, H, W) -> (B, C_out, H/s, W/s)
        out = F.relu(self.bn1(self.conv1(x)))  # (B, C_out, H/s, W/s)
        out = self.bn2(self.conv2(out))  # (B, C_out, H/s, W/s)
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (by 4), plus a shortcut (He et al. 2016):
    cheaper than two 3x3 convolutions at the output's width.
    With residual=False: the same layers, no shortcut."""

    expansion = 4  # out_channels / the block's inner width

    def __init__(
        self, in_channels: int, channels: int, stride: int = 1, residual: bool = True
    ):
        super().__init__()
        self.in_channels = in_channels = checks.positive_int("in_channels", in_channels)
        self.channels = channels = checks.positive_int("channels", channels)
        self.stride = stride = checks.one_of("stride", stride, STRIDES)
        self.residual = residual = checks.boolean("residual", residual)
        self.out_channels = out_channels = channels * self.expansion
        self.conv1 = _conv(in_channels, channels, 1)  # reduce
        self.bn1 = _bn(channels)
        self.conv2 = _conv(channels, channels, 3, stride)  # the stride
        self.bn2 = _bn(channels)
        self.conv3 = _conv(channels, out_channels, 1)  # expand
        self.bn3 = _bn(out_channels)
        reshapes = stride != 1 or in_channels != out_channels
        self.shortcut = (
            _projection(in_channels, out_channels, stride)
            if residual and reshapes
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C_in, H, W) -> (B, 4 C, H/s, W/s)
        out = F.relu(self.bn1(self.conv1(x)))  # (B, C, H, W)
        out = F.relu(self.bn2(self.conv2(out)))  # (B, C, H/s, W/s)
        out = self.bn3(self.conv3(out))  # (B, 4 C, H/s, W/s)
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return F.relu(out)


# ----------------------------------------------------------------------- model


class CifarResNet(nn.Module):
    """The CIFAR-10 network of He et al. (2016), 6n + 2 layers: a 3x3 conv,
    three stages of n BasicBlocks (16, 32, 64 channels; the 2nd and 3rd stage
    start with stride 2), global average pooling, a linear classifier."""

    def __init__(self, config: CifarResNetConfig | None = None):
        super().__init__()
        config = CifarResNetConfig() if config is None else config
        self.config = config = checks.instance("config", config, CifarResNetConfig)
        bn = config.batch_norm
        self.conv = _conv(3, config.widths[0], 3, 1, bn)  # the stem
        self.bn = _bn(config.widths[0], bn)
        blocks, c_in = [], config.widths[0]
        for stage, width in enumerate(config.widths):
            for i in range(config.n):
                stride = 2 if stage > 0 and i == 0 else 1  # halve H, W
                blocks.append(BasicBlock(c_in, width, stride, config.residual, bn))
                c_in = width
        self.blocks = nn.ModuleList(blocks)  # 3n blocks, in order
        # weight (10, 64), default init: weight and bias uniform in +-1/sqrt(64)
        self.head = nn.Linear(c_in, config.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, 3, H, W) -> (B, 10)
        checks.shape("x", x, ("B", 3, "H", "W"), what="images")
        x = F.relu(self.bn(self.conv(x)))  # (B, 16, H, W)
        for block in self.blocks:
            x = block(x)  # (B, 16|32|64, H/1|2|4, W/1|2|4)
        x = x.mean(dim=(2, 3))  # global average pool: (B, 64)
        return self.head(x)  # (B, 10) logits


# --------------------------------------------------------------- gradient flow


def block_grad_norms(
    model: CifarResNet, x: torch.Tensor, y: torch.Tensor
) -> np.ndarray:
    """The norm of the loss gradient with respect to the first convolution of
    every block, after one forward (training mode) and backward pass.
    Returns (n_blocks,) floats. Like a training step, the forward pass updates
    the BatchNorm running statistics; parameters are not changed."""
    was_training = model.training
    model.train()  # BatchNorm normalises with the batch's statistics
    model.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)  # mean over the batch
    loss.backward()  # fills .grad of every parameter
    norms = [block.conv1.weight.grad.norm().item() for block in model.blocks]
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return np.array(norms)
