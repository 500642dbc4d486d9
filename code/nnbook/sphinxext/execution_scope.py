"""Execute only the chapters named; build the others from the execution cache.

A one-chapter build (`scripts/build-book.sh full book/resnets.md`) and each shard of the
publishing workflow execute a few chapters into the shared jupyter-cache, and the site
around them is built from what that cache already holds. myst-nb cannot be told so:
in its `cache` mode it executes every notebook page the cache lacks, and a page it is
told to exclude skips the cache as well. So the choice is made here, on `source-read`,
where a page's notebook can be matched against the cache as myst-nb will read it. A page
outside the scope that the cache lacks is replaced by a short page saying that it was
left out, and the build ends by listing those pages. With the scope `none` (the site
assembled from the shards' merged caches) such a page is an error: that build executes
nothing.

The scope is the configuration value `nnbook_execute` (environment `NNBOOK_EXECUTE`):
`all` (the default), `none`, or page paths separated by spaces, relative to the book's
folder or absolute.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from jupyter_cache import get_cache
from myst_nb.core.read import create_nb_reader
from sphinx.errors import ConfigError
from sphinx.util import logging

from nnbook import profiles

logger = logging.getLogger(__name__)

ALL, NONE = "all", "none"
TITLE = re.compile(r"^#\s+(.+?)\s*$", re.MULTILINE)


def scope_docnames(app, env) -> set[str] | None:
    """The pages the configured scope executes: None for all of them."""
    value = app.config.nnbook_execute.strip()
    if value == ALL:
        return None
    if value == NONE:
        return set()
    docnames = set()
    for path in value.split():
        docname = env.path2doc(str(Path(app.srcdir, path).resolve()))
        if docname not in env.found_docs:
            examples = ", ".join(sorted(env.found_docs)[:3])
            raise ConfigError(
                f"nnbook_execute (NNBOOK_EXECUTE): expected {ALL!r}, {NONE!r} or"
                f" paths of pages of this book (such as {examples}),"
                f" got {path!r}"
            )
        docnames.add(docname)
    return docnames


def cached(app, docname: str, text: str) -> bool | None:
    """Whether the execution cache holds the notebook `text` reads as; None when the
    page is not a notebook (nothing to execute)."""
    path = str(app.env.doc2path(docname))
    config = app.env.mystnb_config
    reader = create_nb_reader(path, app.env.myst_config, config, text)
    if reader is None:
        return None
    notebook = reader.read(text)
    cache = get_cache(config.execution_cache_path or ".jupyter_cache")
    try:
        cache.match_cache_notebook(notebook)
    except KeyError:
        return False
    return True


def left_out_page(text: str, path: str, profile: str) -> str:
    """A page in place of a chapter that this build neither executed nor found."""
    title = TITLE.search(text)
    return (
        f"# {title.group(1) if title else path}\n\n"
        ":::{important}\n"
        "This chapter was left out of this build: it was not among the chapters"
        " executed, and the execution cache holds no run of its current code. Build"
        f" it with `bash scripts/build-book.sh {profile} {path}`.\n"
        ":::\n"
    )


def restrict_execution(app, docname: str, source: list[str]) -> None:
    """On `source-read`, after the build key is appended: leave out a notebook page
    outside the scope that the execution cache lacks."""
    scope = app.env.nnbook_execution_scope
    if (
        scope is None
        or docname in scope
        or cached(app, docname, source[0]) is not False
    ):
        return
    path = Path(app.env.doc2path(docname)).relative_to(app.srcdir).as_posix()
    app.env.nnbook_left_out.add(docname)
    if not scope:
        logger.error(
            "not in the execution cache, and this build executes nothing"
            f" (nnbook_execute = {NONE!r}): the build that runs it failed, or ran"
            " other code",
            location=docname,
        )
    source[0] = left_out_page(source[0], path, profiles.current())


def read_scope(app, env, added, changed, removed) -> list[str]:
    """On `env-get-outdated`: resolve the scope against the pages found; the pages it
    names are read again (from the cache, or executed), and so are the pages left out
    last time, since the cache may hold them now."""
    env.nnbook_execution_scope = scope_docnames(app, env)
    return sorted((env.nnbook_execution_scope or set()) | env.nnbook_left_out)


def report_left_out(app, exception) -> None:
    """On `build-finished`: say which chapters this build left out."""
    left_out = sorted(app.env.nnbook_left_out)
    if exception is not None or not left_out:
        return
    paths = " ".join(
        Path(app.env.doc2path(docname)).relative_to(app.srcdir).as_posix()
        for docname in left_out
    )
    chapters = "chapter" if len(left_out) == 1 else "chapters"
    logger.info(
        f"nnbook: {len(left_out)} {chapters} left out of this build (not executed"
        f" here, not in the execution cache): {paths}"
    )


def _init_env(app) -> None:
    if not hasattr(app.env, "nnbook_left_out"):
        # a fresh environment, not one unpickled from an earlier build
        app.env.nnbook_left_out = set()


def _purge(app, env, docname) -> None:
    env.nnbook_left_out.discard(docname)


def _merge(app, env, docnames, other) -> None:
    env.nnbook_left_out |= other.nnbook_left_out & set(docnames)


def setup_execution_scope(app) -> None:
    """The scope of execution, the pages left out, and the report of them."""
    app.setup_extension("myst_nb")
    # no rebuild on a new scope: pages read before keep their outputs
    app.add_config_value("nnbook_execute", os.environ.get("NNBOOK_EXECUTE", ALL), "")
    app.connect("builder-inited", _init_env)
    app.connect("env-get-outdated", read_scope)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    # after the build key's handler (priority 500): the key is part of the notebook
    app.connect("source-read", restrict_execution, priority=600)
    app.connect("build-finished", report_left_out)
