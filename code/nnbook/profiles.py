"""Experiment sizes: one setting, `NNBOOK_PROFILE`, picks `full` (the scale a chapter claims) or `quick`.

Every experiment reads its sizes through `sizes(...)`, so the quick profile runs the same code path, smaller.
"""

from __future__ import annotations

import os
from typing import Any

ENV_VAR = "NNBOOK_PROFILE"
PROFILES = ("full", "quick")
DEFAULT = "full"


def current() -> str:
    """The profile this process builds with: `$NNBOOK_PROFILE`, `full` when unset."""
    name = os.environ.get(ENV_VAR, DEFAULT).strip().lower() or DEFAULT
    if name not in PROFILES:
        raise ValueError(f"{ENV_VAR}: expected one of {list(PROFILES)}, got {name!r}")
    return name


def sizes(*, full: dict[str, Any], quick: dict[str, Any]) -> dict[str, Any]:
    """The experiment sizes for the current profile; both profiles must name the same sizes."""
    if not isinstance(full, dict) or not isinstance(quick, dict):
        raise ValueError("full, quick: expected two dicts of sizes")
    if full.keys() != quick.keys():
        raise ValueError(
            f"quick: expected the same keys as full {sorted(full)}, got {sorted(quick)}"
        )
    return dict(full if current() == "full" else quick)
