"""The layer catalogue of the chapter "Computational graphs" (`nnbook.catalogue`): Keras layers next to their
PyTorch counterparts, and the tensor operations the source notes list among them.

The catalogue's formulas stand in, on each framework's tab, for the other framework's layers; here both
frameworks' layers are measured, so the verdicts the chapter prints are those of the real layers. Pairs the
catalogue calls the same are also run on the same data (with copied weights where they hold any).

Tolerances: parameter-free pairs compare exactly up to float32 rounding (atol 1e-6: the same additions, perhaps
in another order, on values of order 1); convolutions and recurrent layers with copied weights sum up to 216
float32 products in different orders (atol 1e-5); operations against NumPy's float64 result use the catalogue's
own OPERATION_TOLERANCE.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from nnbook import catalogue
from nnbook.tf import graphs as K
from nnbook.torch import graphs as T
from helpers import rand

ATOL = 1e-5  # float32 with copied weights, see the module docstring
EXACT = 1e-6  # float32, parameter-free

ENTRIES = list(enumerate(catalogue.ENTRIES))
IDS = [f"{i}-{(e.keras or e.torch or (catalogue.Spec(e.removed[0]),))[0].cls}" for i, e in ENTRIES]


@pytest.fixture(scope="module")
def measured():
    """Both frameworks' layers, measured once: {index: (keras, torch)}."""
    return {i: (K.measure_layer(e), T.measure_layer(e)) for i, e in ENTRIES}


def expected_verdict(entry: catalogue.Entry) -> str:
    return entry.compare(entry.expected("tensorflow"), entry.expected("pytorch"))


# --------------------------------------------------------------------------- formulas and verdicts


@pytest.mark.parametrize("index, entry", ENTRIES, ids=IDS)
def test_every_layer_measures_what_its_formulas_say(measured, index, entry):
    keras_measured, torch_measured = measured[index]
    assert keras_measured == entry.expected("tensorflow")
    assert torch_measured == entry.expected("pytorch")


@pytest.mark.parametrize("index, entry", ENTRIES, ids=IDS)
def test_comparing_the_measured_layers_gives_the_verdict_of_the_formulas(measured, index, entry):
    assert entry.compare(*measured[index]) == expected_verdict(entry)


def test_catalogue_covers_every_family_and_shows_each_kind_of_mismatch():
    assert {e.family for e in catalogue.ENTRIES} == set(catalogue.FAMILIES)
    verdicts = [expected_verdict(e) for e in catalogue.ENTRIES]
    text = " | ".join(verdicts)
    for kind in ["parameters", "state", "output shape", "default epsilon", "default negative slope",
                 "element order", "no PyTorch layer", "no Keras layer", "removed in Keras 3.0"]:
        assert kind in text, kind
    assert verdicts.count("same") >= 30
    lstm = next(e for e in catalogue.ENTRIES if e.keras and e.keras[0].cls == "LSTM")
    assert expected_verdict(lstm) == "differ: parameters"


def test_a_removed_layer_is_named_in_the_verdict_before_its_stand_in():
    thresholded = next(e for e in catalogue.ENTRIES if e.removed and e.removed[0] == "ThresholdedReLU")
    assert expected_verdict(thresholded) == "ThresholdedReLU removed in Keras 3.0; its stand-in: same"
    local = [e for e in catalogue.ENTRIES if e.removed and e.keras is None]
    assert [expected_verdict(e) for e in local] == [
        f"LocallyConnected{d}D removed in Keras 3.0; no PyTorch layer" for d in (1, 2)]


def test_markdown_table_has_a_table_per_family_a_row_per_entry_and_numbered_notes(measured):
    for framework, side in [("pytorch", 1), ("tensorflow", 0)]:
        table = catalogue.markdown_table(framework, {i: m[side] for i, m in measured.items() if m[side]})
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        assert len(rows) == 2 * len(catalogue.FAMILIES) + len(catalogue.ENTRIES)  # a header and a rule each
        assert [line for line in table.splitlines() if line.startswith("**")] == [
            f"**{family}**" for family in catalogue.FAMILIES]
        assert "| **differ: parameters** (" in table and "| same |" in table
        assert "**ThresholdedReLU removed in Keras 3.0; its stand-in: same** (" in table
        for family in catalogue.FAMILIES:  # notes are numbered within each family's table
            section = table.split(f"**{family}**")[1].split("\n**")[0]
            entries = [e for e in catalogue.ENTRIES if e.family == family]
            n_notes = sum(bool(e.note or any(d.keras_value != d.torch_value for d in e.defaults)) for e in entries)
            assert (f"({n_notes}) " in section) == (n_notes > 0), family
            assert f"({n_notes + 1}) " not in section, family
    with pytest.raises(ValueError, match="^framework: expected"):
        catalogue.markdown_table("jax", {})


def test_layout_helpers_move_the_channel_axis_and_back():
    assert catalogue.torch_layout((8, 6, 3)) == (3, 8, 6)
    assert catalogue.keras_layout((3, 8, 6)) == (8, 6, 3)
    assert catalogue.keras_layout(catalogue.torch_layout((5, 4))) == (5, 4)


def test_a_function_argument_is_shown_by_its_name():
    lambda_entry = next(e for e in catalogue.ENTRIES if e.keras and e.keras[0].cls == "Lambda")
    assert str(lambda_entry.keras[0]) == "Lambda(doubled)"


# --------------------------------------------------------------------------- the notes' list


def test_every_name_of_the_notes_catalogue_is_shown_by_a_layer_an_operation_or_a_function():
    places = {row.means: catalogue.where_covered(row.means) for row in catalogue.NOTES_LISTING}
    assert all(places.values()), [name for name, place in places.items() if not place]
    assert places["tf.math.reduce_variance"].startswith("operation ")
    assert places["add"] == f"function of {places['Add']}"
    assert places["MaxPooling2D"].startswith("layer ") and catalogue.where_covered("Conv4D") == ""


def test_notes_listing_counts_its_repeats_and_its_misnamed_table():
    names = [row.name for row in catalogue.NOTES_LISTING]
    meant = [row.means for row in catalogue.NOTES_LISTING]
    repeated = sorted({name for name in meant if meant.count(name) > 1})
    assert repeated == ["Activation", "ConvLSTM2D", "Dropout"]
    assert [row.name for row in catalogue.NOTES_LISTING if row.meant] == [f"GlobalMaxPool{d}D" for d in (1, 2, 3)]
    assert sum(name.startswith("GlobalMaxPool") for name in names) == 6  # as printed: twice
    layer_classes = {m for m in meant if m[0].isupper()}
    assert len(layer_classes) == 66


def test_layers_the_catalogue_calls_removed_are_absent_from_keras_and_the_others_present():
    removed = {e.removed[0] for e in catalogue.ENTRIES if e.removed}
    assert removed == {"ThresholdedReLU", "LocallyConnected1D", "LocallyConnected2D"}
    assert not any(hasattr(keras.layers, name) for name in removed)
    for row in catalogue.NOTES_LISTING:
        if not row.means.startswith("tf.") and row.means not in removed:
            assert hasattr(keras.layers, row.means), row.means
    assert keras.layers.GlobalMaxPool2D is keras.layers.GlobalMaxPooling2D  # the notes' name is an alias


def test_keras_merge_functions_build_the_layer_of_the_same_name():
    x, y = rand(2, 8), rand(2, 8, seed=2)
    for function in ["add", "subtract", "multiply", "maximum", "minimum"]:
        layer = getattr(keras.layers, function.capitalize())()
        np.testing.assert_array_equal(getattr(keras.layers, function)([x, y]).numpy(), layer([x, y]).numpy())


# --------------------------------------------------------------------------- the same computation


def _same_data(entry: catalogue.Entry, seed: int = 3):
    """The entry's inputs in Keras' layout, and the same data in PyTorch's."""
    keras_inputs = [rand(catalogue.BATCH, *shape, seed=seed + k) for k, shape in enumerate(entry.inputs)]
    move = entry.channels_first
    torch_inputs = [torch.from_numpy(np.moveaxis(x, -1, 1).copy() if move else x) for x in keras_inputs]
    return keras_inputs, torch_inputs


def _run_both(entry, keras_layer, torch_layer, seed: int = 3):
    keras_inputs, torch_inputs = _same_data(entry, seed)
    keras_out = (keras_layer(keras_inputs) if entry.call == "merge" else keras_layer(keras_inputs[0])).numpy()
    torch_layer.eval()
    with torch.no_grad():
        torch_out = torch_layer(*torch_inputs)
    torch_out = (torch_out[0] if isinstance(torch_out, tuple) else torch_out).numpy()
    if entry.channels_first and torch_out.ndim == keras_out.ndim > 2:
        torch_out = np.moveaxis(torch_out, 1, -1)
    return keras_out, torch_out


PARAMETER_FREE_SAME = [
    (i, e) for i, e in ENTRIES
    if e.keras and e.torch and e.expected("tensorflow").counts == catalogue.Counts(0) == e.expected("pytorch").counts
    and catalogue.verdict(e.expected("tensorflow"), e.expected("pytorch"), e.channels_first, e.known) == "same"
]


@pytest.mark.parametrize("index, entry", PARAMETER_FREE_SAME, ids=[IDS[i] for i, _ in PARAMETER_FREE_SAME])
def test_parameter_free_pairs_judged_the_same_compute_the_same_outputs(index, entry):
    keras_out, torch_out = _run_both(entry, K.catalogue_layer(entry), T.catalogue_layer(entry))
    np.testing.assert_allclose(torch_out, keras_out, atol=EXACT)


def test_enough_parameter_free_pairs_are_run_on_the_same_data():
    names = {e.keras[0].cls for _, e in PARAMETER_FREE_SAME}
    assert len(PARAMETER_FREE_SAME) >= 25
    assert {"Cropping2D", "UpSampling3D", "MaxPooling1D", "GlobalMaxPool3D", "ReLU", "Reshape"} <= names


def _keras_conv_kernel_to_torch(kernel: np.ndarray) -> np.ndarray:
    """Keras keeps (k..., in, out) for a convolution and (k..., out, in) for a transposed one; PyTorch (out, in,
    k...) and (in, out, k...): the same move of the last two axes to the front, in reverse."""
    dims = kernel.ndim - 2
    return np.transpose(kernel, (dims + 1, dims, *range(dims))).copy()


CONVOLUTIONS = [(i, e) for i, e in ENTRIES if e.keras and e.torch and e.keras[0].cls in (
    "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose")]


@pytest.mark.parametrize("index, entry", CONVOLUTIONS, ids=[IDS[i] for i, _ in CONVOLUTIONS])
def test_convolutions_compute_what_torch_computes_with_copied_weights(index, entry):
    keras_layer, torch_layer = K.catalogue_layer(entry), T.catalogue_layer(entry)
    keras_layer(_same_data(entry)[0][0])  # builds the weights
    kernel, bias = (w.numpy() for w in keras_layer.weights)
    bias = rand(*bias.shape, seed=7)  # not zeros: a bias in the wrong place shows
    keras_layer.bias.assign(bias)
    with torch.no_grad():
        torch_layer.weight.copy_(torch.from_numpy(_keras_conv_kernel_to_torch(kernel)))
        torch_layer.bias.copy_(torch.from_numpy(bias))
    keras_out, torch_out = _run_both(entry, keras_layer, torch_layer)
    np.testing.assert_allclose(torch_out, keras_out, atol=ATOL)


def test_separable_conv1d_is_a_depthwise_then_a_pointwise_convolution_with_copied_weights():
    entry = next(e for e in catalogue.ENTRIES if e.keras and e.keras[0].cls == "SeparableConv1D")
    keras_layer, torch_layers = K.catalogue_layer(entry), T.catalogue_layer(entry)
    keras_layer(_same_data(entry)[0][0])
    depthwise, pointwise, _ = (w.numpy() for w in keras_layer.weights)  # (k, in, 1), (1, in, out), (out,)
    bias = rand(pointwise.shape[-1], seed=7)
    keras_layer.bias.assign(bias)
    with torch.no_grad():
        torch_layers[0].weight.copy_(torch.from_numpy(np.transpose(depthwise, (1, 2, 0)).copy()))  # (in, 1, k)
        torch_layers[1].weight.copy_(torch.from_numpy(np.transpose(pointwise, (2, 1, 0)).copy()))  # (out, in, 1)
        torch_layers[1].bias.copy_(torch.from_numpy(bias))
    keras_out, torch_out = _run_both(entry, keras_layer, torch_layers)
    np.testing.assert_allclose(torch_out, keras_out, atol=ATOL)


def test_thresholded_relus_stand_in_and_torch_threshold_agree_above_at_and_below_the_threshold():
    x = np.array([[-1.0, 0.5, 0.999, 1.0, 1.001, 3.0]], np.float32)
    keras_out = keras.layers.ReLU(threshold=1.0)(x).numpy()
    torch_out = nn.Threshold(1.0, 0.0)(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(keras_out, np.where(x > 1.0, x, 0))  # 1.0 itself gives 0
    np.testing.assert_array_equal(torch_out, keras_out)


# --------------------------------------------------------------------------- operations


@pytest.mark.parametrize("index, operation", list(enumerate(catalogue.OPERATIONS)),
                         ids=[o.tensorflow for o in catalogue.OPERATIONS])
def test_operations_agree_with_numpy_and_with_each_other(index, operation):
    inputs = catalogue.operation_inputs(operation)
    reference = catalogue.operation_reference(operation)
    tf_function = tf
    for part in operation.tensorflow.split("."):
        tf_function = getattr(tf_function, part)
    tf_out = tf_function(*inputs, **operation.tf_kwargs).numpy()
    torch_out = getattr(torch, operation.torch)(*map(torch.from_numpy, inputs), **operation.torch_kwargs).numpy()
    assert tf_out.shape == torch_out.shape == operation.shape
    np.testing.assert_allclose(tf_out, reference, atol=catalogue.OPERATION_TOLERANCE, rtol=0)
    np.testing.assert_allclose(torch_out, reference, atol=catalogue.OPERATION_TOLERANCE, rtol=0)


def test_torch_variance_defaults_to_dividing_by_n_minus_1_and_max_returns_indices():
    operation = next(o for o in catalogue.OPERATIONS if o.torch == "var")
    (x,) = catalogue.operation_inputs(operation)
    n = x.shape[1]
    default = torch.var(torch.from_numpy(x), dim=1).numpy()
    np.testing.assert_allclose(default, x.astype(np.float64).var(axis=1, ddof=1), atol=catalogue.OPERATION_TOLERANCE)
    np.testing.assert_allclose(default * (n - 1) / n, tf.math.reduce_variance(x, axis=1).numpy(), atol=1e-5)
    values, indices = torch.max(torch.from_numpy(x), dim=1)
    np.testing.assert_array_equal(indices.numpy(), x.argmax(axis=1))


def test_operations_table_lists_each_operation_from_either_side_with_its_error():
    errors = {i: 1e-7 for i in range(len(catalogue.OPERATIONS))}
    for framework, first in [("pytorch", "`torch.sum("), ("tensorflow", "`tf.math.reduce_sum(")]:
        table = catalogue.operations_table(framework, errors)
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        assert len(rows) == 2 + len(catalogue.OPERATIONS)
        assert rows[2].startswith(f"| {first}") and "1.0e-07" in rows[2]
        assert "correction=0" in table
        assert ("`torch.matmul(a, b)`" in table) and ("`tf.linalg.matmul(a, b)`" in table)


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("call, argument", [
    (lambda: T.measure_layer("Dense"), "entry"),
    (lambda: K.measure_layer(None), "entry"),
    (lambda: catalogue.where_covered(3), "name"),
    (lambda: catalogue.operation_inputs("sum"), "operation"),
    (lambda: catalogue.operation_inputs(catalogue.OPERATIONS[0], seed=-1), "seed"),
    (lambda: catalogue.operations_table("jax", {}), "framework"),
    (lambda: catalogue.ENTRIES[0].expected("keras"), "framework"),
], ids=["torch-entry", "tf-entry", "name", "operation", "seed", "table-framework", "expected-framework"])
def test_bad_arguments_raise_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}: expected"):
        call()
# --------------------------------------------------------------------------- what the notes under the tables say


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


# --------------------------------------------------------------------------- the page, as a reader sees it

# The catalogue's tables and the operations table, by the headers they start with.
TABLE_WIDTHS_JS = """() => [...document.querySelectorAll('section#a-catalogue-of-layers table')]
  .filter(table => table.getClientRects().length > 0)
  .map(table => [table.rows[0].innerText.replace(/\\s+/g, ' ').trim(), table.scrollWidth,
                 table.parentElement.clientWidth])"""


@pytest.mark.browser
def test_catalogue_tables_fit_their_column_in_a_narrow_window_and_side_by_side(browser, site):
    context = browser.new_context(viewport={"width": 640, "height": 900})
    context.route(lambda url: not url.startswith(site), lambda route: route.abort())  # MathJax's CDN
    page = context.new_page()
    page.goto(f"{site}/book/computational-graphs.html")
    measured = {}
    for view, width in [("pytorch", 640), ("tensorflow", 640), ("side-by-side", 1440)]:
        page.set_viewport_size({"width": width, "height": 900})
        page.locator(f'.bd-header-article .nnbook-view-switch label[for="nnbook-view-{view}"]').click()
        measured[view] = page.evaluate(TABLE_WIDTHS_JS)
    context.close()
    for view, tables in measured.items():
        expected = (len(catalogue.FAMILIES) + 1) * (2 if view == "side-by-side" else 1)
        assert len(tables) == expected, (view, tables)  # each family's table and the operations', per framework
        assert [t for t in tables if t[1] > t[2]] == [], view
