"""Building a few chapters only, and the sharded publication: chapters executed apart, their execution caches
merged, the site built from them executing nothing, with the numbers the chapters' own runs glued."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys

from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from helpers import FIXTURES, REPO, SCRIPTS, assert_built, build_book
from sphinx.errors import ConfigError

from nnbook.sphinxext.execution_scope import scope_docnames

spec = importlib.util.spec_from_file_location("shards", SCRIPTS / "shards.py")
shards = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shards)

GLUED = {"first": "285", "second": "1025"}  # what the fixture chapters compute


def scope_setting(value: str) -> tuple[SimpleNamespace, SimpleNamespace]:
    """The Sphinx application and environment `scope_docnames` reads, for the shard fixture book."""
    book = FIXTURES / "shard_book"
    app = SimpleNamespace(config=SimpleNamespace(nnbook_execute=value), srcdir=str(book))
    env = SimpleNamespace(found_docs={"index", "first", "second"},
                          path2doc=lambda path: Path(path).relative_to(book).with_suffix("").as_posix())
    return app, env


def executed(result) -> list[str]:
    """The pages a build executed, from myst-nb's log."""
    return re.findall(r"(\w+)\.md: Executing notebook", result.stdout + result.stderr)


def article(html_dir, page: str) -> str:
    soup = BeautifulSoup((html_dir / f"{page}.html").read_text(), "html.parser")
    return soup.select_one("article").get_text(" ", strip=True)


def run_shards(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / "shards.py"), *arguments], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


# --------------------------------------------------------------------------- the plan


def test_plan_puts_the_longest_chapters_apart_and_balances_the_rest():
    seconds = {"a.md": 1400, "b.md": 670, "c.md": 560, "d.md": 340, "e.md": 30, "f.md": 20}
    groups = shards.plan(seconds, sorted(seconds), shards=3)
    assert [group["chapters"] for group in groups] == ["a.md", "b.md e.md f.md", "c.md d.md"]
    assert [group["seconds"] for group in groups] == [1400, 720, 900]
    assert [group["shard"] for group in groups] == [1, 2, 3]


def test_plan_counts_an_unmeasured_chapter_as_the_median_and_drops_empty_shards():
    groups = shards.plan({"a.md": 100, "b.md": 10, "c.md": 30}, ["a.md", "new.md"], shards=4)
    assert groups == [{"shard": 1, "chapters": "a.md", "seconds": 100},
                      {"shard": 2, "chapters": "new.md", "seconds": 30}]


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "3"])
def test_plan_refuses_a_shard_count_that_is_not_a_positive_integer(bad):
    with pytest.raises(ValueError, match=rf"shards: expected a positive integer, got {re.escape(repr(bad))}"):
        shards.plan({"a.md": 1}, ["a.md"], shards=bad)


def test_the_workflow_plan_covers_every_executable_chapter_once_and_is_bound_by_the_longest():
    result = run_shards("plan", "--shards", "3")
    assert result.returncode == 0, result.stderr
    groups = json.loads(result.stdout)["include"]
    planned = [chapter for group in groups for chapter in group["chapters"].split()]
    assert sorted(planned) == shards.executable_chapters() and len(planned) == len(set(planned))
    times = shards.read_times()
    assert set(times) == set(planned), "chapter-times.json lists exactly the executable chapters"
    assert max(group["seconds"] for group in groups) == round(max(times.values()))


def test_the_plan_command_names_a_bad_shard_count():
    result = run_shards("plan", "--shards", "0")
    assert result.returncode == 2 and "shards: expected a positive integer, got 0" in result.stderr


# --------------------------------------------------------------------------- builds


def test_build_script_refuses_a_chapter_that_does_not_exist():
    result = subprocess.run(["bash", str(SCRIPTS / "build-book.sh"), "quick", "book/no-such-chapter.md"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "chapter book/no-such-chapter.md not found; expected a page of the book such as" in result.stderr


@pytest.mark.parametrize("value, expected", [("all", None), ("none", set()), (" first.md  second.md ",
                                                                              {"first", "second"})])
def test_the_execution_scope_reads_all_none_or_page_paths(value, expected):
    assert scope_docnames(*scope_setting(value)) == expected


def test_a_page_outside_the_book_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match=r"nnbook_execute \(NNBOOK_EXECUTE\): expected 'all', 'none' or paths of"
                                          r" pages of this book \(such as first, index, second\), got 'third.md'"):
        scope_docnames(*scope_setting("first.md third.md"))


@pytest.mark.build
def test_shards_execute_their_chapters_and_the_merged_site_executes_nothing(copy_of, tmp_path):
    book = copy_of(FIXTURES / "shard_book")
    outputs = {name: tmp_path / name for name in ("single", "shard1", "shard2", "site")}
    assert_built(build_book(book, outputs["single"]))  # every chapter executed in one build, as before shards

    # each shard executes its chapter; the other is left out, and the build says so
    for shard, chapter, other in (("shard1", "first", "second"), ("shard2", "second", "first")):
        result = build_book(book, outputs[shard], NNBOOK_EXECUTE=f"{chapter}.md")
        assert_built(result)
        assert executed(result) == [chapter]
        assert f"1 chapter left out of this build (not executed here, not in the execution cache): {other}.md" \
               in result.stdout
        html = outputs[shard] / "_build" / "html"
        assert f"number is {GLUED[chapter]}" in article(html, chapter)
        assert "This chapter was left out of this build" in article(html, other)
        assert f"bash scripts/build-book.sh quick {other}.md" in article(html, other)

    # the site from the merged caches: nothing executed, every page as the single build made it
    caches = [str(outputs[shard] / "_build" / ".jupyter_cache") for shard in ("shard1", "shard2")]
    merged = run_shards("merge", str(outputs["site"] / "_build" / ".jupyter_cache"), *caches)
    assert merged.returncode == 0, merged.stderr
    assert "merged 2 executed notebooks from 2 caches" in merged.stdout
    result = build_book(book, outputs["site"], NNBOOK_EXECUTE="none")
    assert_built(result)
    assert executed(result) == [] and "left out" not in result.stdout
    for chapter in GLUED:
        site_page = article(outputs["site"] / "_build" / "html", chapter)
        assert f"number is {GLUED[chapter]}" in site_page
        assert site_page == article(outputs["single"] / "_build" / "html", chapter)

    # the times of the chapters' runs are read back from the cache, by profile
    times = shards.measured_times(outputs["site"] / "_build" / ".jupyter_cache", ["first.md", "second.md"],
                                  profile="quick")
    assert set(times) == {"first.md", "second.md"} and all(seconds > 0 for seconds in times.values())
    assert shards.measured_times(outputs["site"] / "_build" / ".jupyter_cache", ["first.md"], profile="full") == {}


@pytest.mark.build
def test_a_build_that_executes_nothing_fails_naming_the_chapters_the_cache_lacks(copy_of, tmp_path):
    result = build_book(copy_of(FIXTURES / "shard_book"), tmp_path / "out", NNBOOK_EXECUTE="none")
    assert result.returncode != 0 and executed(result) == []
    for chapter in ("first.md", "second.md"):
        assert re.search(rf"{chapter}: ERROR: not in the execution cache, and this build executes nothing",
                         result.stderr), result.stderr[-2000:]


def test_merge_refuses_a_folder_that_is_not_a_cache(tmp_path):
    result = run_shards("merge", str(tmp_path / "merged"), str(tmp_path))
    assert result.returncode != 0 and "not a jupyter-cache folder (no global.db)" in result.stderr


def test_refreshed_times_keep_the_chapters_not_measured_again(tmp_path):
    times = tmp_path / "times.json"
    times.write_text(json.dumps({"chapters": {"book/a.md": {"seconds": 5, "measured": "earlier"}}}))
    shards.update_times(times, {"book/b.md": 7.5}, "a test")
    chapters = json.loads(times.read_text())["chapters"]
    assert chapters["book/a.md"] == {"seconds": 5, "measured": "earlier"}
    assert chapters["book/b.md"]["seconds"] == 7.5 and chapters["book/b.md"]["measured"].endswith(", a test")
