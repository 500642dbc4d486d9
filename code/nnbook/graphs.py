"""The configurations of the chapter's two-input, two-output models, shared by both
frameworks' `graphs` modules.

`nnbook.torch.graphs` and `nnbook.tf.graphs` re-export them: one dataclass, two
implementations each. `MainAuxConfig` is the Keras notes' own example (a main and an
auxiliary input, concatenated, read out by a main and an auxiliary head);
`TwoTowerConfig` the book's richer one (a shared layer and residual connections).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnbook import checks

__all__ = [
    "MainAuxConfig",
    "TwoTowerConfig",
    "NODE_STYLES",
    "check_main_aux_training",
    "draw",
]


@dataclass
class MainAuxConfig:
    d_main: int = 4  # main input features
    d_aux: int = 2  # auxiliary input features
    d_main_out: int = 1  # the main head: one regression target
    d_aux_out: int = 2  # the auxiliary head

    def __post_init__(self):
        for name in ("d_main", "d_aux", "d_main_out", "d_aux_out"):
            setattr(self, name, checks.positive_int(name, getattr(self, name)))


def check_main_aux_training(
    inputs, targets, steps, learning_rate, aux_weight, widths: dict[str, int]
) -> tuple[dict, int, float, float]:
    """The arguments of both frameworks' `train_main_aux`, checked in one place:
    `inputs` and `targets` dicts keyed by the model's input and output names, each
    target (B, widths[name]). Returns the targets as float32 arrays, then `steps`,
    `learning_rate` and `aux_weight`."""
    steps = checks.positive_int("steps", steps)
    learning_rate = checks.positive_float("learning_rate", learning_rate)
    aux_weight = checks.non_negative_number("aux_weight", aux_weight)
    for name, value, keys in [
        ("inputs", inputs, {"main_input", "aux_input"}),
        ("targets", targets, {"main_output", "aux_output"}),
    ]:
        got = sorted(value) if isinstance(value, dict) else value
        checks.require(
            name,
            isinstance(value, dict) and set(value) == keys,
            f"a dict with the keys {sorted(keys)}",
            repr(got),
        )
    targets = {
        name: checks.array(
            f"targets['{name}']",
            np.asarray(value, dtype=np.float32),
            ("B", widths[name]),
        )
        for name, value in targets.items()
    }
    return targets, steps, learning_rate, aux_weight


@dataclass
class TwoTowerConfig:
    d_query: int = 12  # query features
    d_item: int = 8  # item features
    d_model: int = 16  # D: the width of both towers
    n_classes: int = 5  # item categories

    def __post_init__(self):
        for name in ("d_query", "d_item", "d_model", "n_classes"):
            setattr(self, name, checks.positive_int(name, getattr(self, name)))


# The look of a graph's nodes, by what they are: data coming in, stored weights,
# computations, results. One table for both frameworks' diagrams, so a TensorFlow
# graph and a torch.fx graph of the same function read alike.
NODE_STYLES = {
    "input": {"shape": "parallelogram", "style": "filled", "fillcolor": "#cfe2f3"},
    "variable": {"shape": "cylinder", "style": "filled", "fillcolor": "#fce5cd"},
    "operation": {"shape": "ellipse"},
    "output": {"shape": "box", "style": "rounded,filled", "fillcolor": "#d9ead3"},
}


def draw(
    nodes: list[tuple[str, str, str]],
    edges: list[tuple[str, str, str]],
    control_edges: list[tuple[str, str]] = (),
):
    """A graphviz diagram of a graph: `nodes` as (name, label, role), a role being one
    of NODE_STYLES; `edges` as (from, to, label), the label saying what flows along
    it (a tensor's shape); `control_edges` as (from, to), dashed: an order to keep,
    with no data flowing. Its `pipe(format="svg")` renders it with graphviz's `dot`."""
    import graphviz  # the diagrams' only user: imported when one is drawn

    diagram = graphviz.Digraph(
        graph_attr={"rankdir": "TB", "nodesep": "0.25", "ranksep": "0.3"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "margin": "0.05"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"},
    )
    names = set()
    for name, label, role in nodes:
        checks.one_of("role", role, tuple(NODE_STYLES))
        diagram.node(name, label, **NODE_STYLES[role])
        names.add(name)
    for source, target, label in edges:
        checks.require(
            "edges",
            source in names and target in names,
            "edges between the nodes given",
            f"{source!r} -> {target!r}",
        )
        diagram.edge(source, target, label=label)
    for source, target in control_edges:
        checks.require(
            "control_edges",
            source in names and target in names,
            "edges between the nodes given",
            f"{source!r} -> {target!r}",
        )
        diagram.edge(source, target, style="dashed")
    return diagram
