"""Configurations shared by both frameworks' versions of a model: one dataclass, two implementations.

`nnbook.torch.<module>` and `nnbook.tf.<module>` re-export the config of their models, so each framework's
module still offers every name its mirror offers.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnbook import checks


@dataclass
class TwoTowerConfig:
    d_query: int = 12  # query features
    d_item: int = 8  # item features
    d_model: int = 16  # D: the width of both towers
    n_classes: int = 5  # item categories

    def __post_init__(self):
        for name in ("d_query", "d_item", "d_model", "n_classes"):
            checks.positive_int(name, getattr(self, name))
