"""Computational graphs in TensorFlow / Keras: the models and helpers of the chapter
"Computational graphs: Sequential, Functional, subclassing".

Mirrors `nnbook.torch.graphs` name for name, in the same order. Keras builds its two
functional models with `build_main_aux_model` and `build_functional_model`, which
PyTorch, without a Functional API, writes as modules: `MainAuxModel`, `TwoTowerModel`.
Shapes in comments: B is the batch size, D the width of both towers.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import catalogue, checks, graphs
from nnbook.graphs import MainAuxConfig, TwoTowerConfig  # shared by both frameworks

__all__ = [
    "MainAuxConfig",
    "TwoTowerConfig",
    "build_main_aux_model",
    "build_functional_model",
    "TwoTowerModel",
    "load_numpy_weights",
    "train_main_aux",
    "graph_diagram",
    "catalogue_layer",
    "measure_layer",
]


# -------------------------------------------------- two-input, two-output models


def build_main_aux_model(config: MainAuxConfig | None = None) -> keras.Model:
    """The Keras notes' two-input, two-output model with the Functional API: a main
    and an auxiliary input, concatenated, read by two Dense heads."""
    config = MainAuxConfig() if config is None else config
    checks.instance("config", config, MainAuxConfig)
    main_input = keras.Input(shape=(config.d_main,), name="main_input")
    aux_input = keras.Input(shape=(config.d_aux,), name="aux_input")
    both = keras.layers.Concatenate(name="concat")([main_input, aux_input])
    main_output = keras.layers.Dense(config.d_main_out, name="main_output")(both)
    aux_output = keras.layers.Dense(config.d_aux_out, name="aux_output")(both)
    return keras.Model(
        inputs={"main_input": main_input, "aux_input": aux_input},
        outputs={"main_output": main_output, "aux_output": aux_output},
        name="main_aux",
    )


def build_functional_model(config: TwoTowerConfig | None = None) -> keras.Model:
    """TwoTowerModel with the Functional API: calling layers on symbolic inputs
    records the graph, and keras.Model(inputs, outputs) wraps it."""
    config = TwoTowerConfig() if config is None else config
    checks.instance("config", config, TwoTowerConfig)
    query = keras.Input(shape=(config.d_query,), name="query")  # (B, d_query)
    item = keras.Input(shape=(config.d_item,), name="item")  # (B, d_item)
    shared = keras.layers.Dense(config.d_model, activation="relu", name="shared")
    q = keras.layers.Dense(config.d_model, name="query_proj")(query)  # (B, D)
    q = keras.layers.Add(name="query_residual")([q, shared(q)])  # around shared
    i = keras.layers.Dense(config.d_model, name="item_proj")(item)  # (B, D)
    i = keras.layers.Add(name="item_residual")([i, shared(i)])  # the same weights
    score = keras.layers.Dot(axes=-1, name="score")([q, i])  # (B, 1)
    both = keras.layers.Concatenate(name="concat")([q, i])  # (B, 2D)
    category = keras.layers.Dense(config.n_classes, name="category")(both)
    return keras.Model(
        inputs={"query": query, "item": item},
        outputs={"category": category, "score": score},
        name="two_tower",
    )


def _check_input(name: str, x, width: int) -> None:
    checks.shape(name, x, ("B", width), what="a tensor of shape")


@keras.saving.register_keras_serializable(package="nnbook")
class TwoTowerModel(keras.Model):
    """Two inputs (query, item); one layer shared by both towers, with a residual
    connection around it; two outputs: a matching score and category logits."""

    def __init__(self, config: TwoTowerConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        config = TwoTowerConfig() if config is None else config
        self.config = config = checks.instance("config", config, TwoTowerConfig)
        self.query_proj = keras.layers.Dense(config.d_model, name="query_proj")
        self.item_proj = keras.layers.Dense(config.d_model, name="item_proj")
        self.shared = keras.layers.Dense(config.d_model, name="shared")  # 2 towers
        self.category = keras.layers.Dense(config.n_classes, name="category")
        # every shape is known from the config: weights now, as in PyTorch
        self.build({"query": (None, config.d_query), "item": (None, config.d_item)})

    def build(self, input_shape: dict) -> None:
        self.query_proj.build(input_shape["query"])
        self.item_proj.build(input_shape["item"])
        self.shared.build((None, self.config.d_model))
        self.category.build((None, 2 * self.config.d_model))

    def call(self, inputs: dict) -> dict:
        _check_input("query", inputs["query"], self.config.d_query)
        _check_input("item", inputs["item"], self.config.d_item)
        q = self.query_proj(inputs["query"])  # (B, D)
        q = q + keras.ops.relu(self.shared(q))  # residual around shared
        i = self.item_proj(inputs["item"])  # (B, D)
        i = i + keras.ops.relu(self.shared(i))  # the same weights again
        score = keras.ops.sum(q * i, axis=-1, keepdims=True)  # (B, 1)
        both = keras.ops.concatenate([q, i], axis=-1)  # (B, 2D)
        category = self.category(both)  # (B, classes)
        return {"category": category, "score": score}

    def get_config(self) -> dict:
        return {**super().get_config(), "config": dataclasses.asdict(self.config)}

    @classmethod
    def from_config(cls, config: dict) -> TwoTowerModel:
        config = dict(config)
        return cls(TwoTowerConfig(**config.pop("config")), **config)


def load_numpy_weights(model: keras.Model, weights: dict) -> None:
    """Copy NumPy weights into the model's Dense layers: "<layer>.kernel" (in, out)
    and "<layer>.bias" for y = x @ kernel + bias, one pair for each layer, named as
    the model names it. Dense stores the kernel so, (in, out)."""
    checks.instance("model", model, keras.Model)
    denses = {d.name: d for d in model.layers if isinstance(d, keras.layers.Dense)}
    expected = {f"{layer}.{part}" for layer in denses for part in ("kernel", "bias")}
    checks.require(
        "weights",
        isinstance(weights, dict) and set(weights) == expected,
        f"the keys {sorted(expected)}",
        repr(sorted(weights) if isinstance(weights, dict) else weights),
    )
    for layer, dense in denses.items():
        for part, target in [("kernel", dense.kernel), ("bias", dense.bias)]:
            value = checks.array(
                f"weights['{layer}.{part}']",
                np.asarray(weights[f"{layer}.{part}"], dtype=np.float32),
                tuple(target.shape),
                what="shape",
            )
            target.assign(value)


def train_main_aux(
    model: keras.Model,
    inputs: dict,
    targets: dict,
    steps: int,
    learning_rate: float,
    aux_weight: float,
) -> list[float]:
    """Full-batch gradient descent on the main output's mean squared error plus
    `aux_weight` times the auxiliary output's, with compile(loss=..., loss_weights=...)
    and fit. `inputs` and `targets` are dicts of arrays keyed by the model's input and
    output names. Returns each step's loss, before its update."""
    checks.instance("model", model, keras.Model)
    outputs = sorted(model.output_names)
    checks.require(
        "model",
        outputs == ["aux_output", "main_output"],
        "a model from build_main_aux_model",
        f"outputs {outputs}",
    )
    widths = {d.name: d.units for d in model.layers if d.name in outputs}
    targets, steps, learning_rate, aux_weight = graphs.check_main_aux_training(
        inputs, targets, steps, learning_rate, aux_weight, widths
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss={"main_output": "mse", "aux_output": "mse"},
        loss_weights={"main_output": 1.0, "aux_output": aux_weight},
    )
    batch = len(targets["main_output"])  # one batch: a step per epoch
    history = model.fit(
        inputs, targets, batch_size=batch, epochs=steps, shuffle=False, verbose=0
    )
    return [float(loss) for loss in history.history["loss"]]


# --------------------------------------------------------------- drawing a graph


def _tensor_text(tensor: tf.Tensor) -> str:
    """What an edge carries: a variable's handle, or a tensor of some shape."""
    return "resource" if tensor.dtype == tf.resource else str(tuple(tensor.shape))


def graph_diagram(traced: tf.Graph):
    """A traced graph drawn with graphviz: each operation a node (the function's
    inputs and the variables' handles enter as Placeholders), each tensor an edge
    labelled with its shape, each control dependency a dashed edge. Nodes look as
    in the torch.fx graph's diagram."""
    checks.instance("traced", traced, tf.Graph)
    results = {t.op.name for t in getattr(traced, "outputs", [])}  # a FuncGraph's
    nodes, edges, control_edges = [], [], []
    for op in traced.get_operations():
        if op.type == "Placeholder":
            resource = op.outputs[0].dtype == tf.resource
            role = "variable" if resource else "input"
        else:
            role = "output" if op.name in results else "operation"
        nodes.append((op.name, f"{op.type}\\n{op.name}", role))
        edges += [(t.op.name, op.name, _tensor_text(t)) for t in op.inputs]
        control_edges += [(before.name, op.name) for before in op.control_inputs]
    return graphs.draw(nodes, edges, control_edges)


# ------------------------------------------------------------- the layer catalogue


def catalogue_layer(entry: catalogue.Entry) -> keras.layers.Layer | None:
    """The entry's Keras layer (several: a keras.Sequential); None where there is
    none."""
    if entry.keras is None:
        return None
    layers = [
        getattr(keras.layers, spec.cls)(*spec.args, **spec.kwargs)
        for spec in entry.keras
    ]
    return layers[0] if len(layers) == 1 else keras.Sequential(layers)


def measure_layer(entry: catalogue.Entry, seed: int = 0) -> catalogue.Measured | None:
    """Call the entry's Keras layer on a batch in Keras' layout. Returns what
    it holds (trainable and non-trainable weights), its output shape without
    the batch, and its default settings; None where Keras has no such layer."""
    entry = checks.instance("entry", entry, catalogue.Entry)
    seed = checks.non_negative_int("seed", seed)
    layer = catalogue_layer(entry)
    if layer is None:
        return None
    rng = np.random.default_rng(seed)
    inputs = []
    for shape in entry.inputs:
        shape = (catalogue.BATCH, *shape)
        if entry.integer_input:
            vocab = catalogue.SIZES["vocab"]
            inputs.append(tf.constant(rng.integers(0, vocab, shape), tf.int32))
        else:
            inputs.append(tf.constant(rng.normal(size=shape), tf.float32))
    if entry.call == "input":
        out = layer.output  # an InputLayer is called on nothing: its symbolic tensor
    elif entry.call == "merge":
        out = layer(inputs)  # merge layers take a list
    elif entry.call == "self_attention":
        out = layer(inputs[0], inputs[0])  # query, value (key = value)
    else:
        out = layer(inputs[0])
    counts = catalogue.Counts(
        sum(int(np.prod(v.shape)) for v in layer.trainable_weights),
        sum(int(np.prod(v.shape)) for v in layer.non_trainable_weights),
    )
    defaults = {d.label: getattr(layer, d.keras_attr) for d in entry.defaults}
    return catalogue.Measured(counts, tuple(out.shape[1:]), defaults)
