"""Figures of the chapter on residual networks (its learning curves are
`training_curves`, shared with the convolutions chapter; the depth comparison has one
panel of its own, as its runs are far shorter than an epoch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from nnbook import checks

from ._common import (
    FIGSIZE,
    color,
    legend_below,
    mean_and_band,
    plain_log_ticks,
    running_mean,
    style_axes,
    subplots,
    titled,
)

__all__ = ["gradient_norms", "depth_curves"]


def gradient_norms(
    norms: Mapping[str, Sequence[Sequence[float]]],
    *,
    boundaries: Sequence[float] = (),
    regions: Sequence[str] = (),
    xlabel: str = "block",
    ylabel: str = "gradient norm",
    title: str = "",
) -> Figure:
    """Per-block gradient norms, one line per label: `norms[label]` is (runs, blocks);
    the line is the mean over runs, the band spans the smallest to the largest run, on
    a log scale. `boundaries`: x positions of dashed vertical lines (e.g. between
    stages); `regions`: a caption for each stretch they delimit (one more than the
    boundaries), written at the top."""
    if not norms:
        raise ValueError(
            "norms: expected at least one labelled (runs, blocks) array, got none"
        )
    if regions and len(regions) != len(boundaries) + 1:
        raise ValueError(
            f"regions: expected {len(boundaries) + 1} captions, got {len(regions)}"
        )
    fig, ax = subplots(figsize=(FIGSIZE[0] + 1.0, FIGSIZE[1] + 0.6))
    n_runs, n_blocks = set(), 0
    for i, (label, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.size == 0 or not np.all(values > 0):
            raise ValueError(
                "norms: expected a non-empty (runs, blocks) array of positive numbers "
                f"for {label!r}, got shape {values.shape}"
            )
        x = np.arange(1, values.shape[1] + 1)
        n_runs.add(values.shape[0])
        n_blocks = max(n_blocks, values.shape[1])
        mean_and_band(ax, x, values, color=color(i), label=label, alpha=0.2)
    for b in boundaries:
        ax.axvline(b, color="0.5", linestyle="--", linewidth=0.8)
    edges = [0.5, *boundaries, n_blocks + 0.5]
    for caption, lo, hi in zip(regions, edges[:-1], edges[1:]):
        ax.text(
            (lo + hi) / 2,
            1.0,
            caption,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
            color="0.35",
        )
    runs = f"{n_runs.pop()} runs" if len(n_runs) == 1 else "all runs"
    ax.set(
        yscale="log",
        xlabel=f"{xlabel}   (line: mean; band: smallest to largest of {runs})",
        ylabel=ylabel,
    )
    plain_log_ticks(ax)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    style_axes(ax)
    legend_below(fig, *ax.get_legend_handles_labels(), ncols=min(len(norms), 4))
    return titled(fig, title)


def depth_curves(
    step_losses: Mapping[str, Sequence[float]],
    *,
    smooth: int = 1,
    compared: int = 0,
    title: str = "",
) -> Figure:
    """Training loss per step of runs on the same batches, one line per label (a
    running mean over `smooth` steps, as single batches are noisy); the last
    `compared` steps, where the runs are compared, are shaded."""
    if not step_losses:
        raise ValueError("step_losses: expected at least one labelled run, got none")
    smooth = checks.positive_int("smooth", smooth)
    compared = checks.non_negative_int("compared", compared)
    fig, ax = subplots(figsize=(FIGSIZE[0] + 1.0, FIGSIZE[1] + 0.6))
    n_steps = set()
    for i, (label, loss) in enumerate(step_losses.items()):
        loss = checks.array(
            "step_losses",
            loss,
            ("steps",),
            what=f"1-D losses for {label!r}",
            non_empty=True,
        ).astype(float)
        n_steps.add(loss.size)
        ends, smoothed = running_mean(loss, smooth)
        ax.plot(
            ends,
            smoothed,
            # a run no longer than the window is one point: a marker keeps it visible
            marker="o" if smoothed.size == 1 else None,
            linewidth=1.4,
            color=color(i),
            label=label,
        )
    checks.require(
        "step_losses", len(n_steps) == 1, "runs of equally many steps", sorted(n_steps)
    )
    steps = n_steps.pop()
    checks.require(
        "compared", compared <= steps, f"at most the runs' {steps} steps", compared
    )
    if compared:
        ax.axvspan(steps - compared + 0.5, steps + 0.5, color="0.9", zorder=0)
    ax.set(
        xlabel="training step"
        + (f"   (shaded: the last {compared})" if compared else ""),
        ylabel="training loss" + (f" (mean of {smooth} steps)" if smooth > 1 else ""),
    )
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    style_axes(ax)
    legend_below(fig, *ax.get_legend_handles_labels(), ncols=min(len(step_losses), 4))
    return titled(fig, title)
