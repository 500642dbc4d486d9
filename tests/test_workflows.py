"""The GitHub workflows: actionlint-clean, actions pinned to commits, least-privilege permissions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")


def test_workflows_pass_actionlint():
    assert ACTIONLINT, "actionlint is not installed: pip install -r requirements.txt"
    result = subprocess.run([ACTIONLINT, *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_full_commit(workflow):
    uses = re.findall(r"uses:\s*(\S+)", workflow.read_text())
    assert uses
    assert all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", use) for use in uses), uses


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_default_permissions_are_read_only_or_none(workflow):
    permissions = yaml.safe_load(workflow.read_text())["permissions"]
    assert permissions in ({}, {"contents": "read"})


def test_only_the_notebooks_job_may_write_contents():
    jobs = yaml.safe_load((REPO / ".github" / "workflows" / "publish.yml").read_text())["jobs"]
    writers = [name for name, job in jobs.items() if job.get("permissions", {}).get("contents") == "write"]
    assert writers == ["notebooks"]
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
