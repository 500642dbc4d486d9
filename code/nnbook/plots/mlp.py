"""Figures of the first chapters: layers and models, fully connected networks, depth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._common import FIGSIZE, legend_below, style_axes, subplots, titled

__all__ = ["loss_curve", "fit_and_recovery", "activations", "singular_values"]


def loss_curve(
    losses: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    title: str = "",
    xlabel: str = "step",
    ylabel: str = "loss",
    log: bool = True,
) -> Figure:
    """A training curve: one line, or one line per label when `losses` maps label ->
    values."""
    runs = dict(losses) if isinstance(losses, Mapping) else {"": losses}
    if not runs:
        raise ValueError("losses: expected at least one run, got an empty mapping")
    curves = {}
    for label, values in runs.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(
                "losses: expected a non-empty 1-D sequence of numbers for "
                f"{label or 'the run'!r}, got shape {values.shape}"
            )
        if log and not np.all(values > 0):
            raise ValueError(
                "losses: expected positive values on a log scale for "
                f"{label or 'the run'!r}; pass log=False"
            )
        curves[label] = values

    fig, ax = subplots(figsize=FIGSIZE)
    for label, values in curves.items():
        ax.plot(
            np.arange(1, values.size + 1), values, label=label or None, linewidth=1.5
        )
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    style_axes(ax)
    if any(curves):
        ax.legend(frameon=False)
    return fig


def fit_and_recovery(
    losses: Sequence[float],
    true: Sequence[float],
    learned: Sequence[float],
    *,
    names: Sequence[str] | None = None,
    title: str = "",
    xlabel: str = "step",
) -> Figure:
    """Two panels: the training loss (log scale), and each learned parameter against
    the true value that generated the data (points on the diagonal are recovered
    exactly)."""
    losses = np.asarray(losses, dtype=float)
    true, learned = np.asarray(true, dtype=float), np.asarray(learned, dtype=float)
    if losses.ndim != 1 or losses.size == 0 or not np.all(losses > 0):
        raise ValueError(
            "losses: expected a non-empty 1-D sequence of positive numbers, "
            f"got shape {losses.shape}"
        )
    if true.ndim != 1 or true.size == 0 or learned.shape != true.shape:
        raise ValueError(
            f"learned: expected the shape of true {true.shape}, got {learned.shape}"
        )
    names = [f"$w_{i + 1}$" for i in range(true.size)] if names is None else list(names)
    if len(names) != true.size:
        raise ValueError(f"names: expected {true.size} names, got {len(names)}")

    fig, (left, right) = subplots(1, 2, figsize=(2 * FIGSIZE[0], FIGSIZE[1]))
    left.plot(np.arange(1, losses.size + 1), losses, linewidth=1.5)
    left.set(yscale="log", xlabel=xlabel, ylabel="loss", title="training loss")
    lo, hi = min(true.min(), learned.min()), max(true.max(), learned.max())
    pad = 0.1 * (hi - lo or 1.0)
    right.plot(
        [lo - pad, hi + pad],
        [lo - pad, hi + pad],
        color="0.6",
        linewidth=1,
        linestyle="--",
        label="learned = true",
    )
    right.scatter(true, learned, zorder=3)
    for name, t, w in zip(names, true, learned):
        right.annotate(name, (t, w), textcoords="offset points", xytext=(5, -11))
    right.set(xlabel="true value", ylabel="learned value", title="recovered parameters")
    right.legend(frameon=False, loc="upper left")
    for ax in (left, right):
        style_axes(ax)
    return titled(fig, title)


def activations(
    x: Sequence[float],
    values: Mapping[str, Sequence[float]],
    derivatives: Mapping[str, Sequence[float]],
    *,
    title: str = "",
) -> Figure:
    """Two panels: activation functions, and their derivatives, one line per name,
    over the same inputs x."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(
            f"x: expected a 1-D sequence of at least 2 numbers, got shape {x.shape}"
        )
    if not values or list(values) != list(derivatives):
        raise ValueError(
            "derivatives: expected the same non-empty names, in the same order, "
            "as values"
        )
    fig, (left, right) = subplots(
        1, 2, figsize=(2 * FIGSIZE[0], FIGSIZE[1] + 0.6), sharex=True
    )
    for panel, curves in ((left, values), (right, derivatives)):
        for name, y in curves.items():
            y = np.asarray(y, dtype=float)
            if y.shape != x.shape:
                raise ValueError(
                    f"values, derivatives: expected shape {x.shape} for {name!r}, "
                    f"got {y.shape}"
                )
            panel.plot(x, y, label=name, linewidth=1.5)
        style_axes(panel)
    left.set(xlabel="$x$", ylabel="$f(x)$", title="activation")
    right.set(xlabel="$x$", ylabel="$f\\,'(x)$", title="derivative (autograd)")
    legend_below(fig, *left.get_legend_handles_labels(), ncols=min(len(values), 6))
    return titled(fig, title)


def singular_values(
    spectra: Mapping[str, Sequence[float]],
    *,
    tol: float | None = None,
    floor: float = 1e-10,
    title: str = "",
) -> Figure:
    """Singular values, each spectrum divided by its largest, on a log scale, one line
    per label.

    `tol`: a relative threshold to draw (a matrix rank counts the values above it).
    Values below `floor` (exact zeros included) are drawn at `floor`, the bottom of
    the plot."""
    if not spectra:
        raise ValueError("spectra: expected at least one labelled spectrum, got none")
    if not 0 < floor < 1:
        raise ValueError(f"floor: expected a number in (0, 1), got {floor!r}")
    fig, ax = subplots(figsize=(FIGSIZE[0] + 1.0, FIGSIZE[1] + 0.5))
    for label, s in spectra.items():
        s = np.asarray(s, dtype=float)
        if s.ndim != 1 or s.size == 0 or not s.max() > 0 or np.any(s < 0):
            raise ValueError(
                f"spectra: expected non-negative values, not all zero, for {label!r}"
            )
        relative = np.maximum(np.sort(s)[::-1] / s.max(), floor)
        ax.plot(
            np.arange(1, s.size + 1),
            relative,
            marker="o",
            markersize=2.5,
            linewidth=1.2,
            label=label,
        )
    if tol is not None:
        ax.axhline(
            tol, color="0.4", linestyle="--", linewidth=1, label="rank tolerance"
        )
    ax.set(
        yscale="log",
        ylim=(floor / 3, 3),
        xlabel="index $i$",
        ylabel="$\\sigma_i / \\sigma_1$",
        title=title,
    )
    style_axes(ax)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
