"""Fixtures and markers. Books are built once per test session, in the quick profile, outside the repository.
Functions and constants the test files share are in helpers.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS, FIXTURES, SCRIPTS, assert_built, build_book, reuse_built_book, serve

from nnbook.seeding import seed_everything

MARKERS = {
    "build": "builds a book or runs notebooks (minutes); deselect with -m 'not build'",
    "browser": "drives headless Chromium; deselect with -m 'not browser'",
}
BOOK_FIXTURES = {"book", "fixture_book"}  # a test that asks for one needs a build


def pytest_configure(config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_collection_modifyitems(items) -> None:
    """A test that reads a built book is a build test, whichever file it is in."""
    for item in items:
        if BOOK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.build)


@pytest.fixture(scope="session")
def fixture_book(tmp_path_factory) -> Path:
    """The small tab fixture book (plain-Python cells), built once; returns its HTML folder."""
    output = tmp_path_factory.mktemp("fixture-book")
    assert_built(build_book(FIXTURES / "tabs_book", output))
    return output / "_build" / "html"


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> Path:
    """The whole book, built once by the README's `bash scripts/build-book.sh quick` (its output moved out
    of the repository); returns the output folder, holding `_build` and the build's log."""
    if os.environ.get("NNBOOK_TEST_BOOK"):  # a developer's shortcut while working on the site: see helpers
        return reuse_built_book(Path(os.environ["NNBOOK_TEST_BOOK"]))
    output = tmp_path_factory.mktemp("book")
    command = ["bash", str(SCRIPTS / "build-book.sh"), "quick", "--path-output", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    (output / "build-log.txt").write_text(result.stdout + result.stderr)
    assert_built(result)
    return output


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's), driven by playwright; one for the whole session."""
    sync_api = pytest.importorskip("playwright.sync_api")
    assert Path(CHROMIUM).exists(), f"no browser at {CHROMIUM}: install Debian's chromium or set NNBOOK_CHROMIUM"
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(book):
    """The quick book's HTML served locally; yields its base URL."""
    server = serve(book / "_build" / "html")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def fixture_site(fixture_book):
    """The tab fixture book's HTML served locally; yields its base URL."""
    server = serve(fixture_book)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def copy_of(tmp_path):
    """Copy a fixture folder into a fresh temporary folder."""

    def copy(source: Path) -> Path:
        target = tmp_path / source.name
        shutil.copytree(source, target)
        return target

    return copy


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from seed 0 in Python, NumPy and whichever frameworks are imported."""
    seed_everything(0)
