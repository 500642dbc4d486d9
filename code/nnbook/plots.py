"""Framework-neutral plotting helpers: one look for every figure in the book.

Functions take plain numbers (lists, NumPy arrays, Python floats), never tensors, and return a
matplotlib Figure made with pyplot, so a notebook shows it once, at the end of the cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = ["loss_curve"]

FIGSIZE = (5.0, 3.0)  # inches: reads at page width without dwarfing the text


def loss_curve(
    losses: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    title: str = "",
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = True,
) -> Figure:
    """A training curve: one line, or one line per label when `losses` maps label -> values."""
    runs = dict(losses) if isinstance(losses, Mapping) else {"": losses}
    if not runs:
        raise ValueError("losses: expected at least one run, got an empty mapping")
    curves = {}
    for label, values in runs.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"losses: expected a non-empty 1-D sequence of numbers for {label or 'the run'!r}, "
                             f"got shape {values.shape}")
        if log and not np.all(values > 0):
            raise ValueError(f"losses: expected positive values on a log scale for {label or 'the run'!r}; "
                             "pass log=False")
        curves[label] = values

    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    for label, values in curves.items():
        ax.plot(np.arange(1, values.size + 1), values, label=label or None, linewidth=1.5)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, which="major", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if any(curves):
        ax.legend(frameon=False)
    return fig
