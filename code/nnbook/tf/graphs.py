"""Computational graphs in TensorFlow / Keras: the model and helpers of the chapter
"Computational graphs: Sequential, Functional, subclassing".

Mirrors `nnbook.torch.graphs` name for name, in the same order. Keras has one name more,
`build_functional_model`: PyTorch has no Functional API. Shapes in comments: B is the
batch size, D the width of both towers.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import catalogue, checks
from nnbook.graphs import TwoTowerConfig  # shared by both frameworks

__all__ = [
    "TwoTowerConfig",
    "build_functional_model",
    "TwoTowerModel",
    "load_numpy_weights",
    "catalogue_layer",
    "measure_layer",
]


# --------------------------------------------------- a two-input, two-output model


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


_LAYERS = ("query_proj", "item_proj", "shared", "category")


def load_numpy_weights(model: keras.Model, weights: dict) -> None:
    """Copy NumPy weights into the model: "<layer>.kernel" (in, out) and "<layer>.bias"
    for y = x @ kernel + bias. Dense stores the kernel so, (in, out)."""
    expected = {f"{layer}.{part}" for layer in _LAYERS for part in ("kernel", "bias")}
    checks.require(
        "weights",
        isinstance(weights, dict) and set(weights) == expected,
        f"the keys {sorted(expected)}",
        repr(sorted(weights) if isinstance(weights, dict) else weights),
    )
    for layer in _LAYERS:
        dense = model.get_layer(layer)  # by name: functional and subclassed alike
        for part, target in [("kernel", dense.kernel), ("bias", dense.bias)]:
            value = checks.array(
                f"weights['{layer}.{part}']",
                np.asarray(weights[f"{layer}.{part}"], dtype=np.float32),
                tuple(target.shape),
                what="shape",
            )
            target.assign(value)


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
