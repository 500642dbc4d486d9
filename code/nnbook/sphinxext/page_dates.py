"""The "last updated" date in each page's footer: when its source last changed.

The date of the last commit touching the page's source when the book is in a complete
git checkout and the source has no uncommitted change, else the build date (Sphinx's
`html_last_updated_fmt`, which alone would date every page by the build). A shallow
clone gives every page the date of its one commit, so it counts as no history.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from sphinx.util.i18n import format_date

from .git import git

LAST_UPDATED_FORMAT = "%b %d, %Y"  # Sphinx's own default: "Nov 30, 2026"


@lru_cache
def _has_history(folder: Path) -> bool:
    return git(folder, "rev-parse", "--is-shallow-repository") == "false"


def last_commit_date(source: Path) -> date | None:
    """The date of the last commit touching `source`, or None where git cannot tell:
    outside a checkout, in a shallow clone, for a file changed since or never
    committed."""
    folder = source.parent
    if not _has_history(folder):
        return None
    if git(folder, "status", "--porcelain", "--", source.name) != "":
        return None  # changed since its last commit, or untracked
    stamp = git(folder, "log", "-1", "--format=%cs", "--", source.name)
    return date.fromisoformat(stamp) if stamp else None


def _last_updated_format(app, config) -> None:
    if config.html_last_updated_fmt is None:  # Sphinx shows no date unless set
        config.html_last_updated_fmt = LAST_UPDATED_FORMAT


def _page_date(app, pagename, templatename, context, doctree) -> None:
    if pagename not in app.env.all_docs:
        return  # Sphinx's own pages (genindex, search) keep the build date
    committed = last_commit_date(Path(app.env.doc2path(pagename)))
    if committed is not None:
        context["last_updated"] = format_date(
            app.config.html_last_updated_fmt or LAST_UPDATED_FORMAT,
            date=committed,
            language=app.config.language,
        )


def setup_page_dates(app) -> None:
    """Each page dated by its source's last commit."""
    app.connect("config-inited", _last_updated_format)
    app.connect("html-page-context", _page_date)
