"""The book's Sphinx extension: framework tab sets, per-framework notebooks, build keys,
the scope of execution, the results page.

Listed in `_config.yml` under `sphinx.extra_extensions` as `nnbook.sphinxext`. Each
module registers its own events and configuration; this only wires them together.
"""

from __future__ import annotations

from pathlib import Path

from .build_key import setup_build_key
from .execution_scope import setup_execution_scope
from .framework_tabs import setup_framework_tabs
from .framework_view import setup_framework_view
from .notebooks import setup_notebooks
from .results import setup_results
from .site_switches import setup_site_switches


def _add_static(app) -> None:
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app):
    setup_framework_tabs(app)
    setup_framework_view(app)
    setup_notebooks(app)
    setup_build_key(app)
    setup_execution_scope(app)
    setup_results(app)
    setup_site_switches(app)
    app.connect("builder-inited", _add_static)  # the stylesheet of tabs and downloads
    app.add_css_file("nnbook.css")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
