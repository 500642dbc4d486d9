"""The recurrent chapter's models: each against its framework's built-in, and the two frameworks against each other.

Cross-framework checks load the same float32 weights into the PyTorch and the Keras version and compare
outputs with atol 1e-5 (float32, hidden sizes <= 16 and 12 time steps: the two differ by ~1e-7).
Weight layouts: PyTorch stores W_ih (4H, C) and W_hh (4H, H) with two biases b_ih and b_hh; Keras stores a
kernel (C, 4H), a recurrent kernel (H, 4H) and one bias. Copies transpose the weights and add the two biases.
The gates are stacked in the same order in both: PyTorch's i, f, g, o is Keras' i, f, c, o (g = c, the
candidate), so no gate is reordered.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re
import time

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from nnbook import plots, recurrent
from nnbook.seeding import seed_everything
from nnbook.tf import recurrent as K
from nnbook.torch import recurrent as T
from helpers import rand

matplotlib.use("Agg")

ATOL = 1e-5  # float32, see the module docstring
CLASSES = ["VanillaRNN", "LSTM"]
C, H, STEPS = 5, 8, 12  # input features, hidden size, time steps


def torch_to_keras(t, k) -> None:
    """Copy a PyTorch VanillaRNN / LSTM into the Keras version: transpose the weights, add the two biases."""
    k.ih.kernel.assign(t.ih.weight.detach().numpy().T)  # (4H, C) -> (C, 4H)
    k.hh.kernel.assign(t.hh.weight.detach().numpy().T)  # (4H, H) -> (H, 4H)
    k.ih.bias.assign((t.ih.bias + t.hh.bias).detach().numpy())  # b_ih + b_hh -> b


def torch_classifier_to_keras(t: T.SequenceClassifier, k: K.SequenceClassifier) -> None:
    r, cell = t.recurrent, k.recurrent.cell
    k.embedding.embeddings.assign(t.embedding.weight.detach().numpy())  # (V, E) in both
    cell.kernel.assign(r.weight_ih_l0.detach().numpy().T)
    cell.recurrent_kernel.assign(r.weight_hh_l0.detach().numpy().T)
    cell.bias.assign((r.bias_ih_l0 + r.bias_hh_l0).detach().numpy())
    k.head.kernel.assign(t.head.weight.detach().numpy().T)
    k.head.bias.assign(t.head.bias.detach().numpy())


# --------------------------------------------------------------------------- what the tests here cover


def test_the_classes_tested_here_are_the_public_classes_the_module_lists_first():
    assert CLASSES == T.__all__[: len(CLASSES)]  # the mirror of the names: test_mirror.py


# --------------------------------------------------------------------------- against the built-ins


def test_torch_vanilla_rnn_computes_what_nn_rnn_computes_with_the_same_weights():
    builtin = nn.RNN(C, H, batch_first=True)
    ours = T.load_builtin(T.VanillaRNN(C, H), builtin)
    x = torch.from_numpy(rand(3, STEPS, C))
    with torch.no_grad():
        (out, h), (out_b, h_b) = ours(x), builtin(x)
    np.testing.assert_allclose(out.numpy(), out_b.numpy(), atol=1e-6)
    np.testing.assert_allclose(h.numpy(), h_b[0].numpy(), atol=1e-6)  # nn.RNN's h_n is (layers, B, H)


def test_torch_lstm_computes_what_nn_lstm_computes_with_the_same_weights():
    builtin = nn.LSTM(C, H, batch_first=True)
    ours = T.load_builtin(T.LSTM(C, H), builtin)
    x = torch.from_numpy(rand(3, STEPS, C))
    with torch.no_grad():
        (out, (h, c)), (out_b, (h_b, c_b)) = ours(x), builtin(x)
    np.testing.assert_allclose(out.numpy(), out_b.numpy(), atol=1e-6)
    np.testing.assert_allclose(h.numpy(), h_b[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(c.numpy(), c_b[0].numpy(), atol=1e-6)


def test_keras_vanilla_rnn_computes_what_simple_rnn_computes_with_the_same_weights():
    builtin = keras.layers.SimpleRNN(H, return_sequences=True, return_state=True)
    builtin.build((None, None, C))
    ours = K.load_builtin(K.VanillaRNN(C, H), builtin)
    x = rand(3, STEPS, C)
    (out, h), (out_b, h_b) = ours(x), builtin(x)
    np.testing.assert_allclose(out.numpy(), out_b.numpy(), atol=1e-6)
    np.testing.assert_allclose(h.numpy(), h_b.numpy(), atol=1e-6)


def test_keras_lstm_computes_what_keras_lstm_computes_with_the_same_weights():
    builtin = keras.layers.LSTM(H, return_sequences=True, return_state=True)
    builtin.build((None, None, C))
    ours = K.load_builtin(K.LSTM(C, H), builtin)
    x = rand(3, STEPS, C)
    (out, (h, c)), (out_b, h_b, c_b) = ours(x), builtin(x)
    np.testing.assert_allclose(out.numpy(), out_b.numpy(), atol=1e-6)
    np.testing.assert_allclose(h.numpy(), h_b.numpy(), atol=1e-6)
    np.testing.assert_allclose(c.numpy(), c_b.numpy(), atol=1e-6)


def test_torch_cells_initialise_like_the_built_ins_within_one_over_sqrt_hidden():
    bound = 1 / np.sqrt(32)
    for ours in (T.VanillaRNN(10, 32), T.LSTM(10, 32)):
        for p in ours.parameters():
            assert bound / 2 < p.abs().max().item() <= bound


def test_keras_cells_initialise_like_the_built_ins_orthogonal_recurrence_and_forget_bias_one():
    rnn, lstm = K.VanillaRNN(10, 16), K.LSTM(10, 16)
    for layer, width in ((rnn, 16), (lstm, 64)):
        w = layer.hh.kernel.numpy()  # (H, width): orthonormal rows
        np.testing.assert_allclose(w @ w.T, np.eye(16), atol=1e-5)
        assert layer.ih.kernel.shape == (10, width)
    np.testing.assert_array_equal(rnn.ih.bias.numpy(), np.zeros(16))
    np.testing.assert_array_equal(lstm.ih.bias.numpy(), np.r_[np.zeros(16), np.ones(16), np.zeros(32)])
    builtin = keras.layers.LSTM(16)
    builtin.build((None, None, 10))
    np.testing.assert_array_equal(builtin.cell.bias.numpy(), lstm.ih.bias.numpy())


def test_classifiers_use_the_built_in_layers_of_their_framework():
    assert isinstance(T.SequenceClassifier("lstm").recurrent, nn.LSTM)
    assert isinstance(T.SequenceClassifier("rnn").recurrent, nn.RNN)
    assert isinstance(K.SequenceClassifier("lstm").recurrent, keras.layers.LSTM)
    assert isinstance(K.SequenceClassifier("rnn").recurrent, keras.layers.SimpleRNN)


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_from_scratch_copy_computes_what_its_built_in_twin_computes(framework, cell):
    builtin = framework.SequenceClassifier(cell, vocab_size=5, embed_dim=4, hidden_size=H)
    if cell == "lstm":  # the chapter's gate initialisation travels with the copy
        framework.set_gate_biases(builtin.recurrent, forget_bias=5.0, input_bias=-5.0)
    ours = framework.from_scratch_copy(builtin)
    assert ours.from_scratch and type(ours.recurrent) is (framework.LSTM if cell == "lstm" else framework.VanillaRNN)
    tokens, labels = recurrent.first_token_task(6, length=STEPS, vocab_size=5)
    if framework is T:
        with torch.no_grad():
            pair = [m(torch.from_numpy(tokens)).numpy() for m in (builtin, ours)]
    else:
        pair = [m(tokens).numpy() for m in (builtin, ours)]
    np.testing.assert_allclose(*pair, atol=ATOL)
    norms = [framework.input_gradient_norms(m, tokens, labels) for m in (builtin, ours)]
    np.testing.assert_allclose(*norms, rtol=1e-10)  # float64: the same function


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
def test_a_from_scratch_copy_trains_like_its_built_in_twin(framework):
    test = recurrent.first_token_task(50, length=8, vocab_size=4)
    losses = []
    for from_scratch in (False, True):
        seed_everything(0)
        model = framework.SequenceClassifier("lstm", vocab_size=4, embed_dim=8, hidden_size=16)
        model = framework.from_scratch_copy(model) if from_scratch else model
        batches = recurrent.training_batches(20, 16, length=8, vocab_size=4)
        losses.append(framework.fit_sequence_classifier(model, batches, test, eval_every=20).step_loss)
    np.testing.assert_allclose(*losses, atol=1e-5)  # 20 Adam steps: float32 rounding only


def test_keras_from_scratch_classifier_is_recreated_from_its_config():
    model = K.from_scratch_copy(K.SequenceClassifier("rnn", vocab_size=4, embed_dim=3, hidden_size=5))
    again = K.SequenceClassifier.from_config(model.get_config())
    assert again.from_scratch and isinstance(again.recurrent, K.VanillaRNN)
    float64 = K.SequenceClassifier.from_config({**model.get_config(), "dtype": "float64"})
    assert {w.dtype for w in float64.weights} == {"float64"}  # our cells follow the model's dtype


# --------------------------------------------------------------------------- PyTorch and TensorFlow agree


@pytest.mark.parametrize("cls", CLASSES)
def test_the_same_weights_give_the_same_outputs_and_states_in_both_frameworks(cls):
    t, k = getattr(T, cls)(C, H), getattr(K, cls)(C, H)
    torch_to_keras(t, k)
    x = rand(4, STEPS, C)
    with torch.no_grad():
        out_t, state_t = t(torch.from_numpy(x))
    out_k, state_k = k(x)
    np.testing.assert_allclose(out_t.numpy(), out_k.numpy(), atol=ATOL)
    for a, b in zip(tf.nest.flatten(state_k), [state_t] if cls == "VanillaRNN" else state_t):
        np.testing.assert_allclose(b.numpy(), a.numpy(), atol=ATOL)


def test_the_built_in_lstms_agree_across_frameworks_after_transposing_and_adding_the_biases():
    t = nn.LSTM(C, H, batch_first=True)
    k = keras.layers.LSTM(H, return_sequences=True)
    k.build((None, None, C))
    k.cell.kernel.assign(t.weight_ih_l0.detach().numpy().T)
    k.cell.recurrent_kernel.assign(t.weight_hh_l0.detach().numpy().T)
    k.cell.bias.assign((t.bias_ih_l0 + t.bias_hh_l0).detach().numpy())
    x = rand(2, STEPS, C)
    with torch.no_grad():
        out_t, _ = t(torch.from_numpy(x))
    np.testing.assert_allclose(out_t.numpy(), k(x).numpy(), atol=ATOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_classifiers_give_the_same_logits_and_per_step_input_gradients_in_both_frameworks(cell):
    t = T.SequenceClassifier(cell, vocab_size=5, embed_dim=4, hidden_size=H)
    k = K.SequenceClassifier(cell, vocab_size=5, embed_dim=4, hidden_size=H)
    torch_classifier_to_keras(t, k)
    tokens, labels = recurrent.first_token_task(6, length=STEPS, vocab_size=5)
    with torch.no_grad():
        logits_t = t(torch.from_numpy(tokens)).numpy()
    np.testing.assert_allclose(logits_t, k(tokens).numpy(), atol=ATOL)
    norms_t, norms_k = T.input_gradient_norms(t, tokens, labels), K.input_gradient_norms(k, tokens, labels)
    assert norms_t.shape == norms_k.shape == (STEPS,) and np.all(norms_t > 0)
    np.testing.assert_allclose(norms_t, norms_k, rtol=1e-4, atol=1e-7)


def test_gate_biases_set_the_same_forget_and_input_gates_in_both_frameworks():
    t, k = T.LSTM(C, H), K.LSTM(C, H)
    torch_to_keras(t, k)
    T.set_gate_biases(t, forget_bias=5.0, input_bias=-5.0)
    K.set_gate_biases(k, forget_bias=5.0, input_bias=-5.0)
    total = (t.ih.bias + t.hh.bias).detach().numpy()  # what PyTorch adds to the gates
    for b in (total, k.ih.bias.numpy()):
        np.testing.assert_array_equal(b[:H], -5.0)
        np.testing.assert_array_equal(b[H:2 * H], 5.0)
    np.testing.assert_allclose(total[2 * H:], k.ih.bias.numpy()[2 * H:], atol=1e-7)  # g/c and o untouched
    x = rand(2, STEPS, C)
    with torch.no_grad():
        out_t, _ = t(torch.from_numpy(x))
    np.testing.assert_allclose(out_t.numpy(), k(x)[0].numpy(), atol=ATOL)


def test_gate_biases_of_a_built_in_lstm_match_those_of_the_unrolled_one():
    builtin = nn.LSTM(C, H)
    ours = T.load_builtin(T.LSTM(C, H), builtin)
    for layer in (builtin, ours):
        T.set_gate_biases(layer, forget_bias=3.0, input_bias=-2.0)
    again = T.load_builtin(T.LSTM(C, H), builtin)
    for a, b in zip(ours.parameters(), again.parameters()):
        torch.testing.assert_close(a, b)
    builtin = keras.layers.LSTM(H)
    builtin.build((None, None, C))
    ours = K.load_builtin(K.LSTM(C, H), builtin)
    for layer in (builtin, ours):
        K.set_gate_biases(layer, forget_bias=3.0, input_bias=-2.0)
    again = K.load_builtin(K.LSTM(C, H), builtin)
    for a, b in zip(ours.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- the task data


def test_the_label_is_the_first_token_and_the_test_set_is_fixed():
    tokens, labels = recurrent.first_token_task(50, length=200, vocab_size=8)
    assert tokens.shape == (50, 200) and tokens.dtype == np.int64 and labels.shape == (50,)
    np.testing.assert_array_equal(labels, tokens[:, 0])
    assert tokens.min() >= 0 and tokens.max() <= 7
    again, _ = recurrent.first_token_task(50, length=200, vocab_size=8)
    np.testing.assert_array_equal(tokens, again)


def test_training_batches_are_fresh_each_step_and_the_same_stream_for_the_same_seed():
    a = list(recurrent.training_batches(3, 4, length=10, seed=0))
    b = list(recurrent.training_batches(3, 4, length=10, seed=0))
    assert len(a) == 3 and all(x.shape == (4, 10) for x, _ in a)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, xa[:, 0])
    assert not np.array_equal(a[0][0], a[1][0])
    with pytest.raises(ValueError, match="^seed: expected"):
        next(recurrent.training_batches(1, 4, seed=recurrent.TEST_SEED))


# --------------------------------------------------------------------------- training


def test_both_frameworks_learn_a_short_first_token_task_with_the_lstm():
    test = recurrent.first_token_task(200, length=6, vocab_size=4)
    for L in (T, K):
        model = L.SequenceClassifier("lstm", vocab_size=4, embed_dim=8, hidden_size=16)
        start = time.perf_counter()
        record = L.fit_sequence_classifier(model, recurrent.training_batches(120, 32, length=6, vocab_size=4),
                                           test, lr=1e-2, eval_every=40)
        wall = time.perf_counter() - start
        assert record.step_loss.shape == (120,) and list(record.eval_steps) == [0, 40, 80, 120]
        assert record.final_accuracy > 0.9 and record.items_per_step == 32  # sequences
        assert L.evaluate(model, *test) == pytest.approx(record.final_accuracy)
        # the training time is a part of the wall time (four evaluations left out), the first step apart
        assert 0 < record.first_step_seconds < record.seconds < wall
        assert record.steps_per_second == pytest.approx(119 / (record.seconds - record.first_step_seconds))


@pytest.mark.parametrize("training_mode", [True, False], ids=["train-mode", "eval-mode"])
def test_torch_evaluation_leaves_the_model_in_the_mode_it_found(training_mode):
    test = recurrent.first_token_task(50, length=6, vocab_size=4)
    model = T.SequenceClassifier("lstm", vocab_size=4, embed_dim=8, hidden_size=16).train(training_mode)
    accuracy = T.evaluate(model, *test, batch_size=16)
    assert {m.training for m in model.modules()} == {training_mode}
    assert 0 <= accuracy <= 1


def test_keras_evaluation_is_compiled_once_per_model_and_not_traced_again():
    test = recurrent.first_token_task(50, length=6, vocab_size=4)
    model = K.SequenceClassifier("lstm", vocab_size=4, embed_dim=8, hidden_size=16)
    accuracy = K.evaluate(model, *test, batch_size=16)  # batches of 16, 16, 16 and 2
    traces = nnbook.tf.tracing_count(model)
    assert 1 <= traces <= 2  # one graph, then one for every batch size
    assert K.evaluate(model, *test, batch_size=16) == accuracy
    assert nnbook.tf.tracing_count(model) == traces


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda L: L.VanillaRNN(C, 0), "hidden_size"),
        (lambda L: L.VanillaRNN(C, -4), "hidden_size"),
        (lambda L: L.LSTM(C, 2.5), "hidden_size"),
        (lambda L: L.LSTM(C, True), "hidden_size"),
        (lambda L: L.LSTM(0, H), "input_size"),
        (lambda L: L.SequenceClassifier("gru"), "cell"),
        (lambda L: L.SequenceClassifier("lstm", hidden_size=0), "hidden_size"),
        (lambda L: L.SequenceClassifier("lstm", vocab_size=-1), "vocab_size"),
        (lambda L: L.SequenceClassifier("rnn", embed_dim=0), "embed_dim"),
        (lambda L: L.SequenceClassifier("rnn", from_scratch="yes"), "from_scratch"),
        (lambda L: L.from_scratch_copy(L.SequenceClassifier("rnn", from_scratch=True)), "model"),
        (lambda L: L.from_scratch_copy(L.LSTM(C, H)), "model"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(framework, make, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        make(framework)


@pytest.mark.parametrize("framework, convert", [(T, torch.from_numpy), (K, tf.constant)], ids=["torch", "tf"])
@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize(
    "x, what",
    [(np.zeros((2, 0, C), np.float32), "empty sequence"), (np.zeros((2, C), np.float32), "3-D"),
     (np.zeros((1, 2, 3, C), np.float32), "3-D"), (np.zeros((2, 3, C + 1), np.float32), "input_size")],
    ids=["empty", "rank-2", "rank-4", "features"],
)
def test_cells_reject_empty_sequences_and_wrong_shapes_naming_x(framework, convert, cls, x, what):
    layer = getattr(framework, cls)(C, H)
    with pytest.raises(ValueError, match=rf"^x: expected.*{what}"):
        layer(convert(x))


@pytest.mark.parametrize("framework, convert", [(T, torch.from_numpy), (K, tf.constant)], ids=["torch", "tf"])
def test_classifiers_reject_tokens_of_the_wrong_rank(framework, convert):
    with pytest.raises(ValueError, match="^tokens: expected a 2-D"):
        framework.SequenceClassifier("rnn")(convert(np.zeros((2, 3, 4), np.int64)))


def test_builtin_and_gate_helpers_reject_layers_they_cannot_handle():
    with pytest.raises(ValueError, match="^builtin: expected"):
        T.load_builtin(T.LSTM(C, H), nn.RNN(C, H))
    with pytest.raises(ValueError, match="^builtin: expected"):
        T.load_builtin(T.VanillaRNN(C, H), nn.RNN(C, H, nonlinearity="relu"))
    with pytest.raises(ValueError, match="^ours: expected"):
        T.load_builtin(nn.Linear(2, 2), nn.RNN(C, H))
    simple = keras.layers.SimpleRNN(H)
    simple.build((None, None, C))
    with pytest.raises(ValueError, match="^builtin: expected"):
        K.load_builtin(K.LSTM(C, H), simple)
    with pytest.raises(ValueError, match="^builtin: expected"):
        K.load_builtin(K.VanillaRNN(C, H), keras.layers.SimpleRNN(H))  # not built
    for L, rnn in ((T, T.VanillaRNN(C, H)), (K, K.VanillaRNN(C, H)), (T, nn.RNN(C, H)), (K, simple)):
        with pytest.raises(ValueError, match="^layer: expected"):
            L.set_gate_biases(rnn, forget_bias=1.0, input_bias=0.0)


@pytest.mark.parametrize(
    "change, argument", [({"lr": -0.1}, "lr"), ({"eval_every": 0}, "eval_every"), ({"batches": []}, "batches")])
def test_training_rejects_bad_arguments_by_name(change, argument):
    test = recurrent.first_token_task(8, length=3, vocab_size=4)
    for L in (T, K):
        model = L.SequenceClassifier("rnn", vocab_size=4, embed_dim=2, hidden_size=3)
        args = {"batches": recurrent.training_batches(1, 4, length=3, vocab_size=4), "lr": 0.01, "eval_every": 1,
                **change}
        batches = args.pop("batches")
        with pytest.raises(ValueError, match=rf"^{argument}: expected"):
            L.fit_sequence_classifier(model, batches, test, **args)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: recurrent.first_token_task(0), "n"),
        (lambda: recurrent.first_token_task(4, length=0), "length"),
        (lambda: recurrent.first_token_task(4, vocab_size=0), "vocab_size"),
        (lambda: next(recurrent.training_batches(0, 4)), "steps"),
        (lambda: next(recurrent.training_batches(1, -4)), "batch_size"),
        (lambda: next(recurrent.training_batches(1, 4, seed=-1)), "seed"),
    ],
)
def test_task_data_rejects_bad_sizes_by_name(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}: expected"):
        call()


# --------------------------------------------------------------------------- Keras configs


@pytest.mark.parametrize(
    "make, x",
    [
        (lambda: K.VanillaRNN(3, 4), rand(2, 5, 3)),
        (lambda: K.LSTM(3, 4), rand(2, 5, 3)),
        (lambda: K.SequenceClassifier("lstm", vocab_size=5, embed_dim=3, hidden_size=4), np.ones((2, 5), np.int64)),
    ],
    ids=["VanillaRNN", "LSTM", "SequenceClassifier"],
)
def test_keras_layers_are_recreated_from_their_config(make, x):
    original = make()
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(original))
    assert type(copy) is type(original)
    copy.set_weights(original.get_weights())
    for a, b in zip(tf.nest.flatten(copy(x)), tf.nest.flatten(original(x))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


# --------------------------------------------------------------------------- plots


def test_sequence_training_draws_loss_and_accuracy_with_a_chance_line():
    runs = {"a": ([2.0, 1.0, 0.5, 0.2], [0, 2, 4], [0.1, 0.5, 0.9]), "b": ([2.0, 2.0, 2.0, 2.0], [0, 2, 4], [0.1] * 3)}
    fig = plots.sequence_training(runs, chance=0.125, smooth=2, title="t")
    loss_ax, acc_ax = fig.axes
    assert [len(line.get_xdata()) for line in loss_ax.get_lines()] == [3, 3]
    assert list(acc_ax.get_lines()[0].get_xdata()) == [0, 2, 4]
    assert any(np.allclose(line.get_ydata(), 12.5) for line in acc_ax.get_lines())
    with pytest.raises(ValueError, match="^runs: expected"):
        plots.sequence_training({"a": ([1.0], [0, 1], [0.1])})
    matplotlib.pyplot.close("all")


def test_sequence_training_draws_a_twin_dashed_in_the_colour_of_the_run_it_repeats():
    run = ([2.0, 1.0, 0.5], [0, 2], [0.1, 0.9])
    fig = plots.sequence_training({"a": run, "b": run, "a again": run}, twins={"a again": "a"})
    for ax in fig.axes:
        a, b, again = ax.get_lines()[:3]
        assert again.get_linestyle() == "--" and a.get_linestyle() == b.get_linestyle() == "-"
        assert again.get_color() == a.get_color() != b.get_color()
    for twins in ({"c": "a"}, {"a again": "c"}, {"a again": "b", "b": "a"}):
        with pytest.raises(ValueError, match="^twins: expected"):
            plots.sequence_training({"a": run, "b": run, "a again": run}, twins=twins)
    matplotlib.pyplot.close("all")


def test_time_step_norms_draws_one_panel_per_moment_on_a_shared_log_scale():
    panels = {"start": {"RNN": [1e-8, 1e-3, 1.0], "LSTM": [1e-2, 1e-1, 1.0]}, "end": {"RNN": [1e-9, 1e-4, 2.0]}}
    fig = plots.time_step_norms(panels, title="t")
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" for ax in fig.axes)
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 1]
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [0, 1, 2]
    with pytest.raises(ValueError, match="^panels: expected"):
        plots.time_step_norms({"start": {"RNN": [1.0, 0.0]}})
    matplotlib.pyplot.close("all")
