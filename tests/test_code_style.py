"""The package is formatted and linted by ruff (configuration in code/pyproject.toml: 88 columns, since the
book shows the package's code in a narrow column)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.parametrize("command", [["format", "--check"], ["check"]], ids=["format", "check"])
def test_the_package_passes_ruff(command):
    assert RUFF, "ruff is not installed: pip install -r requirements.txt"
    result = subprocess.run([RUFF, *command, "code"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff {' '.join(command)} code:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
