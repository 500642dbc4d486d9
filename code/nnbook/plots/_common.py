"""What the book's figures share: their size, their axes' look, legend and title, and
the two drawings more than one chapter makes (loss-and-accuracy panels, mean and band).

One place for each, so that every chapter's figures look alike and a change of look is
made once.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

FIGSIZE = (5.0, 3.0)  # inches: reads at page width without dwarfing the text


def subplots(*args, **kwargs):
    """`plt.subplots` with the constrained layout, which keeps suptitles, colour bars
    and legends placed outside the axes from overlapping the panels."""
    return plt.subplots(*args, layout="constrained", **kwargs)


def color(i: int):
    """The i-th colour of the tab10 cycle: set explicitly, a label keeps its colour
    in every panel, and a line drawn beside it (a limit, a band) can match it."""
    return plt.cm.tab10(i % 10)


def style_axes(ax: Axes) -> None:
    """A light grid to read values against, and no top or right frame line."""
    ax.grid(True, which="major", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def plain_log_ticks(ax: Axes) -> None:
    """Label a log y axis with plain numbers, minor ticks too: a range narrower than a
    decade would otherwise show one label, or none."""
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=7)


def legend_below(fig: Figure, handles, labels, *, ncols: int) -> None:
    """One legend for all the panels, under them, where it hides no data."""
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False)


def titled(fig: Figure, title: str) -> Figure:
    """The figure, with `title` above all its panels when there is one."""
    if title:
        fig.suptitle(title)
    return fig


def mean_and_band(
    ax: Axes, x: np.ndarray, runs: np.ndarray, *, color, label: str, alpha: float
) -> None:
    """The mean over runs (the rows of `runs`) as a line with markers, over a band from
    the smallest to the largest run: the typical value, and how much seeds move it."""
    ax.fill_between(x, runs.min(0), runs.max(0), color=color, alpha=alpha, linewidth=0)
    ax.plot(
        x,
        runs.mean(0),
        marker="o",
        markersize=3.5,
        linewidth=1.5,
        color=color,
        label=label,
    )


def running_mean(loss: np.ndarray, smooth: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean of each `smooth` consecutive step losses (fewer for a shorter run),
    as single batches are noisy; returns the step each mean ends at, and the means."""
    window = min(smooth, loss.size)
    smoothed = np.convolve(loss, np.ones(window) / window, mode="valid")
    return np.arange(window, loss.size + 1), smoothed


def loss_and_accuracy(
    runs: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    smooth: int,
    xlabel: str,
    marker: str | None,
    title: str,
    twins: Mapping[str, str] | None = None,
) -> tuple[Figure, Axes]:
    """Two panels for checked runs `{label: (step_loss, x, accuracy)}`: the training
    loss per step (a running mean over `smooth` steps, as single batches are noisy),
    and the test accuracy (in %) at each x, labelled `xlabel`. A run named in `twins`
    `{label: label of its twin}` is drawn dashed in its twin's colour, so that a run
    expected to repeat another shows where it does and where it does not.

    Returns the figure and the accuracy panel, on which a chapter adds what only it
    needs (whole epochs on the x axis, a chance level)."""
    fig, (left, right) = subplots(1, 2, figsize=(2 * FIGSIZE[0], FIGSIZE[1] + 0.5))
    twins = dict(twins or {})
    solid = [label for label in runs if label not in twins]
    for label, (loss, x, accuracy) in runs.items():
        i = solid.index(twins.get(label, label))
        style = "--" if label in twins else "-"
        left.plot(
            *running_mean(loss, smooth),
            linewidth=1.3,
            linestyle=style,
            color=color(i),
            label=label,
        )
        right.plot(
            x,
            100 * accuracy,
            marker=marker,
            markersize=4,
            linewidth=1.5,
            linestyle=style,
            color=color(i),
            label=label,
        )
    left.set(
        xlabel="training step",
        ylabel="training loss",
        title="training loss" + (f" (mean of {smooth} steps)" if smooth > 1 else ""),
    )
    right.set(xlabel=xlabel, ylabel="test accuracy (%)", title="test accuracy")
    for panel in (left, right):
        style_axes(panel)
    legend_below(fig, *left.get_legend_handles_labels(), ncols=min(len(runs), 4))
    return titled(fig, title), right
