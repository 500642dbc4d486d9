"""The book's Sphinx extension: framework tab sets, per-framework notebooks, build keys,
the scope of execution, the results page.

Listed in `_config.yml` under `sphinx.extra_extensions` as `nnbook.sphinxext`. Each
module registers its own events and configuration; this only wires them together.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .build_key import setup_build_key
from .build_page import setup_build_page
from .execution_scope import setup_execution_scope
from .framework_tabs import setup_framework_tabs
from .framework_view import setup_framework_view
from .local_mathjax import setup_local_mathjax
from .notebooks import setup_notebooks
from .page_dates import setup_page_dates
from .repository_buttons import setup_repository_buttons
from .results import setup_results


def source_version(folder: Path = Path(__file__).parent) -> int:
    """A number that changes with the extension's own code (its modules in `folder`).

    Sphinx re-reads only the pages whose sources changed, so after an edit of this
    extension the old doctrees would keep being written out. Declared as the
    extension's `env_version`, a changed number makes Sphinx start a fresh environment
    and re-read every page (executing nothing: the notebooks come from the cache)."""
    digest = hashlib.sha256()
    for module in sorted(folder.glob("*.py")):
        digest.update(module.name.encode() + module.read_bytes())
    return int(digest.hexdigest()[:12], 16)


def _add_static(app) -> None:
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app):
    setup_framework_tabs(app)
    setup_framework_view(app)
    setup_notebooks(app)
    setup_build_key(app)
    setup_execution_scope(app)
    setup_results(app)
    setup_repository_buttons(app)
    setup_page_dates(app)
    setup_local_mathjax(app)
    setup_build_page(app)
    app.connect("builder-inited", _add_static)  # the stylesheet of tabs and downloads
    app.add_css_file("nnbook.css")
    return {
        "version": "0.1",
        "env_version": source_version(),
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
