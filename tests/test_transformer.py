"""The mini decoder-only transformer: its text data, its positional encoding, its block against PyTorch's built-in,
and the two frameworks against each other.

Cross-framework checks load the same float32 weights into the PyTorch and the Keras model and compare logits with
atol 1e-4: logits reach ~10 after two blocks, LayerNorm and an exact GELU each, whose float32 results differ by a
few 1e-6 between the frameworks' kernels. The weights travel through
`nnbook.tf.transformer.load_torch_weights` (NumPy arrays under PyTorch's names), the function the chapter uses.
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from nnbook import attention, history, text
from nnbook.transformer import GPTConfig, sample_token, shift_matrix, sinusoidal_encoding
from nnbook.tf import transformer as K
from nnbook.torch import transformer as T

ATOL = 1e-4  # float32 logits, see the module docstring
SMALL = GPTConfig(vocab_size=11, context=16, n_layers=2, n_heads=4, d_model=32, d_ff=64)


def ids(batch: int, length: int, vocab: int = SMALL.vocab_size, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, vocab, size=(batch, length), dtype=np.int64)


def pair(config: GPTConfig = SMALL) -> tuple[T.MiniGPT, K.MiniGPT]:
    """A PyTorch and a Keras MiniGPT holding the same weights (the PyTorch one's, biases and norms randomised),
    copied by the package's own `load_torch_weights`."""
    t = T.MiniGPT(config)
    with torch.no_grad():  # random biases and norms, so that one copied wrongly would show
        for name, p in t.named_parameters():
            if p.ndim == 1:
                p.normal_(mean=1.0 if name.endswith("weight") else 0.0, std=0.1)
    return t.eval(), K.load_torch_weights(K.MiniGPT(config), T.numpy_weights(t))


def torch_logits(model: T.MiniGPT, x: np.ndarray, need_weights: bool = False):
    with torch.no_grad():
        logits, weights = model(torch.from_numpy(x), need_weights=need_weights)
    return logits.numpy(), weights and [w.numpy() for w in weights]


# --------------------------------------------------------------------------- the two models' size


def test_both_models_have_the_same_parameter_count_for_the_chapter_configuration():
    t, k = T.MiniGPT(GPTConfig()), K.MiniGPT(GPTConfig())
    n = sum(p.numel() for p in t.parameters())
    assert n == k.count_params() == 801_664  # 4 blocks of 197,760 + the embedding 65 x 128 + ln_f


# --------------------------------------------------------------------------- text data


def test_vocabulary_encodes_and_decodes_back_and_names_unknown_characters():
    vocab = text.CharVocab.from_text("hello world")
    assert vocab.chars == " dehlorw" and vocab.size == 8
    assert vocab.decode(vocab.encode("low here")) == "low here"
    with pytest.raises(ValueError, match=r"^text: expected only characters of the vocabulary, got \['z'\]"):
        vocab.encode("zoo")
    with pytest.raises(ValueError, match="^ids: expected"):
        vocab.decode([0, 8])


def test_split_keeps_the_first_ninety_percent_for_training_and_the_end_for_validation():
    train, val = text.train_val_split(np.arange(1000))
    assert len(train) == 900 and len(val) == 100 and train[-1] + 1 == val[0]


def test_an_epoch_makes_every_token_a_target_once_in_shuffled_windows_the_same_for_both_frameworks():
    tokens = np.arange(1000)
    batches = list(text.epoch_batches(tokens, context=16, batch_size=4, seed=0, epoch=3))
    again = list(text.epoch_batches(tokens, context=16, batch_size=4, seed=0, epoch=3))
    other = list(text.epoch_batches(tokens, context=16, batch_size=4, seed=0, epoch=4))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, again))
    assert not np.array_equal(batches[0][0], other[0][0])
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.shape == (len(batches) * 4, 16) and np.array_equal(y, x + 1)  # targets: the next token
    targets = np.sort(y.ravel())
    assert len(np.unique(targets)) == len(targets)  # no token is a target twice
    assert text.windows_per_epoch(1000, 16) == 61 and len(batches) == 61 // 4
    assert not np.all(np.diff(x[:, 0]) > 0)  # shuffled


def test_eval_windows_cover_the_text_back_to_back_in_order():
    x, y = text.eval_windows(np.arange(100), context=16)
    assert x.shape == (6, 16) and np.array_equal(x.ravel(), np.arange(96)) and np.array_equal(y, x + 1)


# --------------------------------------------------------------------------- positional encoding


def test_sinusoidal_encoding_is_sine_and_cosine_at_geometric_frequencies():
    pe = sinusoidal_encoding(50, 8)
    p = np.arange(50)
    for i in range(4):
        w = 10_000 ** (-2 * i / 8)
        np.testing.assert_allclose(pe[:, 2 * i], np.sin(p * w), atol=1e-6)
        np.testing.assert_allclose(pe[:, 2 * i + 1], np.cos(p * w), atol=1e-6)


@pytest.mark.parametrize("offset", [1, 7, 100])
def test_a_shift_by_k_positions_is_one_fixed_rotation_for_every_position(offset):
    pe = sinusoidal_encoding(400, 64).astype(np.float64)
    m = shift_matrix(offset, 64)
    np.testing.assert_allclose(pe[:-offset] @ m.T, pe[offset:], atol=1e-5)
    np.testing.assert_allclose(m @ m.T, np.eye(64), atol=1e-12)  # a rotation: lengths are kept


def test_dot_products_of_encodings_depend_on_the_offset_only():
    pe = sinusoidal_encoding(300, 64).astype(np.float64)
    gram = pe @ pe.T
    for offset in (0, 3, 50):
        diagonal = np.diagonal(gram, offset)
        assert np.ptp(diagonal) < 1e-4
        w = 10_000 ** (-np.arange(0, 64, 2) / 64)
        np.testing.assert_allclose(diagonal[0], np.cos(offset * w).sum(), atol=1e-4)


def test_the_models_add_the_same_fixed_encoding_that_nnbook_text_computes():
    t, k = T.MiniGPT(SMALL), K.MiniGPT(SMALL)
    expected = sinusoidal_encoding(SMALL.context, SMALL.d_model)
    assert np.array_equal(t.positions.numpy(), expected) and np.array_equal(k.positions.numpy(), expected)
    assert "positions" not in dict(t.named_parameters()) and "positions" not in t.state_dict()
    assert len(k.trainable_variables) == sum(1 for _ in t.parameters())


# --------------------------------------------------------------------------- against PyTorch's built-in block


def test_torch_transformer_block_equals_pre_norm_nn_transformer_encoder_layer_with_a_causal_mask():
    block = T.TransformerBlock(d_model=32, n_heads=4, d_ff=64).eval()
    builtin = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0, activation="gelu",
                                         batch_first=True, norm_first=True).eval()
    with torch.no_grad():
        a = block.attn
        builtin.self_attn.in_proj_weight.copy_(torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]))
        builtin.self_attn.in_proj_bias.copy_(torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]))
        builtin.self_attn.out_proj.load_state_dict(a.out_proj.state_dict())
        builtin.linear1.load_state_dict(block.ffn.up.state_dict())
        builtin.linear2.load_state_dict(block.ffn.down.state_dict())
        builtin.norm1.load_state_dict(block.ln_1.state_dict())
        builtin.norm2.load_state_dict(block.ln_2.state_dict())
        x = torch.randn(2, 9, 32)
        ours, _ = block(x)
        expected = builtin(x, src_mask=nn.Transformer.generate_square_subsequent_mask(9), is_causal=True)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), atol=1e-5)


# --------------------------------------------------------------------------- the two frameworks agree


def test_the_same_weights_give_the_same_logits_and_attention_weights_in_both_frameworks():
    t, k = pair()
    x = ids(3, SMALL.context)
    logits_t, weights_t = torch_logits(t, x, need_weights=True)
    logits_k, weights_k = k(x, need_weights=True)
    assert logits_t.shape == (3, SMALL.context, SMALL.vocab_size)
    np.testing.assert_allclose(logits_t, logits_k.numpy(), atol=ATOL)
    for wt, wk in zip(weights_t, weights_k):
        assert wt.shape == (3, SMALL.n_heads, SMALL.context, SMALL.context)
        np.testing.assert_allclose(wt, wk.numpy(), atol=1e-5)
    np.testing.assert_allclose(T.final_layer_attention(t, x[0]), weights_t[-1][0], atol=1e-6)
    np.testing.assert_allclose(K.final_layer_attention(k, x[0]), weights_k[-1][0].numpy(), atol=1e-6)


def test_fused_attention_and_xla_give_the_logits_of_the_explicit_attention():
    t, k = pair()
    x = ids(2, 12)
    fused, _ = torch_logits(t, x)
    explicit, _ = torch_logits(t, x, need_weights=True)
    np.testing.assert_allclose(fused, explicit, atol=1e-5)
    compiled = tf.function(lambda x: k(x)[0], jit_compile=True)
    np.testing.assert_allclose(compiled(x).numpy(), k(x, need_weights=True)[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(fused, compiled(x).numpy(), atol=ATOL)


def test_one_training_run_from_the_same_weights_on_the_same_batches_gives_the_same_losses():
    config = GPTConfig(vocab_size=11, context=8, n_layers=1, n_heads=2, d_model=16, d_ff=32)
    t, k = pair(config)
    tokens = ids(1, 400, seed=3)[0]
    kwargs = dict(epochs=2, batch_size=8, peak_lr=1e-2, evals_per_epoch=2)
    ht = T.fit_char_lm(t, tokens[:300], tokens[300:], **kwargs)
    hk = K.fit_char_lm(k, tokens[:300], tokens[300:], **kwargs)
    assert len(ht.step_loss) == 2 * (text.windows_per_epoch(300, 8) // 8) == len(hk.step_loss)
    assert list(ht.eval_steps) == list(hk.eval_steps) == [2, 4, 6, 8]
    np.testing.assert_allclose(ht.step_loss, hk.step_loss, rtol=1e-3)
    np.testing.assert_allclose(ht.val_loss, hk.val_loss, rtol=1e-3)
    assert ht.step_loss[-1] < ht.step_loss[0] and hk.final_val_loss == hk.val_loss[-1]
    for h in (ht, hk):  # 8 windows of 8 tokens a step; the first step (tracing, compiling) timed apart
        assert h.items_per_step == 64 and 0 < h.first_step_seconds < h.train_seconds
        assert h.tokens_per_second == pytest.approx(7 * 64 / (h.train_seconds - h.first_step_seconds))


def test_max_steps_stops_training_early_and_validates_there():
    t = T.MiniGPT(GPTConfig(vocab_size=11, context=8, n_layers=1, n_heads=2, d_model=16, d_ff=32))
    tokens = ids(1, 400, seed=3)[0]
    history = T.fit_char_lm(t, tokens[:300], tokens[300:], epochs=5, batch_size=8, peak_lr=1e-2, max_steps=3)
    assert len(history.step_loss) == 3 and list(history.eval_steps) == [3]


TINY = GPTConfig(vocab_size=11, context=8, n_layers=1, n_heads=2, d_model=16, d_ff=32)


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_the_language_model_optimizer_decays_the_matrices_and_not_the_biases_or_layer_norms(framework):
    """One AdamW step on zero gradients moves nothing but the decay: a decayed weight p becomes
    (1 - lr * weight_decay) p = 0.9 p here, any other stays p. The matrices (the embedding included) decay; the
    biases (zero at the start) and LayerNorm's weights (one) do not."""
    if framework == "torch":
        model = T.MiniGPT(TINY)
        optimizer = T._optimizer(model, peak_lr=0.5, weight_decay=0.2)
        named = [(name, p) for name, p in model.named_parameters()]
        before = [p.detach().numpy().copy() for _, p in named]
        for _, p in named:
            p.grad = torch.zeros_like(p)
        optimizer.step()
        after = [p.detach().numpy() for _, p in named]
    else:
        model = K.MiniGPT(TINY)
        optimizer = K._optimizer(model, peak_lr=0.5, weight_decay=0.2)
        named = [(v.path, v) for v in model.trainable_variables]
        before = [v.numpy() for _, v in named]
        optimizer.apply_gradients([(tf.zeros_like(v), v) for _, v in named])
        after = [v.numpy() for _, v in named]
    kinds = set()
    for (name, _), p0, p1 in zip(named, before, after):
        decayed = p0.ndim >= 2
        np.testing.assert_allclose(p1, 0.9 * p0 if decayed else p0, rtol=1e-6, atol=1e-7, err_msg=name)
        kinds.add((decayed, bool(np.any(p0 != 0))))
    assert kinds == {(True, True), (False, True), (False, False)}  # matrices, LayerNorm weights, biases


@pytest.mark.parametrize("training_mode", [True, False], ids=["train-mode", "eval-mode"])
def test_torch_evaluation_runs_without_dropout_and_leaves_the_mode_as_found(training_mode):
    model = T.MiniGPT(GPTConfig(**{**TINY.to_dict(), "dropout": 0.5})).train(training_mode)
    val = ids(1, 40, vocab=TINY.vocab_size)[0]
    loss = T.evaluate(model, val, batch_size=2)
    assert {m.training for m in model.modules()} == {training_mode}
    assert T.evaluate(model, val, batch_size=3) == pytest.approx(loss, rel=1e-6)  # dropout would change it


def test_keras_evaluation_and_generation_are_compiled_once_per_model_and_run_without_dropout():
    model = K.MiniGPT(GPTConfig(**{**TINY.to_dict(), "dropout": 0.5}))
    val, prompt = ids(1, 40, vocab=TINY.vocab_size)[0], ids(1, 3, vocab=TINY.vocab_size)[0]
    loss, tokens = K.evaluate(model, val, batch_size=2), K.generate(model, prompt, n_new=3)
    traces = nnbook.tf.tracing_count(model)
    assert traces >= 2  # the loss (one graph per batch shape) and the window's logits
    assert K.evaluate(model, val, batch_size=2) == loss  # dropout would change it
    assert np.array_equal(K.generate(model, prompt, n_new=3), tokens)
    assert nnbook.tf.tracing_count(model) == traces  # nothing traced again


# --------------------------------------------------------------------------- causality


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_changing_later_tokens_leaves_the_logits_of_earlier_positions_unchanged(framework):
    t, k = pair()
    x = ids(2, SMALL.context)
    changed = x.copy()
    changed[:, 10:] = (changed[:, 10:] + 1) % SMALL.vocab_size
    run = (lambda a: torch_logits(t, a)[0]) if framework == "torch" else (lambda a: k(a)[0].numpy())
    before, after = run(x), run(changed)
    np.testing.assert_array_equal(before[:, :10], after[:, :10])
    assert np.abs(before[:, 10:] - after[:, 10:]).max() > 1e-3


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_generation_reads_logits_from_a_zero_padded_window_as_if_unpadded_and_is_seeded(framework):
    t, k = pair()
    L = T if framework == "torch" else K
    model = t if framework == "torch" else k
    prompt = ids(1, 5)[0]
    out = L.generate(model, prompt, n_new=20, seed=4)  # runs past the context of 16
    assert len(out) == 25 and np.array_equal(out[:5], prompt)
    assert np.array_equal(out, L.generate(model, prompt, n_new=20, seed=4))
    assert not np.array_equal(out, L.generate(model, prompt, n_new=20, seed=5))
    # the first sampled id, recomputed from an unpadded forward pass
    logits = torch_logits(t, prompt[None])[0] if framework == "torch" else k(prompt[None])[0].numpy()
    first = sample_token(logits[0, -1], np.random.default_rng(4))
    assert out[5] == first


# --------------------------------------------------------------------------- dropout


def test_torch_dropout_acts_in_train_mode_only():
    config = GPTConfig(**{**SMALL.to_dict(), "dropout": 0.2})
    model, x = T.MiniGPT(config), torch.from_numpy(ids(2, 12))
    with torch.no_grad():
        model.train()
        a, b = model(x)[0], model(x)[0]
        model.eval()
        c, d = model(x)[0], model(x)[0]
        plain = T.MiniGPT(SMALL).eval()
        plain.load_state_dict(model.state_dict())
        e = plain(x)[0]
    assert not torch.allclose(a, b) and torch.equal(c, d) and torch.allclose(c, e, atol=1e-6)


def test_keras_dropout_acts_with_training_true_only():
    config = GPTConfig(**{**SMALL.to_dict(), "dropout": 0.2})
    model, x = K.MiniGPT(config), ids(2, 12)
    a, b = model(x, training=True)[0], model(x, training=True)[0]
    c, d = model(x, training=False)[0], model(x)[0]
    plain = K.MiniGPT(SMALL)
    plain.set_weights(model.get_weights())
    assert not np.allclose(a, b) and np.array_equal(c, d)
    np.testing.assert_allclose(c.numpy(), plain(x)[0].numpy(), atol=1e-6)


# --------------------------------------------------------------------------- statistics and sampling


def test_attention_statistics_measure_distance_back_and_entropy_per_head():
    t = 6
    uniform = np.tril(np.ones((t, t))) / np.arange(1, t + 1)[:, None]
    previous = np.eye(t, k=-1)
    previous[0, 0] = 1.0  # the first query can only attend to itself
    distance, entropy = attention.attention_statistics(np.stack([uniform, previous, np.eye(t)]))
    np.testing.assert_allclose(distance, [np.mean(np.arange(t) / 2), 5 / 6, 0.0])
    np.testing.assert_allclose(entropy, [np.mean(np.log(np.arange(1, t + 1))), 0.0, 0.0], atol=1e-12)
    with pytest.raises(ValueError, match="^weights: expected causal"):
        attention.attention_statistics(np.ones((1, 3, 3)) / 3)


def test_sampling_follows_the_softmax_and_low_temperature_picks_the_top_token():
    rng = np.random.default_rng(0)
    logits = np.log([0.1, 0.6, 0.3])
    counts = np.bincount([sample_token(logits, rng) for _ in range(4000)], minlength=3) / 4000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.03)
    assert {sample_token(logits, rng, temperature=0.01) for _ in range(50)} == {1}


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize(
    "change, argument",
    [({"d_model": 30, "n_heads": 4}, "n_heads"), ({"d_model": 9, "n_heads": 3}, "d_model"),
     ({"context": 0}, "context"), ({"vocab_size": -1}, "vocab_size"), ({"n_layers": 2.0}, "n_layers"),
     ({"dropout": 1.0}, "dropout"), ({"dropout": -0.1}, "dropout"), ({"d_ff": 0}, "d_ff")],
)
def test_bad_configurations_raise_value_error_naming_the_argument(change, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        GPTConfig(**{**SMALL.to_dict(), **change})


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize(
    "make, argument",
    [(lambda L: L.TransformerBlock(30, 4, 64), "n_heads"), (lambda L: L.FeedForward(0, 8), "d_model"),
     (lambda L: L.FeedForward(8, 8, dropout=1.5), "dropout"), (lambda L: L.MiniGPT({"d_model": 8}), "config")],
)
def test_bad_constructor_arguments_raise_value_error_naming_the_argument(framework, make, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        make(T if framework == "torch" else K)


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize(
    "x, message",
    [(ids(1, SMALL.context + 1), "idx: expected at most context = 16 tokens, got 17"),
     (ids(2, 0), "idx: expected a non-empty sequence"),
     (ids(1, 5)[0], "idx: expected integer token ids of shape (B, T)"),
     (np.zeros((1, 5), np.float32), "idx: expected integer token ids of shape (B, T)")],
    ids=["longer-than-context", "empty", "rank-1", "float"],
)
def test_bad_inputs_raise_value_error_naming_the_argument(framework, x, message):
    model = T.MiniGPT(SMALL) if framework == "torch" else K.MiniGPT(SMALL)
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        model(torch.from_numpy(x) if framework == "torch" else tf.constant(x))


def test_training_and_generation_reject_bad_arguments_by_name():
    model, tokens = T.MiniGPT(SMALL), ids(1, 200)[0]
    for change, argument in [({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"),
                             ({"peak_lr": -1.0}, "peak_lr"), ({"max_steps": 0}, "max_steps")]:
        kwargs = {"epochs": 1, "batch_size": 2, "peak_lr": 1e-3, **change}
        with pytest.raises(ValueError, match=rf"^{argument}: expected"):
            T.fit_char_lm(model, tokens, tokens, **kwargs)
    with pytest.raises(ValueError, match="^prompt_ids: expected"):
        T.generate(model, [], 3)
    with pytest.raises(ValueError, match="^context: expected"):
        list(text.epoch_batches(tokens, context=0, batch_size=2, seed=0, epoch=0))


def test_keras_model_is_recreated_from_its_config():
    original = K.MiniGPT(SMALL)
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(original))
    assert type(copy) is K.MiniGPT and copy.config == SMALL
    copy.set_weights(original.get_weights())
    x = ids(2, 7)
    np.testing.assert_allclose(copy(x)[0].numpy(), original(x)[0].numpy(), atol=1e-6)


# --------------------------------------------------------------------------- plots


def test_the_chapter_plots_draw_what_they_are_given_and_reject_bad_shapes():
    import matplotlib

    matplotlib.use("Agg")
    from nnbook import plots

    pe = sinusoidal_encoding(64, 16)
    fig = plots.positional_encoding(pe, starts=(0, 10), max_offset=20)
    assert [len(line.get_xdata()) for line in fig.axes[1].get_lines()] == [21, 21]
    fig = plots.char_lm_curves([4.0, 3.0, 2.5], [2, 3], [2.9, 2.6], target=1.6)
    assert len(fig.axes[0].get_lines()) == 3
    fig = plots.head_statistics([1.0, 5.0], [0.5, 2.0])
    assert [len(ax.patches) for ax in fig.axes] == [2, 2]
    with pytest.raises(ValueError, match="^starts: expected"):
        plots.positional_encoding(pe, starts=(50,), max_offset=20)
    with pytest.raises(ValueError, match="^val_loss: expected"):
        plots.char_lm_curves([1.0], [1, 2], [1.0])
    with pytest.raises(ValueError, match="^mean_distance, entropy: expected"):
        plots.head_statistics([1.0], [1.0, 2.0])
    matplotlib.pyplot.close("all")


def test_throughput_leaves_out_the_first_step():
    record = history.TrainingHistory(step_loss=np.ones(11, np.float32), step_seconds=np.array([2.0] + [1.0] * 10),
                                     items_per_step=100, eval_steps=np.array([11]), val_loss=np.array([1.0]))
    assert record.train_seconds == 12.0 and record.first_step_seconds == 2.0
    assert record.tokens_per_second == 100.0 and record.final_val_loss == 1.0


# --------------------------------------------------------------------------- an independent reference for the model


def reference_positions(length: int, d_model: int) -> np.ndarray:
    """The sine-cosine table written out: PE[p, 2i] = sin(p / 10000^(2i / D)), PE[p, 2i + 1] = cos(the same)."""
    pe = np.zeros((length, d_model))
    for p in range(length):
        for i in range(0, d_model, 2):
            pe[p, i], pe[p, i + 1] = np.sin(p / 10_000 ** (i / d_model)), np.cos(p / 10_000 ** (i / d_model))
    return pe.astype(np.float32)


def encoder_layer_with_weights_of(block: T.TransformerBlock) -> nn.TransformerEncoderLayer:
    """PyTorch's own pre-LayerNorm block (exact GELU, eps 1e-5, no dropout) holding `block`'s weights."""
    d_model, d_ff = block.ffn.up.in_features, block.ffn.up.out_features
    layer = nn.TransformerEncoderLayer(d_model, block.attn.n_heads, dim_feedforward=d_ff, dropout=0.0,
                                       activation="gelu", layer_norm_eps=1e-5, batch_first=True, norm_first=True)
    a = block.attn
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([a.q_proj.bias, a.k_proj.bias, a.v_proj.bias]))
        layer.self_attn.out_proj.load_state_dict(a.out_proj.state_dict())
        layer.linear1.load_state_dict(block.ffn.up.state_dict())
        layer.linear2.load_state_dict(block.ffn.down.state_dict())
        layer.norm1.load_state_dict(block.ln_1.state_dict())
        layer.norm2.load_state_dict(block.ln_2.state_dict())
    return layer.eval()


def reference_logits(model: T.MiniGPT, x: np.ndarray) -> np.ndarray:
    """MiniGPT rebuilt from PyTorch's parts with `model`'s weights, sharing no code with the package: the token
    embedding times sqrt(D) plus the positions, nn.TransformerEncoderLayer(norm_first=True) blocks with a causal
    mask, the final LayerNorm, and the head tied to the embedding written out, logits = h @ E^T."""
    d_model, length = model.config.d_model, x.shape[1]
    embedding = model.embed.weight.detach()  # E: (V, D)
    with torch.no_grad():
        h = embedding[torch.from_numpy(x)] * np.sqrt(d_model) + torch.from_numpy(reference_positions(length, d_model))
        causal = nn.Transformer.generate_square_subsequent_mask(length)
        for block in model.blocks:
            h = encoder_layer_with_weights_of(block)(h, src_mask=causal, is_causal=True)
        h = nn.functional.layer_norm(h, (d_model,), model.ln_f.weight, model.ln_f.bias, eps=1e-5)
        return (h @ embedding.T).numpy()  # (B, T, V)


@pytest.mark.parametrize("length", [SMALL.context, 9])
def test_both_models_compute_what_an_independent_reference_computes_with_the_same_weights(length):
    """A mistake made in both frameworks' MiniGPT passes every cross-framework test; not this one. The Keras
    model holds the PyTorch model's weights (`pair`), so the one reference checks both."""
    t, k = pair()
    x = ids(3, length)
    expected = reference_logits(t, x)
    assert expected.shape == (3, length, SMALL.vocab_size) and np.abs(expected).max() > 1.0
    for need_weights in (False, True):  # fused and explicit attention
        np.testing.assert_allclose(torch_logits(t, x, need_weights)[0], expected, atol=ATOL)
        np.testing.assert_allclose(k(x, need_weights=need_weights)[0].numpy(), expected, atol=ATOL)


# --------------------------------------------------------------------------- generation, replayed step by step


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize(
    "prompt_length, n_new", [(5, 12), (SMALL.context, 4), (SMALL.context + 5, 6)],
    ids=["grows-past-the-context", "fills-the-context", "longer-than-the-context"],
)
def test_every_generated_token_is_the_draw_from_the_last_context_tokens(framework, prompt_length, n_new,
                                                                       monkeypatch):
    """Each step replayed: the last `context` ids (fewer at the start) through the model, unpadded, and the next
    draw of the same NumPy generator. A draw rarely changes when the logits change a little (a window one token
    short moves them by a few percent), so the logits each draw was given are compared too."""
    t, k = pair()
    L, model = (T, t) if framework == "torch" else (K, k)
    logits = (lambda a: torch_logits(t, a)[0]) if framework == "torch" else (lambda a: k(a)[0].numpy())
    drawn_from = []

    def recording_sample_token(step_logits, rng, temperature=1.0):
        drawn_from.append(np.array(step_logits))
        return sample_token(step_logits, rng, temperature)

    monkeypatch.setattr(L, "sample_token", recording_sample_token)
    prompt = ids(1, prompt_length, seed=2)[0]
    out = L.generate(model, prompt, n_new=n_new, temperature=0.8, seed=7)
    assert len(out) == prompt_length + n_new and np.array_equal(out[:prompt_length], prompt)
    assert len(drawn_from) == n_new, "generate draws each token with nnbook.transformer.sample_token"
    rng = np.random.default_rng(7)
    for step, position in enumerate(range(prompt_length, len(out))):
        window = out[max(0, position - SMALL.context) : position]
        expected = logits(window[None])[0, -1]  # (V,)
        np.testing.assert_allclose(drawn_from[step], expected, atol=ATOL, err_msg=f"logits of token {position}")
        replayed = sample_token(expected, rng, temperature=0.8)
        assert out[position] == replayed, f"token {position}: generated {out[position]}, replayed {replayed}"


# --------------------------------------------------------------------------- train and eval modes


@pytest.mark.parametrize("training", [True, False], ids=["train-mode", "eval-mode"])
def test_torch_generation_and_attention_maps_run_without_dropout_and_leave_the_mode_as_found(training):
    config = GPTConfig(**{**SMALL.to_dict(), "dropout": 0.5})
    model, prompt = T.MiniGPT(config).train(training), ids(1, 6)[0]
    plain = T.MiniGPT(config).eval()
    plain.load_state_dict(model.state_dict())
    tokens = T.generate(model, prompt, n_new=8, seed=1)
    assert {m.training for m in model.modules()} == {training}
    weights = T.final_layer_attention(model, prompt)
    assert {m.training for m in model.modules()} == {training}
    assert np.array_equal(tokens, T.generate(plain, prompt, n_new=8, seed=1))  # dropout would change them
    np.testing.assert_allclose(weights, T.final_layer_attention(plain, prompt), atol=1e-6)


def test_keras_generation_and_attention_maps_run_in_inference_mode():
    config = GPTConfig(**{**SMALL.to_dict(), "dropout": 0.5})
    model, prompt = K.MiniGPT(config), ids(1, 6)[0]
    plain = K.MiniGPT(SMALL)
    plain.set_weights(model.get_weights())
    assert np.array_equal(K.generate(model, prompt, n_new=8, seed=1), K.generate(plain, prompt, n_new=8, seed=1))
    np.testing.assert_allclose(K.final_layer_attention(model, prompt), K.final_layer_attention(plain, prompt),
                               atol=1e-6)


# --------------------------------------------------------------------------- head classes


def causal_rows(t: int, row) -> np.ndarray:
    """(t, t) weights: row(i) gives query i's weights over keys 0..i."""
    w = np.zeros((t, t))
    for i in range(t):
        w[i, : i + 1] = row(i)
    return w


def one_hot_row(i: int, key: int) -> np.ndarray:
    r = np.zeros(i + 1)
    r[min(max(key, 0), i)] = 1.0
    return r


HAND_MADE_HEADS = {  # class -> (T, T) weights that are that class and no earlier one in the rule
    "previous-token": causal_rows(20, lambda i: one_hot_row(i, i - 1)),
    "self": causal_rows(20, lambda i: one_hot_row(i, i)),
    "first-token": causal_rows(20, lambda i: one_hot_row(i, 0)),
    # equal weights on the last four keys: neither t - 1 nor t gets half
    "local": causal_rows(20, lambda i: np.r_[np.zeros(max(i - 3, 0)), np.full(min(i + 1, 4), 1 / min(i + 1, 4))]),
    "broad": causal_rows(20, lambda i: np.full(i + 1, 1 / (i + 1))),
    # all the weight 8 keys back (or on key 0 for the first 8 queries... split with the query itself)
    "long-range": causal_rows(20, lambda i: one_hot_row(i, i - 8) * 0.6 + one_hot_row(i, i // 2) * 0.4),
}


@pytest.mark.parametrize("expected", attention.HEAD_CLASSES)
def test_each_hand_made_head_gets_its_class_and_the_rule_reads_each_head_alone(expected):
    weights = HAND_MADE_HEADS[expected]
    assert attention.classify_heads(weights[None]) == [expected]
    others = [c for c in attention.HEAD_CLASSES if c != expected]
    stacked = np.stack([HAND_MADE_HEADS[c] for c in others] + [weights])
    assert attention.classify_heads(stacked) == others + [expected]


def test_head_features_measure_the_weights_on_the_previous_own_and_first_keys():
    features = attention.head_features(np.stack([HAND_MADE_HEADS["previous-token"], HAND_MADE_HEADS["broad"]]))
    np.testing.assert_allclose(features["previous"], [1.0, np.mean(1 / np.arange(2, 21))])
    np.testing.assert_allclose(features["self"], [1 / 20, np.mean(1 / np.arange(1, 21))])
    np.testing.assert_allclose(features["first"], [0.0, np.mean(1 / np.arange(3, 21))])
    np.testing.assert_allclose(features["entropy_share"], [0.0, 1.0], atol=1e-12)
    table = attention.head_table(np.stack([HAND_MADE_HEADS["previous-token"], HAND_MADE_HEADS["broad"]]))
    assert table.splitlines()[1].endswith("previous-token") and table.splitlines()[2].endswith("broad")


@pytest.mark.parametrize(
    "weights, message",
    [(np.ones((3, 3)) / 3, "weights: expected a 3-D array (H, T, T)"),
     (np.ones((1, 2, 2)) / 2, "weights: expected a 3-D array (H, T, T) with T >= 3, got float64 (1, 2, 2)"),
     (np.ones((1, 4, 4)) / 4, "weights: expected causal attention weights")],
    ids=["rank-2", "too-short", "not-causal"],
)
def test_head_classification_rejects_bad_weights_by_name(weights, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        attention.classify_heads(weights)


# --------------------------------------------------------------------------- moving trained weights across


def test_torch_weights_loaded_into_keras_give_the_same_logits_attention_and_head_classes():
    t = T.MiniGPT(SMALL)
    T.fit_char_lm(t, ids(1, 600)[0], ids(1, 100, seed=2)[0], epochs=1, batch_size=4, peak_lr=1e-2, max_steps=5)
    k = K.load_torch_weights(K.MiniGPT(SMALL), T.numpy_weights(t.eval()))
    x = ids(3, SMALL.context, seed=3)
    expected, expected_weights = torch_logits(t, x, need_weights=True)
    logits, weights = k(x, training=False, need_weights=True)
    np.testing.assert_allclose(logits.numpy(), expected, atol=ATOL)
    np.testing.assert_allclose(weights[-1].numpy(), expected_weights[-1], atol=1e-5)  # softmax rows: < 1
    assert attention.classify_heads(K.final_layer_attention(k, x[0])) == attention.classify_heads(
        T.final_layer_attention(t, x[0]))


@pytest.mark.parametrize(
    "change, message",
    # 35 = the embedding + 2 blocks x 16 (two norms, four projections, two linears: weight and bias) + ln_f's 2
    [(lambda w: w.pop("ln_f.bias"), "weights: expected the 35 weights of a PyTorch MiniGPT"),  # 1 + 2 x 16 + 2
     (lambda w: w.update(extra=np.zeros(3)), "weights: expected the 35 weights"),
     (lambda w: w.update({"blocks.1.ffn.up.weight": np.zeros((32, 64))}),
      "weights['blocks.1.ffn.up.weight']: expected a 2-D array (64, 32), got float64 (32, 64)"),
     (lambda w: w.update({"embed.weight": np.zeros((12, 32))}), "weights['embed.weight']: expected a 2-D array (11, 32)")],
    ids=["missing", "unexpected", "transposed", "other-vocabulary"],
)
def test_loading_torch_weights_names_the_weight_that_does_not_fit_and_copies_nothing(change, message):
    weights = T.numpy_weights(T.MiniGPT(SMALL))
    change(weights)
    k = K.MiniGPT(SMALL)
    before = [v.numpy().copy() for v in k.trainable_variables]
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        K.load_torch_weights(k, weights)
    assert all(np.array_equal(b, v.numpy()) for b, v in zip(before, k.trainable_variables))


def test_loading_torch_weights_rejects_what_is_not_a_model_or_a_dict():
    with pytest.raises(ValueError, match="^model: expected"):
        K.load_torch_weights(T.MiniGPT(SMALL), {})
    with pytest.raises(ValueError, match="^weights: expected a dict"):
        K.load_torch_weights(K.MiniGPT(SMALL), [])
    with pytest.raises(ValueError, match="^model: expected"):
        T.numpy_weights(K.MiniGPT(SMALL))
