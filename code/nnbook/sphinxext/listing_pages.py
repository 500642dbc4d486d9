"""Pages that list every chapter (the results page, the build page) are read again
whenever any other page is, so that what they list is never older than the chapters.

Sphinx re-reads only the pages whose sources changed, and each `env-get-outdated`
handler sees only Sphinx's own list, not the pages other handlers add (the chapters
`execution_scope` re-reads). `env-before-read-docs` gets the final list, so the listing
pages join it there.
"""

from __future__ import annotations


def read_with_any_page(docnames: list[str], listing: set[str], removed: bool) -> None:
    """Add the `listing` pages to `docnames`, the pages about to be read, when another
    page is among them or a page was `removed`."""
    if removed or set(docnames) - listing:
        docnames.extend(sorted(listing - set(docnames)))
