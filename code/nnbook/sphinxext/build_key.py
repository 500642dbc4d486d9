"""Re-execute a chapter when the profile or the package code it imports changes.

jupyter-cache keys a notebook on its code cells' source and Sphinx re-reads a page only when its file changes,
so a changed model would otherwise ship stale results. On `source-read` this appends to each chapter a hidden
cell holding its build key, a hash of the profile and of the source of every `nnbook` module the chapter imports
(followed through those modules' own `nnbook` imports), and notes those files as the page's dependencies so
Sphinx re-reads the page when one of them changes. A change of profile re-reads every page.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

from nnbook import profiles

KEY_TAG = "nnbook-build-key"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
_IMPORT = re.compile(r"^\s*import\s+(nnbook(?:\.\w+)*)", re.MULTILINE)
_FROM_IMPORT = re.compile(
    r"^\s*from\s+(nnbook(?:\.\w+)*)\s+import\s+(?:\(([^)]*)\)|([\w ,]+))", re.MULTILINE
)


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
            found |= {
                f"{base}.{alias.name}" for alias in node.names
            }  # `from pkg import module`
    return {name for name in found if name == "nnbook" or name.startswith("nnbook.")}


def dependencies(source: str) -> list[Path]:
    """Every package file that the code in `source` imports, directly or through other package modules."""
    todo = set(_IMPORT.findall(source))
    for module, parenthesized, names in _FROM_IMPORT.findall(source):
        # `from nnbook import page` imports the module nnbook.page; `as` aliases keep the first word
        names = (parenthesized or names).replace("\n", ",").split(",")
        todo |= {module} | {
            f"{module}.{name.split()[0]}" for name in names if name.strip()
        }
    seen: dict[str, Path | None] = {}
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        # importing `nnbook.a.b` runs `nnbook/__init__.py` and `nnbook/a/__init__.py` too
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


def build_key(files: list[Path]) -> str:
    digest = hashlib.sha256(profiles.current().encode())
    for path in files:
        digest.update(path.relative_to(PACKAGE_DIR.parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def append_build_key(app, docname: str, source: list[str]) -> None:
    """On `source-read`: give an executable chapter that imports `nnbook` its hidden build-key cell."""
    text = source[0]
    if "{code-cell}" not in text:
        return
    files = dependencies(text)
    if not files:
        return
    for path in files:
        app.env.note_dependency(str(path))
    key = build_key(files)
    source[0] = (
        text.rstrip("\n")
        + f"\n\n```{{code-cell}} ipython3\n:tags: [remove-cell, {KEY_TAG}]\n"
        + f"# nnbook build key: profile={profiles.current()} package={key}\n```\n"
    )


def outdated_on_profile_change(app, env, added, changed, removed) -> list[str]:
    """On `env-get-outdated`: every page is outdated when the profile differs from the last build's."""
    previous = getattr(env, "nnbook_profile", None)
    env.nnbook_profile = profiles.current()
    if previous is not None and previous != env.nnbook_profile:
        return sorted(env.found_docs)
    return []
