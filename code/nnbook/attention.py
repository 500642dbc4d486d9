"""What attention heads do, measured in NumPy on either framework's attention
weights.

Used by the chapter "A mini decoder-only transformer" to read the last layer's heads
of both frameworks' models with one rule. A heatmap per head invites reading patterns
into it; `classify_heads` names each head's pattern by thresholds fixed here, before
any model is trained, so that "the heads do different things" becomes a count that a
build can check and that the same weights give in either framework.
"""

from __future__ import annotations

import numpy as np

from nnbook import checks

__all__ = [
    "HEAD_CLASSES",
    "PREVIOUS_TOKEN_MIN",
    "SELF_MIN",
    "FIRST_TOKEN_MIN",
    "LOCAL_MAX_DISTANCE",
    "BROAD_MIN_ENTROPY",
    "attention_statistics",
    "head_features",
    "classify_heads",
    "head_table",
]

# The rule of `classify_heads`, tried in this order: the first that holds names a head.
# A mean weight above one half means most of each query's attention goes to that key.
PREVIOUS_TOKEN_MIN = 0.5  # mean weight on key t - 1: "previous-token"
SELF_MIN = 0.5  # mean weight on key t, the query's own position: "self"
FIRST_TOKEN_MIN = 0.5  # mean weight on key 0, the passage's first token: "first-token"
LOCAL_MAX_DISTANCE = 3.0  # mean distance back, in tokens, at most this: "local"
# entropy as a share of a uniform spread's (ln(t + 1) at query t), at least: "broad";
# a head that looks far back but at few keys is "long-range"
BROAD_MIN_ENTROPY = 0.5
HEAD_CLASSES = ("previous-token", "self", "first-token", "local", "broad", "long-range")


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


def head_features(weights: np.ndarray) -> dict[str, np.ndarray]:
    """Per head (H,), averaged over the queries that have the key in question: the
    mean weight on the previous key t - 1 (queries 1..T-1), on the query's own key t,
    on the first key 0 (queries 2..T-1, where key 0 is not also t - 1), the mean
    distance back, the entropy (nats) and the entropy as a share of a uniform
    spread's. `weights` (H, T, T) as for `attention_statistics`, with T >= 3."""
    w = np.asarray(weights, dtype=np.float64)
    checks.array("weights", w, ("H", "T", "T"), at_least={"T": 3})
    distance, entropy = attention_statistics(w)  # checks causality
    t = w.shape[-1]
    uniform_entropy = np.log(np.arange(1, t + 1)).mean()  # ln(t + 1), mean over queries
    return {
        "previous": np.diagonal(w, offset=-1, axis1=1, axis2=2).mean(-1),
        "self": np.diagonal(w, axis1=1, axis2=2).mean(-1),
        "first": w[:, 2:, 0].mean(-1),
        "distance": distance,
        "entropy": entropy,
        "entropy_share": entropy / uniform_entropy,
    }


def classify_heads(weights: np.ndarray) -> list[str]:
    """One of HEAD_CLASSES per head of `weights` (H, T, T), by the first rule that
    holds: mean weight on key t - 1 >= PREVIOUS_TOKEN_MIN: "previous-token"; on key t
    >= SELF_MIN: "self"; on key 0 >= FIRST_TOKEN_MIN: "first-token"; mean distance <=
    LOCAL_MAX_DISTANCE: "local"; entropy share >= BROAD_MIN_ENTROPY: "broad"; else
    "long-range" (far back, on few keys)."""
    f = head_features(weights)
    labels = []
    for h in range(len(f["distance"])):
        if f["previous"][h] >= PREVIOUS_TOKEN_MIN:
            labels.append("previous-token")
        elif f["self"][h] >= SELF_MIN:
            labels.append("self")
        elif f["first"][h] >= FIRST_TOKEN_MIN:
            labels.append("first-token")
        elif f["distance"][h] <= LOCAL_MAX_DISTANCE:
            labels.append("local")
        elif f["entropy_share"][h] >= BROAD_MIN_ENTROPY:
            labels.append("broad")
        else:
            labels.append("long-range")
    return labels


def head_table(weights: np.ndarray) -> str:
    """A text table, one row per head: the features `classify_heads` reads and the
    class it gives."""
    f, labels = head_features(weights), classify_heads(weights)
    rows = [
        f"{'head':>4} {'w(t-1)':>7} {'w(t)':>6} {'w(0)':>6} {'distance':>9} "
        f"{'entropy':>8} {'/ uniform':>9}  class"
    ]
    for h, label in enumerate(labels):
        rows.append(
            f"{h:>4} {f['previous'][h]:>7.2f} {f['self'][h]:>6.2f} "
            f"{f['first'][h]:>6.2f} {f['distance'][h]:>9.1f} "
            f"{f['entropy'][h]:>8.2f} {f['entropy_share'][h]:>9.2f}  {label}"
        )
    return "\n".join(rows)
