"""Argument checks shared by both frameworks' models: each raises ValueError naming the argument."""

from __future__ import annotations

import math
from collections.abc import Sequence


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return value


def positive_float(name: str, value) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < math.inf
    ):
        raise ValueError(f"{name}: expected a positive number, got {value!r}")
    return float(value)


def widths(name: str, value) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ValueError(
            f"{name}: expected a non-empty sequence of positive ints, got {value!r}"
        )
    return tuple(positive_int(f"{name}[{i}]", width) for i, width in enumerate(value))


def one_of(name: str, value, choices: Sequence):
    if isinstance(value, bool) or value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)!r}, got {value!r}")
    return value


def boolean(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return value


def non_negative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: expected an int >= 0, got {value!r}")
    return value


def fraction(name: str, value) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 <= value < 1
    ):
        raise ValueError(f"{name}: expected a number in [0, 1), got {value!r}")
    return float(value)
