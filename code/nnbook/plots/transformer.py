"""Figures of the chapter on the transformer: the sinusoidal positional encoding, a
character language model's training, and what each attention head looks at."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ._common import FIGSIZE, style_axes, subplots, titled

__all__ = ["positional_encoding", "char_lm_curves", "head_statistics"]


def positional_encoding(
    pe: np.ndarray,
    *,
    starts: Sequence[int] = (0, 40, 80),
    max_offset: int = 64,
    title: str = "",
) -> Figure:
    """A positional encoding (positions, D) as a heatmap, beside the dot products
    PE[p] . PE[p + k] against the offset k for a few starting positions p: one curve
    each, on top of each other when only k matters."""
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
            f"starts: expected positions p >= 0 with p + max_offset < {len(pe)}, "
            f"got {starts}"
        )
    fig, (left, right) = subplots(
        1, 2, figsize=(10.0, 3.4), gridspec_kw={"width_ratios": [1.3, 1]}
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
    style_axes(right)
    return titled(fig, title)


def char_lm_curves(
    step_loss: Sequence[float],
    eval_steps: Sequence[int],
    val_loss: Sequence[float],
    *,
    target: float | None = None,
    title: str = "",
) -> Figure:
    """A language model's training: the loss of every batch, the validation loss where
    it was measured, and an optional target drawn as a dotted line (nats per
    character)."""
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
            f"val_loss: expected one value per eval step {eval_steps.shape}, "
            f"got {val_loss.shape}"
        )
    fig, ax = subplots(figsize=FIGSIZE)
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
    # the untrained first batches are cut off above 4.5, so that the rest of the
    # training, which the chapter discusses, fills the panel
    ax.set_ylim(
        max(
            0.0,
            min(step_loss.min(), val_loss.min(initial=np.inf), target or np.inf) - 0.2,
        ),
        min(step_loss.max(), 4.5) + 0.1,
    )
    style_axes(ax)
    ax.legend(frameon=False)
    return fig


def head_statistics(
    mean_distance: Sequence[float], entropy: Sequence[float], *, title: str = ""
) -> Figure:
    """Per attention head: how far back it looks on average (tokens) and how spread
    its weights are (nats)."""
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
            "mean_distance, entropy: expected two 1-D sequences of one value per "
            f"head, got shapes {mean_distance.shape} and {entropy.shape}"
        )
    heads = np.arange(mean_distance.size)
    fig, axes = subplots(1, 2, figsize=(7.0, 2.6))
    for ax, values, label in [
        (axes[0], mean_distance, "mean distance back (tokens)"),
        (axes[1], entropy, "entropy (nats)"),
    ]:
        ax.bar(heads, values, color="tab:blue")
        ax.set(xlabel="head", ylabel=label)
        ax.set_xticks(heads)
        style_axes(ax)
    return titled(fig, title)
