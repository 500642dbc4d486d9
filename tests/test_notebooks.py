"""The per-framework notebook downloads: the right cells, the build's outputs, and they run on their own."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import FIXTURES, assert_built, build_book

from nnbook.sphinxext.notebooks import framework_notebook

FRAMEWORKS = ("pytorch", "tensorflow")


def tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_fixture_notebook_holds_untagged_and_own_framework_cells_only(fixture_book, framework):
    notebook = nbformat.read(fixture_book / f"chapter-{framework}.ipynb", as_version=4)
    other = ({*FRAMEWORKS} - {framework}).pop()
    assert not any(other in tags(cell) for cell in notebook.cells)
    assert any(framework in tags(cell) for cell in notebook.cells)
    sources = [cell.source for cell in notebook.cells]
    assert any("untagged again" in source for source in sources)
    assert not any("nnbook build key" in source for source in sources)


@pytest.mark.parametrize("framework, extra", [("pytorch", "torch"), ("tensorflow", "tf")])
def test_first_cell_installs_the_package_with_its_framework_from_the_configured_repository(fixture_book, framework, extra):
    first = nbformat.read(fixture_book / f"chapter-{framework}.ipynb", as_version=4).cells[0]
    assert "nnbook-install" in tags(first)
    assert f'%pip install --quiet "nnbook[{extra}] @ git+https://github.com/example/book.git@main#subdirectory=code"' in first.source


def test_notebooks_carry_the_build_outputs(fixture_book):
    notebook = nbformat.read(fixture_book / "chapter-pytorch.ipynb", as_version=4)
    outputs = [cell.outputs for cell in notebook.cells if "pytorch" in tags(cell)]
    assert outputs[0][0]["text"] == "pytorch one\n"


@pytest.mark.build
def test_notebooks_keep_outputs_when_the_chapter_is_reread_from_the_execution_cache(copy_of, tmp_path):
    source = copy_of(FIXTURES / "tabs_book")
    assert_built(build_book(source, tmp_path / "out"))
    chapter = source / "chapter.md"
    chapter.write_text(chapter.read_text().replace("Prose between two runs.", "Prose, edited, between two runs."))
    result = build_book(source, tmp_path / "out")  # re-read, but the code cells are unchanged: a cache hit
    assert_built(result)
    assert "Using cached notebook" in result.stdout + result.stderr
    notebook = nbformat.read(tmp_path / "out" / "_build" / "html" / "chapter-pytorch.ipynb", as_version=4)
    outputs = [cell.outputs for cell in notebook.cells if "pytorch" in tags(cell)]
    assert outputs[0][0]["text"] == "pytorch one\n"


def test_unknown_framework_is_refused():
    with pytest.raises(ValueError, match="framework: expected one of"):
        framework_notebook(nbformat.v4.new_notebook(), "jax", "", "main")


def test_without_a_repository_the_first_cell_explains_how_to_install(tmp_path):
    notebook = framework_notebook(nbformat.v4.new_notebook(), "pytorch", "", "main")
    assert "pip install -e code" in notebook.cells[0].source


def printed(cell) -> str:
    """What a cell printed and displayed as text: the numbers a reader sees (glue records are not shown).
    Joined, since a kernel may split one cell's printing into several stream outputs."""
    return "".join(output.get("text") or output.get("data", {}).get("text/plain", "")
                   for output in cell.get("outputs", [])
                   if output.output_type in ("stream", "execute_result", "display_data"))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_chapter_notebook_runs_top_to_bottom_in_a_fresh_kernel_outside_the_repository(book, framework, tmp_path,
                                                                                     monkeypatch):
    """...and, seeds being fixed, prints what the build printed (timings, tagged `timing`, aside)."""
    monkeypatch.setenv("NNBOOK_PROFILE", "quick")  # the profile `book` was built with; the kernel inherits it
    html = book / "_build" / "html"
    for path in sorted(html.rglob(f"*-{framework}.ipynb")):
        built = nbformat.read(path, as_version=4)
        other = ({*FRAMEWORKS} - {framework}).pop()
        assert not any(other in tags(cell) for cell in built.cells), path.name
        rerun = nbformat.read(path, as_version=4)
        NotebookClient(rerun, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
        errors = [output for cell in rerun.cells for output in cell.get("outputs", []) if output.output_type == "error"]
        assert not errors, f"{path.name}: {errors}"
        for before, after in zip(built.cells, rerun.cells):
            if before.cell_type == "code" and "timing" not in tags(before):
                assert printed(after) == printed(before), f"{path.name}: {before.source[:200]}"
