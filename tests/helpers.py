"""What several test files share: the repository's paths, building a book, reading its table of contents,
test data. Fixtures live in conftest.py; this module holds plain functions and constants only."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from sphinx_external_toc.parsing import parse_toc_yaml

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SCRIPTS = REPO / "scripts"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
BUILD_OPTIONS = ["-W", "-n", "--keep-going"]  # the README's: warnings are errors, broken links warn


def build_book(source: Path, output: Path, **env: str) -> subprocess.CompletedProcess:
    """`jupyter-book build` as the README runs it (quick profile), output captured."""
    environment = {**os.environ, "NNBOOK_PROFILE": "quick", **env}
    command = [str(JUPYTER_BOOK), "build", str(source), "--path-output", str(output)]
    return subprocess.run(
        [*command, *BUILD_OPTIONS],
        capture_output=True,
        text=True,
        env=environment,
        timeout=1200,
    )


def reuse_built_book(folder: Path) -> Path:
    """A book already built with `bash scripts/build-book.sh quick --path-output FOLDER`, for the tests that read
    a built book (`NNBOOK_TEST_BOOK=FOLDER`): a shortcut while working on the site's look, never used by CI. Tests
    of the build itself (its log, what it executed) need the session's own build."""
    html = folder / "_build" / "html"
    assert html.is_dir(), f"NNBOOK_TEST_BOOK: expected a folder holding _build/html, got {folder}"
    return folder


def assert_built(result: subprocess.CompletedProcess) -> None:
    log = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    assert result.returncode == 0, f"build failed:\n{log}"


def rand(*shape: int, seed: int = 1) -> np.ndarray:
    """Standard normal float32 test data, the same on every call with the same seed."""
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


# --------------------------------------------------------------------------- the table of contents


def toc_pages(toc: Path = REPO / "_toc.yml") -> tuple[str, list[str]]:
    """The landing page and the chapters a Jupyter Book `_toc.yml` lists, in order (paths without suffix),
    read by the parser Jupyter Book itself uses (sphinx-external-toc)."""
    site_map = parse_toc_yaml(toc)
    root = site_map.root.docname
    return root, [docname for docname in site_map if docname != root]


def profile_note(profile: str) -> str:
    """How `nnbook.page.note` renders its first line in the built HTML."""
    code = f'<code class="docutils literal notranslate"><span class="pre">{profile}</span></code>'
    return f"Built with the {code} profile"


def notebook_chapters(toc: Path = REPO / "_toc.yml") -> list[str]:
    """The pages `toc` lists after its root that are notebooks (front matter naming a kernel): the chapters that
    run code. The Build page, which lists how they ran, is none."""
    _, pages = toc_pages(toc)
    front = {page: (toc.parent / f"{page}.md").read_text(encoding="utf8").split("\n---", 1)[0] for page in pages}
    return [page for page in pages if front[page].startswith("---") and "kernelspec:" in front[page]]


def chapters_missing_their_note(html: Path, toc: Path, profile: str = "quick") -> list[str]:
    """The notebook chapters `toc` lists whose page in `html` is missing, or lacks the profile note or data line.

    The landing page (the toc's root) and the Build page are not such chapters: they have no experiments and
    no note."""
    problems = []
    for chapter in notebook_chapters(toc):
        page = html / f"{chapter}.html"
        if not page.exists():
            problems.append(f"{chapter}: not built")
            continue
        text = page.read_text()
        if profile_note(profile) not in text:
            problems.append(f"{chapter}: no note of the {profile!r} profile")
        if "Data: " not in text:
            problems.append(f"{chapter}: no data line")
    return problems


# --------------------------------------------------------------------------- the browser

CHROMIUM = os.environ.get("NNBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """Serve `folder` over HTTP on a free local port, in a daemon thread; `.shutdown()` stops it."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
