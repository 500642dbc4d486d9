"""Building the book: failures fail it, results are cached, and a changed profile or package re-executes."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import FIXTURES, REPO, assert_built, build_book

from nnbook.sphinxext.build_key import PACKAGE_DIR, dependencies

NOISE = re.compile(r"oneDNN custom operations|cpu_feature_guard|absl::InitializeLog|Traceback \(most recent call last\)"
                   r"|tensorflow/core/|\d+/\d+ \[=+|it/s\]")


def executed(result) -> bool:
    return "Executing notebook" in result.stdout + result.stderr


def test_quick_build_of_the_whole_book_renders_every_chapter_without_log_noise(book):
    html = book / "_build" / "html"
    pages = sorted(html.rglob("*.html"))
    assert (html / "book" / "layers-modules-models.html").exists()
    noisy = [page.name for page in pages if NOISE.search(page.read_text())]
    assert not noisy, f"framework log noise or tracebacks in {noisy}"


def test_each_chapter_states_its_profile_and_data(book):
    chapters = [page for page in (book / "_build" / "html" / "book").glob("*.html") if "nnbook-downloads" in page.read_text()]
    assert len(chapters) >= 1
    for chapter in chapters:
        text = chapter.read_text()
        assert 'Built with the <code class="docutils literal notranslate"><span class="pre">quick</span></code> profile' in text, chapter.name
        assert "Data: " in text, chapter.name


def test_unchanged_rebuild_executes_nothing(book):
    result = build_book(REPO, book)
    assert_built(result)
    assert "0 added, 0 changed, 0 removed" in result.stdout
    assert not executed(result)


def test_planted_failing_cell_fails_the_build_naming_chapter_and_cell(copy_of, tmp_path):
    source = copy_of(FIXTURES / "tabs_book")
    with (source / "chapter.md").open("a") as chapter:
        chapter.write('\n```{code-cell} ipython3\n:tags: [pytorch]\nraise RuntimeError("planted failure")\n```\n')
    result = build_book(source, tmp_path / "out")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "chapter.md" in log and 'raise RuntimeError("planted failure")' in log


def test_unchanged_fixture_is_served_from_the_execution_cache_after_a_clean_html_build(copy_of, tmp_path):
    source = copy_of(FIXTURES / "tabs_book")
    assert_built(build_book(source, tmp_path / "out"))
    shutil.rmtree(tmp_path / "out" / "_build" / "html")
    shutil.rmtree(tmp_path / "out" / "_build" / ".doctrees")
    result = build_book(source, tmp_path / "out")
    assert_built(result)
    assert not executed(result) and "Using cached notebook" in result.stdout + result.stderr


def test_profile_change_reexecutes_the_chapter(copy_of, tmp_path):
    source = copy_of(FIXTURES / "tabs_book")
    assert_built(build_book(source, tmp_path / "out", NNBOOK_PROFILE="quick"))
    result = build_book(source, tmp_path / "out", NNBOOK_PROFILE="full")
    assert_built(result)
    assert executed(result)


@pytest.mark.parametrize("module, reexecutes", [("profiles.py", True), ("data.py", False)])
def test_package_change_reexecutes_only_chapters_importing_the_changed_module(copy_of, tmp_path, module, reexecutes):
    """The fixture chapter imports `nnbook.profiles` and not `nnbook.data`."""
    source = copy_of(FIXTURES / "tabs_book")
    package = tmp_path / "package"
    shutil.copytree(PACKAGE_DIR, package / "nnbook", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(package)}  # the build and its kernel import this copy of nnbook
    assert_built(build_book(source, tmp_path / "out", **env))
    with (package / "nnbook" / module).open("a") as changed:
        changed.write("\n# an edit\n")
    result = build_book(source, tmp_path / "out", **env)
    assert_built(result)
    assert executed(result) is reexecutes


def test_dependencies_follow_package_imports_transitively():
    found = {path.relative_to(PACKAGE_DIR).as_posix() for path in dependencies("from nnbook.page import note\n")}
    assert found == {"__init__.py", "page.py", "profiles.py"}  # page imports profiles


def test_chapter_without_package_imports_has_no_dependencies():
    assert dependencies("import numpy as np\nprint('nnbook is a word here')\n") == []
