"""Computational graphs in PyTorch: the model and helpers of the chapter
"Computational graphs: Sequential, Functional, subclassing".

Mirrors `nnbook.tf.graphs` name for name, in the same order. Keras has one name more,
`build_functional_model`: PyTorch has no Functional API. Shapes in comments: B is the
batch size, D the width of both towers.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.fx
from torch import nn

from nnbook import catalogue, checks
from nnbook.graphs import TwoTowerConfig  # shared by both frameworks

__all__ = [
    "TwoTowerConfig",
    "TwoTowerModel",
    "load_numpy_weights",
    "catalogue_layer",
    "measure_layer",
]


# --------------------------------------------------- a two-input, two-output model


@torch.fx.wrap  # torch.fx records the check as one call instead of tracing into it
def _check_input(name: str, x, width: int) -> None:
    checks.shape(name, x, ("B", width), kind=torch.is_tensor, what="a tensor of shape")


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


_LAYERS = ("query_proj", "item_proj", "shared", "category")


def load_numpy_weights(model: TwoTowerModel, weights: dict) -> None:
    """Copy NumPy weights into the model: "<layer>.kernel" (in, out) and "<layer>.bias"
    for y = x @ kernel + bias. nn.Linear stores the kernel transposed, (out, in)."""
    expected = {f"{layer}.{part}" for layer in _LAYERS for part in ("kernel", "bias")}
    checks.require(
        "weights",
        isinstance(weights, dict) and set(weights) == expected,
        f"the keys {sorted(expected)}",
        repr(sorted(weights) if isinstance(weights, dict) else weights),
    )
    with torch.no_grad():
        for layer in _LAYERS:
            linear = getattr(model, layer)
            for part, target in [("kernel", linear.weight.T), ("bias", linear.bias)]:
                value = checks.array(
                    f"weights['{layer}.{part}']",
                    np.asarray(weights[f"{layer}.{part}"], dtype=np.float32),
                    tuple(target.shape),
                    what="shape",
                )
                target.copy_(torch.from_numpy(value))  # .T is a view: fills weight


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
