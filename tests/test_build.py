"""Building the book: every page of the table of contents, failures fail it, results are cached, and a changed
profile or package re-executes."""

from __future__ import annotations

import re
import shutil

import pytest
from helpers import (FIXTURES, REPO, assert_built, build_book, chapters_missing_their_note, notebook_chapters,
                     profile_note, toc_pages)

from nnbook.sphinxext.build_key import PACKAGE_DIR, dependencies

NOISE = re.compile(r"oneDNN custom operations|cpu_feature_guard|absl::InitializeLog|Traceback \(most recent call last\)"
                   r"|tensorflow/core/|\d+/\d+ \[=+|it/s\]")


def executed(result) -> bool:
    return "Executing notebook" in result.stdout + result.stderr


def test_quick_build_of_the_whole_book_renders_every_page_of_the_toc_without_log_noise(book):
    html = book / "_build" / "html"
    root, chapters = toc_pages()
    assert not [page for page in [root, *chapters] if not (html / f"{page}.html").exists()]
    noisy = [page.name for page in sorted(html.rglob("*.html")) if NOISE.search(page.read_text())]
    assert not noisy, f"framework log noise or tracebacks in {noisy}"


def test_every_chapter_of_the_toc_states_its_profile_and_data(book):
    assert chapters_missing_their_note(book / "_build" / "html", REPO / "_toc.yml") == []


def test_the_toc_lists_every_chapter_source_and_only_existing_ones():
    """Jupyter Book builds only what the toc lists (`only_build_toc_files`): a chapter left out would be
    silently missing from the site and from the checks above."""
    root, chapters = toc_pages()
    listed = [root, *chapters]
    assert len(set(listed)) == len(listed) and root not in chapters
    assert sorted(listed) == sorted(path.with_suffix("").relative_to(REPO).as_posix()
                                    for path in (REPO / "book").glob("*.md"))


def test_the_note_check_finds_every_chapter_that_lost_its_note_or_was_not_built(tmp_path):
    """A site where 9 of 10 chapters lost their note (which the build test once accepted) is refused."""
    chapters = notebook_chapters()
    html = tmp_path / "html"
    for index, chapter in enumerate(chapters):
        note = f"<p><strong>{profile_note('quick')}.</strong><br/>Data: synthetic, y = 2x</p>"
        (html / chapter).parent.mkdir(parents=True, exist_ok=True)
        (html / f"{chapter}.html").write_text(f"<html><body>{note if index == 0 else '<p>Prose.</p>'}</body></html>")
    problems = chapters_missing_their_note(html, REPO / "_toc.yml")
    assert len(problems) == 2 * (len(chapters) - 1) and not any(chapters[0] in p for p in problems)
    assert f"{chapters[1]}: no note of the 'quick' profile" in problems and f"{chapters[1]}: no data line" in problems
    assert chapters_missing_their_note(html, REPO / "_toc.yml", profile="full")[0].startswith(chapters[0])
    (html / f"{chapters[-1]}.html").unlink()
    assert f"{chapters[-1]}: not built" in chapters_missing_their_note(html, REPO / "_toc.yml")


def test_unchanged_rebuild_executes_nothing(book):
    result = build_book(REPO, book)
    assert_built(result)
    assert "0 added, 0 changed, 0 removed" in result.stdout
    assert not executed(result)


@pytest.mark.build
def test_planted_failing_cell_fails_the_build_naming_chapter_and_cell(copy_of, tmp_path):
    source = copy_of(FIXTURES / "tabs_book")
    with (source / "chapter.md").open("a") as chapter:
        chapter.write('\n```{code-cell} ipython3\n:tags: [pytorch]\nraise RuntimeError("planted failure")\n```\n')
    result = build_book(source, tmp_path / "out")
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "chapter.md" in log and 'raise RuntimeError("planted failure")' in log


@pytest.mark.build
def test_unchanged_fixture_is_served_from_the_execution_cache_after_a_clean_html_build(copy_of, tmp_path):
    source = copy_of(FIXTURES / "tabs_book")
    assert_built(build_book(source, tmp_path / "out"))
    shutil.rmtree(tmp_path / "out" / "_build" / "html")
    shutil.rmtree(tmp_path / "out" / "_build" / ".doctrees")
    result = build_book(source, tmp_path / "out")
    assert_built(result)
    assert not executed(result) and "Using cached notebook" in result.stdout + result.stderr


@pytest.mark.build
def test_profile_change_reexecutes_the_chapter(copy_of, tmp_path):
    source = copy_of(FIXTURES / "tabs_book")
    assert_built(build_book(source, tmp_path / "out", NNBOOK_PROFILE="quick"))
    result = build_book(source, tmp_path / "out", NNBOOK_PROFILE="full")
    assert_built(result)
    assert executed(result)


@pytest.mark.build
@pytest.mark.parametrize("module, reexecutes", [("profiles.py", True), ("data/loaders.py", False)])
def test_package_change_reexecutes_only_chapters_importing_the_changed_module(copy_of, tmp_path, module, reexecutes):
    """The fixture chapter imports `nnbook.profiles` and not `nnbook.data`."""
    source = copy_of(FIXTURES / "tabs_book")
    package = tmp_path / "package"
    shutil.copytree(PACKAGE_DIR, package / "nnbook", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(package)}  # the build and its kernel import this copy of nnbook
    (tmp_path / "node_modules").symlink_to(REPO / "node_modules")  # MathJax, found from the book's folder up
    assert_built(build_book(source, tmp_path / "out", **env))
    with (package / "nnbook" / module).open("a") as changed:
        changed.write("\n# an edit\n")
    result = build_book(source, tmp_path / "out", **env)
    assert_built(result)
    assert executed(result) is reexecutes


def test_dependencies_follow_package_imports_transitively():
    found = {path.relative_to(PACKAGE_DIR).as_posix() for path in dependencies("from nnbook.page import note\n")}
    assert found == {"__init__.py", "page.py", "profiles.py", "checks.py"}  # page imports profiles and checks


def test_chapter_without_package_imports_has_no_dependencies():
    assert dependencies("import numpy as np\nprint('nnbook is a word here')\n") == []
