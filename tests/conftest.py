"""Shared fixtures: books built once per test session, in the quick profile, outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nnbook.seeding import seed_everything

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def build_book(source: Path, output: Path, **env: str) -> subprocess.CompletedProcess:
    """`jupyter-book build` as the README runs it (warnings are errors), with its output captured."""
    environment = {**os.environ, "NNBOOK_PROFILE": "quick", **env}
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(source), "--path-output", str(output), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, env=environment, timeout=1200,
    )


def assert_built(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


@pytest.fixture(scope="session")
def fixture_book(tmp_path_factory) -> Path:
    """The small tab fixture book (plain-Python cells), built once; returns its HTML folder."""
    output = tmp_path_factory.mktemp("fixture-book")
    assert_built(build_book(FIXTURES / "tabs_book", output))
    return output / "_build" / "html"


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> Path:
    """The whole book, built once in the quick profile; returns its output folder (holding `_build`)."""
    output = tmp_path_factory.mktemp("book")
    result = build_book(REPO, output)
    assert_built(result)
    (output / "build-log.txt").write_text(result.stdout + result.stderr)
    return output


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


def rand(*shape: int, seed: int = 1) -> np.ndarray:
    """Standard normal float32 test data, the same on every call with the same seed."""
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)
