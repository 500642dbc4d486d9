"""What attention heads do, measured in NumPy on either framework's attention
weights.

Used by the chapter "A mini decoder-only transformer" to read the last layer's heads
of both frameworks' models with one rule.
"""

from __future__ import annotations

import numpy as np

from nnbook import checks

__all__ = ["attention_statistics"]


def attention_statistics(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per head, averaged over queries: the mean distance back to the attended keys
    (in tokens) and the entropy of the weights (nats). `weights` (H, T, T) are causal:
    query i attends to keys 0..i."""
    w = np.asarray(weights, dtype=np.float64)
    checks.array("weights", w, ("H", "T", "T"), non_empty=True)
    row_sums, above = w.sum(-1), np.abs(np.triu(w, k=1)).max()
    checks.require(
        "weights",
        np.allclose(row_sums, 1.0, atol=1e-4) and above <= 1e-6,
        "causal attention weights, rows summing to 1, zero above the diagonal",
        f"row sums in [{row_sums.min():.4g}, {row_sums.max():.4g}], "
        f"up to {above:.3g} above the diagonal",
    )
    t = w.shape[-1]
    distance = np.arange(t)[:, None] - np.arange(t)[None, :]  # (T, T): query - key
    mean_distance = (w * np.maximum(distance, 0)).sum(-1).mean(-1)  # (H,)
    entropy = -(w * np.log(np.where(w > 0, w, 1.0))).sum(-1).mean(-1)  # (H,)
    return mean_distance, entropy
