"""The book's Sphinx extension: framework tab sets, per-framework notebooks, and build keys.

Listed in `_config.yml` under `sphinx.extra_extensions` as `nnbook.sphinxext`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .build_key import append_build_key, outdated_on_profile_change
from .framework_tabs import FrameworkTabs
from .notebooks import add_download_links, write_notebooks


def _add_static(app) -> None:
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def _init_env(app) -> None:
    if not hasattr(
        app.env, "nnbook_framework_docs"
    ):  # a fresh environment, not one unpickled from a build
        app.env.nnbook_framework_docs = set()


def _purge(app, env, docname) -> None:
    env.nnbook_framework_docs.discard(docname)


def _merge(app, env, docnames, other) -> None:
    env.nnbook_framework_docs |= other.nnbook_framework_docs & set(docnames)


def _repository_url(app, config) -> None:
    """Use the configured repository (`_config.yml` `repository.url`) unless `nnbook_repository_url` is set."""
    if not config.nnbook_repository_url:
        config.nnbook_repository_url = (config.html_theme_options or {}).get(
            "repository_url", ""
        )


def setup(app):
    app.setup_extension("sphinx_design")
    app.setup_extension("myst_nb")
    app.add_config_value(
        "nnbook_repository_url", os.environ.get("NNBOOK_REPOSITORY_URL", ""), "html"
    )
    app.add_config_value(
        "nnbook_repository_branch",
        os.environ.get("NNBOOK_REPOSITORY_BRANCH", "main"),
        "html",
    )
    app.add_config_value("nnbook_notebooks_branch", "notebooks", "html")
    app.connect("config-inited", _repository_url)
    app.connect("builder-inited", _init_env)
    app.connect("builder-inited", _add_static)
    app.add_css_file("nnbook.css")
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("source-read", append_build_key)
    app.connect("env-get-outdated", outdated_on_profile_change)
    app.connect("doctree-read", add_download_links)
    app.connect("build-finished", write_notebooks)
    app.add_transform(FrameworkTabs)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
