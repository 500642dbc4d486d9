"""Figures of the chapter on attention: statistics against d_k over several runs, and
attention weights as heatmaps (also drawn in the transformer's chapter)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._common import (
    FIGSIZE,
    color,
    legend_below,
    mean_and_band,
    plain_log_ticks,
    style_axes,
    subplots,
    titled,
)

__all__ = ["band_panels", "attention_maps"]


def band_panels(
    x: Sequence[float],
    panels: Sequence[Mapping[str, Sequence[Sequence[float]]]],
    *,
    ylabels: Sequence[str],
    references: Sequence[Mapping[str, Sequence[float]] | None] | None = None,
    logy: Sequence[bool] | None = None,
    xlabel: str = "",
    reference_label: str = "reference",
    title: str = "",
) -> Figure:
    """Side-by-side panels over the same x (log2 axis), one line per label:
    `panels[i][label]` is (runs, len(x)); the line is the mean over runs, the band
    spans the smallest to the largest run. `references[i][label]`: a black dotted line
    over the same x to compare the mean with (None: none)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2 or not np.all(x > 0):
        raise ValueError(
            f"x: expected a 1-D sequence of at least 2 positive numbers, got {x}"
        )
    if not panels or not all(panels):
        raise ValueError(
            "panels: expected at least one panel, each with at least one labelled curve"
        )
    if len(ylabels) != len(panels):
        raise ValueError(f"ylabels: expected {len(panels)} labels, got {len(ylabels)}")
    references = [None] * len(panels) if references is None else list(references)
    logy = [False] * len(panels) if logy is None else list(logy)
    if len(references) != len(panels) or len(logy) != len(panels):
        raise ValueError(
            f"references, logy: expected {len(panels)} entries each, one per panel"
        )
    fig, axes = subplots(
        1,
        len(panels),
        figsize=(FIGSIZE[0] * len(panels), FIGSIZE[1] + 0.5),
        squeeze=False,
    )
    for ax, curves, ylabel, reference, log in zip(
        axes[0], panels, ylabels, references, logy
    ):
        for i, (label, runs) in enumerate(curves.items()):
            runs = np.asarray(runs, dtype=float)
            if runs.ndim != 2 or runs.shape[1] != x.size or runs.shape[0] == 0:
                raise ValueError(
                    f"panels: expected a (runs, {x.size}) array for {label!r}, "
                    f"got shape {runs.shape}"
                )
            mean_and_band(ax, x, runs, color=color(i), label=label, alpha=0.25)
        for label, values in (reference or {}).items():
            values = np.asarray(values, dtype=float)
            if values.shape != x.shape:
                raise ValueError(
                    f"references: expected shape {x.shape} for {label!r}, "
                    f"got {values.shape}"
                )
            ax.plot(
                x,
                values,
                color="black",
                linestyle=":",
                linewidth=1.3,
                label=reference_label if label == next(iter(reference)) else None,
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        if log:
            ax.set_yscale("log")
            plain_log_ticks(ax)
        ax.set(xlabel=xlabel, ylabel=ylabel)
        style_axes(ax)
    handles, labels = axes[0][0].get_legend_handles_labels()
    legend_below(fig, handles, labels, ncols=min(len(labels), 4))
    return titled(fig, title)


def attention_maps(
    weights: np.ndarray,
    *,
    titles: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """Attention weights as heatmaps, one per head: `weights` is (T_q, T_k) or
    (heads, T_q, T_k), rows being queries. Weights that are exactly 0 (masked keys)
    are drawn grey, not as a colour."""
    weights = np.asarray(weights, dtype=float)
    if weights.ndim == 2:
        weights = weights[None]
    if (
        weights.ndim != 3
        or 0 in weights.shape
        or np.any(weights < 0)
        or np.any(weights > 1)
    ):
        raise ValueError(
            "weights: expected values in [0, 1] shaped (T_q, T_k) or "
            f"(heads, T_q, T_k), got shape {weights.shape}"
        )
    titles = (
        [f"head {h}" for h in range(len(weights))] if titles is None else list(titles)
    )
    if len(titles) != len(weights):
        raise ValueError(f"titles: expected {len(weights)} titles, got {len(titles)}")
    n = len(weights)
    side = min(3.0, 10.0 / n)
    fig, axes = subplots(1, n, figsize=(side * n + 0.8, side + 0.6), squeeze=False)
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.85")
    for ax, w, caption in zip(axes[0], weights, titles):
        image = ax.imshow(
            np.ma.masked_equal(w, 0.0),
            cmap=cmap,
            vmin=0.0,
            vmax=weights.max(),
            interpolation="nearest",
        )
        ax.set_facecolor("0.85")
        ax.set_title(caption, fontsize=9)
        ax.set_xlabel("key position", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[0][0].set_ylabel("query position", fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.85, label="weight")
    return titled(fig, title)
