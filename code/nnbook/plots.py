"""Framework-neutral plotting helpers: one look for every figure in the book.

Functions take plain numbers (lists, NumPy arrays, Python floats), never tensors, and return a
matplotlib Figure made with pyplot, so a notebook shows it once, at the end of the cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = ["loss_curve", "fit_and_recovery", "activations", "singular_values"]

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
            raise ValueError(
                f"losses: expected a non-empty 1-D sequence of numbers for {label or 'the run'!r}, "
                f"got shape {values.shape}"
            )
        if log and not np.all(values > 0):
            raise ValueError(
                f"losses: expected positive values on a log scale for {label or 'the run'!r}; "
                "pass log=False"
            )
        curves[label] = values

    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    for label, values in curves.items():
        ax.plot(
            np.arange(1, values.size + 1), values, label=label or None, linewidth=1.5
        )
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, which="major", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if any(curves):
        ax.legend(frameon=False)
    return fig


def _style(ax) -> None:
    ax.grid(True, which="major", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def fit_and_recovery(
    losses: Sequence[float],
    true: Sequence[float],
    learned: Sequence[float],
    *,
    names: Sequence[str] | None = None,
    title: str = "",
    xlabel: str = "step",
) -> Figure:
    """Two panels: the training loss (log scale), and each learned parameter against the true value
    that generated the data (points on the diagonal are recovered exactly)."""
    losses = np.asarray(losses, dtype=float)
    true, learned = np.asarray(true, dtype=float), np.asarray(learned, dtype=float)
    if losses.ndim != 1 or losses.size == 0 or not np.all(losses > 0):
        raise ValueError(
            f"losses: expected a non-empty 1-D sequence of positive numbers, got shape {losses.shape}"
        )
    if true.ndim != 1 or true.size == 0 or learned.shape != true.shape:
        raise ValueError(
            f"learned: expected the shape of true {true.shape}, got {learned.shape}"
        )
    names = [f"$w_{i + 1}$" for i in range(true.size)] if names is None else list(names)
    if len(names) != true.size:
        raise ValueError(f"names: expected {true.size} names, got {len(names)}")

    fig, (left, right) = plt.subplots(
        1, 2, figsize=(2 * FIGSIZE[0], FIGSIZE[1]), layout="constrained"
    )
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
        _style(ax)
    if title:
        fig.suptitle(title)
    return fig


def activations(
    x: Sequence[float],
    values: Mapping[str, Sequence[float]],
    derivatives: Mapping[str, Sequence[float]],
    *,
    title: str = "",
) -> Figure:
    """Two panels: activation functions, and their derivatives, one line per name, over the same inputs x."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(
            f"x: expected a 1-D sequence of at least 2 numbers, got shape {x.shape}"
        )
    if not values or list(values) != list(derivatives):
        raise ValueError(
            "derivatives: expected the same non-empty names, in the same order, as values"
        )
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(2 * FIGSIZE[0], FIGSIZE[1] + 0.6),
        layout="constrained",
        sharex=True,
    )
    for panel, curves in ((left, values), (right, derivatives)):
        for name, y in curves.items():
            y = np.asarray(y, dtype=float)
            if y.shape != x.shape:
                raise ValueError(
                    f"values, derivatives: expected shape {x.shape} for {name!r}, got {y.shape}"
                )
            panel.plot(x, y, label=name, linewidth=1.5)
        _style(panel)
    left.set(xlabel="$x$", ylabel="$f(x)$", title="activation")
    right.set(xlabel="$x$", ylabel="$f\\,'(x)$", title="derivative (autograd)")
    fig.legend(
        *left.get_legend_handles_labels(),
        loc="outside lower center",
        ncols=min(len(values), 6),
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    return fig


def singular_values(
    spectra: Mapping[str, Sequence[float]],
    *,
    tol: float | None = None,
    floor: float = 1e-10,
    title: str = "",
) -> Figure:
    """Singular values, each spectrum divided by its largest, on a log scale, one line per label.

    `tol`: a relative threshold to draw (a matrix rank counts the values above it). Values below `floor`
    (exact zeros included) are drawn at `floor`, the bottom of the plot."""
    if not spectra:
        raise ValueError("spectra: expected at least one labelled spectrum, got none")
    if not 0 < floor < 1:
        raise ValueError(f"floor: expected a number in (0, 1), got {floor!r}")
    fig, ax = plt.subplots(
        figsize=(FIGSIZE[0] + 1.0, FIGSIZE[1] + 0.5), layout="constrained"
    )
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
    _style(ax)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


# --------------------------------------------------------------------------- convolutions chapter

__all__ += ["padding_windows", "ratio_curves", "training_curves", "image_grid"]


def padding_windows(
    size: int,
    kernel_size: int,
    stride: int,
    paddings: Mapping[str, tuple[int, int]],
    *,
    title: str = "",
) -> Figure:
    """One row per padding (before, after) along one axis: the input cells, the zeros added around them,
    and the window each output reads (a bracket under the cells it covers)."""
    if not paddings:
        raise ValueError(
            "paddings: expected at least one labelled (before, after) pair, got none"
        )
    for name, value in (
        ("size", size),
        ("kernel_size", kernel_size),
        ("stride", stride),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name}: expected a positive int, got {value!r}")
    rows = len(paddings)
    fig, ax = plt.subplots(
        figsize=(FIGSIZE[0] + 1.5, 0.5 + 0.8 * rows), layout="constrained"
    )
    lo = -max(before for before, _ in paddings.values())
    hi = size + max(after for _, after in paddings.values())
    for r, (label, (before, after)) in enumerate(paddings.items()):
        if min(before, after) < 0 or size + before + after < kernel_size:
            raise ValueError(
                f"paddings: expected non-negative padding that fits the kernel for {label!r}"
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
            level = (
                y - 0.15 - 0.18 * (j % 2)
            )  # alternate heights so overlapping windows stay apart
            color = plt.cm.tab10(j % 10)
            ax.plot(
                [start + 0.1, start + kernel_size - 0.1],
                [level, level],
                color=color,
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
    """One line per label over the same x (log2 axis by default), with an optional dotted horizontal
    line per label for the value its curve approaches (`limits`, same labels)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2 or (logx and not np.all(x > 0)):
        raise ValueError(
            f"x: expected a 1-D sequence of at least 2 (positive, on a log axis) numbers, got {x}"
        )
    if not curves:
        raise ValueError("curves: expected at least one labelled curve, got none")
    limits = dict(limits or {})
    if not set(limits) <= set(curves):
        raise ValueError(
            f"limits: expected labels among {list(curves)}, got {list(limits)}"
        )
    fig, ax = plt.subplots(
        figsize=(FIGSIZE[0] + 0.8, FIGSIZE[1] + 0.3), layout="constrained"
    )
    for i, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise ValueError(
                f"curves: expected shape {x.shape} for {label!r}, got {y.shape}"
            )
        color = plt.cm.tab10(i % 10)
        ax.plot(x, y, marker="o", markersize=3, linewidth=1.5, color=color, label=label)
        if label in limits:
            ax.axhline(limits[label], color=color, linestyle=":", linewidth=1)
    if logx:
        ax.set_xscale("log", base=2)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    _style(ax)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def training_curves(
    runs: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    smooth: int = 1,
    title: str = "",
) -> Figure:
    """Two panels for classifier runs `{label: (step_loss, test_accuracy)}`: the training loss per step
    (a running mean over `smooth` steps), and the test accuracy after each epoch (in %)."""
    if not runs:
        raise ValueError("runs: expected at least one labelled run, got none")
    if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth <= 0:
        raise ValueError(f"smooth: expected a positive int, got {smooth!r}")
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(2 * FIGSIZE[0], FIGSIZE[1] + 0.5), layout="constrained"
    )
    for label, (loss, accuracy) in runs.items():
        loss, accuracy = (
            np.asarray(loss, dtype=float),
            np.asarray(accuracy, dtype=float),
        )
        if loss.ndim != 1 or loss.size == 0 or accuracy.ndim != 1 or accuracy.size == 0:
            raise ValueError(
                f"runs: expected non-empty 1-D step losses and accuracies for {label!r}"
            )
        window = min(smooth, loss.size)
        smoothed = np.convolve(loss, np.ones(window) / window, mode="valid")
        left.plot(
            np.arange(window, loss.size + 1), smoothed, linewidth=1.3, label=label
        )
        right.plot(
            np.arange(1, accuracy.size + 1),
            100 * accuracy,
            marker="o",
            markersize=4,
            linewidth=1.5,
            label=label,
        )
    left.set(
        xlabel="training step",
        ylabel="training loss",
        title="training loss" + (f" (mean of {smooth} steps)" if smooth > 1 else ""),
    )
    right.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    right.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    for panel in (left, right):
        _style(panel)
    fig.legend(
        *left.get_legend_handles_labels(),
        loc="outside lower center",
        ncols=min(len(runs), 4),
        frameon=False,
    )
    if title:
        fig.suptitle(title)
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
            f"images: expected uint8 images of shape (N, H, W, 3), got {images.dtype} {images.shape}"
        )
    if len(titles) != len(images):
        raise ValueError(f"titles: expected {len(images)} captions, got {len(titles)}")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols <= 0:
        raise ValueError(f"ncols: expected a positive int, got {ncols!r}")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(1.7 * ncols, 1.9 * nrows),
        layout="constrained",
        squeeze=False,
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, titles):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(caption, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- residual networks chapter

__all__ += ["gradient_norms"]


def gradient_norms(
    norms: Mapping[str, Sequence[Sequence[float]]],
    *,
    boundaries: Sequence[float] = (),
    regions: Sequence[str] = (),
    xlabel: str = "block",
    ylabel: str = "gradient norm",
    title: str = "",
) -> Figure:
    """Per-block gradient norms, one line per label: `norms[label]` is (runs, blocks); the line is the
    mean over runs, the band spans the smallest to the largest run, on a log scale. `boundaries`: x
    positions of dashed vertical lines (e.g. between stages); `regions`: a caption for each stretch
    they delimit (one more than the boundaries), written at the top."""
    from matplotlib.ticker import FormatStrFormatter

    if not norms:
        raise ValueError(
            "norms: expected at least one labelled (runs, blocks) array, got none"
        )
    if regions and len(regions) != len(boundaries) + 1:
        raise ValueError(
            f"regions: expected {len(boundaries) + 1} captions, got {len(regions)}"
        )
    fig, ax = plt.subplots(
        figsize=(FIGSIZE[0] + 1.0, FIGSIZE[1] + 0.6), layout="constrained"
    )
    n_runs, n_blocks = set(), 0
    for i, (label, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.size == 0 or not np.all(values > 0):
            raise ValueError(
                f"norms: expected a non-empty (runs, blocks) array of positive numbers for {label!r}, "
                f"got shape {values.shape}"
            )
        x = np.arange(1, values.shape[1] + 1)
        n_runs.add(values.shape[0])
        n_blocks = max(n_blocks, values.shape[1])
        color = plt.cm.tab10(i % 10)
        ax.fill_between(
            x, values.min(0), values.max(0), color=color, alpha=0.2, linewidth=0
        )
        ax.plot(
            x,
            values.mean(0),
            marker="o",
            markersize=3.5,
            linewidth=1.5,
            color=color,
            label=label,
        )
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
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    _style(ax)
    fig.legend(
        *ax.get_legend_handles_labels(),
        loc="outside lower center",
        ncols=min(len(norms), 4),
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- attention chapter

__all__ += ["band_panels", "attention_maps"]


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
    """Side-by-side panels over the same x (log2 axis), one line per label: `panels[i][label]` is
    (runs, len(x)); the line is the mean over runs, the band spans the smallest to the largest run.
    `references[i][label]`: a black dotted line over the same x to compare the mean with (None: none)."""
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
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(FIGSIZE[0] * len(panels), FIGSIZE[1] + 0.5),
        layout="constrained",
        squeeze=False,
    )
    for ax, curves, ylabel, reference, log in zip(
        axes[0], panels, ylabels, references, logy
    ):
        for i, (label, runs) in enumerate(curves.items()):
            runs = np.asarray(runs, dtype=float)
            if runs.ndim != 2 or runs.shape[1] != x.size or runs.shape[0] == 0:
                raise ValueError(
                    f"panels: expected a (runs, {x.size}) array for {label!r}, got shape {runs.shape}"
                )
            color = plt.cm.tab10(i % 10)
            ax.fill_between(
                x, runs.min(0), runs.max(0), color=color, alpha=0.25, linewidth=0
            )
            ax.plot(
                x,
                runs.mean(0),
                marker="o",
                markersize=3.5,
                linewidth=1.5,
                color=color,
                label=label,
            )
        for label, values in (reference or {}).items():
            values = np.asarray(values, dtype=float)
            if values.shape != x.shape:
                raise ValueError(
                    f"references: expected shape {x.shape} for {label!r}, got {values.shape}"
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
            from matplotlib.ticker import FormatStrFormatter

            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
            ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.set(xlabel=xlabel, ylabel=ylabel)
        _style(ax)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(len(labels), 4),
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    return fig


def attention_maps(
    weights: np.ndarray,
    *,
    titles: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """Attention weights as heatmaps, one per head: `weights` is (T_q, T_k) or (heads, T_q, T_k), rows
    being queries. Weights that are exactly 0 (masked keys) are drawn grey, not as a colour."""
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
            f"weights: expected values in [0, 1] shaped (T_q, T_k) or (heads, T_q, T_k), "
            f"got shape {weights.shape}"
        )
    titles = (
        [f"head {h}" for h in range(len(weights))] if titles is None else list(titles)
    )
    if len(titles) != len(weights):
        raise ValueError(f"titles: expected {len(weights)} titles, got {len(titles)}")
    n = len(weights)
    side = min(3.0, 10.0 / n)
    fig, axes = plt.subplots(
        1, n, figsize=(side * n + 0.8, side + 0.6), layout="constrained", squeeze=False
    )
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
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- recurrent networks chapter

__all__ += ["sequence_training", "time_step_norms"]


def sequence_training(
    runs: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]],
    *,
    chance: float | None = None,
    smooth: int = 1,
    title: str = "",
) -> Figure:
    """Two panels for runs `{label: (step_loss, eval_steps, test_accuracy)}`: the training loss per step
    (a running mean over `smooth` steps), and the test accuracy (in %) at each evaluated step, with a
    dotted line at `chance` (a fraction) when given."""
    if not runs:
        raise ValueError("runs: expected at least one labelled run, got none")
    if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth <= 0:
        raise ValueError(f"smooth: expected a positive int, got {smooth!r}")
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(2 * FIGSIZE[0], FIGSIZE[1] + 0.5), layout="constrained"
    )
    for i, (label, (loss, steps, accuracy)) in enumerate(runs.items()):
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
                f"runs: expected non-empty 1-D step losses, and accuracies matching their steps, "
                f"for {label!r}"
            )
        color = plt.cm.tab10(i % 10)
        window = min(smooth, loss.size)
        smoothed = np.convolve(loss, np.ones(window) / window, mode="valid")
        left.plot(
            np.arange(window, loss.size + 1),
            smoothed,
            linewidth=1.3,
            color=color,
            label=label,
        )
        right.plot(steps, 100 * accuracy, linewidth=1.5, color=color, label=label)
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
    left.set(
        xlabel="training step",
        ylabel="training loss",
        title="training loss" + (f" (mean of {smooth} steps)" if smooth > 1 else ""),
    )
    right.set(
        xlabel="training step",
        ylabel="test accuracy (%)",
        title="test accuracy",
        ylim=(0, 103),
    )
    for panel in (left, right):
        _style(panel)
    fig.legend(
        *left.get_legend_handles_labels(),
        loc="outside lower center",
        ncols=min(len(runs), 4),
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    return fig


def time_step_norms(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    xlabel: str = "time step $t$",
    ylabel: str = "gradient norm",
    title: str = "",
) -> Figure:
    """One panel per moment (e.g. "at initialisation", "after training"), one line per label over the
    time steps t = 0, 1, ...: a positive value per step, on a log scale shared by the panels."""
    if not panels or not all(panels.values()):
        raise ValueError(
            "panels: expected at least one panel, each with at least one labelled curve"
        )
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(FIGSIZE[0] * min(len(panels), 2), FIGSIZE[1] + 0.5),
        layout="constrained",
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
                    f"panels: expected a non-empty 1-D sequence of positive numbers for {label!r} "
                    f"in {name!r}"
                )
            color = plt.cm.tab10(labels.index(label) % 10)
            ax.plot(
                np.arange(values.size), values, linewidth=1.4, color=color, label=label
            )
        ax.set(yscale="log", xlabel=xlabel, title=name)
        _style(ax)
    axes[0][0].set_ylabel(ylabel)
    handles = {}
    for ax in axes[0]:
        handles.update(zip(*ax.get_legend_handles_labels()[::-1]))
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=min(len(handles), 4),
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    return fig


__all__ += ["positional_encoding", "char_lm_curves", "head_statistics"]


def positional_encoding(
    pe: np.ndarray,
    *,
    starts: Sequence[int] = (0, 40, 80),
    max_offset: int = 64,
    title: str = "",
) -> Figure:
    """A positional encoding (positions, D) as a heatmap, beside the dot products PE[p] . PE[p + k] against
    the offset k for a few starting positions p: one curve each, on top of each other when only k matters."""
    pe = np.asarray(pe, dtype=float)
    if pe.ndim != 2 or 0 in pe.shape:
        raise ValueError(
            f"pe: expected a non-empty (positions, D) array, got shape {pe.shape}"
        )
    starts = [int(p) for p in starts]
    if (
        not starts
        or min(starts) < 0
        or max(starts) + max_offset >= len(pe)
        or max_offset <= 0
    ):
        raise ValueError(
            f"starts: expected positions p >= 0 with p + max_offset < {len(pe)}, got {starts}"
        )
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(10.0, 3.4),
        layout="constrained",
        gridspec_kw={"width_ratios": [1.3, 1]},
    )
    image = left.imshow(
        pe, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest"
    )
    left.set(xlabel="dimension", ylabel="position", title="PE[position, dimension]")
    fig.colorbar(image, ax=left, shrink=0.9)
    offsets = np.arange(max_offset + 1)
    for p, style in zip(starts, ["-", "--", ":", "-."] * len(starts)):
        right.plot(
            offsets,
            pe[p + offsets] @ pe[p],
            linestyle=style,
            linewidth=1.6,
            label=f"p = {p}",
        )
    right.set(
        xlabel="offset k",
        ylabel="PE[p] · PE[p + k]",
        title="dot products depend on k only",
    )
    right.legend(frameon=False)
    _style(right)
    if title:
        fig.suptitle(title)
    return fig


def char_lm_curves(
    step_loss: Sequence[float],
    eval_steps: Sequence[int],
    val_loss: Sequence[float],
    *,
    target: float | None = None,
    title: str = "",
) -> Figure:
    """A language model's training: the loss of every batch, the validation loss where it was measured, and
    an optional target drawn as a dotted line (nats per character)."""
    step_loss = np.asarray(step_loss, dtype=float)
    eval_steps, val_loss = (
        np.asarray(eval_steps, dtype=float),
        np.asarray(val_loss, dtype=float),
    )
    if step_loss.ndim != 1 or step_loss.size == 0:
        raise ValueError(
            f"step_loss: expected a non-empty 1-D sequence, got shape {step_loss.shape}"
        )
    if val_loss.shape != eval_steps.shape or val_loss.ndim != 1:
        raise ValueError(
            f"val_loss: expected one value per eval step {eval_steps.shape}, got {val_loss.shape}"
        )
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    ax.plot(
        np.arange(1, step_loss.size + 1),
        step_loss,
        linewidth=0.8,
        alpha=0.6,
        label="training batch",
    )
    ax.plot(
        eval_steps,
        val_loss,
        marker="o",
        markersize=4,
        linewidth=1.5,
        label="validation",
    )
    if target is not None:
        ax.axhline(
            target,
            color="black",
            linestyle=":",
            linewidth=1.2,
            label=f"target {target:g}",
        )
    ax.set(xlabel="step", ylabel="loss (nats/char)", title=title)
    ax.set_ylim(
        max(
            0.0,
            min(step_loss.min(), val_loss.min(initial=np.inf), target or np.inf) - 0.2,
        ),
        min(step_loss.max(), 4.5) + 0.1,
    )
    _style(ax)
    ax.legend(frameon=False)
    return fig


def head_statistics(
    mean_distance: Sequence[float], entropy: Sequence[float], *, title: str = ""
) -> Figure:
    """Per attention head: how far back it looks on average (tokens) and how spread its weights are (nats)."""
    mean_distance, entropy = (
        np.asarray(mean_distance, dtype=float),
        np.asarray(entropy, dtype=float),
    )
    if (
        mean_distance.ndim != 1
        or mean_distance.size == 0
        or entropy.shape != mean_distance.shape
    ):
        raise ValueError(
            f"mean_distance, entropy: expected two 1-D sequences of one value per head, "
            f"got shapes {mean_distance.shape} and {entropy.shape}"
        )
    heads = np.arange(mean_distance.size)
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 2.6), layout="constrained")
    for ax, values, label in [
        (axes[0], mean_distance, "mean distance back (tokens)"),
        (axes[1], entropy, "entropy (nats)"),
    ]:
        ax.bar(heads, values, color="tab:blue")
        ax.set(xlabel="head", ylabel=label)
        ax.set_xticks(heads)
        _style(ax)
    if title:
        fig.suptitle(title)
    return fig
