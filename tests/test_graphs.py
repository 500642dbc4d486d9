"""The chapter "Computational graphs": the two-tower model in its three forms (the layer catalogue's tests are in
test_catalogue.py).

Cross-framework checks load the same float32 weights into the PyTorch model and both Keras models (functional
and subclassed) and compare outputs with atol 1e-5 (float32 matmuls of width <= 32, summed in different orders,
differ by ~1e-6). PyTorch stores a linear weight as (out, in), Keras a kernel as (in, out).
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re

import keras
import numpy as np
import pytest
import torch
import torch.fx

from nnbook.tf import graphs as K
from nnbook.torch import graphs as T
from helpers import rand

ATOL = 1e-5  # float32, see the module docstring
LAYERS = {"query_proj": ("d_query", "d_model"), "item_proj": ("d_item", "d_model"),
          "shared": ("d_model", "d_model"), "category": (None, "n_classes")}


def numpy_weights(config) -> dict[str, np.ndarray]:
    """One set of weights in the layout of y = x @ kernel + bias."""
    weights, seed = {}, 10
    for layer, (d_in, d_out) in LAYERS.items():
        d_in = 2 * config.d_model if d_in is None else getattr(config, d_in)
        d_out = getattr(config, d_out)
        weights[f"{layer}.kernel"] = rand(d_in, d_out, seed=seed) / np.sqrt(d_in)
        weights[f"{layer}.bias"] = rand(d_out, seed=seed + 1) / 10
        seed += 2
    return weights


def numpy_two_tower(weights, query, item) -> dict[str, np.ndarray]:
    def dense(x, layer):
        return x @ weights[f"{layer}.kernel"] + weights[f"{layer}.bias"]

    q = dense(query, "query_proj")
    q = q + np.maximum(dense(q, "shared"), 0)
    i = dense(item, "item_proj")
    i = i + np.maximum(dense(i, "shared"), 0)
    return {"score": (q * i).sum(-1, keepdims=True), "category": dense(np.concatenate([q, i], -1), "category")}


# --------------------------------------------------------------------------- the two-tower model


@pytest.mark.parametrize("config", [{}, {"d_query": 5, "d_item": 3, "d_model": 7, "n_classes": 2}],
                         ids=["default", "small"])
def test_pytorch_functional_and_subclassed_models_compute_the_same_outputs_from_the_same_weights(config):
    t_config, k_config = T.TwoTowerConfig(**config), K.TwoTowerConfig(**config)
    weights = numpy_weights(t_config)
    query, item = rand(6, t_config.d_query, seed=2), rand(6, t_config.d_item, seed=3)
    expected = numpy_two_tower(weights, query, item)
    pt = T.TwoTowerModel(t_config)
    T.load_numpy_weights(pt, weights)
    with torch.no_grad():
        outputs = {"pytorch": {k: v.numpy() for k, v in pt(torch.from_numpy(query), torch.from_numpy(item)).items()}}
    for label, model in [("functional", K.build_functional_model(k_config)), ("subclassed", K.TwoTowerModel(k_config))]:
        K.load_numpy_weights(model, weights)
        outputs[label] = {k: v.numpy() for k, v in model({"query": query, "item": item}).items()}
    for label, out in outputs.items():
        assert set(out) == {"score", "category"}, label
        for key in expected:
            np.testing.assert_allclose(out[key], expected[key], atol=ATOL, err_msg=f"{label} {key}")
    np.testing.assert_allclose(outputs["pytorch"]["score"], outputs["functional"]["score"], atol=ATOL)
    np.testing.assert_allclose(outputs["functional"]["category"], outputs["subclassed"]["category"], atol=ATOL)


def test_every_form_holds_the_shared_layer_once():
    config = T.TwoTowerConfig()
    expected = (12 + 1) * 16 + (8 + 1) * 16 + (16 + 1) * 16 + (32 + 1) * 5
    pt = T.TwoTowerModel(config)
    assert sum(p.numel() for p in pt.parameters()) == expected
    assert [n for n, _ in pt.named_parameters()] == [
        f"{layer}.{part}" for layer in LAYERS for part in ("weight", "bias")]
    functional, subclassed = K.build_functional_model(K.TwoTowerConfig()), K.TwoTowerModel(K.TwoTowerConfig())
    assert functional.count_params() == subclassed.count_params() == expected


def test_keras_functional_model_has_named_inputs_and_outputs_a_shared_layer_and_residuals():
    model = K.build_functional_model(K.TwoTowerConfig())
    assert sorted(t.name for t in model.inputs) == ["item", "query"]
    assert sorted(model.output_names) == ["category", "score"]
    layers = {layer["name"]: layer for layer in model.get_config()["layers"]}
    sources = [node["args"][0]["config"]["keras_history"][0] for node in layers["shared"]["inbound_nodes"]]
    assert sources == ["query_proj", "item_proj"]
    for residual, projection in [("query_residual", "query_proj"), ("item_residual", "item_proj")]:
        assert layers[residual]["class_name"] == "Add"
        summands = [t["config"]["keras_history"][0] for t in layers[residual]["inbound_nodes"][0]["args"][0]]
        assert summands == [projection, "shared"]


def test_torch_model_traces_with_fx_calling_the_shared_layer_twice_and_computing_the_same():
    model = T.TwoTowerModel()
    traced = torch.fx.symbolic_trace(model)
    assert [n.name for n in traced.graph.nodes if n.target == "shared"] == ["shared", "shared_1"]
    query, item = torch.from_numpy(rand(3, 12)), torch.from_numpy(rand(3, 8, seed=2))
    for key, value in model(query, item).items():
        torch.testing.assert_close(traced(query, item)[key], value)
    with pytest.raises(ValueError, match="^query: expected"):  # the traced graph keeps the check
        traced(torch.ones(3, 11), item)


def test_keras_subclassed_two_tower_is_recreated_from_its_config():
    original = K.TwoTowerModel(K.TwoTowerConfig(d_query=4, d_item=3, d_model=5, n_classes=2))
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(original))
    assert type(copy) is K.TwoTowerModel and copy.config == original.config
    copy.set_weights(original.get_weights())
    inputs = {"query": rand(2, 4), "item": rand(2, 3, seed=2)}
    for key, value in original(inputs).items():
        np.testing.assert_allclose(copy(inputs)[key].numpy(), value.numpy(), atol=1e-6)


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize("change, argument", [
    ({"d_query": 0}, "d_query"), ({"d_item": -1}, "d_item"), ({"d_model": 2.5}, "d_model"),
    ({"n_classes": True}, "n_classes"), ({"d_model": "16"}, "d_model"),
])
def test_bad_configs_raise_value_error_naming_the_argument(framework, change, argument):
    with pytest.raises(ValueError, match=rf"^{argument}: expected"):
        framework.TwoTowerConfig(**change)


@pytest.mark.parametrize("query_shape, item_shape, argument", [
    ((2, 3, 12), (2, 8), "query"), ((2, 11), (2, 8), "query"), ((2, 12), (8,), "item"), ((2, 12), (2, 9), "item"),
])
def test_inputs_of_the_wrong_rank_or_width_raise_value_error_naming_the_input(query_shape, item_shape, argument):
    query, item = np.ones(query_shape, np.float32), np.ones(item_shape, np.float32)
    with pytest.raises(ValueError, match=rf"^{argument}: expected a tensor of shape"):
        T.TwoTowerModel()(torch.from_numpy(query), torch.from_numpy(item))
    with pytest.raises(ValueError, match=rf"{argument}: expected a tensor of shape"):  # Keras adds context
        K.TwoTowerModel()({"query": query, "item": item})
    with pytest.raises(ValueError, match=rf"name '{argument}'"):  # Keras checks a functional model's inputs
        K.build_functional_model()({"query": query, "item": item})


@pytest.mark.parametrize("framework, make", [
    (T, lambda: T.TwoTowerModel()), (K, lambda: K.TwoTowerModel()), (K, lambda: K.build_functional_model()),
], ids=["torch", "tf-subclassed", "tf-functional"])
def test_load_numpy_weights_rejects_missing_keys_and_wrong_shapes(framework, make):
    weights = numpy_weights(T.TwoTowerConfig())
    model = make()
    with pytest.raises(ValueError, match="^weights: expected the keys"):
        framework.load_numpy_weights(model, {k: v for k, v in weights.items() if k != "shared.bias"})
    with pytest.raises(ValueError, match="^weights: expected the keys"):
        framework.load_numpy_weights(model, [1, 2])
    wrong = {**weights, "query_proj.kernel": weights["query_proj.kernel"].T}
    with pytest.raises(ValueError, match=re.escape("weights['query_proj.kernel']: expected shape (12, 16)")):
        framework.load_numpy_weights(model, wrong)
