"""The results page: every result both frameworks' tabs measure, paired, in tables.

A reader who switches frameworks wants to see in one place where the two agree and
where they do not, and the numbers are scattered over the chapters' tabs. Each
framework's cell declares its half with `nnbook.page.result`, which the kernel stores
as myst-nb glue data (so the page shows nothing and a plain Jupyter kernel just
records it). While each page is read this collects the halves, with the section of
the cell that declared them, into the build environment; once all pages are read it
pairs them by key and warns (failing a `-W` build) about a half without its partner,
and the `nnbook-results` directive of the results page becomes one table per chapter
when the page is written. The results page is read again whenever another page is,
so its tables never lag behind the chapters.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from nnbook import page, profiles

from .framework_tabs import FRAMEWORKS, framework_of
from .glued import glued_outputs
from .listing_pages import read_with_any_page, toc_order

logger = logging.getLogger(__name__)

PYTORCH, TENSORFLOW = page.RESULT_FRAMEWORKS
COLUMNS = [
    "Result",
    "PyTorch",
    "TensorFlow",
    "Difference",  # TF − PyTorch, for speeds TF / PyTorch: the page's prose says so
    "Tolerance",
    "Computed in",
]
# the fields both halves of a result state, which must agree
SHARED_FIELDS = ("kind", "label", "fmt", "unit", "tolerance")


class results_table(nodes.General, nodes.Element):
    """Where the results page's tables go, once every page has been read."""


class ResultsDirective(SphinxDirective):
    """`nnbook-results`: the tables of every result declared in the book."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        pages(self.env).add(self.env.docname)
        placeholder = results_table()
        self.set_source_info(placeholder)
        return [provenance(), placeholder]


def provenance() -> nodes.paragraph:
    """Which profile built the numbers, in the words of the chapters' own note (a
    change of profile re-reads every page, this one included)."""
    profile = nodes.literal(text=profiles.current())
    line = nodes.strong()
    line += [nodes.Text("Built with the "), profile, nodes.Text(" profile.")]
    return _paragraph(line, " Data: each chapter's, as the chapter's own note states.")


# --------------------------------------------------------------- the environment


def halves(env) -> dict[str, list[dict]]:
    """docname -> the result halves its cells declared, in the order they ran."""
    if not hasattr(env, "nnbook_results"):
        env.nnbook_results = {}
    return env.nnbook_results


def pages(env) -> set[str]:
    """The docnames holding an `nnbook-results` directive."""
    if not hasattr(env, "nnbook_results_pages"):
        env.nnbook_results_pages = set()
    return env.nnbook_results_pages


def purge(app, env, docname: str) -> None:
    halves(env).pop(docname, None)
    pages(env).discard(docname)


def merge(app, env, docnames: set[str], other) -> None:
    """A parallel reader's findings, into the main environment."""
    for docname in docnames:
        if docname in halves(other):
            halves(env)[docname] = halves(other)[docname]
    pages(env).update(pages(other) & set(docnames))


def note_removals(app, env, added, changed, removed) -> list[str]:
    """On `env-get-outdated`: a page removed changes the results page too."""
    env.nnbook_results_removed = bool(removed)
    return []


def reread_results_pages(app, env, docnames: list[str]) -> None:
    """On `env-before-read-docs`: read the results page again whenever any other page
    is read (changed, or named to the execution scope) or was removed."""
    removed = getattr(env, "nnbook_results_removed", False)
    read_with_any_page(docnames, pages(env) & env.found_docs, removed)


# --------------------------------------------------------------- collecting


def glue_records(env, docname: str) -> list[dict]:
    """The result records among what `docname`'s cells glued."""
    return [
        data[page.RESULT_MIME]
        for key, data in glued_outputs(env, docname).items()
        if key.startswith(page.RESULT_PREFIX)
    ]


def code_cells_by_count(doctree: nodes.document) -> dict[int, nodes.container]:
    return {
        cell["exec_count"]: cell
        for cell in doctree.findall(nodes.container)
        if cell.get("nb_element") == "cell_code" and cell.get("exec_count")
    }


def collect(app, doctree: nodes.document) -> None:
    """On `doctree-read`: the page's result halves, each with the section holding the
    cell that declared it (the page's top when the cell is not shown)."""
    docname = app.env.docname
    records = glue_records(app.env, docname)
    if not records:
        return
    cells = code_cells_by_count(doctree)
    found = []
    for record in records:
        cell = cells.get(record.get("execution_count"))
        section = cell and next(
            (a for a in _ancestors(cell) if isinstance(a, nodes.section)), None
        )
        title = section and section.next_node(nodes.title)
        found.append(
            {
                **record,
                "docname": docname,
                "line": cell.line if cell is not None else None,
                "anchor": section["ids"][0] if section and section["ids"] else "",
                "section": title.astext() if title else "",
                # the title's own nodes too: its formulas render in the link
                "title": [child.deepcopy() for child in title.children]
                if title
                else [],
            }
        )
        tag = framework_of(cell) if cell is not None else None
        if tag and record["framework"] != tag:
            logger.warning(
                f"result {record['key']!r}: declared for {record['framework']!r} "
                f"in a cell tagged {tag!r}",
                location=(docname, cell.line),
            )
    halves(app.env)[docname] = sorted(found, key=lambda h: h["execution_count"] or 0)


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


# --------------------------------------------------------------- pairing


def paired(env) -> dict[str, dict[str, dict]]:
    """key -> framework -> half, over the whole book, in the book's page order."""
    results: dict[str, dict[str, dict]] = {}
    for docname in page_order(env):
        for half in halves(env).get(docname, []):
            results.setdefault(half["key"], {}).setdefault(half["framework"], half)
    return results


def page_order(env) -> list[str]:
    """The pages in the table of contents' order, then any others by name."""
    order = toc_order(env, env.config.root_doc)
    return order + sorted(set(halves(env)) - set(order))


def check_pairs(app, env) -> None:
    """On `env-check-consistency`: every result has both halves, once each, and they
    agree on what the result is."""
    declared: dict[tuple[str, str], list[dict]] = {}
    for docname in page_order(env):
        for half in halves(env).get(docname, []):
            declared.setdefault((half["key"], half["framework"]), []).append(half)
    for (key, framework), found in declared.items():
        for extra in found[1:]:
            logger.warning(
                f"result {key!r}: {framework!r} declared it again (first in "
                f"{found[0]['docname']}); each key needs one half per framework",
                location=(extra["docname"], extra["line"]),
            )
    for key, by_framework in paired(env).items():
        for missing in page.RESULT_FRAMEWORKS:
            if missing not in by_framework:
                (present,) = by_framework.values()
                logger.warning(
                    f"result {key!r}: no {FRAMEWORKS[missing]} half; the "
                    f"{FRAMEWORKS[present['framework']]} cell declares one, so a "
                    f"{missing}-tagged cell must call nnbook.page.result({key!r}, "
                    f"{missing!r}, ...)",
                    location=(present["docname"], present["line"]),
                )
        if len(by_framework) == 2:
            pytorch, tensorflow = by_framework[PYTORCH], by_framework[TENSORFLOW]
            for field in SHARED_FIELDS:
                if pytorch[field] != tensorflow[field]:
                    logger.warning(
                        f"result {key!r}: the halves disagree on {field}: PyTorch "
                        f"says {pytorch[field]!r}, TensorFlow {tensorflow[field]!r}",
                        location=(tensorflow["docname"], tensorflow["line"]),
                    )


# --------------------------------------------------------------- the tables


def _shown(value: float | None, half: dict) -> str:
    if value is None:
        return "—"
    return f"{half['fmt'].format(value)} {half['unit']}".rstrip()


def difference(pytorch: dict, tensorflow: dict) -> str:
    """TensorFlow minus PyTorch; for speeds their ratio; for parity checks the most
    the two can differ from each other, both having been compared with a reference."""
    kind, fmt = pytorch["kind"], pytorch["fmt"]
    if kind == "speed":
        return f"{tensorflow['value'] / pytorch['value']:.2f}×"
    if kind == "parity":
        return f"≤ {fmt.format(pytorch['value'] + tensorflow['value'])}"
    change = tensorflow["value"] - pytorch["value"]
    return ("+" if change > 0 else "") + fmt.format(change)


def _paragraph(*children: nodes.Node | str) -> nodes.paragraph:
    para = nodes.paragraph()
    para += [nodes.Text(c) if isinstance(c, str) else c for c in children]
    return para


def _link(
    app, fromdocname: str, half: dict, *text: nodes.Node | str
) -> nodes.reference:
    uri = app.builder.get_relative_uri(fromdocname, half["docname"])
    if half["anchor"]:
        uri += "#" + half["anchor"]
    reference = nodes.reference("", "", internal=True, refuri=uri)
    reference += [nodes.Text(t) if isinstance(t, str) else t.deepcopy() for t in text]
    return reference


def _section_title(half: dict, fallback: str) -> list[nodes.Node | str]:
    return half.get("title") or [half["section"] or fallback]


def _where(app, fromdocname: str, by_framework: dict[str, dict]) -> nodes.paragraph:
    places = {(h["docname"], h["anchor"]): h for h in by_framework.values()}
    if len(places) == 1:
        (half,) = places.values()
        return _paragraph(
            _link(app, fromdocname, half, *_section_title(half, "the page"))
        )
    links: list[nodes.Node | str] = []
    for framework, half in by_framework.items():
        if links:
            links.append("; ")
        title = _section_title(half, half["docname"])
        links.append(
            _link(app, fromdocname, half, f"{FRAMEWORKS[framework]}: ", *title)
        )
    return _paragraph(*links)


def _row(cells: list[nodes.Node | str]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += cell if isinstance(cell, nodes.Node) else _paragraph(cell)
        row += entry
    return row


def chapter_table(app, fromdocname: str, rows: list[dict[str, dict]]) -> nodes.table:
    table = nodes.table(classes=["nnbook-results"])
    group = nodes.tgroup(cols=len(COLUMNS))
    table += group
    group += [nodes.colspec(colwidth=width) for width in (30, 12, 12, 12, 10, 24)]
    head = nodes.thead()
    head += _row(COLUMNS)
    body = nodes.tbody()
    for by_framework in rows:
        first = next(iter(by_framework.values()))
        pytorch, tensorflow = by_framework.get(PYTORCH), by_framework.get(TENSORFLOW)
        tolerance = first["tolerance"]
        body += _row(
            [
                first["label"],
                _shown(pytorch and pytorch["value"], first),
                _shown(tensorflow and tensorflow["value"], first),
                difference(pytorch, tensorflow) if pytorch and tensorflow else "—",
                _shown(tolerance, first),
                _where(app, fromdocname, by_framework),
            ]
        )
    group += [head, body]
    return table


def tables(app, fromdocname: str) -> list[nodes.Node]:
    """One table per chapter, headed by a link to it; rows grouped by kind, in the
    order the chapter computes them."""
    env = app.env
    by_chapter: dict[str, list[dict[str, dict]]] = {}
    for by_framework in paired(env).values():
        first = by_framework.get(PYTORCH) or by_framework[TENSORFLOW]
        by_chapter.setdefault(first["docname"], []).append(by_framework)
    if not by_chapter:
        return [_paragraph("No chapter declares a result yet.")]
    kinds = list(page.RESULT_KINDS)
    found: list[nodes.Node] = []
    for docname in page_order(env):
        if docname not in by_chapter:
            continue
        rows = sorted(
            by_chapter[docname],
            key=lambda r: kinds.index(next(iter(r.values()))["kind"]),
        )
        title = env.titles[docname].astext() if docname in env.titles else docname
        heading = nodes.rubric(classes=["nnbook-results-chapter"])
        heading += _link(app, fromdocname, {"docname": docname, "anchor": ""}, title)
        found += [heading, chapter_table(app, fromdocname, rows)]
    return found


def fill_tables(app, doctree: nodes.document, docname: str) -> None:
    """On `doctree-resolved`: the results page's directive becomes the tables."""
    for placeholder in list(doctree.findall(results_table)):
        placeholder.replace_self(tables(app, docname))


def setup_results(app) -> None:
    """Result halves collected from every page, paired, and tabled on the results
    page (the `nnbook-results` directive)."""
    app.setup_extension("myst_nb")
    app.add_node(results_table)
    app.add_directive("nnbook-results", ResultsDirective)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", note_removals)
    app.connect("env-before-read-docs", reread_results_pages)
    app.connect("env-check-consistency", check_pairs)
    app.connect("doctree-resolved", fill_tables)
