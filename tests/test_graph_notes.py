"""The chapter "Computational graphs", the Keras notes' own examples: the main/auxiliary model with two inputs and
two outputs in both frameworks, its training with a weighted sum of two losses, and the diagrams drawn from traced
graphs.

Cross-framework checks load the same float32 weights into the PyTorch module and the Keras functional model and
compare with atol 1e-5: the chapter measured differences of about 2e-7 between either framework's losses and
NumPy's float64 ones over 20 steps (float32 rounding). PyTorch stores a linear weight as (out, in), Keras a kernel
as (in, out).
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from nnbook import graphs
from nnbook.tf import graphs as K
from nnbook.torch import graphs as T
from helpers import rand

ATOL = 1e-5  # float32, see the module docstring
HEADS = {"main_output": "d_main_out", "aux_output": "d_aux_out"}


def main_aux_data(config, n: int = 16):
    """Inputs, targets and starting weights (kernel (in, out)) for a main/auxiliary model."""
    d_in = config.d_main + config.d_aux
    inputs = {"main_input": rand(n, config.d_main, seed=1), "aux_input": rand(n, config.d_aux, seed=2)}
    targets = {head: rand(n, getattr(config, width), seed=3 + i) for i, (head, width) in enumerate(HEADS.items())}
    weights = {}
    for i, (head, width) in enumerate(HEADS.items()):
        weights[f"{head}.kernel"] = rand(d_in, getattr(config, width), seed=10 + i) / np.sqrt(d_in)
        weights[f"{head}.bias"] = rand(getattr(config, width), seed=20 + i) / 10
    return inputs, targets, {k: v.astype(np.float32) for k, v in weights.items()}


def numpy_main_aux(weights, inputs) -> dict[str, np.ndarray]:
    joined = np.concatenate([inputs["main_input"], inputs["aux_input"]], axis=-1)
    return {head: joined @ weights[f"{head}.kernel"] + weights[f"{head}.bias"] for head in HEADS}


def numpy_gradient_descent(weights, inputs, targets, steps, learning_rate, aux_weight):
    """Full-batch gradient descent on main MSE + aux_weight * aux MSE in float64: the losses and the final weights."""
    joined = np.concatenate([inputs["main_input"], inputs["aux_input"]], axis=-1).astype(np.float64)
    current = {k: v.astype(np.float64) for k, v in weights.items()}
    losses = []
    for _ in range(steps):
        loss, grads = 0.0, {}
        for head, weight in [("main_output", 1.0), ("aux_output", aux_weight)]:
            error = joined @ current[f"{head}.kernel"] + current[f"{head}.bias"] - targets[head]
            loss += weight * np.mean(error**2)
            d_prediction = weight * 2 * error / error.size
            grads[f"{head}.kernel"], grads[f"{head}.bias"] = joined.T @ d_prediction, d_prediction.sum(0)
        losses.append(loss)
        current = {k: v - learning_rate * grads[k] for k, v in current.items()}
    return losses, current


def torch_weights(model) -> dict[str, np.ndarray]:
    return {f"{head}.{part}": (getattr(model, head).weight.T if part == "kernel" else getattr(model, head).bias)
            .detach().cpu().numpy() for head in HEADS for part in ("kernel", "bias")}


def keras_weights(model) -> dict[str, np.ndarray]:
    return {f"{head}.{part}": getattr(model.get_layer(head), part).numpy() for head in HEADS for part in ("kernel", "bias")}


CONFIGS = [{}, {"d_main": 3, "d_aux": 5, "d_main_out": 2, "d_aux_out": 4}]


# --------------------------------------------------------------------------- the main/auxiliary model


@pytest.mark.parametrize("config", CONFIGS, ids=["notes", "other-widths"])
def test_main_aux_models_compute_what_numpy_computes_from_the_same_weights(config):
    t_config, k_config = T.MainAuxConfig(**config), K.MainAuxConfig(**config)
    inputs, _, weights = main_aux_data(t_config)
    expected = numpy_main_aux(weights, inputs)
    pt = T.MainAuxModel(t_config)
    T.load_numpy_weights(pt, weights)
    with torch.no_grad():
        pt_out = pt(torch.from_numpy(inputs["main_input"]), torch.from_numpy(inputs["aux_input"]))
    tf_model = K.build_main_aux_model(k_config)
    K.load_numpy_weights(tf_model, weights)
    tf_out = tf_model(inputs)
    assert set(pt_out) == set(tf_out) == set(HEADS)
    for head in HEADS:
        np.testing.assert_allclose(pt_out[head].numpy(), expected[head], atol=ATOL, err_msg=f"pytorch {head}")
        np.testing.assert_allclose(tf_out[head].numpy(), expected[head], atol=ATOL, err_msg=f"keras {head}")
        np.testing.assert_allclose(pt_out[head].numpy(), tf_out[head].numpy(), atol=ATOL, err_msg=head)


def test_main_aux_heads_are_built_in_linear_layers_reading_both_inputs_concatenated():
    config = T.MainAuxConfig()
    inputs, _, weights = main_aux_data(config)
    pt = T.MainAuxModel(config)
    T.load_numpy_weights(pt, weights)
    joined = torch.cat([torch.from_numpy(inputs["main_input"]), torch.from_numpy(inputs["aux_input"])], dim=-1)
    with torch.no_grad():
        out = pt(torch.from_numpy(inputs["main_input"]), torch.from_numpy(inputs["aux_input"]))
        for head in HEADS:  # a fresh built-in layer with the head's weights
            builtin = nn.Linear(6, getattr(config, HEADS[head]))
            builtin.load_state_dict(getattr(pt, head).state_dict())
            torch.testing.assert_close(out[head], builtin(joined), atol=0, rtol=0)
    tf_model = K.build_main_aux_model(K.MainAuxConfig())
    assert [type(layer).__name__ for layer in tf_model.layers] == ["InputLayer", "InputLayer", "Concatenate", "Dense",
                                                                  "Dense"]
    assert {t.name for t in tf_model.inputs} == {"main_input", "aux_input"}
    assert sorted(tf_model.output_names) == ["aux_output", "main_output"]
    assert tf_model.count_params() == sum(p.numel() for p in pt.parameters()) == 6 * 1 + 1 + 6 * 2 + 2


@pytest.mark.parametrize("aux_weight", [0.2, 1.0])
def test_both_frameworks_train_the_main_aux_model_step_for_step_as_numpy_does(aux_weight):
    config = T.MainAuxConfig()
    inputs, targets, weights = main_aux_data(config)
    steps, learning_rate = 6, 0.1
    expected_losses, expected_weights = numpy_gradient_descent(weights, inputs, targets, steps, learning_rate, aux_weight)
    pt = T.MainAuxModel(config)
    T.load_numpy_weights(pt, weights)
    pt_losses = T.train_main_aux(pt, inputs, targets, steps, learning_rate, aux_weight)
    tf_model = K.build_main_aux_model(K.MainAuxConfig())
    K.load_numpy_weights(tf_model, weights)
    tf_losses = K.train_main_aux(tf_model, inputs, targets, steps, learning_rate, aux_weight)
    assert len(pt_losses) == len(tf_losses) == steps
    np.testing.assert_allclose(pt_losses, expected_losses, atol=ATOL)
    np.testing.assert_allclose(tf_losses, expected_losses, atol=ATOL)
    assert expected_losses[-1] < expected_losses[0]
    for label, trained in [("pytorch", torch_weights(pt)), ("keras", keras_weights(tf_model))]:
        for key, value in expected_weights.items():
            np.testing.assert_allclose(trained[key], value, atol=ATOL, err_msg=f"{label} {key}")


def test_an_aux_weight_of_zero_leaves_the_auxiliary_head_untrained_in_both_frameworks():
    config = T.MainAuxConfig()
    inputs, targets, weights = main_aux_data(config)
    pt = T.MainAuxModel(config)
    T.load_numpy_weights(pt, weights)
    T.train_main_aux(pt, inputs, targets, 3, 0.1, 0.0)
    tf_model = K.build_main_aux_model(K.MainAuxConfig())
    K.load_numpy_weights(tf_model, weights)
    K.train_main_aux(tf_model, inputs, targets, 3, 0.1, 0.0)
    for trained in (torch_weights(pt), keras_weights(tf_model)):
        np.testing.assert_array_equal(trained["aux_output.kernel"], weights["aux_output.kernel"])
        assert np.abs(trained["main_output.kernel"] - weights["main_output.kernel"]).max() > 1e-3


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("change, argument", [
    ({"d_main": 0}, "d_main"), ({"d_aux": -2}, "d_aux"), ({"d_main_out": 1.5}, "d_main_out"),
    ({"d_aux_out": "2"}, "d_aux_out"),
])
def test_bad_main_aux_configs_raise_value_error_naming_the_argument(change, argument):
    with pytest.raises(ValueError, match=rf"^{argument}: expected"):
        graphs.MainAuxConfig(**change)


def test_main_aux_builders_reject_another_config():
    with pytest.raises(ValueError, match="^config: expected"):
        T.MainAuxModel(T.TwoTowerConfig())
    with pytest.raises(ValueError, match="^config: expected"):
        K.build_main_aux_model(K.TwoTowerConfig())


@pytest.mark.parametrize("main_shape, aux_shape, argument", [
    ((2, 5), (2, 2), "main_input"), ((2, 4), (2, 3), "aux_input"), ((4,), (2, 2), "main_input"),
])
def test_main_aux_inputs_of_the_wrong_shape_raise_value_error_naming_the_input(main_shape, aux_shape, argument):
    main, aux = np.ones(main_shape, np.float32), np.ones(aux_shape, np.float32)
    with pytest.raises(ValueError, match=rf"^{argument}: expected a tensor of shape"):
        T.MainAuxModel()(torch.from_numpy(main), torch.from_numpy(aux))
    with pytest.raises(ValueError, match=rf"name '{argument}'"):  # Keras checks a functional model's inputs
        K.build_main_aux_model()({"main_input": main, "aux_input": aux})


@pytest.mark.parametrize("framework, make", [(T, lambda: T.MainAuxModel()), (K, lambda: K.build_main_aux_model())],
                         ids=["torch", "tf"])
def test_load_numpy_weights_asks_for_the_main_aux_models_own_layers(framework, make):
    _, _, weights = main_aux_data(graphs.MainAuxConfig())
    with pytest.raises(ValueError, match=re.escape("weights: expected the keys ['aux_output.bias'")):
        framework.load_numpy_weights(make(), {k: v for k, v in weights.items() if k != "main_output.bias"})
    wrong = {**weights, "aux_output.kernel": weights["aux_output.kernel"].T}
    with pytest.raises(ValueError, match=re.escape("weights['aux_output.kernel']: expected shape (6, 2)")):
        framework.load_numpy_weights(make(), wrong)


@pytest.mark.parametrize("framework, make", [(T, lambda: T.MainAuxModel()), (K, lambda: K.build_main_aux_model())],
                         ids=["torch", "tf"])
@pytest.mark.parametrize("change, message", [
    ({"steps": 0}, "^steps: expected"), ({"learning_rate": -0.1}, "^learning_rate: expected"),
    ({"aux_weight": -1.0}, "^aux_weight: expected"), ({"inputs": {"main_input": 1}}, "^inputs: expected a dict"),
    ({"targets": [1, 2]}, "^targets: expected a dict"),
    ({"targets": {"main_output": np.ones((16, 3)), "aux_output": np.ones((16, 2))}},
     re.escape("targets['main_output']: expected")),
])
def test_train_main_aux_rejects_bad_arguments_naming_them(framework, make, change, message):
    inputs, targets, _ = main_aux_data(graphs.MainAuxConfig())
    arguments = {"inputs": inputs, "targets": targets, "steps": 2, "learning_rate": 0.1, "aux_weight": 0.2, **change}
    with pytest.raises(ValueError, match=message):
        framework.train_main_aux(make(), **arguments)


def test_train_main_aux_rejects_another_model():
    inputs, targets, _ = main_aux_data(graphs.MainAuxConfig())
    with pytest.raises(ValueError, match="^model: expected"):
        T.train_main_aux(T.TwoTowerModel(), inputs, targets, 1, 0.1, 0.2)
    with pytest.raises(ValueError, match="^model: expected a model from build_main_aux_model"):
        K.train_main_aux(K.build_functional_model(), inputs, targets, 1, 0.1, 0.2)


# --------------------------------------------------------------------------- diagrams of traced graphs


def edges_of(diagram) -> list[tuple[str, str, str]]:
    """(from, to, attributes) for every edge in a graphviz diagram's DOT source."""
    return re.findall(r"^\s*(\S+) -> (\S+)(?: \[(.*)\])?$", diagram.source, flags=re.M)


def test_tensorflow_diagram_has_a_node_per_operation_and_an_edge_per_tensor_and_control_input():
    mlp = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(8), keras.layers.ReLU(), keras.layers.Dense(2)])
    graph = tf.function(mlp).get_concrete_function(tf.TensorSpec((None, 4), tf.float32)).graph
    diagram = K.graph_diagram(graph)
    operations = graph.get_operations()
    for op in operations:
        assert re.search(rf"^\s*\"?{re.escape(op.name)}\"? \[label=", diagram.source, flags=re.M), op.name
    edges = edges_of(diagram)
    data = [e for e in edges if "dashed" not in e[2]]
    assert len(data) == sum(len(op.inputs) for op in operations)
    assert len(edges) - len(data) == sum(len(op.control_inputs) for op in operations) > 0
    assert sum('label=resource' in e[2] for e in data) == 4  # one handle per variable, read once
    assert diagram.source.count("shape=parallelogram") == 1  # the one data input
    assert diagram.source.count("shape=cylinder") == 4  # kernel and bias, twice
    assert diagram.source.count("rounded,filled") == 1  # the function's result


def test_torch_diagram_draws_the_fx_graph_with_the_shapes_shape_prop_noted():
    traced = torch.fx.symbolic_trace(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
    ShapeProp(traced).propagate(torch.randn(3, 4))
    diagram = T.graph_diagram(traced)
    edges = edges_of(diagram)
    assert [(a, b) for a, b, _ in edges] == [("input_1", "_0"), ("_0", "_1"), ("_1", "_2"), ("_2", "output")]
    assert [attributes for _, _, attributes in edges] == [
        'label="(3, 4)"', 'label="(3, 8)"', 'label="(3, 8)"', 'label="(3, 2)"']
    assert 'label="Linear\\n_0"' in diagram.source and "shape=parallelogram" in diagram.source


def test_torch_diagram_shows_parameters_fetched_in_the_graph_as_stored_weights():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))

        def forward(self, x):
            return x * self.scale

    diagram = T.graph_diagram(torch.fx.symbolic_trace(Scale()))  # no ShapeProp: edges without shapes
    assert diagram.source.count("shape=cylinder") == 1
    assert ("scale", "mul", 'label=""') in edges_of(diagram)


def test_diagrams_reject_what_is_not_a_traced_graph():
    with pytest.raises(ValueError, match="^traced: expected"):
        T.graph_diagram(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="^traced: expected"):
        K.graph_diagram(tf.function(lambda x: x))
    with pytest.raises(ValueError, match="^role: expected"):
        graphs.draw([("a", "a", "weight")], [])
    with pytest.raises(ValueError, match="^edges: expected edges between the nodes given"):
        graphs.draw([("a", "a", "input")], [("a", "b", "")])
    with pytest.raises(ValueError, match="^control_edges: expected"):
        graphs.draw([("a", "a", "input")], [], [("b", "a")])
