"""One downloadable notebook per framework for every chapter with framework cells.

Each is the executed chapter (outputs of the build included) holding the untagged
cells and one framework's cells, opening with a cell that installs `nnbook` where it is
missing (Colab): from the repository `nnbook_repository_url`, at the commit
`nnbook_repository_commit` (`$NNBOOK_REPOSITORY_COMMIT`, which the publishing workflow
sets to the commit it builds) so that a published notebook keeps the package it was
built with, or, when no commit is configured, at the branch `nnbook_repository_branch`.
It is written next to the chapter's HTML page as
`<page>-pytorch.ipynb` / `<page>-tensorflow.ipynb`; the page links both, and links
Colab when the repository URL is configured (Colab opens notebooks from GitHub: the
publishing workflow pushes them to the branch `nnbook_notebooks_branch`)."""

from __future__ import annotations

import html
import json
import os
import posixpath
import re
from contextlib import suppress
from pathlib import Path

import nbformat
from docutils import nodes
from jupyter_cache import get_cache

from .build_key import KEY_TAG
from .framework_tabs import FRAMEWORKS, framework_of
from .notebook_markdown import ChapterContext, for_framework, glue_values

EXTRAS = {
    "pytorch": "torch",
    "tensorflow": "tf",
}  # the package extra that brings each framework


def notebook_name(docname: str, framework: str) -> str:
    """The notebook's path in the HTML output, next to the page."""
    return f"{docname}-{framework}.ipynb"


def install_cell(
    framework: str, repository_url: str, revision: str
) -> nbformat.NotebookNode:
    """The first cell: install the book's package unless the environment has it.

    It installs `nnbook` with `framework`'s extra from `repository_url` at `revision`
    (the commit the notebook was built from, where the build knows it), and raises
    with pip's own error when the install fails, instead of letting a later cell fail
    on a missing module."""
    lines = [
        "# Installs the book's package `nnbook` where it is missing (e.g. on Colab);",
        "# a no-op in the book's own environment.",
        "import importlib.util",
        "",
    ]
    if repository_url:
        lines += pip_install_lines(framework, repository_url, revision)
    else:
        lines += [
            'if importlib.util.find_spec("nnbook") is None:',
            "    raise ModuleNotFoundError(",
            '        "Install the book\'s package first:"',
            '        " `pip install -e code` in a clone of the book\'s repository."',
            "    )",
        ]
    return nbformat.v4.new_code_cell(
        "\n".join(lines), metadata={"tags": ["nnbook-install"]}
    )


def pip_install_lines(framework: str, repository_url: str, revision: str) -> list[str]:
    """The install cell's lines that pip-install `nnbook` from the repository."""
    repository = repository_url.rstrip("/").removesuffix(".git")
    # one string literal per part, so that the lines stay short
    parts = [
        f"nnbook[{EXTRAS[framework]}] @ git+{repository}.git",
        f"@{revision}",
        "#subdirectory=code",
    ]
    lines = []
    if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", revision):
        lines += [
            "# the package as of the commit this notebook was built from, so that",
            "# later changes to the package cannot break the notebook",
        ]
    else:
        lines.append(f"# the package as it is on `{revision}` when this cell runs")
    lines += [
        "requirement = (",
        *(f"    {json.dumps(part)}" for part in parts),
        ")",
        'if importlib.util.find_spec("nnbook") is None:',
        "    import subprocess",
        "    import sys",
        "",
        "    # pip in a subprocess rather than `%pip`: a failed `%pip` goes unnoticed",
        "    # until a later cell fails to import a module",
        "    pip = subprocess.run(",
        '        [sys.executable, "-m", "pip", "install", "--quiet", requirement],',
        "        capture_output=True,",
        "        text=True,",
        "    )",
        "    if pip.returncode != 0:",
        '        error = "\\n".join(pip.stderr.splitlines()[-20:])',
        '        raise RuntimeError(f"pip could not install {requirement}:\\n{error}")',
        "    # let this running kernel find the package pip has just installed",
        "    importlib.invalidate_caches()",
    ]
    return lines


def framework_notebook(
    executed: nbformat.NotebookNode,
    framework: str,
    repository_url: str,
    revision: str,
    chapter: ChapterContext | None = None,
):
    """The executed notebook reduced to the untagged cells and `framework`'s cells, its
    markdown resolved for that framework against `chapter` (by default: nothing glued,
    includes relative to the working folder); its first cell installs `nnbook` from
    `repository_url` at `revision`."""
    if framework not in FRAMEWORKS:
        raise ValueError(
            f"framework: expected one of {list(FRAMEWORKS)}, got {framework!r}"
        )
    others = set(FRAMEWORKS) - {framework}
    chapter = chapter or ChapterContext(source_dir=Path("."))
    notebook = nbformat.from_dict(executed)
    notebook.cells = [install_cell(framework, repository_url, revision)]
    for cell in nbformat.from_dict(executed).cells:
        if set(cell.get("metadata", {}).get("tags", [])) & (others | {KEY_TAG}):
            continue
        if cell.cell_type == "markdown":
            cell.source = for_framework(cell.source, framework, chapter)
        notebook.cells.append(cell)
    # the notebook is a notebook now, not a MyST text file
    notebook.metadata.pop("jupytext", None)
    return notebook


def executed_notebook(app, docname: str) -> nbformat.NotebookNode:
    """The chapter as executed, outputs included.

    myst-nb writes `jupyter_execute/<page>.ipynb` from the notebook it parsed, which
    holds no outputs when they came from jupyter-cache (and, after a fresh run, stream
    chunks it merged in place): the outputs are taken from the cache record matching
    the notebook's code cells instead.
    """
    notebook = nbformat.read(
        Path(app.env.mystnb_config.output_folder, f"{docname}.ipynb"), as_version=4
    )
    # KeyError: no record, the chapter was not executed through the cache
    # (execution off or forced)
    with suppress(KeyError):
        _, notebook = get_cache(
            app.env.mystnb_config.execution_cache_path
        ).merge_match_into_notebook(notebook)
    return notebook


def write_notebooks(app, exception) -> None:
    """On `build-finished`, after an HTML build: write both notebooks of every chapter
    that has framework cells."""
    if exception is not None or app.builder.format != "html":
        return
    executed_dir = Path(app.env.mystnb_config.output_folder)
    for docname in sorted(app.env.nnbook_framework_docs):
        executed = executed_notebook(app, docname)
        chapter = ChapterContext(
            source_dir=Path(app.env.doc2path(docname)).parent,
            glued=glue_values(executed_dir / f"{docname}.glue.json"),
            book_dir=Path(app.srcdir),
            sphinx_config=app.config,
            myst_config=app.env.myst_config,
        )
        for framework in FRAMEWORKS:
            notebook = framework_notebook(
                executed,
                framework,
                app.config.nnbook_repository_url,
                # the commit pins the notebook's package; the branch when unknown
                app.config.nnbook_repository_commit
                or app.config.nnbook_repository_branch,
                chapter,
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
    """The bar under a chapter's title: both notebooks, and Colab where the repository
    is configured."""
    parts = []
    for framework, label in FRAMEWORKS.items():
        path = notebook_name(docname, framework)
        href = posixpath.basename(path)
        links = [
            f'<a class="nnbook-download" href="{html.escape(href)}" download>'
            f"{label} notebook (.ipynb)</a>"
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
    """On `doctree-read`: link the notebooks under the title of every chapter with
    framework cells."""
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


def _init_env(app) -> None:
    if not hasattr(app.env, "nnbook_framework_docs"):
        # a fresh environment, not one unpickled from an earlier build
        app.env.nnbook_framework_docs = set()


def _purge(app, env, docname) -> None:
    env.nnbook_framework_docs.discard(docname)


def _merge(app, env, docnames, other) -> None:
    env.nnbook_framework_docs |= other.nnbook_framework_docs & set(docnames)


def _repository_url(app, config) -> None:
    """Use the configured repository (`_config.yml` `repository.url`) unless
    `nnbook_repository_url` is set."""
    if not config.nnbook_repository_url:
        theme_options = config.html_theme_options or {}
        config.nnbook_repository_url = theme_options.get("repository_url", "")


def setup_notebooks(app) -> None:
    """The notebooks' configuration, the pages' download links and the notebooks."""
    app.setup_extension("myst_nb")
    app.add_config_value(
        "nnbook_repository_url", os.environ.get("NNBOOK_REPOSITORY_URL", ""), "html"
    )
    app.add_config_value(
        "nnbook_repository_branch",
        os.environ.get("NNBOOK_REPOSITORY_BRANCH", "main"),
        "html",
    )
    # the commit the book is built from (the publishing workflow sets it): the
    # notebooks install the package at that commit rather than the branch's latest
    app.add_config_value(
        "nnbook_repository_commit",
        os.environ.get("NNBOOK_REPOSITORY_COMMIT", ""),
        "html",
    )
    app.add_config_value("nnbook_notebooks_branch", "notebooks", "html")
    app.connect("config-inited", _repository_url)
    app.connect("builder-inited", _init_env)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("doctree-read", add_download_links)
    app.connect("build-finished", write_notebooks)
