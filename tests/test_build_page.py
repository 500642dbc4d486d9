"""The Build page: per chapter, when it ran, for how long, whether this build took it from the execution cache,
its profile, Python/PyTorch/TensorFlow versions and data; kept through a merge of execution caches."""

from __future__ import annotations

import importlib.util
import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from helpers import FIXTURES, SCRIPTS, assert_built, build_book

from nnbook import page
from nnbook.data import REGISTRY, DataFile
from nnbook.sphinxext.build_page import LEFT_OUT, NO_RECORD, NOT_RUN, not_built_reason, reread_build_pages

spec = importlib.util.spec_from_file_location("shards", SCRIPTS / "shards.py")
shards = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shards)

HEADER = ["Chapter", "Ran at (UTC)", "Seconds", "From cache", "Profile", "Versions"]
HOUSING = DataFile(Path("boston_housing.csv"), REGISTRY["boston_housing_csv"], "cache")  # as registered.md makes it


def distribution_version(module: str) -> str:
    """The installed version of the distribution providing `module`, whatever the distribution is called."""
    return metadata.version(metadata.packages_distributions()[module][0])


def versions_cell() -> str:
    """What the Versions cell of a chapter run here says."""
    return (f"Python\xa0{platform.python_version()}\nPyTorch\xa0{metadata.version('torch')}\n"
            f"TensorFlow\xa0{distribution_version('tensorflow')}")


def build_table(output: Path) -> dict[str, list[str]]:
    """The fixture's Build page as {chapter title: the cells of its rows (its run's, then its data's)}."""
    soup = BeautifulSoup((output / "_build" / "html" / "build.html").read_text(), "html.parser")
    assert [cell.get_text(strip=True) for cell in soup.select("article table thead th")] == HEADER
    table: dict[str, list[str]] = {}
    for row in soup.select("article table tbody tr"):
        cells = [cell.get_text("\n", strip=True) for cell in row.find_all("td")]
        if row.find("a"):  # a chapter's first row: the link to it spans its rows
            chapter = cells[0]
            table[chapter] = cells
        else:
            table[chapter] += cells
    return table


def ran_at(row: list[str]) -> datetime:
    return datetime.strptime(row[1], "%Y-%m-%d\n%H:%M:%S").replace(tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> SimpleNamespace:
    """Two builds of the fixture book: a partial one, executing two chapters and leaving one out; then one from
    its execution cache merged into a fresh cache (as the publishing workflow merges shards), executing the
    chapter the first left out."""
    first, second = tmp_path_factory.mktemp("partial"), tmp_path_factory.mktemp("merged")
    started = datetime.now(timezone.utc).replace(microsecond=0)
    assert_built(build_book(FIXTURES / "build_book", first, NNBOOK_EXECUTE="registered.md unrecorded.md"))
    finished = datetime.now(timezone.utc)
    shards.merge(second / "_build" / ".jupyter_cache", [first / "_build" / ".jupyter_cache"])
    assert_built(build_book(FIXTURES / "build_book", second, NNBOOK_EXECUTE="synthetic.md"))
    return SimpleNamespace(partial=build_table(first), merged=build_table(second), started=started, finished=finished)


def test_the_table_lists_every_chapter_in_the_order_of_the_toc(builds):
    assert list(builds.partial) == ["Registered data", "Synthetic data", "Unrecorded"]
    assert list(builds.merged) == list(builds.partial)


def test_an_executed_chapter_shows_when_it_ran_its_seconds_profile_versions_and_data(builds):
    row = builds.partial["Registered data"]
    assert builds.started <= ran_at(row) <= builds.finished
    assert float(row[2]) > 0
    assert row[3:] == ["no", "quick", versions_cell(), f"Data: {HOUSING.provenance()}"]
    assert "STAND-IN for boston_housing" in row[6]


def test_a_chapter_left_out_of_a_partial_build_is_listed_as_not_built(builds):
    assert builds.partial["Synthetic data"][1:] == [LEFT_OUT]


def test_a_chapter_that_never_calls_note_is_listed_without_a_record(builds):
    assert builds.partial["Unrecorded"][1:] == [NO_RECORD] == builds.merged["Unrecorded"][1:]


def test_a_chapter_from_a_merged_cache_keeps_when_it_ran_and_its_seconds(builds):
    before, after = builds.partial["Registered data"], builds.merged["Registered data"]
    assert after[3] == "yes"
    assert after[:3] + after[4:] == before[:3] + before[4:]


def test_the_chapter_the_second_build_executed_is_listed_as_run_by_it(builds):
    row = builds.merged["Synthetic data"]
    assert ran_at(row) >= builds.finished.replace(microsecond=0) and row[3:5] == ["no", "quick"]
    assert row[5:] == [versions_cell(), "Data: synthetic, the squares of 0 to 9"]


# --------------------------------------------------------------------------- the record and its page


def test_note_shows_the_same_lines_and_glues_its_build_record(monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # as in a kernel: glue stores its value
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **options: shown.append((objects, options)))
    monkeypatch.setenv("NNBOOK_PROFILE", "quick")
    page.note(HOUSING, synthetic="noise, seed 0")
    (markdown,), _ = shown[0]
    assert markdown.data == (f"**Built with the `quick` profile.**  \nData: {HOUSING.provenance()}  \n"
                             "Data: synthetic, noise, seed 0")
    (bundle,), options = shown[1]
    assert options["metadata"]["scrapbook"]["name"] == page.BUILD_RECORD
    record = json.loads(bundle["application/papermill.record/text/plain"])
    assert record["data"] == [HOUSING.provenance(), "synthetic, noise, seed 0"] and record["profile"] == "quick"
    assert len(shown) == 2


def test_the_build_record_says_when_and_with_which_versions_in_utc():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    record = page.build_record(["synthetic, y = 2x"])
    when = datetime.strptime(record["ran_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= when <= datetime.now(timezone.utc)
    assert record["python"] == platform.python_version() and record["torch"] == metadata.version("torch")
    assert record["tensorflow"] == distribution_version("tensorflow")


def test_a_framework_that_is_not_installed_has_no_version():
    assert page._installed_version("no_such_framework_installed") is None


@pytest.mark.parametrize("read, expected", [
    (["chapter"], ["chapter", "build"]),  # a chapter read again: its row may have changed
    ([], []),  # nothing read, nothing written
    (["build"], ["build"]),
])
def test_the_build_page_is_read_again_with_any_other_page(read, expected):
    env = SimpleNamespace(nnbook_build_pages={"build"}, found_docs={"build", "chapter"}, nnbook_pages_removed=False)
    reread_build_pages(None, env, read)
    assert read == expected and env.nnbook_docs_read == set(expected)


def test_the_build_page_is_read_again_when_a_chapter_was_removed():
    env = SimpleNamespace(nnbook_build_pages={"build"}, found_docs={"build"}, nnbook_pages_removed=True)
    read = []
    reread_build_pages(None, env, read)
    assert read == ["build"]


@pytest.mark.parametrize("info, reason", [
    ({"left_out": True}, LEFT_OUT),
    ({"from_cache": False, "run": False, "seconds": None, "record": None}, NOT_RUN),  # execution switched off
    ({"from_cache": True, "run": True, "seconds": 1.0, "record": None}, NO_RECORD),
    ({"from_cache": True, "run": True, "seconds": 1.0, "record": {"ran_at": "2026-01-01T00:00:00Z"}}, None),
])
def test_a_chapter_without_a_record_of_its_run_says_why(info, reason):
    assert not_built_reason(info) == reason
