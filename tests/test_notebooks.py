"""The per-framework notebook downloads: the right cells, the build's outputs, and they run on their own."""

from __future__ import annotations

import ast
import subprocess
import unittest.mock

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import FIXTURES, assert_built, build_book

from nnbook.sphinxext.notebooks import framework_notebook, install_cell

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


def installed_requirement(cell) -> str:
    """The pip requirement an install cell installs: the string it assigns to `requirement`."""
    for node in ast.walk(ast.parse(cell.source)):
        names = [getattr(target, "id", None) for target in getattr(node, "targets", [])]
        if isinstance(node, ast.Assign) and names == ["requirement"]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no `requirement = ...` in the install cell:\n{cell.source}")


@pytest.mark.parametrize("framework, extra", [("pytorch", "torch"), ("tensorflow", "tf")])
def test_first_cell_installs_the_package_with_its_framework_from_the_configured_repository(fixture_book, framework, extra):
    """No commit configured (the fixture book's build): the branch `main`."""
    first = nbformat.read(fixture_book / f"chapter-{framework}.ipynb", as_version=4).cells[0]
    assert "nnbook-install" in tags(first)
    expected = f"nnbook[{extra}] @ git+https://github.com/example/book.git@main#subdirectory=code"
    assert installed_requirement(first) == expected
    assert '[sys.executable, "-m", "pip", "install", "--quiet", requirement]' in first.source
    assert "raise RuntimeError(" in first.source and "importlib.invalidate_caches()" in first.source


def test_install_cell_pins_the_package_to_the_given_commit():
    commit = "0123456789abcdef0123456789abcdef01234567"
    cell = install_cell("tensorflow", "https://github.com/example/book.git/", commit)
    expected = f"nnbook[tf] @ git+https://github.com/example/book.git@{commit}#subdirectory=code"
    assert installed_requirement(cell) == expected
    assert "nnbook-install" in tags(cell)
    assert max(len(line) for line in cell.source.splitlines()) <= 88  # shown in a narrow column


def test_install_cell_does_nothing_where_nnbook_is_installed():
    """Run in this environment, which has the package: pip is never called."""
    cell = install_cell("pytorch", "https://github.com/example/book", "main")
    namespace = {}
    with unittest.mock.patch("subprocess.run", side_effect=AssertionError("pip called")):
        exec(compile(cell.source, "install-cell", "exec"), namespace)
    assert namespace["requirement"].endswith("@main#subdirectory=code")


def test_install_cell_raises_with_the_requirement_and_pips_error_when_pip_fails():
    """pip's exit status is checked: a failed install stops the notebook at its first cell."""
    cell = install_cell("pytorch", "https://github.com/example/book", "main")
    requirement = "nnbook[torch] @ git+https://github.com/example/book.git@main#subdirectory=code"
    failed = subprocess.CompletedProcess([], 1, stdout="", stderr="noise\nERROR: no such repository\n")
    with unittest.mock.patch("importlib.util.find_spec", return_value=None), \
         unittest.mock.patch("subprocess.run", return_value=failed) as pip:
        with pytest.raises(RuntimeError) as raised:
            exec(compile(cell.source, "install-cell", "exec"), {})
    assert str(raised.value) == f"pip could not install {requirement}:\nnoise\nERROR: no such repository"
    assert pip.call_args.args[0][1:] == ["-m", "pip", "install", "--quiet", requirement]


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
