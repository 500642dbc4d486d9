"""Configurations shared by both frameworks' versions of a model: one dataclass, two implementations.

`nnbook.torch.<module>` and `nnbook.tf.<module>` re-export the config of their models, so each framework's
module still offers every name its mirror offers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence as _SequenceType
from dataclasses import dataclass

from nnbook import checks


@dataclass
class TwoTowerConfig:
    d_query: int = 12  # query features
    d_item: int = 8  # item features
    d_model: int = 16  # D: the width of both towers
    n_classes: int = 5  # item categories

    def __post_init__(self):
        for name in ("d_query", "d_item", "d_model", "n_classes"):
            checks.positive_int(name, getattr(self, name))


@dataclass
class CifarResNetConfig:
    n: int = 3  # blocks per stage: 6n + 2 weighted layers (n = 3: 20 layers)
    residual: bool = True  # False: the same layers with no shortcuts (a plain CNN)
    widths: tuple[int, ...] = (16, 32, 64)  # channels of each stage
    n_classes: int = 10

    def __post_init__(self):
        checks.positive_int("n", self.n)
        checks.boolean("residual", self.residual)
        self.widths = checks.widths("widths", self.widths)
        checks.positive_int("n_classes", self.n_classes)

    @property
    def depth(self) -> int:  # convolutions on the main path, plus the stem and the head
        return 2 * self.n * len(self.widths) + 2


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
        if len(self.widths) != 5:
            raise ValueError(
                f"widths: expected 5 widths, one per block, got {len(self.widths)}"
            )
        checks.boolean("separable", self.separable)
        checks.positive_int("kernel_size", self.kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size: expected an odd int (padding K // 2 keeps "
                f"the size), got {self.kernel_size}"
            )
        checks.positive_int("in_channels", self.in_channels)
        checks.positive_int("n_classes", self.n_classes)

    def to_dict(self) -> dict:
        config = dataclasses.asdict(self)
        config["widths"] = list(self.widths)
        return config


@dataclass
class GPTConfig:
    """The chapter's decoder-only transformer; both frameworks' MiniGPT take it (nanoGPT's names in brackets)."""

    vocab_size: int = 65  # V: tiny-shakespeare's characters
    context: int = 256  # the longest input the model takes [block_size]
    n_layers: int = 4  # transformer blocks [n_layer]
    n_heads: int = 4  # H [n_head]
    d_model: int = 128  # D, the residual stream's width [n_embd]
    d_ff: int = 512  # the feed-forward layer's hidden width (4 D)
    dropout: float = (
        0.0  # after the embedding, the attention and the feed-forward layer
    )

    def __post_init__(self):
        for name in ("vocab_size", "context", "n_layers", "n_heads", "d_model", "d_ff"):
            checks.positive_int(name, getattr(self, name))
        if self.d_model % self.n_heads:
            raise ValueError(
                f"n_heads: expected a divisor of d_model = {self.d_model}, got {self.n_heads}"
            )
        if self.d_model % 2:
            raise ValueError(
                f"d_model: expected an even number (sine-cosine pairs), got {self.d_model}"
            )
        checks.fraction("dropout", self.dropout)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
