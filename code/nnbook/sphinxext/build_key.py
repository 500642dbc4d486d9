"""Re-execute a chapter when the profile or the package code it imports changes.

jupyter-cache keys a notebook on its code cells' source and Sphinx re-reads a page only
when its file changes, so a changed model would otherwise ship stale results. On
`source-read` this appends to each chapter a hidden cell holding its build key, a hash
of the profile and of the source of every `nnbook` module the chapter's code cells
import (followed through those modules' own `nnbook` imports), and notes those files as
the page's dependencies so Sphinx re-reads the page when one of them changes. A change
of profile re-reads every page. Imports are found the same way in cells and modules:
in the syntax tree Python's `ast` parses.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager
from myst_nb.core.read import (
    MystMetadataParsingError,
    is_myst_markdown_notebook,
    read_myst_markdown_notebook,
)

from nnbook import profiles

KEY_TAG = "nnbook-build-key"
KEY_LINE = "# nnbook build key: profile={profile} package={package}"
# the same line read back, the profile captured
KEY_PATTERN = re.compile(
    re.escape(KEY_LINE)
    .replace(r"\{profile\}", r"(\w+)")
    .replace(r"\{package\}", r"\w+")
)
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def module_file(module: str) -> Path | None:
    """The source file of an `nnbook` module name, or None when there is none."""
    path = PACKAGE_DIR.parent.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(tree: ast.AST, package: str) -> set[str]:
    """The `nnbook` modules an AST imports; `package` resolves relative imports."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = (
                    package.rsplit(".", node.level - 1)[0]
                    if node.level > 1
                    else package
                )
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            # `from pkg import name` may import the module `pkg.name`
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name == "nnbook" or name.startswith("nnbook.")}


def cell_imports(code: str) -> set[str]:
    """The `nnbook` modules a notebook code cell imports."""
    try:
        # magics and shell lines become the calls IPython makes of them: Python
        python = TransformerManager().transform_cell(code)
        tree = ast.parse(python)
    except (SyntaxError, ValueError):  # ValueError: a null byte
        return set()  # the cell fails when it runs, which says more than a key could
    return imported_modules(tree, package="")


def dependencies(*cells: str) -> list[Path]:
    """Every package file that the code `cells` import, directly or through other
    package modules."""
    todo = set().union(*map(cell_imports, cells))
    seen: dict[str, Path | None] = {}
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        # importing `nnbook.a.b` runs `nnbook/__init__.py` and `nnbook/a/__init__.py`
        parts = module.split(".")
        todo |= {".".join(parts[:i]) for i in range(1, len(parts))} - seen.keys()
        seen[module] = path = module_file(module)
        if path is not None:
            package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
            todo |= (
                imported_modules(ast.parse(path.read_text(encoding="utf8")), package)
                - seen.keys()
            )
    return sorted({path for path in seen.values() if path is not None})


def code_cells(text: str, path: str | None = None) -> list[str]:
    """The source of every code cell of a MyST notebook (`path` its file, for cells
    that `:load:` theirs), read as myst-nb reads it; none for any other page."""
    if not is_myst_markdown_notebook(text):
        return []
    try:
        notebook = read_myst_markdown_notebook(text, path=path)
    except MystMetadataParsingError:
        return []  # myst-nb reports it when it parses the page
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def build_key(files: list[Path]) -> str:
    digest = hashlib.sha256(profiles.current().encode())
    for path in files:
        digest.update(path.relative_to(PACKAGE_DIR.parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def append_build_key(app, docname: str, source: list[str]) -> None:
    """On `source-read`: give an executable chapter that imports `nnbook` its hidden
    build-key cell."""
    text = source[0]
    files = dependencies(*code_cells(text, str(app.env.doc2path(docname))))
    if not files:
        return
    for path in files:
        app.env.note_dependency(str(path))
    key = build_key(files)
    source[0] = (
        text.rstrip("\n")
        + f"\n\n```{{code-cell}} ipython3\n:tags: [remove-cell, {KEY_TAG}]\n"
        + KEY_LINE.format(profile=profiles.current(), package=key)
        + "\n```\n"
    )


def key_profile(source: str) -> str | None:
    """The profile a build-key line in `source` names (None without one): which
    profile an executed notebook ran in."""
    found = KEY_PATTERN.search(source)
    return found and found.group(1)


def outdated_on_profile_change(app, env, added, changed, removed) -> list[str]:
    """On `env-get-outdated`: every page is outdated when the profile differs from the
    last build's."""
    previous = getattr(env, "nnbook_profile", None)
    env.nnbook_profile = profiles.current()
    if previous is not None and previous != env.nnbook_profile:
        return sorted(env.found_docs)
    return []


def setup_build_key(app) -> None:
    """The build keys of the chapters, and re-reading every page on a new profile."""
    app.setup_extension("myst_nb")
    app.connect("source-read", append_build_key)
    app.connect("env-get-outdated", outdated_on_profile_change)
