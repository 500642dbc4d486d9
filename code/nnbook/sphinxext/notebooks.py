"""One downloadable notebook per framework for every chapter with framework cells.

Each is the executed chapter (outputs of the build included) holding the untagged cells and one framework's
cells, opening with a cell that installs `nnbook` where it is missing (Colab). It is written next to the
chapter's HTML page as `<page>-pytorch.ipynb` / `<page>-tensorflow.ipynb`; the page links both, and links
Colab when the repository URL is configured (Colab opens notebooks from GitHub: the publishing workflow
pushes them to the branch `nnbook_notebooks_branch`).
"""

from __future__ import annotations

import html
import posixpath
from contextlib import suppress
from pathlib import Path

import nbformat
from docutils import nodes
from jupyter_cache import get_cache

from .build_key import KEY_TAG
from .framework_tabs import FRAMEWORKS, framework_of
from .notebook_markdown import for_framework, glue_values

EXTRAS = {
    "pytorch": "torch",
    "tensorflow": "tf",
}  # the package extra that brings each framework


def notebook_name(docname: str, framework: str) -> str:
    """The notebook's path in the HTML output, next to the page."""
    return f"{docname}-{framework}.ipynb"


def install_cell(
    framework: str, repository_url: str, branch: str
) -> nbformat.NotebookNode:
    """The first cell: install the book's package unless this environment already has it."""
    lines = [
        "# Installs the book's package `nnbook` where it is missing (e.g. on Colab); a no-op in the book's own environment.",
        "import importlib.util",
        "",
        'if importlib.util.find_spec("nnbook") is None:',
    ]
    if repository_url:
        repository = repository_url.rstrip("/").removesuffix(".git")
        spec = f"nnbook[{EXTRAS[framework]}] @ git+{repository}.git@{branch}#subdirectory=code"
        lines.append(f'    %pip install --quiet "{spec}"')
    else:
        lines.append(
            "    raise ModuleNotFoundError(\"Install the book's package first: `pip install -e code` in a clone of the book's repository.\")"
        )
    return nbformat.v4.new_code_cell(
        "\n".join(lines), metadata={"tags": ["nnbook-install"]}
    )


def framework_notebook(
    executed: nbformat.NotebookNode,
    framework: str,
    repository_url: str,
    branch: str,
    glued: dict[str, str] | None = None,
    source_dir: Path = Path("."),
):
    """The executed notebook reduced to the untagged cells and `framework`'s cells, its markdown resolved
    for that framework: `glued` values by name, `source_dir` the chapter's folder (for `literalinclude`)."""
    if framework not in FRAMEWORKS:
        raise ValueError(
            f"framework: expected one of {list(FRAMEWORKS)}, got {framework!r}"
        )
    others = set(FRAMEWORKS) - {framework}
    notebook = nbformat.from_dict(executed)
    notebook.cells = [install_cell(framework, repository_url, branch)]
    for cell in nbformat.from_dict(executed).cells:
        if set(cell.get("metadata", {}).get("tags", [])) & (others | {KEY_TAG}):
            continue
        if cell.cell_type == "markdown":
            cell.source = for_framework(cell.source, framework, glued or {}, source_dir)
        notebook.cells.append(cell)
    notebook.metadata.pop(
        "jupytext", None
    )  # the notebook is a notebook now, not a MyST text file
    return notebook


def executed_notebook(app, docname: str) -> nbformat.NotebookNode:
    """The chapter as executed, outputs included.

    myst-nb writes `jupyter_execute/<page>.ipynb` from the notebook it parsed, which holds no outputs when they
    came from jupyter-cache (and, after a fresh run, stream chunks it merged in place): the outputs are taken
    from the cache record matching the notebook's code cells instead.
    """
    notebook = nbformat.read(
        Path(app.env.mystnb_config.output_folder, f"{docname}.ipynb"), as_version=4
    )
    with suppress(
        KeyError
    ):  # no record: not executed through the cache (execution off or forced)
        _, notebook = get_cache(
            app.env.mystnb_config.execution_cache_path
        ).merge_match_into_notebook(notebook)
    return notebook


def write_notebooks(app, exception) -> None:
    """After an HTML build: write both notebooks of every chapter that has framework cells."""
    if exception is not None or app.builder.format != "html":
        return
    executed_dir = Path(app.env.mystnb_config.output_folder)
    for docname in sorted(app.env.nnbook_framework_docs):
        executed = executed_notebook(app, docname)
        for framework in FRAMEWORKS:
            notebook = framework_notebook(
                executed,
                framework,
                app.config.nnbook_repository_url,
                app.config.nnbook_repository_branch,
                glue_values(executed_dir / f"{docname}.glue.json"),
                Path(app.env.doc2path(docname)).parent,
            )
            target = Path(app.outdir, notebook_name(docname, framework))
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, target)


def colab_url(repository_url: str, branch: str, path: str) -> str:
    owner_repo = (
        repository_url.rstrip("/").removesuffix(".git").split("github.com/", 1)[-1]
    )
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{path}"


def download_links(app, docname: str) -> nodes.raw:
    """The bar under a chapter's title: both notebooks, and Colab where the repository is configured."""
    parts = []
    for framework, label in FRAMEWORKS.items():
        path = notebook_name(docname, framework)
        href = posixpath.basename(path)
        links = [
            f'<a class="nnbook-download" href="{html.escape(href)}" download>{label} notebook (.ipynb)</a>'
        ]
        if app.config.nnbook_repository_url:
            url = colab_url(
                app.config.nnbook_repository_url,
                app.config.nnbook_notebooks_branch,
                path,
            )
            links.append(
                f'<a class="nnbook-colab" href="{html.escape(url)}">open in Colab</a>'
            )
        parts.append(" · ".join(links))
    markup = (
        '<p class="nnbook-downloads">Download this chapter: '
        + " | ".join(parts)
        + "</p>"
    )
    return nodes.raw("", markup, format="html")


def add_download_links(app, doctree: nodes.document) -> None:
    """On `doctree-read`: link the notebooks under the title of every chapter with framework cells."""
    docname = app.env.docname
    app.env.nnbook_framework_docs.discard(docname)
    if not any(framework_of(node) for node in doctree.findall(nodes.container)):
        return
    app.env.nnbook_framework_docs.add(docname)
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        doctree.insert(0, download_links(app, docname))
    else:
        section.insert(1, download_links(app, docname))
