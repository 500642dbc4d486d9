"""Figures of the chapter on recurrent networks: learning curves against the training
step with a chance level, and gradient norms over the time steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from .. import checks
from ._common import (
    FIGSIZE,
    color,
    legend_below,
    loss_and_accuracy,
    style_axes,
    subplots,
    titled,
)

__all__ = ["sequence_training", "time_step_norms"]


def sequence_training(
    runs: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]],
    *,
    chance: float | None = None,
    smooth: int = 1,
    title: str = "",
    twins: Mapping[str, str] | None = None,
) -> Figure:
    """Two panels for runs `{label: (step_loss, eval_steps, test_accuracy)}`: the
    training loss per step (a running mean over `smooth` steps), and the test accuracy
    (in %) at each evaluated step, with a dotted line at `chance` (a fraction) when
    given. `twins` `{label: label}` draws a run dashed in the colour of the run it
    should repeat (a from-scratch model and its built-in twin)."""
    if not runs:
        raise ValueError("runs: expected at least one labelled run, got none")
    smooth = checks.positive_int("smooth", smooth)
    for label, twin in (twins or {}).items():
        checks.require(
            "twins",
            label in runs and twin in runs and twin not in (twins or {}),
            "{label: twin} pairs of run labels, each twin a run not itself a twin",
            f"{label!r}: {twin!r}",
        )
    checked = {}
    for label, (loss, steps, accuracy) in runs.items():
        loss, steps, accuracy = (
            np.asarray(a, dtype=float) for a in (loss, steps, accuracy)
        )
        if (
            loss.ndim != 1
            or loss.size == 0
            or steps.ndim != 1
            or steps.size == 0
            or accuracy.shape != steps.shape
        ):
            raise ValueError(
                "runs: expected non-empty 1-D step losses, and accuracies matching "
                f"their steps, for {label!r}"
            )
        checked[label] = (loss, steps, accuracy)
    fig, right = loss_and_accuracy(
        checked,
        smooth=smooth,
        xlabel="training step",
        marker=None,
        title=title,
        twins=twins,
    )
    right.set_ylim(0, 103)
    if chance is not None:
        right.axhline(100 * chance, color="0.4", linestyle=":", linewidth=1)
        right.text(
            0.99,
            100 * chance,
            "chance",
            transform=right.get_yaxis_transform(),
            ha="right",
            va="bottom",
            fontsize=8,
            color="0.35",
        )
    return fig


def time_step_norms(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    xlabel: str = "time step $t$",
    ylabel: str = "gradient norm",
    title: str = "",
) -> Figure:
    """One panel per moment (e.g. "at initialisation", "after training"), one line per
    label over the time steps t = 0, 1, ...: a positive value per step, on a log scale
    shared by the panels."""
    if not panels or not all(panels.values()):
        raise ValueError(
            "panels: expected at least one panel, each with at least one labelled curve"
        )
    fig, axes = subplots(
        1,
        len(panels),
        figsize=(FIGSIZE[0] * min(len(panels), 2), FIGSIZE[1] + 0.5),
        sharey=True,
        squeeze=False,
    )
    labels = list(
        dict.fromkeys(label for curves in panels.values() for label in curves)
    )
    for ax, (name, curves) in zip(axes[0], panels.items()):
        for label, values in curves.items():
            values = np.asarray(values, dtype=float)
            if values.ndim != 1 or values.size == 0 or not np.all(values > 0):
                raise ValueError(
                    "panels: expected a non-empty 1-D sequence of positive numbers "
                    f"for {label!r} in {name!r}"
                )
            ax.plot(
                np.arange(values.size),
                values,
                linewidth=1.4,
                color=color(labels.index(label)),
                label=label,
            )
        ax.set(yscale="log", xlabel=xlabel, title=name)
        style_axes(ax)
    axes[0][0].set_ylabel(ylabel)
    # one legend entry per label, although a label may appear in several panels
    handles = {}
    for ax in axes[0]:
        handles.update(zip(*ax.get_legend_handles_labels()[::-1]))
    legend_below(fig, list(handles.values()), list(handles), ncols=min(len(handles), 4))
    return titled(fig, title)
