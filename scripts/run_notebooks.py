"""Run the book's downloadable notebooks top to bottom, as a reader would.

    python scripts/run_notebooks.py PATH... [--timeout SECONDS]

PATH is a notebook, or a folder searched recursively for `*.ipynb` (hidden folders
such as `.git` and `.ipynb_checkpoints` aside). Each notebook runs in a fresh kernel,
in a fresh temporary working folder, and the kernel runs the Python that runs this
script: a kernelspec for it is written to a temporary folder put first on
`JUPYTER_PATH`, so neither a `python` on PATH nor another installed kernel can be
picked instead. Every notebook runs, even after a failure; the script prints one line
per notebook, the failing cell and its error for each failure, and exits 1 when any
notebook failed, naming them.

Needs nbformat, nbclient and ipykernel only (besides what the notebooks import).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

KERNEL_NAME = "nnbook-run-notebooks"  # a name no installed kernelspec should have
DEFAULT_TIMEOUT = 1800  # seconds per cell: the full profile's longest cell fits


def positive_seconds(text: str) -> int:
    seconds = int(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return seconds


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run notebooks top to bottom in fresh kernels of this Python."
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="notebooks or folders"
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a cell may run (default {DEFAULT_TIMEOUT})",
    )
    arguments = parser.parse_args(argv)
    for path in arguments.paths:
        if not path.exists():
            parser.error(f"PATH: {str(path)!r} does not exist")
        if path.is_file() and path.suffix != ".ipynb":
            parser.error(f"PATH: {str(path)!r} is not a notebook (.ipynb)")
        if path.is_dir() and not notebooks_in(path):
            parser.error(f"PATH: no *.ipynb under {str(path)!r}")
    return arguments


def notebooks_in(path: Path) -> list[Path]:
    """`path` itself when it is a file, else the notebooks under it, sorted."""
    if path.is_file():
        return [path]
    return sorted(
        notebook
        for notebook in path.rglob("*.ipynb")
        if not any(part.startswith(".") for part in notebook.relative_to(path).parts)
    )


def install_kernelspec(folder: Path) -> None:
    """A kernelspec running this interpreter, found first through `JUPYTER_PATH`."""
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(folder), os.environ.get("JUPYTER_PATH")])
    )


def run_notebook(path: Path, timeout: int) -> str | None:
    """Run `path` in a fresh kernel in an empty working folder: None when every cell
    ran, else what failed (the cell's index, the error's name and value)."""
    started_cells = []  # the last one is the failing cell when a cell fails

    def record_start(cell, cell_index: int) -> None:
        started_cells.append(cell_index)

    with tempfile.TemporaryDirectory(prefix="nnbook-notebook-") as working_dir:
        try:
            client = NotebookClient(
                nbformat.read(path, as_version=4),
                timeout=timeout,
                kernel_name=KERNEL_NAME,
                resources={"metadata": {"path": working_dir}},
                on_cell_execute=record_start,
            )
            client.execute()
        except CellExecutionError as error:
            return f"cell {started_cells[-1]}: {error.ename}: {error.evalue}"
        # not a notebook, a cell timing out, a dead kernel: still this notebook's
        # failure, and the next notebooks run
        except Exception as error:
            where = f"cell {started_cells[-1]}: " if started_cells else ""
            return f"{where}{type(error).__name__}: {error}"
    return None


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    notebooks = [
        notebook for path in arguments.paths for notebook in notebooks_in(path)
    ]
    failed = []
    with tempfile.TemporaryDirectory(prefix="nnbook-kernelspec-") as kernels:
        install_kernelspec(Path(kernels))
        for notebook in notebooks:
            start = time.perf_counter()
            failure = run_notebook(notebook, arguments.timeout)
            seconds = time.perf_counter() - start
            status = "OK" if failure is None else "FAILED"
            print(f"{notebook}  {seconds:.1f} s  {status}", flush=True)
            if failure is not None:
                failed.append(notebook)
                print(f"  {notebook.name}: {failure}".replace("\n", "\n  "), flush=True)
    if failed:
        names = ", ".join(str(notebook) for notebook in failed)
        print(f"{len(failed)} of {len(notebooks)} notebooks failed: {names}")
        return 1
    print(f"all {len(notebooks)} notebooks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
