"""The CIFAR ResNet's configuration, shared by both frameworks' `resnet` modules, and
the rules that name a gradient regime and the outcome of comparing two training runs,
applied to both frameworks' measurements.

`nnbook.torch.resnet` and `nnbook.tf.resnet` re-export the configuration: one
dataclass, two implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnbook import checks

__all__ = [
    "CifarResNetConfig",
    "REGIMES",
    "gradient_regime",
    "RUN_VERDICTS",
    "RunComparison",
    "compare_runs",
]


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


# ------------------------------------------------- one run against another

RUN_VERDICTS = ("trains worse", "trains as well", "trains better")
STANDARD_ERRORS = 2  # how far from zero the mean difference must be to count


@dataclass(frozen=True)
class RunComparison:
    """A run's training loss against a reference run's over the last steps of runs
    on the same batches; losses in nats."""

    reference_loss: float  # mean training loss over the compared steps
    loss: float
    difference: float  # run minus reference: positive when the run is worse
    margin: float  # STANDARD_ERRORS standard errors of that difference
    steps: int  # how many of the last steps are compared
    verdict: str  # one of RUN_VERDICTS, for the run against the reference


def compare_runs(reference_step_loss, step_loss, *, last: int) -> RunComparison:
    """Compare the last `last` step losses of two runs that trained on the same
    batches. Each step gives a paired difference (run minus reference, same batch);
    the run trains worse if their mean exceeds STANDARD_ERRORS standard errors of
    that mean, better if it falls below minus that, and as well otherwise: the
    margin is measured from the runs themselves, not chosen."""
    reference, run = (
        checks.array(name, losses, ("steps",), dtype="floating", at_least={"steps": 2})
        for name, losses in (
            ("reference_step_loss", reference_step_loss),
            ("step_loss", step_loss),
        )
    )
    checks.require(
        "step_loss",
        run.shape == reference.shape,
        f"as many steps as reference_step_loss ({len(reference)})",
        len(run),
    )
    last = checks.integer("last", last, 2, len(reference))
    paired = run[-last:].astype(float) - reference[-last:].astype(float)
    difference = float(paired.mean())
    margin = float(STANDARD_ERRORS * paired.std(ddof=1) / np.sqrt(last))
    if difference > margin:
        verdict = RUN_VERDICTS[0]
    elif difference < -margin:
        verdict = RUN_VERDICTS[2]
    else:
        verdict = RUN_VERDICTS[1]
    return RunComparison(
        reference_loss=float(reference[-last:].mean()),
        loss=float(run[-last:].mean()),
        difference=difference,
        margin=margin,
        steps=last,
        verdict=verdict,
    )
