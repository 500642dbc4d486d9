"""What attention heads do, measured in NumPy on either framework's attention weights.

Used by the chapter "A mini decoder-only transformer" to read the last layer's heads
of both frameworks' models with one rule.
"""

from __future__ import annotations

import numpy as np

__all__ = ["attention_statistics"]


def attention_statistics(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per head, averaged over queries: the mean distance back to the attended keys (in tokens) and the
    entropy of the weights (nats). `weights` (H, T, T) are causal: query i attends to keys 0..i."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 3 or w.shape[1] != w.shape[2] or 0 in w.shape:
        raise ValueError(
            f"weights: expected a non-empty (H, T, T) array, got shape {w.shape}"
        )
    if (
        not np.allclose(w.sum(-1), 1.0, atol=1e-4)
        or np.abs(np.triu(w, k=1)).max() > 1e-6
    ):
        raise ValueError(
            "weights: expected causal attention weights, rows summing to 1, zero above the diagonal"
        )
    t = w.shape[-1]
    distance = (
        np.arange(t)[:, None] - np.arange(t)[None, :]
    )  # (T, T): query i minus key j
    mean_distance = (w * np.maximum(distance, 0)).sum(-1).mean(-1)  # (H,)
    entropy = -(w * np.log(np.where(w > 0, w, 1.0))).sum(-1).mean(-1)  # (H,)
    return mean_distance, entropy
