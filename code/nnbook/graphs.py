"""The two-tower model's configuration, shared by both frameworks' `graphs` modules.

`nnbook.torch.graphs` and `nnbook.tf.graphs` re-export it: one dataclass, two
implementations.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnbook import checks

__all__ = ["TwoTowerConfig"]


@dataclass
class TwoTowerConfig:
    d_query: int = 12  # query features
    d_item: int = 8  # item features
    d_model: int = 16  # D: the width of both towers
    n_classes: int = 5  # item categories

    def __post_init__(self):
        for name in ("d_query", "d_item", "d_model", "n_classes"):
            setattr(self, name, checks.positive_int(name, getattr(self, name)))
