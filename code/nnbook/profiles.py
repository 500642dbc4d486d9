"""Experiment sizes: one setting, `NNBOOK_PROFILE`, picks `full` (the scale a chapter
claims) or `quick`.

Every experiment reads its sizes through `sizes(...)`, so the quick profile runs the
same code path, smaller.
"""

from __future__ import annotations

import os
from typing import Any

from nnbook import checks

ENV_VAR = "NNBOOK_PROFILE"
PROFILES = ("full", "quick")
DEFAULT = "full"


def current() -> str:
    """The profile this process builds with: `$NNBOOK_PROFILE`, `full` when unset."""
    name = os.environ.get(ENV_VAR, DEFAULT).strip().lower() or DEFAULT
    return checks.one_of(ENV_VAR, name, PROFILES)


def sizes(*, full: dict[str, Any], quick: dict[str, Any]) -> dict[str, Any]:
    """The experiment sizes for the current profile; both profiles must name the
    same sizes."""
    checks.instance("full", full, dict)
    checks.instance("quick", quick, dict)
    checks.require(
        "quick",
        full.keys() == quick.keys(),
        f"the same keys as full {sorted(full)}",
        sorted(quick),
    )
    return dict(full if current() == "full" else quick)
