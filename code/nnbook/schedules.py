"""Learning-rate schedules, shared by every training loop of the book in both
frameworks.

A schedule is a plain function of the step: each framework's loop sets the optimizer's
learning rate from it before every step, so both tabs follow the same curve.
"""

from __future__ import annotations

import math

from nnbook import checks

__all__ = ["one_cycle_lr"]


def one_cycle_lr(
    step: int, total_steps: int, peak_lr: float, warmup: float = 0.25
) -> float:
    """Learning rate at `step`: linear warm-up over the first `warmup` of the steps
    from peak/25 to peak, then cosine decay to ~0."""
    total_steps = checks.positive_int("total_steps", total_steps)
    step = checks.integer("step", step)
    checks.require(
        "step",
        0 <= step < total_steps,
        f"0 <= step < total_steps={total_steps}",
        repr(step),
    )
    peak_lr = checks.positive_float("peak_lr", peak_lr)
    warmup = checks.number("warmup", warmup, 0, 1)
    warmup_steps = max(1, round(warmup * total_steps))
    if step < warmup_steps:
        return peak_lr * (0.04 + 0.96 * step / warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
