"""Markdown cells of a downloaded notebook, rewritten for Jupyter and Colab, which do not speak MyST.

Three constructs of the book's chapters are resolved for one framework: a framework tab set keeps only that
framework's tab; `{glue}` roles become the values the build glued; `literalinclude` with `:pyobject:` becomes
the included source as a fenced code block. Everything else stays as written.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from .framework_tabs import SYNC_GROUP

_TAB_SET = re.compile(
    rf"^(?P<fence>:{{4,}})\{{tab-set\}}[^\n]*\n:sync-group: {SYNC_GROUP}\n(?P<body>.*?)^(?P=fence)[ \t]*$\n?",
    re.MULTILINE | re.DOTALL,
)
_TAB_ITEM = re.compile(
    r"^(?P<fence>:{3,})\{tab-item\}[^\n]*\n(?P<options>(?::[\w-]+:[^\n]*\n)*)(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_GLUE = re.compile(r"\{glue(?::text|:any|:)?\}`(?P<name>[^`]+)`")
_LITERALINCLUDE = re.compile(
    r"^```\{literalinclude\}[ \t]+(?P<path>\S+)\n:pyobject:[ \t]*(?P<name>[\w.]+)\n```[ \t]*$",
    re.MULTILINE,
)


def glue_values(glue_file: Path) -> dict[str, str]:
    """The text of every value a chapter glued, by name, from the `<page>.glue.json` myst-nb writes beside the
    executed notebook (it takes the glue outputs out of the notebook itself)."""
    if not glue_file.is_file():
        return {}
    return {
        name: output["data"].get("text/plain", "")
        for name, output in json.loads(glue_file.read_text()).items()
    }


def python_object_source(path: Path, name: str) -> str:
    """The source of a class or function (dotted for methods), decorators included, as `:pyobject:` shows it."""
    nodes = ast.parse(path.read_text(encoding="utf8")).body
    for part in name.split("."):
        node = next((n for n in nodes if getattr(n, "name", None) == part), None)
        if node is None:
            raise ValueError(f"pyobject: no {name!r} in {path}")
        nodes = getattr(node, "body", [])
    lines = path.read_text(encoding="utf8").splitlines()
    first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
    return "\n".join(lines[first - 1 : node.end_lineno])


def for_framework(
    markdown: str, framework: str, glued: dict[str, str], source_dir: Path
) -> str:
    """`markdown` as the `framework` notebook shows it."""

    def keep_own_tab(tab_set: re.Match) -> str:
        for item in _TAB_ITEM.finditer(tab_set["body"]):
            if f":sync: {framework}\n" in item["options"]:
                return item["body"]
        return ""

    def include(directive: re.Match) -> str:
        code = python_object_source(source_dir / directive["path"], directive["name"])
        return f"```python\n{code}\n```"

    markdown = _TAB_SET.sub(keep_own_tab, markdown)
    markdown = _LITERALINCLUDE.sub(include, markdown)
    return _GLUE.sub(lambda role: glued.get(role["name"], role[0]), markdown)
