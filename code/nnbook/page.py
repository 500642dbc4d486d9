"""What a chapter page states about itself: its profile and data, its glued numbers,
its checked claims, its results that the other framework's tab measures too.

Works in any Jupyter kernel (Colab included) without the book's build tools installed.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from . import checks, profiles

# myst-nb's `glue` stores values under this wire format; written here so notebooks
# need no myst-nb.
_GLUE_PREFIX = "application/papermill.record/"
# the name `note` glues its build record under; the book's Build page reads it back
BUILD_RECORD = "nnbook_build_record"

# `result`: the glue name of a framework's half of a result is RESULT_PREFIX + key +
# "-" + framework; the book's extension collects the halves and pairs them by key
RESULT_PREFIX = "nnbook-result-"
RESULT_MIME = "application/vnd.nnbook.result+json"  # a JSON object, for nbformat
RESULT_FRAMEWORKS = ("pytorch", "tensorflow")
RESULT_KINDS = {  # kind -> the format of its values unless `fmt` says otherwise
    "accuracy": "{:.1%}",  # a test accuracy, a fraction
    "loss": "{:.3f}",  # a final loss or error (MSE, MAE, cross-entropy)
    "speed": "{:,.0f}",  # images/s, tokens/s: the unit says which
    "parity": "{:.1e}",  # the largest absolute difference from a reference
}


class ClaimError(AssertionError):
    """A sentence of the chapter that the numbers the build produced do not support."""


def note(*data: Any, synthetic: str | None = None) -> None:
    """Display which profile built this page and which data fed it (file, checksum,
    canonical or stand-in), and glue the record of this run that the book's Build page
    lists (`build_record`). Call it once per page.

    `data` are `nnbook.data.DataFile`s; `synthetic` describes generated data instead
    (e.g. "y = Xw + b, seed 0").
    """
    checks.require(
        "data, synthetic",
        bool(data) or bool(synthetic),
        "at least one DataFile or a description of synthetic data",
        "neither",
    )
    sources = [item.provenance() for item in data]
    if synthetic:
        sources.append(f"synthetic, {synthetic}")
    lines = [f"**Built with the `{profiles.current()}` profile.**"]
    lines += [f"Data: {source}" for source in sources]
    _display_markdown("  \n".join(lines))
    # kept in the executed notebook itself, so it outlives the execution cache's
    # own timestamps, which a merge of caches built elsewhere rewrites
    glue(BUILD_RECORD, json.dumps(build_record(sources), sort_keys=True))


def build_record(sources: list[str]) -> dict[str, Any]:
    """What the book's Build page says of this run of a chapter: when it started
    (UTC), its profile, the versions of Python, PyTorch and TensorFlow (None when not
    installed) and where its data came from (`sources`, one line each)."""
    return {
        "ran_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "profile": profiles.current(),
        "python": platform.python_version(),
        "torch": _installed_version("torch"),
        "tensorflow": _installed_version("tensorflow"),
        "data": list(sources),
    }


def _installed_version(module: str) -> str | None:
    """The version of the installed distribution providing the top-level `module`.

    Read from the package metadata: importing TensorFlow only to ask costs seconds.
    """
    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        pass
    # a distribution named otherwise (tensorflow-cpu): a slower scan of them all
    providers = metadata.packages_distributions().get(module, [])
    return metadata.version(providers[0]) if providers else None


def glue(name: str, value: Any, fmt: str | None = None) -> Any:
    """Store `value` (formatted with `fmt`, e.g. "{:.3f}") for the prose's
    {glue}`name`; returns `value`."""
    checks.require(
        "name",
        isinstance(name, str) and name.isidentifier(),
        "an identifier-like string",
        repr(name),
    )
    from IPython import get_ipython
    from IPython.display import display

    text = fmt.format(value) if fmt else str(value)
    # outside a kernel there is no notebook to store into
    if get_ipython() is not None:
        display(
            {_GLUE_PREFIX + "text/plain": text},
            raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": _GLUE_PREFIX}},
        )
    return value


def result(
    key: str,
    framework: str,
    value: Any,
    *,
    kind: str,
    label: str,
    fmt: str | None = None,
    unit: str = "",
    tolerance: Any = None,
) -> float:
    """Declare `framework`'s half of a result that both frameworks' tabs measure, for
    the book's results page; returns `value` as a float.

    `key` pairs the halves (an identifier, the same in both tabs); `kind` is one of
    RESULT_KINDS (for "parity", `value` is this framework's largest absolute
    difference from a reference both tabs share, or from its own built-in); `label`
    names the result in words, the same in both tabs; `fmt` formats the value (the
    kind's format by default); `unit` follows it ("images/s"); `tolerance` is the
    largest value the chapter accepts, if it states one. Recorded as glue data,
    which the page does not display; outside a kernel it just returns.
    """
    checks.require(
        "key", isinstance(key, str) and key.isidentifier(), "an identifier", repr(key)
    )
    checks.one_of("framework", framework, RESULT_FRAMEWORKS)
    checks.one_of("kind", kind, tuple(RESULT_KINDS))
    fmt = RESULT_KINDS[kind] if fmt is None else fmt
    value = checks.number("value", value)
    for name, text in (("label", label), ("unit", unit), ("fmt", fmt)):
        checks.require(name, isinstance(text, str), "a string", repr(text))
    checks.require("label", bool(label.strip()), "a non-empty label", repr(label))
    checks.require("fmt", _formats_a_number(fmt), 'a format such as "{:.3g}"', fmt)
    if tolerance is not None:
        tolerance = checks.positive_float("tolerance", tolerance)
    record = {
        "key": key,
        "framework": framework,
        "value": value,
        "kind": kind,
        "label": label,
        "fmt": fmt,
        "unit": unit,
        "tolerance": tolerance,
    }
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        from IPython.display import display

        # The running cell's execution count: the extension finds by it the cell,
        # and so the section, that declared the half (through a helper function
        # too). IPython stores a cell's input as In[count] before running it; whether
        # `shell.execution_count` is raised before or after depends on the version.
        record["execution_count"] = len(shell.history_manager.input_hist_parsed) - 1
        name = f"{RESULT_PREFIX}{key}-{framework}"
        text = f"{label}: {fmt.format(value)} {unit}".rstrip()
        display(
            {_GLUE_PREFIX + RESULT_MIME: record, _GLUE_PREFIX + "text/plain": text},
            raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": _GLUE_PREFIX}},
        )
    return value


def _formats_a_number(fmt: str) -> bool:
    try:
        fmt.format(1.5)
    except (ValueError, IndexError, KeyError):
        return False
    return "{" in fmt


def claim(holds: bool, sentence: str) -> None:
    """Fail the build when a sentence of the chapter is not true of the numbers just
    computed."""
    checks.require(
        "sentence",
        isinstance(sentence, str) and bool(sentence),
        "the claim as a non-empty string",
        repr(sentence),
    )
    if not holds:
        raise ClaimError(
            f"The chapter claims: {sentence!r}, "
            "but the numbers this build produced disagree."
        )


def _display_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))
