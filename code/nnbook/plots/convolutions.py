"""Figures of the chapter on convolutions: padding and stride, parameter ratios, the
learning curves of an image classifier (also the residual networks' chapter's), and
sample images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import checks
from ._common import FIGSIZE, color, loss_and_accuracy, style_axes, subplots, titled

__all__ = ["padding_windows", "ratio_curves", "training_curves", "image_grid"]


def padding_windows(
    size: int,
    kernel_size: int,
    stride: int,
    paddings: Mapping[str, tuple[int, int]],
    *,
    title: str = "",
) -> Figure:
    """One row per padding (before, after) along one axis: the input cells, the zeros
    added around them, and the window each output reads (a bracket under the cells it
    covers)."""
    if not paddings:
        raise ValueError(
            "paddings: expected at least one labelled (before, after) pair, got none"
        )
    checks.positive_int("size", size)
    checks.positive_int("kernel_size", kernel_size)
    checks.positive_int("stride", stride)
    rows = len(paddings)
    fig, ax = subplots(figsize=(FIGSIZE[0] + 1.5, 0.5 + 0.8 * rows))
    lo = -max(before for before, _ in paddings.values())
    hi = size + max(after for _, after in paddings.values())
    for r, (label, (before, after)) in enumerate(paddings.items()):
        if min(before, after) < 0 or size + before + after < kernel_size:
            raise ValueError(
                "paddings: expected non-negative padding that fits the kernel "
                f"for {label!r}"
            )
        y = -1.6 * r
        for i in range(-before, size + after):
            pad = not 0 <= i < size
            ax.add_patch(
                plt.Rectangle(
                    (i, y),
                    1,
                    1,
                    facecolor="0.93" if pad else "white",
                    edgecolor="0.3",
                    hatch="//" if pad else None,
                    linewidth=0.8,
                )
            )
            ax.text(
                i + 0.5,
                y + 0.5,
                "0" if pad else str(i),
                ha="center",
                va="center",
                fontsize=8,
            )
        n_out = (size + before + after - kernel_size) // stride + 1
        for j in range(n_out):
            start = -before + j * stride
            # alternate heights so overlapping windows stay apart
            level = y - 0.15 - 0.18 * (j % 2)
            ax.plot(
                [start + 0.1, start + kernel_size - 0.1],
                [level, level],
                color=color(j),
                linewidth=2.5,
                solid_capstyle="butt",
            )
        ax.text(
            lo - 0.4,
            y + 0.5,
            f"{label}\n{n_out} outputs",
            ha="right",
            va="center",
            fontsize=9,
        )
    ax.set(xlim=(lo - 0.2, hi + 0.2), ylim=(-1.6 * (rows - 1) - 0.7, 1.2), title=title)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def ratio_curves(
    x: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    *,
    limits: Mapping[str, float] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    logx: bool = True,
) -> Figure:
    """One line per label over the same x (log2 axis by default), with an optional
    dotted horizontal line per label for the value its curve approaches (`limits`,
    same labels)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2 or (logx and not np.all(x > 0)):
        raise ValueError(
            "x: expected a 1-D sequence of at least 2 (positive, on a log axis) "
            f"numbers, got {x}"
        )
    if not curves:
        raise ValueError("curves: expected at least one labelled curve, got none")
    limits = dict(limits or {})
    if not set(limits) <= set(curves):
        raise ValueError(
            f"limits: expected labels among {list(curves)}, got {list(limits)}"
        )
    fig, ax = subplots(figsize=(FIGSIZE[0] + 0.8, FIGSIZE[1] + 0.3))
    for i, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise ValueError(
                f"curves: expected shape {x.shape} for {label!r}, got {y.shape}"
            )
        ax.plot(
            x, y, marker="o", markersize=3, linewidth=1.5, color=color(i), label=label
        )
        if label in limits:
            ax.axhline(limits[label], color=color(i), linestyle=":", linewidth=1)
    if logx:
        ax.set_xscale("log", base=2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    style_axes(ax)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def training_curves(
    runs: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    smooth: int = 1,
    title: str = "",
) -> Figure:
    """Two panels for classifier runs `{label: (step_loss, test_accuracy)}`: the
    training loss per step (a running mean over `smooth` steps), and the test accuracy
    after each epoch (in %)."""
    if not runs:
        raise ValueError("runs: expected at least one labelled run, got none")
    smooth = checks.positive_int("smooth", smooth)
    checked = {}
    for label, (loss, accuracy) in runs.items():
        loss, accuracy = (
            np.asarray(loss, dtype=float),
            np.asarray(accuracy, dtype=float),
        )
        if loss.ndim != 1 or loss.size == 0 or accuracy.ndim != 1 or accuracy.size == 0:
            raise ValueError(
                f"runs: expected non-empty 1-D step losses and accuracies for {label!r}"
            )
        epochs = np.arange(1, accuracy.size + 1)
        checked[label] = (loss, epochs, accuracy)
    fig, right = loss_and_accuracy(
        checked, smooth=smooth, xlabel="epoch", marker="o", title=title
    )
    right.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    return fig


def image_grid(
    images: np.ndarray, titles: Sequence[str], *, ncols: int = 4, title: str = ""
) -> Figure:
    """Small images (N, H, W, 3) uint8 in a grid, each with its caption."""
    images = np.asarray(images)
    if (
        images.ndim != 4
        or images.shape[-1] != 3
        or images.dtype != np.uint8
        or len(images) == 0
    ):
        raise ValueError(
            "images: expected uint8 images of shape (N, H, W, 3), "
            f"got {images.dtype} {images.shape}"
        )
    if len(titles) != len(images):
        raise ValueError(f"titles: expected {len(images)} captions, got {len(titles)}")
    ncols = min(checks.positive_int("ncols", ncols), len(images))
    nrows = -(-len(images) // ncols)
    fig, axes = subplots(
        nrows, ncols, figsize=(1.7 * ncols, 1.9 * nrows), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, titles):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(caption, fontsize=8)
    return titled(fig, title)
