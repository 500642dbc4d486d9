"""A downloaded notebook's first cell installs `nnbook` over git into an environment that
lacks it, and fails loudly when it cannot: run by scripts/run_notebooks.py, as the Colab
workflow runs the published notebooks.

A local bare git repository stands in for GitHub; it holds the working tree's `code/`
(uncommitted changes included). The fresh environment sees the book's installed
dependencies but not `nnbook`, and nothing is downloaded."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from helpers import REPO, SCRIPTS

from nnbook.sphinxext.notebooks import install_cell

pytestmark = pytest.mark.build

NNBOOK_DISTRIBUTION = importlib.metadata.distribution("nnbook")  # the editable install in .venv
BOOK_SITE_PACKAGES = Path(NNBOOK_DISTRIBUTION.locate_file(""))


@dataclass
class FreshEnvironment:
    python: Path
    site_packages: Path
    environ: dict[str, str]  # for its processes: pip offline, no build isolation
    repository_url: str  # the bare repository, as install_cell takes it
    commit: str  # the bare repository's only commit

    def run(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
        command = [str(self.python), *map(str, args)]
        return subprocess.run(
            command, capture_output=True, text=True, env=self.environ, cwd=cwd, timeout=300
        )


def git(*args: str | Path, cwd: Path) -> str:
    """git without the user's configuration (no signing, no hooks), output returned."""
    environ = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args]
    return subprocess.run(
        list(map(str, command)), cwd=cwd, env=environ, check=True, capture_output=True, text=True
    ).stdout.strip()


def bare_repository_of_the_working_tree(folder: Path) -> tuple[Path, str]:
    """A bare git repository `folder/book.git` whose one commit holds the working tree's
    `code/`, uncommitted changes included; returns it and the commit."""
    work = folder / "book"
    ignored = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    shutil.copytree(REPO / "code", work / "code", ignore=ignored)
    git("init", "-q", work, cwd=folder)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "the working tree's code/", cwd=work)
    git("clone", "-q", "--bare", work, folder / "book.git", cwd=folder)
    return folder / "book.git", git("rev-parse", "HEAD", cwd=work)


def book_dependencies_without_nnbook(folder: Path) -> Path:
    """Symlinks to every entry of the book's site-packages except nnbook's own (its
    dist-info and the editable install's .pth and finder, as its RECORD lists them)."""
    nnbook_entries = {Path(str(file)).parts[0] for file in NNBOOK_DISTRIBUTION.files}
    assert "__pycache__" in nnbook_entries  # the finder's bytecode: all of it is skipped
    folder.mkdir()
    for entry in BOOK_SITE_PACKAGES.iterdir():
        if entry.name not in nnbook_entries:
            (folder / entry.name).symlink_to(entry)
    return folder


def snapshot(folder: Path) -> dict[str, int]:
    """Each entry of `folder` and its modification time: what adding, removing or
    rewriting an entry (an install, an uninstall) changes."""
    return {entry.name: entry.lstat().st_mtime_ns for entry in folder.iterdir()}


@pytest.fixture(scope="module")
def fresh_environment(tmp_path_factory) -> FreshEnvironment:
    folder = tmp_path_factory.mktemp("notebook-install")
    bare, commit = bare_repository_of_the_working_tree(folder)
    # no pip of its own (fast): the book's pip is among the dependencies it sees
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "env"], cwd=folder, check=True)
    python = folder / "env" / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )
    dependencies = book_dependencies_without_nnbook(folder / "book-dependencies")
    # addsitedir rather than a plain path: the .pth files among them run too
    (site_packages / "book-dependencies.pth").write_text(
        f"import site; site.addsitedir({str(dependencies)!r})\n"
    )
    # without this machine's pip settings (a find-links folder of wheels, an index)
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PIP_") and name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    environ.update(
        PIP_CONFIG_FILE=os.devnull,  # no user or site pip configuration
        PIP_NO_INDEX="1",  # nothing downloaded: the dependencies are all there
        # pip's --no-build-isolation is a negated option: "0" turns isolation off, so
        # setuptools comes from the dependencies instead of an index
        PIP_NO_BUILD_ISOLATION="0",
        PIP_CACHE_DIR=str(folder / "pip-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",  # no bytecode written into the book's .venv
    )
    return FreshEnvironment(
        python, site_packages, environ, f"file://localhost{bare.with_suffix('')}", commit
    )


@pytest.fixture
def environment(fresh_environment, tmp_path) -> FreshEnvironment:
    """The fresh environment without `nnbook`, before and after each test."""
    finds_nnbook = "import importlib.util; print(importlib.util.find_spec('nnbook'))"
    found = fresh_environment.run("-c", finds_nnbook, cwd=tmp_path)
    assert (found.returncode, found.stdout.strip()) == (0, "None"), found.stdout + found.stderr
    yield fresh_environment
    for entry in fresh_environment.site_packages.glob("nnbook*"):
        shutil.rmtree(entry)


def notebook(path: Path, *cells: nbformat.NotebookNode) -> Path:
    written = nbformat.v4.new_notebook()
    written.cells = list(cells)
    nbformat.write(written, path)
    return path


def test_chapter_notebook_installs_nnbook_at_the_commit_into_a_fresh_environment_and_runs(
    environment, fixture_book, tmp_path
):
    """The fixture book's downloaded PyTorch notebook, its first cell installing from the
    local repository, and a last cell reporting where `nnbook` came from."""
    book_venv_before = snapshot(BOOK_SITE_PACKAGES)
    report = tmp_path / "report.json"
    uses_the_package = nbformat.v4.new_code_cell(
        "import json, sys\n"
        "import nnbook, nnbook.torch\n"
        "report = {'executable': sys.executable, 'nnbook': nnbook.__file__,\n"
        "          'device': str(nnbook.torch.device())}\n"
        "print(report)\n"
        f"open({str(report)!r}, 'w').write(json.dumps(report))"
    )
    downloaded = nbformat.read(fixture_book / "chapter-pytorch.ipynb", as_version=4)
    assert "nnbook-install" in downloaded.cells[0].metadata["tags"]
    chapter = notebook(
        tmp_path / "chapter-pytorch.ipynb",
        install_cell("pytorch", environment.repository_url, environment.commit),
        *downloaded.cells[1:],
        uses_the_package,
    )

    result = environment.run(SCRIPTS / "run_notebooks.py", chapter, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "chapter-pytorch.ipynb" in result.stdout and "OK" in result.stdout
    ran = json.loads(report.read_text())
    assert ran["executable"] == str(environment.python)
    assert Path(ran["nnbook"]).is_relative_to(environment.site_packages)
    assert ran["device"] == "cpu"
    (dist_info,) = environment.site_packages.glob("nnbook-*.dist-info")
    installed_from = json.loads((dist_info / "direct_url.json").read_text())
    assert installed_from["url"] == f"{environment.repository_url}.git"
    assert installed_from["vcs_info"]["commit_id"] == environment.commit
    assert installed_from["subdirectory"] == "code"
    assert snapshot(BOOK_SITE_PACKAGES) == book_venv_before, "the book's .venv changed"


def test_install_cell_fails_loudly_naming_the_notebook_and_the_requirement(environment, tmp_path):
    missing = f"file://localhost{tmp_path / 'no-such-repository'}"
    chapter = notebook(
        tmp_path / "chapter-tensorflow.ipynb",
        install_cell("tensorflow", missing, environment.commit),
        nbformat.v4.new_code_cell("import nnbook.profiles"),
    )

    result = environment.run(SCRIPTS / "run_notebooks.py", chapter, cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    requirement = f"nnbook[tf] @ git+{missing}.git@{environment.commit}#subdirectory=code"
    assert "chapter-tensorflow.ipynb: cell 0: RuntimeError: pip could not install" in result.stdout
    assert requirement in result.stdout
    assert "1 of 1 notebooks failed" in result.stdout
