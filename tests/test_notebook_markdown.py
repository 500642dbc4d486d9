"""Markdown of the downloaded notebooks: MyST constructs resolved for one framework, the rest untouched."""

from __future__ import annotations

import json

import nbformat
import pytest

from nnbook.sphinxext.notebook_markdown import for_framework, glue_values, python_object_source

TABS = """Before.

::::{tab-set}
:sync-group: framework

:::{tab-item} PyTorch
:sync: pytorch
Weights are `(out, in)`.
:::

:::{tab-item} TensorFlow
:sync: tensorflow
Kernels are `(in, out)`.
:::
::::

After.
"""

MODULE = '''import math


def helper():
    return 1


@decorated
class Model:
    """A model."""

    def forward(self, x):
        return x
'''


@pytest.mark.parametrize("framework, kept, dropped", [("pytorch", "(out, in)", "(in, out)"),
                                                      ("tensorflow", "(in, out)", "(out, in)")])
def test_framework_tab_set_keeps_only_that_frameworks_tab(framework, kept, dropped):
    text = for_framework(TABS, framework, {}, None)
    assert kept in text and dropped not in text
    assert "tab-set" not in text and "tab-item" not in text and ":sync" not in text
    assert text.startswith("Before.") and text.rstrip().endswith("After.")


def test_tab_sets_of_other_sync_groups_are_left_alone():
    other = TABS.replace(":sync-group: framework", ":sync-group: os")
    assert for_framework(other, "pytorch", {}, None) == other


def test_glue_roles_become_the_glued_values_and_unknown_names_stay():
    text = for_framework("loss {glue}`pt_loss`, steps {glue:text}`steps`, {glue}`missing`", "pytorch",
                         {"pt_loss": "0.012", "steps": "96"}, None)
    assert text == "loss 0.012, steps 96, {glue}`missing`"


def test_literalinclude_pyobject_becomes_the_source_with_decorators(tmp_path):
    (tmp_path / "model.py").write_text(MODULE)
    text = for_framework("```{literalinclude} model.py\n:pyobject: Model\n```\n", "tensorflow", {}, tmp_path)
    assert text == "```python\n" + MODULE[MODULE.index("@decorated"):].rstrip("\n") + "\n```\n"


def test_pyobject_finds_methods_and_refuses_unknown_names(tmp_path):
    (tmp_path / "model.py").write_text(MODULE)
    assert python_object_source(tmp_path / "model.py", "Model.forward").strip().startswith("def forward")
    with pytest.raises(ValueError, match="pyobject: no 'Missing'"):
        python_object_source(tmp_path / "model.py", "Missing")


def test_glue_values_read_myst_nb_glue_file(tmp_path):
    glue_file = tmp_path / "page.glue.json"
    glue_file.write_text(json.dumps({"pt_loss": {"output_type": "display_data", "data": {"text/plain": "0.5"}}}))
    assert glue_values(glue_file) == {"pt_loss": "0.5"}
    assert glue_values(tmp_path / "absent.glue.json") == {}


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_chapter_notebook_markdown_has_no_unresolved_myst(book, framework):
    for path in (book / "_build" / "html").rglob(f"*-{framework}.ipynb"):
        markdown = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells
                             if cell.cell_type == "markdown")
        for construct in ("{glue", "{tab-set}", "{literalinclude}"):
            assert construct not in markdown, f"{path.name}: {construct}"
