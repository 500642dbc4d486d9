"""The chapter "Computational graphs": the two-tower model in its three forms, and the layer catalogue.

Cross-framework checks load the same float32 weights into the PyTorch model and both Keras models (functional
and subclassed) and compare outputs with atol 1e-5 (float32 matmuls of width <= 32, summed in different orders,
differ by ~1e-6). PyTorch stores a linear weight as (out, in), Keras a kernel as (in, out).

The catalogue's formulas stand in, on each framework's tab, for the other framework's layers; here both
frameworks' layers are measured, so the verdicts the chapter prints are those of the real layers.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re

import keras
import numpy as np
import pytest
import torch
import torch.fx
from torch import nn

from nnbook import catalogue
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


# --------------------------------------------------------------------------- the layer catalogue

ENTRIES = list(enumerate(catalogue.ENTRIES))
IDS = [f"{i}-{(e.keras or e.torch)[0].cls}" for i, e in ENTRIES]


@pytest.fixture(scope="module")
def measured():
    """Both frameworks' layers, measured once: {index: (keras, torch)}."""
    return {i: (K.measure_layer(e), T.measure_layer(e)) for i, e in ENTRIES}


@pytest.mark.parametrize("index, entry", ENTRIES, ids=IDS)
def test_every_layer_measures_what_its_formulas_say(measured, index, entry):
    keras_measured, torch_measured = measured[index]
    assert keras_measured == entry.expected("tensorflow")
    assert torch_measured == entry.expected("pytorch")


@pytest.mark.parametrize("index, entry", ENTRIES, ids=IDS)
def test_comparing_the_measured_layers_gives_the_verdict_of_the_formulas(measured, index, entry):
    from_formulas = catalogue.verdict(entry.expected("tensorflow"), entry.expected("pytorch"),
                                      entry.channels_first, entry.known)
    assert catalogue.verdict(*measured[index], entry.channels_first, entry.known) == from_formulas


def test_catalogue_covers_every_family_and_shows_each_kind_of_mismatch():
    assert {e.family for e in catalogue.ENTRIES} == set(catalogue.FAMILIES)
    verdicts = [catalogue.verdict(e.expected("tensorflow"), e.expected("pytorch"), e.channels_first, e.known)
                for e in catalogue.ENTRIES]
    text = " | ".join(verdicts)
    for kind in ["parameters", "state", "output shape", "default epsilon", "default negative slope",
                 "element order", "no PyTorch layer", "no Keras layer"]:
        assert kind in text, kind
    assert verdicts.count("same") >= 10
    lstm = next(e for e in catalogue.ENTRIES if e.keras and e.keras[0].cls == "LSTM")
    assert catalogue.verdict(lstm.expected("tensorflow"), lstm.expected("pytorch"), False) == "differ: parameters"


def test_markdown_table_has_a_row_per_entry_a_row_per_family_and_numbered_notes(measured):
    for framework, side in [("pytorch", 1), ("tensorflow", 0)]:
        table = catalogue.markdown_table(framework, {i: m[side] for i, m in measured.items() if m[side]})
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        assert len(rows) == 2 + len(catalogue.FAMILIES) + len(catalogue.ENTRIES)  # header, rule
        assert "| **differ: parameters** (" in table and "| same |" in table
        n_notes = sum(bool(e.note or any(d.keras_value != d.torch_value for d in e.defaults))
                      for e in catalogue.ENTRIES)
        assert f"({n_notes}) " in table and f"({n_notes + 1}) " not in table
    with pytest.raises(ValueError, match="^framework: expected"):
        catalogue.markdown_table("jax", {})


def test_layout_helpers_move_the_channel_axis_and_back():
    assert catalogue.torch_layout((8, 6, 3)) == (3, 8, 6)
    assert catalogue.keras_layout((3, 8, 6)) == (8, 6, 3)
    assert catalogue.keras_layout(catalogue.torch_layout((5, 4))) == (5, 4)


# --------------------------------------------------------------------------- what the catalogue's notes say


def test_flatten_keeps_the_elements_in_each_frameworks_layout_order():
    x = rand(2, 4, 5, 3)  # (B, H, W, C)
    k = keras.layers.Flatten()(x).numpy()
    t = nn.Flatten()(torch.from_numpy(x).permute(0, 3, 1, 2)).numpy()
    assert k.shape == t.shape and not np.allclose(k, t)
    np.testing.assert_array_equal(k, x.reshape(2, -1))
    np.testing.assert_array_equal(t, x.transpose(0, 3, 1, 2).reshape(2, -1))


def test_lstm_weights_move_from_torch_to_keras_by_adding_the_two_biases():
    x = rand(2, 5, 8)
    pt = nn.LSTM(8, 6, batch_first=True)
    for p in pt.parameters():  # bias values that differ, so that their sum matters
        nn.init.normal_(p, std=0.3)
    layer = keras.layers.LSTM(6, return_sequences=True)
    layer(x)
    # the same gate order (input, forget, cell, output) in both
    layer.set_weights([pt.weight_ih_l0.detach().numpy().T, pt.weight_hh_l0.detach().numpy().T,
                       (pt.bias_ih_l0 + pt.bias_hh_l0).detach().numpy()])
    with torch.no_grad():
        expected = pt(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=ATOL)


def test_keras_default_gru_computes_what_torch_gru_computes_with_its_gates_reordered():
    x = rand(2, 5, 8)
    pt = nn.GRU(8, 6, batch_first=True)
    for p in pt.parameters():
        nn.init.normal_(p, std=0.3)
    layer = keras.layers.GRU(6, return_sequences=True)  # reset_after=True
    layer(x)

    def to_keras(w):  # PyTorch stacks the gates (reset, update, new), Keras (update, reset, new)
        r, z, n = np.split(w.detach().numpy(), 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    layer.set_weights([to_keras(pt.weight_ih_l0).T, to_keras(pt.weight_hh_l0).T,
                       np.stack([to_keras(pt.bias_ih_l0), to_keras(pt.bias_hh_l0)])])
    with torch.no_grad():
        expected = pt(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, atol=ATOL)


def test_batch_norm_momentum_keeps_old_statistics_in_keras_and_mixes_in_new_ones_in_torch():
    x = rand(16, 4, 4, 3) + 5.0  # (B, H, W, C), channel means near 5
    mean = x.mean(axis=(0, 1, 2))
    k = keras.layers.BatchNormalization()
    k(x, training=True)
    t = nn.BatchNorm2d(3)
    t.train()(torch.from_numpy(x).permute(0, 3, 1, 2))
    assert k.momentum == 0.99 and t.momentum == 0.1
    np.testing.assert_allclose(k.moving_mean.numpy(), (1 - 0.99) * mean, rtol=1e-4)
    np.testing.assert_allclose(t.running_mean.numpy(), 0.1 * mean, rtol=1e-4)
    assert t.num_batches_tracked.item() == 1


def test_the_settings_named_in_the_notes_reconcile_the_mismatches():
    x = rand(2, 4, 4, 3)
    assert tuple(keras.layers.GlobalAveragePooling2D(keepdims=True)(x).shape) == (2, 1, 1, 3)
    assert sum(p.numel() for p in nn.PReLU(num_parameters=8).parameters()) == 8
    assert keras.layers.LeakyReLU().negative_slope == 0.3 and nn.LeakyReLU().negative_slope == 0.01
    q = torch.from_numpy(rand(2, 2, 5, 4))  # (B, heads, T, head width)
    assert tuple(nn.functional.scaled_dot_product_attention(q, q, q).shape) == (2, 2, 5, 4)
