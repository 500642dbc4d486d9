"""The book's Build page: how each chapter of the book being read was built.

A reader of the published book cannot otherwise tell when a chapter's numbers were
computed, whether this build ran the chapter or took it from the execution cache, with
which profile and versions of Python, PyTorch and TensorFlow, or from which data. The
publishing workflow executes chapters on separate machines and merges their execution
caches, which rewrites the caches' own timestamps; so when a chapter ran, its profile,
versions and data come from the record `nnbook.page.note` glues into the executed
notebook itself (`nnbook.page.build_record`), which travels with the cache. myst-nb's
execution data of the page adds the execution seconds (kept in the cache record's data,
which a merge copies); whether this build executed the chapter is decided on
`source-read`, where the page's notebook is matched against the cache as myst-nb will
match it (myst-nb's own `method` is the execution mode, the same either way).

The directive `nnbook-build-info` places the table; it is filled on `doctree-resolved`,
once every page has been read. A chapter without a record (left out of a partial
build, not run, or not calling `note`) is listed saying so rather than dropped. A page
holding the table is read again whenever any other page is (on `env-before-read-docs`,
which, unlike `env-get-outdated`, sees the pages other extensions add), so that its
table is never stale.
"""

from __future__ import annotations

import json
from datetime import datetime

from docutils import nodes
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode

from nnbook.page import BUILD_RECORD

from .execution_scope import cached
from .glued import glued_outputs
from .listing_pages import read_with_any_page, toc_order

COLUMNS = ("Chapter", "Ran at (UTC)", "Seconds", "From cache", "Profile", "Versions")
# the versions a build record names: label, key
VERSIONS = {"Python": "python", "PyTorch": "torch", "TensorFlow": "tensorflow"}
LEFT_OUT = (
    "Not built in this build: left out of it (not executed here, and the execution"
    " cache holds no run of its current code)."
)
NOT_RUN = "Not built in this build: its notebook was not executed."
NO_RECORD = (
    "No build record: the page does not call nnbook.page.note, which records when"
    " and with what it ran."
)


class build_info_table(nodes.General, nodes.Element):
    """Where the table goes; replaced once every page has been read."""


class BuildInfoDirective(SphinxDirective):
    """```{nnbook-build-info}```: the table of how each chapter was built."""

    def run(self) -> list[nodes.Node]:
        self.env.nnbook_build_pages.add(self.env.docname)
        return [build_info_table()]


def ran_at(record: dict) -> str:
    """The record's UTC time as the table shows it."""
    when = datetime.strptime(record["ran_at"], "%Y-%m-%dT%H:%M:%SZ")
    return when.strftime("%Y-%m-%d %H:%M:%S")


def read_record(env, docname: str) -> dict | None:
    """The build record a notebook page glued; None without one."""
    data = glued_outputs(env, docname).get(BUILD_RECORD)
    return json.loads(data["text/plain"]) if data else None


def note_cache_hit(app, docname: str, source: list[str]) -> None:
    """On `source-read`, after the build key and the execution scope have changed the
    page: whether myst-nb will take this notebook from the execution cache."""
    env = app.env
    mode = env.mystnb_config.execution_mode
    from_cache = cached(app, docname, source[0]) if mode == "cache" else False
    if from_cache is not None:  # None: not a notebook
        env.nnbook_build_info[docname] = {"from_cache": from_cache}


def collect(app, doctree: nodes.document) -> None:
    """On `doctree-read`: what the table says of this page, if it is a chapter."""
    env = app.env
    docname = env.docname
    if docname in getattr(env, "nnbook_left_out", ()):
        env.nnbook_build_info[docname] = {"left_out": True}
        return
    if docname not in env.nnbook_build_info:
        return  # not a notebook
    executed = getattr(env, "nb_metadata", {}).get(docname, {}).get("exec_data")
    env.nnbook_build_info[docname].update(
        run=executed is not None,
        seconds=None if executed is None else executed["runtime"],
        record=read_record(env, docname),
    )


def text_entry(*lines: str, **attributes) -> nodes.entry:
    """A table cell of one line, or of several set close as a line block."""
    if len(lines) == 1:
        return nodes.entry("", nodes.paragraph(text=lines[0]), **attributes)
    block = nodes.line_block("", *(nodes.line(text=line) for line in lines))
    return nodes.entry("", block, **attributes)


def not_built_reason(info: dict) -> str | None:
    """Why the table has no record of a chapter's run; None when it has one."""
    if info.get("left_out"):
        return LEFT_OUT
    if not info["run"]:
        return NOT_RUN
    if info["record"] is None:
        return NO_RECORD
    return None


def chapter_rows(app, fromdocname: str, docname: str, info: dict) -> list[nodes.row]:
    """A chapter's row, and under it the row of its data (too long for a column of a
    table that fits the page)."""
    title = app.env.titles[docname].astext()
    link = make_refnode(app.builder, fromdocname, docname, "", nodes.Text(title))
    chapter = nodes.entry("", nodes.paragraph("", "", link))
    reason = not_built_reason(info)
    if reason:
        # one cell across the other columns
        return [nodes.row("", chapter, text_entry(reason, morecols=len(COLUMNS) - 2))]
    record, seconds = info["record"], info["seconds"]
    # a chapter this build did not read again was not run by it either
    from_cache = info["from_cache"] or docname not in app.env.nnbook_docs_read
    when = ran_at(record)
    # a no-break space: a name never parted from its version
    versions = [
        f"{label}\N{NO-BREAK SPACE}{record[name] or 'not installed'}"
        for label, name in VERSIONS.items()
    ]
    chapter["morerows"] = 1  # beside its data row too
    run = nodes.row(
        "",
        chapter,
        text_entry(*when.split(" ")),  # the date, then the time
        text_entry("—" if seconds is None else f"{seconds:,.1f}"),
        text_entry("yes" if from_cache else "no"),
        text_entry(record["profile"]),
        text_entry(*versions),
    )
    data = text_entry(
        *(f"Data: {source}" for source in record["data"]), morecols=len(COLUMNS) - 2
    )
    return [run, nodes.row("", data)]


def build_table(app, fromdocname: str) -> nodes.table:
    """Rows for each chapter, in the order of the table of contents."""
    info = app.env.nnbook_build_info
    chapters = [
        docname
        for docname in toc_order(app.env, app.config.root_doc)
        if docname in info
    ]
    group = nodes.tgroup(cols=len(COLUMNS))
    group += [nodes.colspec(colwidth=1) for _ in COLUMNS]
    group += nodes.thead("", nodes.row("", *map(text_entry, COLUMNS)))
    group += nodes.tbody(
        "",
        *(
            row
            for name in chapters
            for row in chapter_rows(app, fromdocname, name, info[name])
        ),
    )
    return nodes.table("", group, classes=["colwidths-auto", "nnbook-build-table"])


def fill_tables(app, doctree: nodes.document, docname: str) -> None:
    """On `doctree-resolved`: every page has been read, the table can be made."""
    for placeholder in list(doctree.findall(build_info_table)):
        placeholder.replace_self(build_table(app, docname))


def note_removals(app, env, added, changed, removed) -> list[str]:
    """On `env-get-outdated`: a chapter removed changes the table too."""
    env.nnbook_pages_removed = bool(removed)
    return []


def reread_build_pages(app, env, docnames: list[str]) -> None:
    """On `env-before-read-docs`, the final list of pages to read: when any other page
    is read again (changed, re-executed, in or out of the execution scope), read the
    pages holding the table too, so that they are written again. Notes the pages this
    build reads: only those can it have executed."""
    pages = env.nnbook_build_pages & env.found_docs
    read_with_any_page(docnames, pages, env.nnbook_pages_removed)
    env.nnbook_docs_read = set(docnames)


def _init_env(app) -> None:
    if not hasattr(app.env, "nnbook_build_info"):
        # a fresh environment, not one unpickled from an earlier build
        app.env.nnbook_build_info = {}
        app.env.nnbook_build_pages = set()
    app.env.nnbook_pages_removed = False
    app.env.nnbook_docs_read = set()


def _purge(app, env, docname) -> None:
    env.nnbook_build_info.pop(docname, None)
    env.nnbook_build_pages.discard(docname)


def _merge(app, env, docnames, other) -> None:
    env.nnbook_build_info.update(
        (name, other.nnbook_build_info[name])
        for name in docnames
        if name in other.nnbook_build_info
    )
    env.nnbook_build_pages |= other.nnbook_build_pages & set(docnames)


def setup_build_page(app) -> None:
    """The `nnbook-build-info` table of how each chapter was built."""
    app.setup_extension("myst_nb")
    app.add_node(build_info_table)
    app.add_directive("nnbook-build-info", BuildInfoDirective)
    app.connect("builder-inited", _init_env)
    app.connect("env-get-outdated", note_removals)
    app.connect("env-before-read-docs", reread_build_pages)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    # after the build key (500) and the execution scope (600): the page as myst-nb
    # reads it
    app.connect("source-read", note_cache_hit, priority=700)
    app.connect("doctree-read", collect)
    app.connect("doctree-resolved", fill_tables)
