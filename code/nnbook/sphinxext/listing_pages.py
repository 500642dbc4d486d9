"""Pages that list every chapter (the results page, the build page): what they share.

They list the chapters in the table of contents' order, and they are read again
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


def toc_order(env, root: str) -> list[str]:
    """The pages of the table of contents from `root`, in its order (the chapters of
    the book; a page outside it is none)."""
    order: list[str] = []
    todo = [root]
    while todo:
        docname = todo.pop(0)
        if docname not in order:
            order.append(docname)
            todo[:0] = env.toctree_includes.get(docname, [])
    return order
