"""What a chapter page states about itself: its profile and data, its glued numbers,
its checked claims.

Works in any Jupyter kernel (Colab included) without the book's build tools installed.
"""

from __future__ import annotations

from typing import Any

from . import checks, profiles

# myst-nb's `glue` stores values under this wire format; written here so notebooks
# need no myst-nb.
_GLUE_PREFIX = "application/papermill.record/"


class ClaimError(AssertionError):
    """A sentence of the chapter that the numbers the build produced do not support."""


def note(*data: Any, synthetic: str | None = None) -> None:
    """Display which profile built this page and which data fed it (file, checksum,
    canonical or stand-in).

    `data` are `nnbook.data.DataFile`s; `synthetic` describes generated data instead
    (e.g. "y = Xw + b, seed 0").
    """
    checks.require(
        "data, synthetic",
        bool(data) or bool(synthetic),
        "at least one DataFile or a description of synthetic data",
        "neither",
    )
    lines = [f"**Built with the `{profiles.current()}` profile.**"]
    lines += [f"Data: {item.provenance()}" for item in data]
    if synthetic:
        lines.append(f"Data: synthetic, {synthetic}")
    _display_markdown("  \n".join(lines))


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
