"""Argument checks, one rule each, shared by every module of the package.

Why a module of its own: both frameworks' classes take the same arguments, and a rule
written twice drifts (one copy accepted `np.int64(3)`, another refused it). Every
check here

- accepts NumPy scalars like Python ones: an int is anything `operator.index` takes
  (`np.int64` included), a number anything `numbers.Real` covers (`np.float32`
  included); a bool is never taken for a number;
- returns the value normalised (a Python `int`, `float`, `bool`, a tuple, an array),
  so that what a model stores, and what Keras writes into its config, is plain Python;
- raises `ValueError(f"{name}: expected ..., got ...")`, naming the argument and what
  was received, so both frameworks' versions of a class fail with the same message.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Sequence
from typing import NoReturn

import numpy as np

__all__ = [
    "integer",
    "positive_int",
    "non_negative_int",
    "number",
    "positive_float",
    "non_negative_number",
    "fraction",
    "boolean",
    "one_of",
    "widths",
    "instance",
    "shape",
    "array",
    "images",
    "images_and_labels",
    "require",
    "describe",
]

_INTEGER_DTYPES = {f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)}
_FLOAT_DTYPES = {"float16", "bfloat16", "float32", "float64"}


def _fail(name: str, expected: str, got: object) -> NoReturn:
    raise ValueError(f"{name}: expected {expected}, got {got}")


def require(name: str, holds: bool, expected: str, got: object) -> None:
    """A rule that belongs to one place (`d_model` divisible by `n_heads`, a prompt
    with at least one id): raises `ValueError(f"{name}: expected {expected}, got
    {got}")` unless `holds`. `got` is shown as given: pass `repr(value)` for a value,
    or a description ("shape (2, 3)", "none")."""
    if not holds:
        _fail(name, expected, got)


# --------------------------------------------------------------------------- scalars


def _is_boolean(value) -> bool:
    # bool is an int subclass and np.bool_ / boolean tensors convert to 0 and 1:
    # refused wherever a number is expected, so that True never passes for 1
    dtype = getattr(value, "dtype", None)
    return isinstance(value, (bool, np.bool_)) or _dtype_name(dtype) == "bool"


def _as_int(value) -> int | None:
    """`value` as a Python int when it is an integer of any kind, else None."""
    if _is_boolean(value):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def integer(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """An int (`np.int64` included) in [low, high]; a bound left None is no bound."""
    if low == 1 and high is None:
        expected = "a positive int"
    elif low is not None and high is not None:
        expected = f"an int in [{low}, {high}]"
    elif low is not None:
        expected = f"an int >= {low}"
    elif high is not None:
        expected = f"an int <= {high}"
    else:
        expected = "an int"
    as_int = _as_int(value)
    if (
        as_int is None
        or (low is not None and as_int < low)
        or (high is not None and as_int > high)
    ):
        _fail(name, expected, repr(value))
    return as_int


def positive_int(name: str, value) -> int:
    """A size or a count: an int >= 1."""
    return integer(name, value, low=1)


def non_negative_int(name: str, value) -> int:
    """A seed, a padding, an index: an int >= 0."""
    return integer(name, value, low=0)


def number(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number (`np.float32` and ints included) between low and high,
    each bound included unless `low_open` / `high_open`; returned as a float."""
    if low == 0 and high is None:
        expected = "a positive number" if low_open else "a non-negative number"
    elif low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        expected = f"a number in {left}{low}, {high}{right}"
    elif low is not None:
        expected = f"a number {'>' if low_open else '>='} {low}"
    elif high is not None:
        expected = f"a number {'<' if high_open else '<='} {high}"
    else:
        expected = "a finite number"
    if _is_boolean(value) or not isinstance(value, numbers.Real):
        _fail(name, expected, repr(value))
    as_float = float(value)
    if (
        not math.isfinite(as_float)
        or (low is not None and (as_float <= low if low_open else as_float < low))
        or (high is not None and (as_float >= high if high_open else as_float > high))
    ):
        _fail(name, expected, repr(value))
    return as_float


def positive_float(name: str, value) -> float:
    """A learning rate, a scale, a temperature: a finite number > 0."""
    return number(name, value, low=0, low_open=True)


def non_negative_number(name: str, value) -> float:
    """A weight decay, a penalty: a finite number >= 0."""
    return number(name, value, low=0)


def fraction(name: str, value) -> float:
    """A dropout rate, a share of the data: a number in [0, 1)."""
    return number(name, value, low=0, high=1, high_open=True)


def boolean(name: str, value) -> bool:
    """A switch: True or False (`np.True_` included), never 0 or 1."""
    if not isinstance(value, (bool, np.bool_)):
        _fail(name, "True or False", repr(value))
    return bool(value)


def one_of(name: str, value, choices: Sequence):
    """One of `choices`, returned as the choice itself (so `np.int64(2)` among ints
    comes back as the Python int 2). An int choice matches only an int (not a bool,
    not 2.0), a str choice only a str."""
    for choice in choices:
        if isinstance(choice, numbers.Integral) and not isinstance(choice, bool):
            matches = _as_int(value) == choice
        elif isinstance(choice, str):
            matches = isinstance(value, str) and value == choice
        else:
            matches = type(value) is type(choice) and value == choice
        if matches:
            return choice
    _fail(name, f"one of {list(choices)!r}", repr(value))


def widths(name: str, value) -> tuple[int, ...]:
    """Layer widths: a non-empty sequence (or 1-D array) of positive ints, returned as
    a tuple of Python ints; a bad entry is named by its index, `widths[1]`."""
    is_sequence = isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    is_vector = isinstance(value, np.ndarray) and value.ndim == 1
    if not (is_sequence or is_vector) or len(value) == 0:
        _fail(name, "a non-empty sequence of positive ints", repr(value))
    return tuple(positive_int(f"{name}[{i}]", width) for i, width in enumerate(value))


def _type_name(value) -> str:
    """The type's name: a model's repr can run to pages, its type says enough."""
    return type(value).__qualname__


def instance(name: str, value, cls: type | tuple[type, ...], what: str | None = None):
    """An instance of `cls` (a configuration dataclass, a layer). `what` says it in
    words where the class name would not do (both frameworks' `Sequential` say "a
    layer of this framework", though one means nn.Module and the other keras Layer)."""
    if not isinstance(value, cls):
        names = (
            cls.__name__
            if isinstance(cls, type)
            else " or ".join(c.__name__ for c in cls)
        )
        article = "an" if names[0].lower() in "aeiou" else "a"
        _fail(name, what or f"{article} {names}", _type_name(value))
    return value


# ----------------------------------------------------------------- arrays, tensors


def _dtype_name(dtype) -> str | None:
    """'float32' for NumPy's, TensorFlow's and PyTorch's float32 alike."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", None)  # NumPy and TensorFlow dtypes
    return name if isinstance(name, str) else str(dtype).removeprefix("torch.")


def describe(value) -> str:
    """What an error message says it got: "float32 (2, 3)" for an array or a tensor
    of any framework (the same words for all three), the type's name otherwise."""
    dims, dtype = _dims(value), _dtype_name(getattr(value, "dtype", None))
    if dims is None:
        unknown = getattr(value, "shape", None) is not None
        return "a shape of unknown rank" if unknown else _type_name(value)
    return f"{dtype} {dims}" if dtype else f"shape {dims}"


def _dims(value) -> tuple | None:
    """The shape as a tuple (None for an axis unknown while TensorFlow traces), or
    None when `value` has no shape or its rank is unknown."""
    shape = getattr(value, "shape", None)
    if shape is None or getattr(shape, "rank", 0) is None:
        return None
    return tuple(None if d is None else int(d) for d in shape)


def _pattern_text(pattern: tuple) -> str:
    parts = [str(p) for p in pattern]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _at_least_text(at_least: dict[str, int]) -> str:
    by_bound: dict[int, list[str]] = {}
    for axis, bound in at_least.items():
        by_bound.setdefault(bound, []).append(axis)
    return "".join(
        f" with {', '.join(axes)} >= {bound}" for bound, axes in by_bound.items()
    )


def _matches(dims: tuple, pattern: tuple, at_least: dict, non_empty: bool) -> bool:
    fixed = pattern[1:] if pattern[:1] == ("...",) else pattern
    if len(dims) < len(fixed) or (fixed is pattern and len(dims) != len(pattern)):
        return False
    sizes: dict[str, int] = {}
    for dim, spec in zip(dims[len(dims) - len(fixed) :], fixed):
        if dim is None:  # unknown until the graph runs: nothing to check
            continue
        if isinstance(spec, str):  # a named axis: the same name, the same size
            if sizes.setdefault(spec, dim) != dim or dim < at_least.get(spec, 0):
                return False
        elif spec is not None and dim != spec:  # None: a size not known yet either
            return False
        if non_empty and dim == 0:
            return False
    return True


def _check_shape(
    name, value, pattern, noun, *, dtype, what, at_least, non_empty, kind=None
) -> tuple:
    at_least = at_least or {}
    if what is None:
        word = "float" if dtype == "floating" else dtype
        what = " ".join(
            filter(
                None,
                [
                    "a",
                    "non-empty" if non_empty else None,
                    None if "..." in pattern else f"{len(pattern)}-D",
                    word,
                    noun,
                    "of shape" if "..." in pattern else None,
                ],
            )
        )
    expected = f"{what} {_pattern_text(pattern)}{_at_least_text(at_least)}"
    dims, value_dtype = _dims(value), _dtype_name(getattr(value, "dtype", None))
    if dims is None:
        _fail(name, expected, describe(value))
    if kind is not None and not kind(value):
        _fail(name, expected, f"{_type_name(value)} {describe(value)}")
    dtype_ok = (
        dtype is None
        or (dtype == "integer" and value_dtype in _INTEGER_DTYPES)
        or (dtype == "floating" and value_dtype in _FLOAT_DTYPES)
        or dtype == value_dtype
    )
    if not dtype_ok or not _matches(dims, tuple(pattern), at_least, non_empty):
        _fail(name, expected, describe(value))
    return dims


def shape(
    name: str,
    value,
    pattern: tuple,
    *,
    dtype: str | None = None,
    what: str | None = None,
    kind: Callable[[object], bool] | None = None,
    at_least: dict[str, int] | None = None,
    non_empty: bool = False,
) -> tuple:
    """A tensor of either framework (or any value with a `.shape`) whose shape fits
    `pattern`; returns the shape as a tuple.

    `pattern` holds an int per axis of fixed size (None: any), or a name ("B", "T")
    per axis of any size (one name, one size: ("H", "T", "T") is square); a leading
    "..." allows any leading axes. `dtype`: "integer", "floating" or a dtype name
    ("uint8"); `kind`: a test of the value's type (`torch.is_tensor`); `at_least`: the
    smallest size of named axes ({"H": 32, "W": 32}); `non_empty`: no axis of size 0.
    Axes that TensorFlow does not know yet (None while tracing) pass. `what` replaces
    the words before the pattern ("a 2-D tensor", "images")."""
    return _check_shape(
        name,
        value,
        pattern,
        "tensor",
        dtype=dtype,
        what=what,
        at_least=at_least,
        non_empty=non_empty,
        kind=kind,
    )


def array(
    name: str,
    value,
    pattern: tuple,
    *,
    dtype: str | None = None,
    what: str | None = None,
    at_least: dict[str, int] | None = None,
    non_empty: bool = False,
) -> np.ndarray:
    """`value` (an array, a list) as a NumPy array whose shape fits `pattern`; the
    arguments are those of `shape`."""
    as_array = np.asarray(value)
    _check_shape(
        name,
        as_array,
        pattern,
        "array",
        dtype=dtype,
        what=what,
        at_least=at_least,
        non_empty=non_empty,
    )
    return as_array


def images(name: str, value) -> np.ndarray:
    """A batch of images as the CIFAR-10 functions of both frameworks take them: uint8
    (N, H, W, 3), channels last, 0..255; returned as an array."""
    return array(
        name, value, ("N", "H", "W", 3), dtype="uint8", what="uint8 images of shape"
    )


def images_and_labels(name: str, value) -> tuple[np.ndarray, np.ndarray]:
    """A labelled image set: a pair (uint8 images (N, H, W, 3), integer labels (N,)),
    returned as two arrays."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        _fail(name, "a pair (images, labels)", _type_name(value))
    x = images(name, value[0])
    labels = array(
        name, value[1], (len(x),), dtype="integer", what="integer labels of shape"
    )
    return x, labels
