"""Group adjacent executed cells tagged `pytorch` / `tensorflow` into one synced
sphinx-design tab set.

myst-nb drops a code cell written inside a directive, so chapters write the two
frameworks' cells one after the other at top level and this transform wraps them after
execution. It builds the same component tree as sphinx-design's `tab-set` / `tab-item`
directives (so its HTML post-transform, radio inputs and tab memory all apply), with
`sync-group: framework` and sync ids `pytorch` / `tensorflow`: the keys a chapter's
prose tab sets use too, so one click switches every tab set on the page and the next
page opens on the same framework.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx_design.shared import create_component

SYNC_GROUP = "framework"
FRAMEWORKS = {
    "pytorch": "PyTorch",
    "tensorflow": "TensorFlow",
}  # tag -> tab label, in tab order


def framework_of(node: nodes.Node) -> str | None:
    """The framework tag of an executed code cell, or None for anything else (untagged
    cells included)."""
    if not isinstance(node, nodes.container) or node.get("nb_element") != "cell_code":
        return None
    tags = [tag for tag in FRAMEWORKS if f"tag_{tag}" in node["classes"]]
    return tags[0] if len(tags) == 1 else None


def tab_set(cells: list[nodes.container]) -> nodes.container:
    """A tab set with one tab per framework, holding that framework's cells in order."""
    tabs = create_component("tab-set", classes=["sd-tab-set", "nnbook-framework-tabs"])
    for tag, label in FRAMEWORKS.items():
        label_node = nodes.rubric(
            label, label, classes=["sd-tab-label"], sync_id=tag, sync_group=SYNC_GROUP
        )
        content = create_component("tab-content", classes=["sd-tab-content"])
        own = [cell for cell in cells if framework_of(cell) == tag]
        # A step with code for one framework only still gets both tabs, so switching
        # never shows the wrong code.
        content += own or [
            nodes.paragraph(
                "", f"This step has no {label} code.", classes=["nnbook-no-code"]
            )
        ]
        item = create_component("tab-item", classes=["sd-tab-item"], selected=False)
        item += [label_node, content]
        tabs += item
    tabs.source, tabs.line = cells[0].source, cells[0].line
    return tabs


class FrameworkTabs(SphinxTransform):
    """Replace every run of adjacent framework-tagged cells by one tab set."""

    # after myst-nb has built the cell containers; long before HTML post-transforms
    default_priority = 500

    def apply(self, **kwargs) -> None:
        parents = {
            cell.parent
            for cell in self.document.findall(nodes.container)
            if framework_of(cell)
        }
        for parent in parents:
            children, run = [], []
            for child in parent.children:
                if framework_of(child):
                    run.append(child)
                    continue
                if run:
                    children.append(tab_set(run))
                    run = []
                children.append(child)
            if run:
                children.append(tab_set(run))
            parent.children = []
            parent.extend(children)


def setup_framework_tabs(app) -> None:
    """Tab sets around the executed framework cells of every page."""
    app.setup_extension("sphinx_design")
    app.setup_extension("myst_nb")
    app.add_transform(FrameworkTabs)
