"""Markdown of the downloaded notebooks: MyST constructs resolved for one framework,
the rest untouched; every `literalinclude` of the book shows what the page shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from myst_nb.core.read import read_myst_markdown_notebook
from myst_parser.config.main import MdParserConfig
from sphinx.config import Config
from sphinx.directives.code import LiteralInclude, LiteralIncludeReader

from nnbook.sphinxext.notebook_markdown import (
    ChapterContext,
    for_framework,
    glue_values,
)

REPO = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("pytorch", "tensorflow")

TABS = """Before.

::::{tab-set}
:sync-group: framework

:::{tab-item} PyTorch
:sync: pytorch
Weights are `(out, in)`.
:::

:::{tab-item} TensorFlow
:sync: tensorflow
Kernels are `(in, out)`.
:::
::::

After.
"""

MODULE = '''import math


def helper():
    return 1


@decorated
class Model:
    """A model."""

    def forward(self, x):
        return x
'''


def convert(markdown: str, framework: str = "pytorch", **context) -> str:
    return for_framework(markdown, framework, ChapterContext(**context))


@pytest.fixture
def module_dir(tmp_path) -> Path:
    (tmp_path / "model.py").write_text(MODULE)
    return tmp_path


@pytest.mark.parametrize(
    "framework, kept, dropped",
    [("pytorch", "(out, in)", "(in, out)"), ("tensorflow", "(in, out)", "(out, in)")],
)
def test_framework_tab_set_keeps_only_that_frameworks_tab(framework, kept, dropped):
    text = convert(TABS, framework, source_dir=Path("."))
    assert kept in text and dropped not in text
    assert "tab-set" not in text and "tab-item" not in text and ":sync" not in text
    assert text.startswith("Before.") and text.rstrip().endswith("After.")


def test_tab_set_options_may_be_a_yaml_block_as_on_the_page():
    yaml_options = TABS.replace(
        ":sync-group: framework\n", "---\nsync-group: framework\n---\n"
    ).replace(":sync: tensorflow\n", "---\nsync: tensorflow\n---\n")
    text = convert(yaml_options, "tensorflow", source_dir=Path("."))
    assert "(in, out)" in text and "(out, in)" not in text and "---" not in text


def test_tab_sets_of_other_sync_groups_are_left_alone():
    other = TABS.replace(":sync-group: framework", ":sync-group: os")
    assert convert(other, source_dir=Path(".")) == other


def test_glue_roles_become_the_glued_values_and_unknown_names_stay():
    text = convert(
        "loss {glue}`pt_loss`, steps {glue:text}`steps`, {glue}`missing`",
        source_dir=Path("."),
        glued={"pt_loss": "0.012", "steps": "96"},
    )
    assert text == "loss 0.012, steps 96, {glue}`missing`"


def test_literalinclude_pyobject_becomes_the_source_with_decorators(module_dir):
    text = convert(
        "```{literalinclude} model.py\n:pyobject: Model\n```\n",
        "tensorflow",
        source_dir=module_dir,
    )
    assert text == "```python\n" + MODULE[MODULE.index("@decorated") :] + "```\n"


def test_literalinclude_at_the_end_of_a_cell_keeps_its_missing_newline(module_dir):
    text = convert(
        "Text.\n```{literalinclude} model.py\n:pyobject: helper\n```",
        source_dir=module_dir,
    )
    assert text == "Text.\n```python\ndef helper():\n    return 1\n```"


@pytest.mark.parametrize(
    "options, expected",
    [
        (":pyobject: Model.forward", "    def forward(self, x):\n        return x\n"),
        (":lines: 4-5", "def helper():\n    return 1\n"),
        (
            ":start-after: class Model:\n:end-before: def forward",
            '    """A model."""\n\n',
        ),
        (
            ":pyobject: Model.forward\n:dedent: 4",
            "def forward(self, x):\n    return x\n",
        ),
        ("---\npyobject: helper\n---", "def helper():\n    return 1\n"),
    ],
)
def test_literalinclude_honours_the_options_the_page_honours(
    module_dir, options, expected
):
    directive = f"```{{literalinclude}} model.py\n{options}\n```\n"
    text = convert(directive, source_dir=module_dir)
    assert text == f"```python\n{expected}```\n"


def test_literalinclude_language_and_paths_from_the_book_folder(module_dir):
    chapter_dir = module_dir / "chapters"
    chapter_dir.mkdir()
    text = convert(
        "```{literalinclude} /model.py\n:lines: 1\n:language: text\n```\n",
        source_dir=chapter_dir,
        book_dir=module_dir,
    )
    assert text == "```text\nimport math\n```\n"


def test_included_code_holding_a_fence_gets_a_longer_fence(tmp_path):
    (tmp_path / "doc.py").write_text('HELP = """\n```python\nx = 1\n```\n"""\n')
    text = convert("```{literalinclude} doc.py\n```\n", source_dir=tmp_path)
    assert text.startswith("````python\nHELP") and text.endswith('"""\n````\n')


def test_literalinclude_inside_another_directive_is_resolved_in_place(module_dir):
    note = (
        ":::{note}\nSee:\n```{literalinclude} model.py\n:pyobject: helper\n```\n:::\n"
    )
    text = convert(note, source_dir=module_dir)
    assert text == ":::{note}\nSee:\n```python\ndef helper():\n    return 1\n```\n:::\n"


def test_literalinclude_inside_a_framework_tab_is_resolved(module_dir):
    tabs = TABS.replace(
        "Weights are `(out, in)`.",
        "```{literalinclude} model.py\n:pyobject: helper\n```",
    )
    text = convert(tabs, "pytorch", source_dir=module_dir)
    assert "```python\ndef helper():\n    return 1\n```\n" in text
    assert "literalinclude" not in text


def test_unknown_pyobject_is_refused(module_dir):
    with pytest.raises(ValueError, match="'Missing' not found"):
        convert(
            "```{literalinclude} model.py\n:pyobject: Missing\n```\n",
            source_dir=module_dir,
        )


def test_code_cells_and_plain_fences_are_left_alone():
    text = "```{code-cell} ipython3\nx = 1\n```\n\n```python\ny = 2\n```\n"
    assert convert(text, source_dir=Path(".")) == text


def test_glue_values_read_myst_nb_glue_file(tmp_path):
    glue_file = tmp_path / "page.glue.json"
    glue_file.write_text(
        json.dumps(
            {"pt_loss": {"output_type": "display_data", "data": {"text/plain": "0.5"}}}
        )
    )
    assert glue_values(glue_file) == {"pt_loss": "0.5"}
    assert glue_values(tmp_path / "absent.glue.json") == {}


# Every `literalinclude` of the book, found here by a plain scan of the chapters, and
# read by Sphinx's own reader: each must reach the notebooks the directive belongs to.

_OPENING = re.compile(r"^(?P<fence>:{3,})\{(?P<name>[\w-]+)\}")
_CLOSING = re.compile(r"^(?P<fence>:{3,})[ \t]*$")
_INCLUDE = re.compile(r"^(`{3,}|~{3,})\{literalinclude\}[ \t]+(?P<path>\S+)[ \t]*$")
_OPTION = re.compile(r"^:(?P<name>[\w-]+):[ \t]*(?P<value>.*)$")


def leading_options(lines: list[str]) -> dict[str, str]:
    """The `:name: value` lines at the start of `lines`."""
    options = {}
    for option in map(_OPTION.match, lines):
        if not option:
            break
        options[option["name"]] = option["value"]
    return options


def book_includes(cell: str) -> list[tuple[str, dict, set[str]]]:
    """Each `literalinclude` of a markdown cell: path, options, and the frameworks whose
    notebooks show it (both, unless it sits in a tab item synced to one)."""
    lines = cell.splitlines()
    open_fences: list[tuple[str, str | None]] = []  # (fence, synced framework)
    found = []
    for index, line in enumerate(lines):
        if opening := _OPENING.match(line):
            options = leading_options(lines[index + 1 :])
            synced = options.get("sync") if opening["name"] == "tab-item" else None
            open_fences.append((opening["fence"], synced))
        elif (closing := _CLOSING.match(line)) and open_fences:
            if open_fences[-1][0] == closing["fence"]:
                open_fences.pop()
        elif include := _INCLUDE.match(line):
            options = {
                name: LiteralInclude.option_spec[name](value)  # docutils' conversion
                for name, value in leading_options(lines[index + 1 :]).items()
            }
            synced = [fw for _, fw in open_fences if fw in FRAMEWORKS]
            frameworks = {synced[-1]} if synced else set(FRAMEWORKS)
            found.append((include["path"], options, frameworks))
    return found


def book_myst_config() -> MdParserConfig:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    return MdParserConfig(
        enable_extensions=set(config["parse"]["myst_enable_extensions"])
    )


CHAPTERS = [
    path
    for path in sorted((REPO / "book").glob("*.md"))
    if "{literalinclude}" in path.read_text()
]


def test_the_book_has_literalincludes():
    assert len(CHAPTERS) >= 5


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_literalinclude_of_the_book_resolves_in_its_notebooks(chapter):
    context = ChapterContext(
        source_dir=chapter.parent, book_dir=REPO, myst_config=book_myst_config()
    )
    cells = [
        cell.source
        for cell in read_myst_markdown_notebook(chapter.read_text()).cells
        if cell.cell_type == "markdown"
    ]
    notebooks = {
        framework: "\n".join(for_framework(cell, framework, context) for cell in cells)
        for framework in FRAMEWORKS
    }
    includes = [include for cell in cells for include in book_includes(cell)]
    assert includes, f"{chapter.name}: no literalinclude found by the scan"
    for framework, markdown in notebooks.items():
        assert "{literalinclude}" not in markdown, f"{chapter.name} ({framework})"
    for path, options, frameworks in includes:
        filename = str(chapter.parent / path)
        text, _ = LiteralIncludeReader(filename, options, Config()).read()
        for framework in frameworks:
            assert f"```python\n{text}```" in notebooks[framework], (
                f"{chapter.name} ({framework}): {path} {options} is not in the notebook"
            )


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_chapter_notebook_markdown_has_no_unresolved_myst(book, framework):
    """On the built book (slow: builds the whole book)."""
    for path in (book / "_build" / "html").rglob(f"*-{framework}.ipynb"):
        markdown = "\n".join(
            cell.source
            for cell in nbformat.read(path, as_version=4).cells
            if cell.cell_type == "markdown"
        )
        for construct in ("{glue", "{tab-set}", "{literalinclude}"):
            assert construct not in markdown, f"{path.name}: {construct}"
