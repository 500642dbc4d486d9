"""A site that loads nothing from other hosts: MathJax served from the site itself.

Sphinx points MathJax at a CDN, so formulas stay raw offline and every page tells a
third party who reads it. MathJax 3 (the version Sphinx 7.4 configures) is installed
from npm by `scripts/setup.sh` into a git-ignored `node_modules`, found the way Node
finds packages (the book's folder, then its parents) or beside this package's
checkout; the build copies the component the pages load and the files it fetches on
demand (fonts, TeX extensions, the accessibility and speech modules, the menu) into
`_static/mathjax`, and fails, saying to run `scripts/setup.sh`, when MathJax is
missing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sphinx.errors import ConfigError

MATHJAX_MAJOR = "3"
MATHJAX_COMPONENT = "tex-mml-chtml.js"  # the component Sphinx loads (TeX and MathML in)
# the component and what it loads on demand in a browser, in the package's `es5` folder
MATHJAX_FILES = (
    MATHJAX_COMPONENT,
    "input/tex/extensions",  # TeX packages loaded on first use (\require, autoload)
    "input/mml/extensions",
    "output/chtml/fonts/woff-v2",  # the CommonHTML output's fonts
    "a11y",  # the accessibility options of MathJax's menu
    "sre",  # the speech rule engine those options load
    "ui",  # the menu itself, loaded lazily
)
MATHJAX_FOLDER = "mathjax"  # in the site's _static
SETUP_HINT = "run `bash scripts/setup.sh` (it installs MathJax with npm)"


def find_mathjax(starts: list[Path]) -> Path:
    """The installed MathJax 3 package's `es5` folder: in `node_modules` of the first
    of `starts` or their parents that has one (Node's own lookup). Raises ConfigError
    saying how to install it when none is found or it is not MathJax 3."""
    for start in starts:
        for folder in (start, *start.parents):
            package = folder / "node_modules" / "mathjax"
            if (package / "package.json").is_file():
                version = json.loads((package / "package.json").read_text())["version"]
                if not version.startswith(f"{MATHJAX_MAJOR}."):
                    raise ConfigError(
                        f"{package}: expected MathJax {MATHJAX_MAJOR}.x, the version "
                        f"Sphinx's mathjax_path loads, found {version}; {SETUP_HINT}"
                    )
                return package / "es5"
    searched = ", ".join(str(start) for start in starts)
    raise ConfigError(
        f"MathJax is not installed: no node_modules/mathjax in {searched} or their "
        f"parents; {SETUP_HINT}"
    )


def _local_mathjax(app, config) -> None:
    package_checkout = Path(__file__).resolve().parents[3]
    app.nnbook_mathjax = find_mathjax([Path(app.srcdir).resolve(), package_checkout])
    config.mathjax_path = f"{MATHJAX_FOLDER}/{MATHJAX_COMPONENT}"  # in _static


def copy_mathjax(mathjax: Path, static: Path) -> None:
    """Copy the MathJax files pages use from the package folder `mathjax` into the
    site's `static` folder, with MathJax's licence."""
    target = static / MATHJAX_FOLDER
    for relative in MATHJAX_FILES:
        source = mathjax / relative
        if source.is_dir():
            shutil.copytree(source, target / relative, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    shutil.copy2(mathjax.parent / "LICENSE", target / "LICENSE")


def _copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(app.nnbook_mathjax, Path(app.outdir) / "_static")


def setup_local_mathjax(app) -> None:
    """MathJax from the site's `_static`, copied from the npm package."""
    app.connect("config-inited", _local_mathjax)
    app.connect("build-finished", _copy_mathjax)
