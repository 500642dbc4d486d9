"""The extension's `env_version` follows its own code, so Sphinx re-reads every page after the extension
changes instead of writing out doctrees the old code made."""

from __future__ import annotations

import shutil
from pathlib import Path

import nnbook.sphinxext
from nnbook.sphinxext import source_version

EXTENSION = Path(nnbook.sphinxext.__file__).parent


def test_env_version_changes_when_a_module_of_the_extension_changes(tmp_path):
    copy = shutil.copytree(EXTENSION, tmp_path / "sphinxext", ignore=shutil.ignore_patterns("__pycache__"))
    assert source_version(copy) == source_version(EXTENSION)
    (copy / "results.py").write_text((copy / "results.py").read_text() + "\n# edited\n")
    assert source_version(copy) != source_version(EXTENSION)


def test_env_version_ignores_the_static_files(tmp_path):
    copy = shutil.copytree(EXTENSION, tmp_path / "sphinxext", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "static" / "nnbook.css").write_text("/* restyled */")
    assert source_version(copy) == source_version(EXTENSION)


def test_the_extension_declares_it_to_sphinx():
    class App:  # records what setup() registers; nothing else is needed here
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    assert nnbook.sphinxext.setup(App())["env_version"] == source_version()
