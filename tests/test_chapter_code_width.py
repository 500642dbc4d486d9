"""The chapters' code cells stay within 88 columns, as the package does: the book shows
them in a narrow column, and side by side in the two-column view. Cells are read as
myst-nb reads them, so a fence nested in prose or a directive is not counted as a cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO
from myst_nb.core.read import read_myst_markdown_notebook

MAX_COLUMNS = 88  # ruff's line-length in code/pyproject.toml
CHAPTERS = sorted((REPO / "book").glob("*.md"))


def long_code_lines(text: str, name: str) -> list[str]:
    """Every code-cell line of the MyST notebook `text` wider than MAX_COLUMNS, as
    "NAME:LINE: WIDTH columns ...", LINE counted in the file."""
    notebook = read_myst_markdown_notebook(text, add_source_map=True)
    file_lines = text.splitlines()
    found = []
    for cell, fence_line in zip(notebook.cells, notebook.metadata["source_map"]):
        if cell.cell_type != "code":
            continue
        searched_from = fence_line  # 1-based fence line = 0-based index of the next line
        for line in cell.source.splitlines():
            if len(line) <= MAX_COLUMNS:
                continue
            index = file_lines.index(line, searched_from)
            searched_from = index + 1
            found.append(
                f"{name}:{index + 1}: {len(line)} columns in a code cell "
                f"(at most {MAX_COLUMNS}): {line.strip()[:60]}"
            )
    return found


def test_the_book_has_chapters_with_code_cells():
    assert sum("```{code-cell}" in path.read_text() for path in CHAPTERS) >= 8


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_every_code_cell_line_of_the_chapter_fits_in_88_columns(chapter: Path):
    name = chapter.relative_to(REPO).as_posix()
    too_long = long_code_lines(chapter.read_text(), name)
    assert not too_long, "\n".join(too_long)


PLANTED = f"""---
kernelspec: {{name: python3, display_name: Python 3, language: python}}
---
# A chapter

A prose line may be as long as it likes: {"words " * 20}

```{{code-cell}} ipython3
:tags: [pytorch]
short = 1
planted = "{"x" * 80}"
```
"""


def test_a_planted_long_code_line_is_reported_with_its_file_line_and_width():
    assert long_code_lines(PLANTED, "book/planted.md") == [
        "book/planted.md:11: 92 columns in a code cell (at most 88): "
        f'planted = "{"x" * 49}'
    ]


def test_a_line_of_exactly_88_columns_passes():
    fitting = PLANTED.replace('"' + "x" * 80 + '"', '"' + "x" * 76 + '"')
    assert f'planted = "{"x" * 76}"' in fitting.splitlines()
    assert len(f'planted = "{"x" * 76}"') == MAX_COLUMNS
    assert long_code_lines(fitting, "book/planted.md") == []
