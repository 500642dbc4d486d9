"""The CIFAR ResNet's configuration, shared by both frameworks' `resnet` modules, and
the rule that names a gradient regime, applied to both frameworks' measurements.

`nnbook.torch.resnet` and `nnbook.tf.resnet` re-export the configuration: one
dataclass, two implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnbook import checks

__all__ = ["CifarResNetConfig", "REGIMES", "gradient_regime"]


@dataclass
class CifarResNetConfig:
    n: int = 3  # blocks per stage: 6n + 2 weighted layers (n = 3: 20 layers)
    residual: bool = True  # False: the same layers with no shortcuts (a plain CNN)
    # False: no BatchNorm; the convolutions get biases and each framework's default
    # initialisation (PyTorch: Kaiming-uniform, a = sqrt(5); Keras: Glorot-uniform)
    batch_norm: bool = True
    widths: tuple[int, ...] = (16, 32, 64)  # channels of each stage
    n_classes: int = 10

    def __post_init__(self):
        self.n = checks.positive_int("n", self.n)
        self.residual = checks.boolean("residual", self.residual)
        self.batch_norm = checks.boolean("batch_norm", self.batch_norm)
        self.widths = checks.widths("widths", self.widths)
        self.n_classes = checks.positive_int("n_classes", self.n_classes)

    @property
    def depth(self) -> int:  # convolutions on the main path, plus the stem and the head
        return 2 * self.n * len(self.widths) + 2


# -------------------------------------------------------------- gradient regimes

REGIMES = (
    "roughly constant",
    "decays toward the input",
    "grows toward the input",
    "oscillates",
)
CONSTANT_WITHIN = (
    2.0  # the most the largest norm may exceed the smallest by, as a factor
)


def gradient_regime(norms) -> str:
    """The regime of per-block gradient norms (block 1 nearest the input), one of
    REGIMES, by the rule the chapter states: roughly constant if the largest norm is
    at most CONSTANT_WITHIN times the smallest; otherwise it decays toward the input
    if the first block's norm is under 1 / CONSTANT_WITHIN of the last block's, grows
    toward the input if over CONSTANT_WITHIN times it, and oscillates if it varies
    that much with no such trend from the last block to the first."""
    norms = checks.array("norms", norms, ("blocks",), dtype="floating")
    checks.require(
        "norms",
        len(norms) >= 2 and bool(np.all(norms > 0)),
        "at least 2 positive norms",
        checks.describe(norms),
    )
    if norms.max() <= CONSTANT_WITHIN * norms.min():
        return REGIMES[0]
    first_over_last = norms[0] / norms[-1]
    if first_over_last < 1 / CONSTANT_WITHIN:
        return REGIMES[1]
    if first_over_last > CONSTANT_WITHIN:
        return REGIMES[2]
    return REGIMES[3]
