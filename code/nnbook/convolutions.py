"""Convolution arithmetic, framework-neutral: output sizes, padding, parameter counts
and multiply-adds.

Used by the chapter "Convolutions and depthwise separable convolutions" to predict what
both frameworks' layers do, and by `nnbook.torch.convolutions` and
`nnbook.tf.convolutions` for their shared argument checks. Sizes are per spatial axis
(the same formula serves height and width).

Multiply-adds (MACs) count the multiplications of convolutions and linear layers, each
with its addition; biases, BatchNorm, ReLU and pooling are not counted (they cost one
operation per output, not one per weight and output).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence as _SequenceType
from dataclasses import dataclass

from nnbook import checks

__all__ = [
    "CNNConfig",
    "output_size",
    "same_padding",
    "same_is_symmetric",
    "conv_params",
    "separable_params",
    "conv_macs",
    "separable_macs",
    "separable_ratio",
    "check_conv_arguments",
    "cnn_cost",
]


# ------------------------------------------------------------------------- sizes


def output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one axis: floor((H + 2P - K) / S) + 1."""
    size = checks.positive_int("size", size)
    kernel_size = checks.positive_int("kernel_size", kernel_size)
    stride = checks.positive_int("stride", stride)
    padding = checks.non_negative_int("padding", padding)
    checks.require(
        "kernel_size",
        kernel_size <= size + 2 * padding,
        f"at most the padded size {size} + 2*{padding}",
        kernel_size,
    )
    return (size + 2 * padding - kernel_size) // stride + 1


def same_padding(size: int, kernel_size: int, stride: int = 1) -> tuple[int, int]:
    """(before, after): the zeros TensorFlow's padding='same' adds along one axis.

    'same' asks for ceil(H / S) outputs and pads just enough for them; an odd total
    is split with the extra zero after (bottom / right)."""
    size = checks.positive_int("size", size)
    kernel_size = checks.positive_int("kernel_size", kernel_size)
    stride = checks.positive_int("stride", stride)
    out = -(-size // stride)  # ceil(H / S)
    total = max((out - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


def same_is_symmetric(kernel_size: int, stride: int) -> bool:
    """Whether padding='same' adds K // 2 zeros on every side, as PyTorch's
    padding=K // 2 does: for any size, exactly at stride 1 with an odd kernel (see
    same_padding: the total is then K - 1, even)."""
    return stride == 1 and kernel_size % 2 == 1


# ------------------------------------------------------------------------- costs


def conv_params(
    in_ch: int, out_ch: int, kernel_size: int, bias: bool = True, groups: int = 1
) -> int:
    """Parameters of a (grouped) K x K convolution: out_ch kernels of
    (in_ch / groups) x K x K, plus out_ch biases."""
    in_ch, out_ch, kernel_size, groups = _check_channels(
        in_ch, out_ch, kernel_size, groups
    )
    bias = checks.boolean("bias", bias)
    return out_ch * (in_ch // groups) * kernel_size**2 + (out_ch if bias else 0)


def separable_params(
    in_ch: int, out_ch: int, kernel_size: int, bias: bool = True
) -> int:
    """Parameters of a depthwise K x K convolution plus a pointwise 1 x 1 one."""
    # in_ch filters of K x K (+ in_ch biases)
    depthwise = conv_params(in_ch, in_ch, kernel_size, bias, groups=in_ch)
    pointwise = conv_params(in_ch, out_ch, 1, bias)  # in_ch * out_ch (+ out_ch)
    return depthwise + pointwise


def conv_macs(
    in_ch: int, out_ch: int, kernel_size: int, out_h: int, out_w: int, groups: int = 1
) -> int:
    """Multiply-adds of a (grouped) convolution: each kernel weight is used once per
    output position."""
    out_h = checks.positive_int("out_h", out_h)
    out_w = checks.positive_int("out_w", out_w)
    weights = conv_params(in_ch, out_ch, kernel_size, bias=False, groups=groups)
    return weights * out_h * out_w


def separable_macs(
    in_ch: int, out_ch: int, kernel_size: int, out_h: int, out_w: int
) -> int:
    """Multiply-adds of depthwise + pointwise; both run at the output resolution."""
    return conv_macs(in_ch, in_ch, kernel_size, out_h, out_w, groups=in_ch) + conv_macs(
        in_ch, out_ch, 1, out_h, out_w
    )


def separable_ratio(out_ch: int, kernel_size: int) -> float:
    """Standard / depthwise separable, without biases, for parameters and MACs alike:
    C_in K² C_out / (C_in K² + C_in C_out) = 1 / (1/C_out + 1/K²); C_in cancels."""
    out_ch = checks.positive_int("out_ch", out_ch)
    kernel_size = checks.positive_int("kernel_size", kernel_size)
    return 1 / (1 / out_ch + 1 / kernel_size**2)


# --------------------------------------------------------------- argument checks


def _check_channels(in_ch, out_ch, kernel_size, groups) -> tuple[int, int, int, int]:
    """(in_ch, out_ch, kernel_size, groups) as ints; both channel counts divisible by
    groups."""
    in_ch = checks.positive_int("in_ch", in_ch)
    out_ch = checks.positive_int("out_ch", out_ch)
    kernel_size = checks.positive_int("kernel_size", kernel_size)
    groups = checks.positive_int("groups", groups)
    for name, channels in (("in_ch", in_ch), ("out_ch", out_ch)):
        checks.require(
            name, channels % groups == 0, f"a multiple of groups={groups}", channels
        )
    return in_ch, out_ch, kernel_size, groups


def check_conv_arguments(
    in_ch, out_ch, kernel_size, stride, padding, groups=1
) -> tuple[int, int, int, int, int, int]:
    """The checks both frameworks' convolution blocks make; returns the arguments as
    ints: (in_ch, out_ch, kernel_size, stride, P, groups).

    padding: an int P >= 0 (P zeros on every side), or "same", meaning P = K // 2,
    offered only where that keeps the size and pads symmetrically: stride 1 and an
    odd kernel_size."""
    in_ch, out_ch, kernel_size, groups = _check_channels(
        in_ch, out_ch, kernel_size, groups
    )
    stride = checks.positive_int("stride", stride)
    if isinstance(padding, str) and padding == "same":
        checks.require(
            "padding",
            same_is_symmetric(kernel_size, stride),
            "an int >= 0, or 'same' with an odd kernel_size and stride 1 (symmetric)",
            f"'same' with kernel_size={kernel_size}, stride={stride}",
        )
        padding = kernel_size // 2
    padding = checks.non_negative_int("padding", padding)
    return in_ch, out_ch, kernel_size, stride, padding, groups


# ------------------------------------------------------------------------- the CNN


@dataclass
class CNNConfig:
    """The chapter's five-block CNN; both frameworks' FiveBlockCNN take it."""

    widths: _SequenceType[int] = (32, 64, 128, 256, 256)  # channels of blocks 1..5
    separable: bool = False  # depthwise separable convolutions in blocks 2..5
    kernel_size: int = 3  # K, odd: padding K // 2 keeps the size
    in_channels: int = 3  # RGB
    n_classes: int = 10

    def __post_init__(self):
        self.widths = checks.widths("widths", self.widths)
        checks.require(
            "widths", len(self.widths) == 5, "5 widths, one per block", len(self.widths)
        )
        self.separable = checks.boolean("separable", self.separable)
        self.kernel_size = checks.positive_int("kernel_size", self.kernel_size)
        checks.require(
            "kernel_size",
            self.kernel_size % 2 == 1,
            "an odd int (padding K // 2 keeps the size)",
            self.kernel_size,
        )
        self.in_channels = checks.positive_int("in_channels", self.in_channels)
        self.n_classes = checks.positive_int("n_classes", self.n_classes)

    def to_dict(self) -> dict:
        config = dataclasses.asdict(self)
        config["widths"] = list(self.widths)
        return config


def cnn_cost(config: CNNConfig, image_size: int = 32) -> tuple[int, int]:
    """(trainable parameters, MACs per image) of FiveBlockCNN(config) on square images.

    Convolutions have no bias (BatchNorm follows); BatchNorm trains 2 numbers per
    channel (its running mean and variance are buffers, not parameters); the head is
    Linear(widths[-1], n_classes) after global average pooling."""
    checks.instance("config", config, CNNConfig)
    image_size = checks.positive_int("image_size", image_size)
    K, size = config.kernel_size, image_size
    in_widths = (config.in_channels, *config.widths[:-1])
    params = macs = 0
    for i, (c_in, c_out) in enumerate(zip(in_widths, config.widths)):
        checks.require(
            "image_size", size >= 2, "at least 32 for five 2 x 2 poolings", image_size
        )
        if config.separable and i > 0:
            params += separable_params(c_in, c_out, K, bias=False)
            macs += separable_macs(c_in, c_out, K, size, size)
        else:
            params += conv_params(c_in, c_out, K, bias=False)
            macs += conv_macs(c_in, c_out, K, size, size)
        params += 2 * c_out  # BatchNorm's scale and shift
        size //= 2  # the 2 x 2 max-pool
    params += (config.widths[-1] + 1) * config.n_classes
    macs += config.widths[-1] * config.n_classes
    return params, macs
