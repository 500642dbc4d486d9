"""A third way to read the framework tab sets: PyTorch and TensorFlow side by side.

Tabs show one framework at a time; a reader comparing the two wants both at once. A
switch in the page header (`nnbook-view.js`) offers PyTorch, TensorFlow or Side by
side. The choice is stored under sphinx-design's own key for the `framework` sync group,
with `side-by-side` as a third value, so one setting drives every tab set, every page
and every visit, and `?framework=side-by-side` links work like sphinx-design's own.

Side by side must be there when the page first paints, not after a flash of tabs: a
small inline script in <head> runs before the body is parsed and marks <html> with
`data-nnbook-view`, and the stylesheet (`nnbook.css`) lays out the marked page. The
stylesheet finds the tab sets to lay out by a class this module adds at build time,
since prose tab sets (`{tab-set}` with `:sync-group: framework`) need it as much as the
cell tab sets of `framework_tabs`.
"""

from __future__ import annotations

import json

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx_design.config import get_sd_config
from sphinx_design.shared import is_component

from .framework_tabs import SYNC_GROUP, FrameworkTabs

FRAMEWORK_SET_CLASS = "nnbook-framework-set"
SIDE_BY_SIDE = "side-by-side"
VIEW_ATTRIBUTE = "data-nnbook-view"  # on <html>: "side-by-side" or "tabbed"

# Runs in <head>, before the body exists. It must not throw (storage can be blocked) and
# must stay tiny: it delays the first paint by its own run time.
EARLY_VIEW_SCRIPT = """\
(function () {{
  var key = {key}, view = null;
  try {{
    view = new URLSearchParams(location.search).get({group})
      || (key ? localStorage.getItem(key) : null);
  }} catch (error) {{}}
  document.documentElement.setAttribute(
    {attribute}, view === {side_by_side} ? {side_by_side} : "tabbed");
}})();"""


def in_framework_group(tab_set: nodes.Element) -> bool:
    """Whether a sphinx-design tab set belongs to the `framework` sync group (its
    labels, the first child of every tab item, carry the group)."""
    return any(
        is_component(item, "tab-item")
        and item.children
        and item.children[0].get("sync_group") == SYNC_GROUP
        for item in tab_set.children
    )


class MarkFrameworkSets(SphinxTransform):
    """Add `nnbook-framework-set` to every tab set of the `framework` sync group."""

    default_priority = FrameworkTabs.default_priority + 1  # after the cell tab sets

    def apply(self, **kwargs) -> None:
        for tab_set in self.document.findall(nodes.container):
            if is_component(tab_set, "tab-set") and in_framework_group(tab_set):
                tab_set["classes"].append(FRAMEWORK_SET_CLASS)


def early_view_script(storage_key: str | None) -> str:
    """The inline <head> script that marks <html> with the stored view."""
    return EARLY_VIEW_SCRIPT.format(
        key=json.dumps(storage_key),
        group=json.dumps(SYNC_GROUP),
        attribute=json.dumps(VIEW_ATTRIBUTE),
        side_by_side=json.dumps(SIDE_BY_SIDE),
    )


def has_framework_sets(doctree: nodes.document | None) -> bool:
    """Whether a page holds a tab set of the `framework` sync group."""
    if doctree is None:
        return False
    return any(
        FRAMEWORK_SET_CLASS in node["classes"]
        for node in doctree.findall(nodes.Element)
    )


def _add_view_scripts(app, pagename, templatename, context, doctree) -> None:
    # Only pages with framework tab sets: elsewhere a stored side-by-side view would
    # fold the sidebars of a page that has nothing to show side by side.
    if app.builder.format != "html" or not has_framework_sets(doctree):
        return
    prefix = get_sd_config(app.env).tabs_storage_prefix  # "" turns persistence off
    storage_key = prefix + SYNC_GROUP if prefix else None
    # Priority 100: before every other script, so nothing waits on it and it waits
    # on nothing; no async/defer, so it runs before the body is parsed.
    app.add_js_file(None, body=early_view_script(storage_key), priority=100)
    # Deferred: it builds the header switch once the page is parsed, after
    # sphinx-design's own script has restored the tabs.
    app.add_js_file(
        "nnbook-view.js",
        loading_method="defer",
        **{"data-storage-key": storage_key or ""},
    )


def setup_framework_view(app) -> None:
    """The framework switch (PyTorch, TensorFlow, side by side) on every page with
    framework tab sets."""
    app.setup_extension("sphinx_design")
    app.add_transform(MarkFrameworkSets)
    app.connect("html-page-context", _add_view_scripts)
