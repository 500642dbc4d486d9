"""The CIFAR ResNet's configuration, shared by both frameworks' `resnet` modules.

`nnbook.torch.resnet` and `nnbook.tf.resnet` re-export it: one dataclass, two
implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnbook import checks

__all__ = ["CifarResNetConfig"]


@dataclass
class CifarResNetConfig:
    n: int = 3  # blocks per stage: 6n + 2 weighted layers (n = 3: 20 layers)
    residual: bool = True  # False: the same layers with no shortcuts (a plain CNN)
    widths: tuple[int, ...] = (16, 32, 64)  # channels of each stage
    n_classes: int = 10

    def __post_init__(self):
        self.n = checks.positive_int("n", self.n)
        self.residual = checks.boolean("residual", self.residual)
        self.widths = checks.widths("widths", self.widths)
        self.n_classes = checks.positive_int("n_classes", self.n_classes)

    @property
    def depth(self) -> int:  # convolutions on the main path, plus the stem and the head
        return 2 * self.n * len(self.widths) + 2
