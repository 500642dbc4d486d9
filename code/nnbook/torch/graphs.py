"""Computational graphs in PyTorch: the models and helpers of the chapter
"Computational graphs: Sequential, Functional, subclassing".

Mirrors `nnbook.tf.graphs` name for name, in the same order. Keras builds its two
functional models with `build_main_aux_model` and `build_functional_model`, which
PyTorch, without a Functional API, writes as modules: `MainAuxModel`, `TwoTowerModel`.
Shapes in comments: B is the batch size, D the width of both towers.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

import nnbook.torch
from nnbook import catalogue, checks, graphs
from nnbook.graphs import MainAuxConfig, TwoTowerConfig  # shared by both frameworks

__all__ = [
    "MainAuxConfig",
    "TwoTowerConfig",
    "MainAuxModel",
    "TwoTowerModel",
    "load_numpy_weights",
    "train_main_aux",
    "graph_diagram",
    "catalogue_layer",
    "measure_layer",
]


# -------------------------------------------------- two-input, two-output models


@torch.fx.wrap  # torch.fx records the check as one call instead of tracing into it
def _check_input(name: str, x, width: int) -> None:
    checks.shape(name, x, ("B", width), kind=torch.is_tensor, what="a tensor of shape")


class MainAuxModel(nn.Module):
    """The Keras notes' two-input, two-output model: a main and an auxiliary input,
    concatenated, read by two linear heads, a main output and an auxiliary one."""

    def __init__(self, config: MainAuxConfig | None = None):
        super().__init__()
        config = MainAuxConfig() if config is None else config
        self.config = config = checks.instance("config", config, MainAuxConfig)
        both = config.d_main + config.d_aux
        self.main_output = nn.Linear(both, config.d_main_out)
        self.aux_output = nn.Linear(both, config.d_aux_out)

    def forward(self, main_input: torch.Tensor, aux_input: torch.Tensor) -> dict:
        _check_input("main_input", main_input, self.config.d_main)
        _check_input("aux_input", aux_input, self.config.d_aux)
        both = torch.cat([main_input, aux_input], dim=-1)  # (B, d_main + d_aux)
        return {
            "main_output": self.main_output(both),
            "aux_output": self.aux_output(both),
        }


class TwoTowerModel(nn.Module):
    """Two inputs (query, item); one layer shared by both towers, with a residual
    connection around it; two outputs: a matching score and category logits."""

    def __init__(self, config: TwoTowerConfig | None = None):
        super().__init__()
        config = TwoTowerConfig() if config is None else config
        self.config = config = checks.instance("config", config, TwoTowerConfig)
        self.query_proj = nn.Linear(config.d_query, config.d_model)
        self.item_proj = nn.Linear(config.d_item, config.d_model)
        self.shared = nn.Linear(config.d_model, config.d_model)  # 2 towers
        self.category = nn.Linear(2 * config.d_model, config.n_classes)

    def forward(self, query: torch.Tensor, item: torch.Tensor) -> dict:
        _check_input("query", query, self.config.d_query)
        _check_input("item", item, self.config.d_item)
        q = self.query_proj(query)  # (B, D)
        q = q + torch.relu(self.shared(q))  # residual around shared
        i = self.item_proj(item)  # (B, D)
        i = i + torch.relu(self.shared(i))  # the same weights again
        score = (q * i).sum(dim=-1, keepdim=True)  # (B, 1)
        both = torch.cat([q, i], dim=-1)  # (B, 2D)
        category = self.category(both)  # (B, classes)
        return {"category": category, "score": score}


def load_numpy_weights(model: nn.Module, weights: dict) -> None:
    """Copy NumPy weights into the model's linear layers: "<layer>.kernel" (in, out)
    and "<layer>.bias" for y = x @ kernel + bias, one pair for each layer, named as
    the model names it. nn.Linear stores the kernel transposed, (out, in)."""
    checks.instance("model", model, (MainAuxModel, TwoTowerModel))
    linears = {n: m for n, m in model.named_children() if isinstance(m, nn.Linear)}
    expected = {f"{layer}.{part}" for layer in linears for part in ("kernel", "bias")}
    checks.require(
        "weights",
        isinstance(weights, dict) and set(weights) == expected,
        f"the keys {sorted(expected)}",
        repr(sorted(weights) if isinstance(weights, dict) else weights),
    )
    with torch.no_grad():
        for layer, linear in linears.items():
            for part, target in [("kernel", linear.weight.T), ("bias", linear.bias)]:
                value = checks.array(
                    f"weights['{layer}.{part}']",
                    np.asarray(weights[f"{layer}.{part}"], dtype=np.float32),
                    tuple(target.shape),
                    what="shape",
                )
                target.copy_(torch.from_numpy(value))  # .T is a view: fills weight


def train_main_aux(
    model: MainAuxModel,
    inputs: dict,
    targets: dict,
    steps: int,
    learning_rate: float,
    aux_weight: float,
    device: torch.device | None = None,
) -> list[float]:
    """Full-batch gradient descent on the main output's mean squared error plus
    `aux_weight` times the auxiliary output's, what Keras' compile(loss=...,
    loss_weights=...) and fit do. `inputs` and `targets` are dicts of arrays keyed by
    the model's input and output names. Returns each step's loss, before its update."""
    checks.instance("model", model, MainAuxModel)
    config = model.config
    widths = {"main_output": config.d_main_out, "aux_output": config.d_aux_out}
    targets, steps, learning_rate, aux_weight = graphs.check_main_aux_training(
        inputs, targets, steps, learning_rate, aux_weight, widths
    )
    device = nnbook.torch.device() if device is None else torch.device(device)
    model.to(device)

    def tensor(value):
        return torch.as_tensor(np.asarray(value, dtype=np.float32), device=device)

    main_input, aux_input = tensor(inputs["main_input"]), tensor(inputs["aux_input"])
    main_target, aux_target = (
        tensor(targets["main_output"]),
        tensor(targets["aux_output"]),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    losses = []
    for _ in range(steps):
        out = model(main_input, aux_input)
        loss = F.mse_loss(out["main_output"], main_target) + aux_weight * F.mse_loss(
            out["aux_output"], aux_target
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# --------------------------------------------------------------- drawing a graph

_FX_ROLES = {"placeholder": "input", "get_attr": "variable", "output": "output"}


def graph_diagram(traced: torch.fx.GraphModule):
    """A torch.fx graph drawn with graphviz: each node (input, parameter, call,
    output) a box, each edge a value passed on, labelled with its shape where
    ShapeProp has noted one. Nodes look as in the TensorFlow graph's diagram."""
    checks.instance("traced", traced, torch.fx.GraphModule)
    nodes, edges = [], []
    for node in traced.graph.nodes:
        if node.op == "call_module":  # the layer's class says more than its name
            calls = type(traced.get_submodule(node.target)).__name__
        else:
            calls = getattr(node.target, "__name__", str(node.target))
        label = node.name if node.op in _FX_ROLES else f"{calls}\\n{node.name}"
        nodes.append((node.name, label, _FX_ROLES.get(node.op, "operation")))
        for parent in node.all_input_nodes:
            meta = parent.meta.get("tensor_meta")
            shape = str(tuple(meta.shape)) if hasattr(meta, "shape") else ""
            edges.append((parent.name, node.name, shape))
    return graphs.draw(nodes, edges)


# ------------------------------------------------------------- the layer catalogue


def catalogue_layer(entry: catalogue.Entry) -> nn.Module | None:
    """The entry's PyTorch layer (several: an nn.Sequential); None where there is
    none."""
    if entry.torch is None:
        return None
    layers = [getattr(nn, spec.cls)(*spec.args, **spec.kwargs) for spec in entry.torch]
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)


def measure_layer(entry: catalogue.Entry, seed: int = 0) -> catalogue.Measured | None:
    """Call the entry's PyTorch layer on a batch in PyTorch's layout. Returns
    what it holds (parameters, buffers), its output shape without the batch,
    and its default settings; None where PyTorch has no such layer."""
    entry = checks.instance("entry", entry, catalogue.Entry)
    seed = checks.non_negative_int("seed", seed)
    layer = catalogue_layer(entry)
    if layer is None:
        return None
    generator = torch.Generator().manual_seed(seed)
    inputs = []
    for shape in entry.torch_inputs():
        shape = (catalogue.BATCH, *shape)
        if entry.integer_input:
            vocab = catalogue.SIZES["vocab"]
            inputs.append(torch.randint(0, vocab, shape, generator=generator))
        else:
            inputs.append(torch.randn(shape, generator=generator))
    layer.eval()
    with torch.no_grad():
        if entry.call == "self_attention":
            out = layer(inputs[0], inputs[0], inputs[0])  # query, key, value
        else:
            out = layer(*inputs)
    if isinstance(out, tuple):  # (output, states) or (output, attention)
        out = out[0]
    counts = catalogue.Counts(
        sum(p.numel() for p in layer.parameters()),
        sum(b.numel() for b in layer.buffers()),
    )
    defaults = {d.label: getattr(layer, d.torch_attr) for d in entry.defaults}
    return catalogue.Measured(counts, tuple(out.shape[1:]), defaults)
