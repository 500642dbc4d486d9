"""`nnbook.checks`: every argument check of the package, and the two frameworks failing alike.

Each check takes NumPy scalars as it takes Python ones (an `np.int64` is an int, an `np.float32` a
number), never a bool for a number, returns plain Python values, and names the argument and what it
received. The constructors and functions of `nnbook.torch` and `nnbook.tf` that take the same
argument reject the same bad value with the same message.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import json
import math
import re

import numpy as np
import pytest
import tensorflow as tf
import torch

from nnbook import catalogue, checks
from nnbook.resnet import CifarResNetConfig
from nnbook.tf import attention as k_attention
from nnbook.tf import convolutions as k_convolutions
from nnbook.tf import graphs as k_graphs
from nnbook.tf import layers as k_layers
from nnbook.tf import mlp as k_mlp
from nnbook.tf import recurrent as k_recurrent
from nnbook.tf import resnet as k_resnet
from nnbook.tf import transformer as k_transformer
from nnbook.torch import attention as t_attention
from nnbook.torch import convolutions as t_convolutions
from nnbook.torch import graphs as t_graphs
from nnbook.torch import layers as t_layers
from nnbook.torch import mlp as t_mlp
from nnbook.torch import recurrent as t_recurrent
from nnbook.torch import resnet as t_resnet
from nnbook.torch import transformer as t_transformer

INTS = [3, np.int64(3), np.int32(3), np.uint8(3)]
FLOATS = [0.5, np.float64(0.5), np.float32(0.5)]
BOOLS = [True, False, np.True_, np.False_]


def message(call) -> str:
    with pytest.raises(ValueError) as error:
        call()
    return str(error.value)


def assert_names(text: str, name: str, value) -> None:
    """The message is "{name}: expected ..., got {value!r}"."""
    assert re.fullmatch(rf"{re.escape(name)}: expected .+, got {re.escape(repr(value))}", text), text


# --------------------------------------------------------------------------- scalars


@pytest.mark.parametrize("value", INTS, ids=repr)
@pytest.mark.parametrize(
    "check", [checks.positive_int, checks.non_negative_int, checks.integer, lambda n, v: checks.integer(n, v, 1, 5)],
    ids=["positive_int", "non_negative_int", "integer", "integer-in-range"],
)
def test_int_checks_take_numpy_integers_as_python_ints(check, value):
    result = check("size", value)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value", [*BOOLS, 3.0, np.float32(3.0), "3", None, [3]], ids=repr)
@pytest.mark.parametrize(
    "check", [checks.positive_int, checks.non_negative_int, checks.integer], ids=lambda f: f.__name__
)
def test_int_checks_refuse_bools_floats_and_strings_naming_the_argument(check, value):
    assert_names(message(lambda: check("size", value)), "size", value)


@pytest.mark.parametrize(
    "check, value, expected",
    [(checks.positive_int, 0, "a positive int"), (checks.positive_int, np.int64(-2), "a positive int"),
     (checks.non_negative_int, -1, "an int >= 0"),
     (lambda n, v: checks.integer(n, v, 1, 500), 501, "an int in [1, 500]"),
     (lambda n, v: checks.integer(n, v, high=4), np.int32(5), "an int <= 4")],
)  # fmt: skip
def test_int_checks_say_the_range_they_expect(check, value, expected):
    text = message(lambda: check("n", value))
    assert text == f"n: expected {expected}, got {value!r}"


@pytest.mark.parametrize("value", [*FLOATS, *INTS], ids=repr)
@pytest.mark.parametrize(
    "check",
    [checks.positive_float, checks.non_negative_number, checks.number, lambda n, v: checks.number(n, v, 0, 5)],
    ids=["positive_float", "non_negative_number", "number", "number-in-range"],
)
def test_number_checks_take_numpy_floats_and_integers_as_python_floats(check, value):
    result = check("lr", value)
    assert result == float(value) and type(result) is float


def test_fraction_takes_numpy_floats():
    for value in FLOATS:
        assert checks.fraction("dropout", value) == 0.5
    assert type(checks.fraction("dropout", np.float32(0.25))) is float


@pytest.mark.parametrize("value", [*BOOLS, "0.5", None, math.nan, math.inf, -math.inf, np.float32("nan")], ids=repr)
@pytest.mark.parametrize(
    "check", [checks.positive_float, checks.non_negative_number, checks.fraction, checks.number],
    ids=lambda f: f.__name__,
)
def test_number_checks_refuse_bools_strings_and_non_finite_values_naming_the_argument(check, value):
    assert_names(message(lambda: check("lr", value)), "lr", value)


@pytest.mark.parametrize(
    "check, value, expected",
    [(checks.positive_float, 0, "a positive number"), (checks.positive_float, np.float32(-1.0), "a positive number"),
     (checks.non_negative_number, -0.1, "a non-negative number"), (checks.fraction, 1.0, "a number in [0, 1)"),
     (lambda n, v: checks.number(n, v, 0, 1, low_open=True, high_open=True), 0.0, "a number in (0, 1)"),
     (lambda n, v: checks.number(n, v, 0, 1), np.float64(1.5), "a number in [0, 1]"),
     (lambda n, v: checks.number(n, v, low=2), 1, "a number >= 2")],
)  # fmt: skip
def test_number_checks_say_the_range_they_expect(check, value, expected):
    assert message(lambda: check("x", value)) == f"x: expected {expected}, got {value!r}"


def test_boolean_takes_numpy_bools_and_refuses_numbers():
    for value in BOOLS:
        result = checks.boolean("causal", value)
        assert result == bool(value) and type(result) is bool
    for value in [1, 0, np.int64(1), 1.0, "True", None]:
        assert message(lambda v=value: checks.boolean("causal", v)) == f"causal: expected True or False, got {value!r}"


def test_one_of_returns_the_choice_itself_and_matches_ints_only_with_ints():
    stride = checks.one_of("stride", np.int64(2), (1, 2))
    assert stride == 2 and type(stride) is int
    assert checks.one_of("cell", "lstm", ["rnn", "lstm"]) == "lstm"
    for value in [True, 2.0, np.float32(2.0), "2"]:
        assert_names(message(lambda v=value: checks.one_of("stride", v, (1, 2))), "stride", value)
    assert message(lambda: checks.one_of("activation", "swish", ["relu", "tanh"])) == (
        "activation: expected one of ['relu', 'tanh'], got 'swish'"
    )


def test_widths_takes_numpy_integers_and_arrays_and_names_a_bad_entry():
    assert checks.widths("widths", [np.int64(8), np.int32(4), 2]) == (8, 4, 2)
    assert checks.widths("widths", np.array([16, 32])) == (16, 32)
    assert all(type(w) is int for w in checks.widths("widths", np.array([16, 32])))
    for value in [(), "64", 64, None]:
        assert_names(message(lambda v=value: checks.widths("widths", v)), "widths", value)
    assert message(lambda: checks.widths("widths", (8, -1))) == "widths[1]: expected a positive int, got -1"
    assert message(lambda: checks.widths("widths", (8, True))) == "widths[1]: expected a positive int, got True"


def test_instance_and_require_name_the_argument():
    assert message(lambda: checks.instance("config", {}, CifarResNetConfig)) == (
        "config: expected a CifarResNetConfig, got dict"
    )
    text = message(lambda: checks.instance("layer", 3, torch.nn.Module, "a layer"))
    assert text == "layer: expected a layer, got int"
    checks.require("n_heads", True, "a divisor of d_model = 8", 3)
    assert message(lambda: checks.require("n_heads", False, "a divisor of d_model = 8", 3)) == (
        "n_heads: expected a divisor of d_model = 8, got 3"
    )


# --------------------------------------------------------------------------- arrays and tensors


@pytest.mark.parametrize(
    "value",
    [np.zeros((2, 5), np.float32), torch.zeros(2, 5), tf.zeros((2, 5))],
    ids=["numpy", "torch", "tf"],
)
def test_shape_checks_describe_the_tensors_of_every_framework_alike(value):
    assert checks.shape("x", value, ("B", 5)) == (2, 5)
    assert checks.describe(value) == "float32 (2, 5)"
    assert message(lambda: checks.shape("x", value, ("B", 3))) == "x: expected a 2-D tensor (B, 3), got float32 (2, 5)"
    assert message(lambda: checks.shape("x", value, ("B", "T", "C"))) == (
        "x: expected a 3-D tensor (B, T, C), got float32 (2, 5)"
    )


def test_shape_patterns_name_axes_allow_leading_axes_and_skip_unknown_sizes():
    assert checks.array("weights", np.zeros((2, 3, 3)), ("H", "T", "T"), non_empty=True).shape == (2, 3, 3)
    assert message(lambda: checks.array("weights", np.zeros((2, 3, 4)), ("H", "T", "T"))) == (
        "weights: expected a 3-D array (H, T, T), got float64 (2, 3, 4)"
    )
    assert message(lambda: checks.array("w", np.zeros((2, 0)), ("H", "T"), non_empty=True)).startswith(
        "w: expected a non-empty 2-D array (H, T)"
    )
    assert checks.shape("q", torch.zeros(2, 3, 4, 5), ("...", "T", "d")) == (2, 3, 4, 5)
    assert message(lambda: checks.shape("q", torch.zeros(5), ("...", "T", "d"))) == (
        "q: expected a tensor of shape (..., T, d), got float32 (5,)"
    )
    assert message(lambda: checks.array("ids", [1, 2], ("N",), at_least={"N": 5})) == (
        "ids: expected a 1-D array (N,) with N >= 5, got int64 (2,)"
    )

    @tf.function(input_signature=[tf.TensorSpec((None, None, 4))])
    def traced(x):  # unknown sizes pass while tracing
        assert checks.shape("x", x, ("B", "T", 4)) == (None, None, 4)
        return x

    traced(tf.zeros((1, 2, 4)))


def test_dtype_and_kind_are_checked_alike_for_both_frameworks():
    for value in (torch.zeros(1, 5, dtype=torch.int64), tf.zeros((1, 5), tf.int64), np.zeros((1, 5), np.int64)):
        checks.shape("idx", value, ("B", "T"), dtype="integer")
    texts = {
        message(lambda v=value: checks.shape("idx", v, ("B", "T"), dtype="integer"))
        for value in (torch.zeros(1, 5), tf.zeros((1, 5)), np.zeros((1, 5), np.float32))
    }
    assert texts == {"idx: expected a 2-D integer tensor (B, T), got float32 (1, 5)"}
    assert message(lambda: checks.shape("x", np.zeros((2, 3)), ("B", 3), kind=torch.is_tensor)) == (
        "x: expected a 2-D tensor (B, 3), got ndarray float64 (2, 3)"
    )
    assert message(lambda: checks.shape("x", "text", ("B",))) == "x: expected a 1-D tensor (B,), got str"


def test_images_and_labels():
    images, labels = checks.images_and_labels("train", (np.zeros((4, 8, 8, 3), np.uint8), [0, 1, 2, 3]))
    assert images.shape == (4, 8, 8, 3) and labels.tolist() == [0, 1, 2, 3]
    assert message(lambda: checks.images_and_labels("train", np.zeros(3))) == (
        "train: expected a pair (images, labels), got ndarray"
    )
    assert message(lambda: checks.images_and_labels("train", (np.zeros((4, 8, 8, 3)), np.zeros(4, int)))) == (
        "train: expected uint8 images of shape (N, H, W, 3), got float64 (4, 8, 8, 3)"
    )
    assert message(lambda: checks.images_and_labels("test", (np.zeros((4, 8, 8, 3), np.uint8), np.zeros(3, int)))) == (
        "test: expected integer labels of shape (4,), got int64 (3,)"
    )


# --------------------------------------------------------------------------- both frameworks alike

K = {"layers": k_layers, "mlp": k_mlp, "attention": k_attention, "convolutions": k_convolutions,
     "resnet": k_resnet, "recurrent": k_recurrent, "transformer": k_transformer, "graphs": k_graphs}
T = {"layers": t_layers, "mlp": t_mlp, "attention": t_attention, "convolutions": t_convolutions,
     "resnet": t_resnet, "recurrent": t_recurrent, "transformer": t_transformer, "graphs": t_graphs}

BAD_CALLS = [  # (module, the call given that framework's module, the argument at fault)
    ("layers", lambda m: m.LinearRegressionScratch(d_in=0), "d_in"),
    ("layers", lambda m: m.LinearRegression(d_in=2.5), "d_in"),
    ("layers", lambda m: m.LinearRegression(d_in=np.True_), "d_in"),
    ("layers", lambda m: m.LinearRegression(d_in=2, sigma=np.float32(0)), "sigma"),
    ("layers", lambda m: m.Dense("3"), "d_out"),
    ("layers", lambda m: m.Sequential(), "layers"),
    ("layers", lambda m: m.Sequential(m.Dense(2), "relu"), "layers[1]"),
    ("layers", lambda m: m.FixedHiddenMLP(d_hidden=np.int64(0)), "d_hidden"),
    ("layers", lambda m: m.NestMLP(widths=(8, -1)), "widths[1]"),
    ("layers", lambda m: m.NestMLP(d_out=2.0), "d_out"),
    ("mlp", lambda m: m.MLP(0, (4,), 2), "d_in"),
    ("mlp", lambda m: m.MLP(3, (), 2), "hidden_dims"),
    ("mlp", lambda m: m.MLP(3, (4, True), 2), "hidden_dims[1]"),
    ("mlp", lambda m: m.MLP(3, (4,), 2, activation="swish"), "activation"),
    ("attention", lambda m: m.causal_mask(0), "t_q"),
    ("attention", lambda m: m.causal_mask(3, np.int64(-1)), "t_k"),
    ("attention", lambda m: m.MultiHeadAttention(8, 3), "n_heads"),
    ("attention", lambda m: m.MultiHeadAttention(8.0, 2), "d_model"),
    ("convolutions", lambda m: m.ConvBlock(16, 32, 4, padding="same"), "padding"),
    ("convolutions", lambda m: m.ConvBlock(16, 32, 3, stride=2, padding="same"), "padding"),
    ("convolutions", lambda m: m.ConvBlock(16, 32, 3, stride=0), "stride"),
    ("convolutions", lambda m: m.ConvBlock(16, 32, 3, padding=-1), "padding"),
    ("convolutions", lambda m: m.ConvBlock(16, 30, 3, groups=4), "out_ch"),
    ("convolutions", lambda m: m.ConvBlock(16, 32, 3, groups=2, separable=True), "groups"),
    ("convolutions", lambda m: m.ConvBlock(16, 32, 3, pool=1), "pool"),
    ("convolutions", lambda m: m.DepthwiseSeparable(16, 32, bias="yes"), "bias"),
    ("convolutions", lambda m: m.FiveBlockCNN({"widths": (8,) * 5}), "config"),
    ("resnet", lambda m: m.BasicBlock(16, 32, stride=3), "stride"),
    ("resnet", lambda m: m.BasicBlock(16, 32, residual=1), "residual"),
    ("resnet", lambda m: m.Bottleneck(0, 4), "in_channels"),
    ("resnet", lambda m: m.CifarResNet({"n": 3}), "config"),
    ("recurrent", lambda m: m.VanillaRNN(4, 0), "hidden_size"),
    ("recurrent", lambda m: m.LSTM(np.float32(4), 8), "input_size"),
    ("recurrent", lambda m: m.SequenceClassifier("gru"), "cell"),
    ("recurrent", lambda m: m.SequenceClassifier("rnn", vocab_size=-1), "vocab_size"),
    ("recurrent", lambda m: m.set_gate_biases(m.LSTM(4, 8), forget_bias="1", input_bias=0.0), "forget_bias"),
    ("recurrent", lambda m: m.set_gate_biases(m.VanillaRNN(4, 8), forget_bias=1.0, input_bias=0.0), "layer"),
    ("transformer", lambda m: m.FeedForward(0, 8), "d_model"),
    ("transformer", lambda m: m.FeedForward(8, 8, dropout=1.5), "dropout"),
    ("transformer", lambda m: m.TransformerBlock(30, 4, 64), "n_heads"),
    ("transformer", lambda m: m.TransformerBlock(32, 4, 0), "d_ff"),
    ("transformer", lambda m: m.TransformerBlock("32", 4, 64), "d_model"),
    ("transformer", lambda m: m.MiniGPT({"d_model": 8}), "config"),
    ("graphs", lambda m: m.TwoTowerModel({"d_model": 8}), "config"),
    ("graphs", lambda m: m.TwoTowerConfig(d_model=np.float64(16)), "d_model"),
    ("graphs", lambda m: m.measure_layer(catalogue.ENTRIES[0], seed=-1), "seed"),
]


@pytest.mark.parametrize(
    "module, call, argument", BAD_CALLS, ids=[f"{m}-{a}-{i}" for i, (m, _, a) in enumerate(BAD_CALLS)]
)
def test_both_frameworks_reject_the_same_bad_argument_with_the_same_message(module, call, argument):
    torch_message = message(lambda: call(T[module]))
    tf_message = message(lambda: call(K[module]))
    assert torch_message.startswith(f"{argument}: expected "), torch_message
    assert torch_message == tf_message


BAD_INPUTS = [  # (module, a model given that framework's module, its input, the argument at fault)
    ("mlp", lambda m: m.MLP(3, (4,), 2), np.zeros((2, 4), np.float32), "x"),
    ("transformer", lambda m: m.MiniGPT(m.GPTConfig(vocab_size=5, context=4, n_layers=1, n_heads=1, d_model=4,
                                                    d_ff=4)), np.zeros((1, 3), np.float32), "idx"),
    ("transformer", lambda m: m.MiniGPT(m.GPTConfig(vocab_size=5, context=4, n_layers=1, n_heads=1, d_model=4,
                                                    d_ff=4)), np.zeros((1, 6), np.int64), "idx"),
    ("recurrent", lambda m: m.SequenceClassifier("rnn"), np.zeros((2, 3, 4), np.int64), "tokens"),
]  # fmt: skip


@pytest.mark.parametrize(
    "module, make, x, argument", BAD_INPUTS, ids=[f"{m}-{i}" for i, (m, *_) in enumerate(BAD_INPUTS)]
)
def test_both_frameworks_reject_the_same_bad_input_with_the_same_message(module, make, x, argument):
    torch_message = message(lambda: make(T[module])(torch.from_numpy(x)))
    tf_message = message(lambda: make(K[module])(tf.constant(x)))
    assert torch_message.startswith(f"{argument}: expected "), torch_message
    # Keras may put a header naming the layer before a message raised in call()
    assert tf_message.endswith(torch_message) or torch_message in tf_message, (torch_message, tf_message)


def test_numpy_sizes_build_models_with_python_sizes_in_both_frameworks():
    """An np.int64 from a sweep is an int: both frameworks build the model, and Keras' config stays JSON."""
    i64 = np.int64
    for m in (t_recurrent, k_recurrent):
        model = m.SequenceClassifier("lstm", vocab_size=i64(8), embed_dim=i64(4), hidden_size=np.int32(6))
        assert sum(p.size for p in map(np.asarray, _weights(model))) > 0
    for m in (t_mlp, k_mlp):
        model = m.MLP(i64(3), np.array([4, 5]), i64(2), activation="tanh")
        assert model.hidden_dims == (4, 5) and type(model.d_in) is int
    for m in (t_convolutions, k_convolutions):
        block = m.ConvBlock(i64(3), i64(8), i64(3), i64(1), "same", pool=np.True_)
        assert (block.in_ch, block.out_ch) == (3, 8) and type(block.in_ch) is int
    config = t_transformer.GPTConfig(vocab_size=i64(11), context=i64(8), n_layers=i64(1), n_heads=i64(2),
                                     d_model=i64(8), d_ff=i64(16), dropout=np.float32(0.0))
    assert all(type(v) in (int, float) for v in config.to_dict().values())
    for m in (t_transformer, k_transformer):
        m.MiniGPT(config)
    json.dumps(k_mlp.MLP(i64(3), (i64(4),), i64(2)).get_config())
    json.dumps(k_transformer.MiniGPT(config).get_config())
    json.dumps(k_resnet.BasicBlock(i64(4), i64(8), stride=i64(2)).get_config())


def _weights(model):
    if isinstance(model, torch.nn.Module):
        return [p.detach().numpy() for p in model.parameters()]
    return model.get_weights()
