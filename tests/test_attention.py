"""Attention: the function and the layer against each framework's built-ins, and the two frameworks against each other.

Cross-framework checks feed the same float32 inputs and weights to the PyTorch and the Keras version and compare
with atol 1e-5 (softmax and matmuls of width <= 64, summed in different orders, differ by ~1e-7). PyTorch stores a
linear weight as (out, in), Keras a Dense kernel as (in, out): copies transpose it. nn.MultiheadAttention stacks the
query, key and value weights into one in_proj_weight (3D, D); keras.layers.MultiHeadAttention keeps an EinsumDense
kernel (D, H, d_head) per projection and an output kernel (H, d_head, D).
"""

from __future__ import annotations

import nnbook.tf  # noqa: F401  (first: imports TensorFlow without its C++ log lines)

import re

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn
from torch.nn import functional as F

from nnbook import plots
from nnbook.tf import attention as K
from nnbook.torch import attention as T
from helpers import rand

matplotlib.use("Agg")

ATOL = 1e-5  # float32, see the module docstring
D, H = 16, 4  # d_model, heads


def pair(d_model: int = D, n_heads: int = H) -> tuple[T.MultiHeadAttention, K.MultiHeadAttention]:
    """A PyTorch and a Keras MultiHeadAttention holding the same weights (the PyTorch one's)."""
    t, k = T.MultiHeadAttention(d_model, n_heads), K.MultiHeadAttention(d_model, n_heads)
    with torch.no_grad():  # random biases too, so that a bias copied wrongly would show
        for linear in (t.q_proj, t.k_proj, t.v_proj, t.out_proj):
            linear.bias.normal_()
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        linear, dense = getattr(t, name), getattr(k, name)
        dense.kernel.assign(linear.weight.detach().numpy().T)  # (out, in) -> (in, out)
        dense.bias.assign(linear.bias.detach().numpy())
    return t, k


def as_numpy(out) -> list[np.ndarray]:
    return [None if o is None else (o.detach().numpy() if isinstance(o, torch.Tensor) else o.numpy()) for o in out]


def reference(q, k, v, keep=None):
    """NumPy float64 attention: softmax(q k^T / sqrt(d_k)) v with `keep` (True = may attend)."""
    scores = q.astype(np.float64) @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return weights @ v, weights


# --------------------------------------------------------------------------- masks


def test_causal_masks_are_boolean_tril_in_torch_and_additive_band_part_in_tf_hiding_the_same_keys():
    t, k = T.causal_mask(5, 7), K.causal_mask(5, 7)
    assert t.dtype == torch.bool and k.dtype == tf.float32
    assert torch.equal(t, torch.ones(5, 7).tril().bool())
    k = k.numpy()
    assert set(np.unique(k)) == {0.0, -np.inf}
    np.testing.assert_array_equal(t.numpy(), k == 0)
    np.testing.assert_array_equal(T.causal_mask(4).numpy(), np.tri(4, dtype=bool))


# --------------------------------------------------------------------------- the function against the built-ins


def masks(t_q: int, t_k: int) -> dict[str, np.ndarray | None]:
    rng = np.random.default_rng(3)
    keep = rng.random((2, 1, t_q, t_k)) > 0.4
    keep[..., 0] = True  # every query keeps a key: no empty softmax
    return {"none": None, "causal": np.tri(t_q, t_k, dtype=bool), "random": keep}


@pytest.mark.parametrize("mask_kind", ["none", "causal", "random"])
def test_torch_function_equals_f_scaled_dot_product_attention_with_boolean_and_additive_masks(mask_kind):
    q, k, v = rand(2, 3, 5, 8, seed=1), rand(2, 3, 7, 8, seed=2), rand(2, 3, 7, 4, seed=3)
    q, k, v = map(torch.from_numpy, (q, k, v))
    keep = masks(5, 7)[mask_kind]
    keep = None if keep is None else torch.from_numpy(keep)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    out, weights = T.scaled_dot_product_attention(q, k, v, mask=keep)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-6)
    additive = None if keep is None else torch.zeros(keep.shape).masked_fill(~keep, float("-inf"))
    out_add, weights_add = T.scaled_dot_product_attention(q, k, v, mask=additive)
    np.testing.assert_allclose(out_add.numpy(), expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(weights.sum(-1).numpy(), 1.0, atol=1e-6)
    if keep is not None:
        assert torch.all(weights.masked_select(~keep.expand_as(weights)) == 0)
        assert torch.equal(weights, weights_add)


def test_torch_function_without_scaling_equals_f_sdpa_with_scale_one():
    q, k, v = (torch.from_numpy(rand(2, 6, 32, seed=s)) for s in (1, 2, 3))
    out, _ = T.scaled_dot_product_attention(q, k, v, scale=False)
    np.testing.assert_allclose(out.numpy(), F.scaled_dot_product_attention(q, k, v, scale=1.0).numpy(), atol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_tf_function_equals_keras_ops_dot_product_attention(causal):
    q, k, v = rand(2, 3, 6, 8, seed=1), rand(2, 3, 6, 8, seed=2), rand(2, 3, 6, 4, seed=3)
    mask = K.causal_mask(6) if causal else None
    out, weights = K.scaled_dot_product_attention(tf.constant(q), tf.constant(k), tf.constant(v), mask=mask)
    heads_last = (0, 2, 1, 3)  # keras.ops wants (B, T, H, d)
    expected = keras.ops.dot_product_attention(*(np.transpose(x, heads_last) for x in (q, k, v)), is_causal=causal)
    np.testing.assert_allclose(out.numpy(), np.transpose(expected, heads_last), atol=1e-6)
    np.testing.assert_allclose(tf.reduce_sum(weights, -1).numpy(), 1.0, atol=1e-6)


def test_tf_function_takes_boolean_masks_too_and_gives_the_same_as_additive_ones():
    q, k, v = (tf.constant(rand(2, 5, 8, seed=s)) for s in (1, 2, 3))
    keep = tf.constant(np.tri(5, dtype=bool))
    out_bool, w_bool = K.scaled_dot_product_attention(q, k, v, mask=keep)
    out_add, w_add = K.scaled_dot_product_attention(q, k, v, mask=K.causal_mask(5))
    np.testing.assert_array_equal(out_bool.numpy(), out_add.numpy())
    np.testing.assert_array_equal(w_bool.numpy(), w_add.numpy())


# --------------------------------------------------------------------------- PyTorch and TensorFlow agree


@pytest.mark.parametrize("mask_kind", ["none", "causal", "random"])
def test_the_function_gives_the_same_outputs_and_weights_in_both_frameworks_and_numpy(mask_kind):
    q, k, v = rand(2, 3, 5, 8, seed=1), rand(2, 3, 7, 8, seed=2), rand(2, 3, 7, 4, seed=3)
    keep = masks(5, 7)[mask_kind]
    t = T.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)),
                                       mask=None if keep is None else torch.from_numpy(keep))
    additive = None if keep is None else tf.where(keep, 0.0, float("-inf"))  # TF: the additive kind
    k_ = K.scaled_dot_product_attention(*map(tf.constant, (q, k, v)), mask=additive)
    for ours_t, ours_k, expected in zip(as_numpy(t), as_numpy(k_), reference(q, k, v, keep)):
        np.testing.assert_allclose(ours_t, ours_k, atol=ATOL)
        np.testing.assert_allclose(ours_t, expected, atol=ATOL)


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_gives_the_same_outputs_weights_and_gradients_in_both_frameworks(causal):
    t, k = pair()
    x = rand(3, 6, D)
    out_t, w_t = t(torch.from_numpy(x), causal=causal)
    out_t.sum().backward()
    with tf.GradientTape() as tape:
        out_k, w_k = k(tf.constant(x), causal=causal)
        loss = tf.reduce_sum(out_k)
    grads = dict(zip([v.path for v in k.trainable_weights], tape.gradient(loss, k.trainable_weights)))
    np.testing.assert_allclose(out_t.detach().numpy(), out_k.numpy(), atol=ATOL)
    np.testing.assert_allclose(w_t.detach().numpy(), w_k.numpy(), atol=ATOL)
    assert w_t.shape == (3, H, 6, 6)
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        linear = getattr(t, name)
        kernel_grad = grads[f"{k.name}/{name}/kernel"].numpy()
        np.testing.assert_allclose(linear.weight.grad.numpy().T, kernel_grad, atol=1e-4)
        np.testing.assert_allclose(linear.bias.grad.numpy(), grads[f"{k.name}/{name}/bias"].numpy(), atol=1e-4)


def test_cross_attention_with_a_padding_mask_agrees_across_frameworks():
    t, k = pair()
    query, memory = rand(2, 4, D, seed=1), rand(2, 9, D, seed=2)
    keep = np.ones((2, 1, 9), bool)
    keep[1, :, 6:] = False  # the second sequence has 6 real keys, then padding
    out_t, w_t = t(*map(torch.from_numpy, (query, memory)), attn_mask=torch.from_numpy(keep))
    out_k, w_k = k(*map(tf.constant, (query, memory)), attn_mask=tf.constant(keep))
    np.testing.assert_allclose(out_t.detach().numpy(), out_k.numpy(), atol=ATOL)
    np.testing.assert_allclose(w_t.detach().numpy(), w_k.numpy(), atol=ATOL)
    assert w_t.shape == (2, H, 4, 9) and torch.all(w_t[1, :, :, 6:] == 0)


# --------------------------------------------------------------------------- the layer against the built-ins


def to_nn_multihead(ours: T.MultiHeadAttention) -> nn.MultiheadAttention:
    builtin = nn.MultiheadAttention(ours.d_model, ours.n_heads, batch_first=True)
    with torch.no_grad():  # in_proj_weight (3D, D) stacks the q, k, v weights (out, in); in_proj_bias (3D,)
        builtin.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))
        builtin.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        builtin.out_proj.load_state_dict(ours.out_proj.state_dict())
    return builtin.eval()


def to_keras_multihead(ours: K.MultiHeadAttention, query, value) -> keras.layers.MultiHeadAttention:
    h, d_head, d = ours.n_heads, ours.d_head, ours.d_model
    builtin = keras.layers.MultiHeadAttention(num_heads=h, key_dim=d_head)
    builtin(query, value)  # build
    for ours_dense, einsum in [(ours.q_proj, builtin.query_dense), (ours.k_proj, builtin.key_dense),
                               (ours.v_proj, builtin.value_dense)]:
        einsum.kernel.assign(tf.reshape(ours_dense.kernel, (d, h, d_head)))  # (D, D) -> (D, H, d_head)
        einsum.bias.assign(tf.reshape(ours_dense.bias, (h, d_head)))  # (D,) -> (H, d_head)
    builtin.output_dense.kernel.assign(tf.reshape(ours.out_proj.kernel, (h, d_head, d)))  # (H, d_head, D)
    builtin.output_dense.bias.assign(ours.out_proj.bias)
    return builtin


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding"])
def test_torch_multi_head_attention_equals_nn_multihead_attention_with_weights_copied(mask_kind):
    ours, _ = pair()
    query, memory = rand(2, 5, D, seed=1), rand(2, 5, D, seed=2)
    builtin = to_nn_multihead(ours)
    kwargs, builtin_kwargs = {}, {}
    if mask_kind == "causal":
        kwargs = {"causal": True}
        builtin_kwargs = {"attn_mask": ~T.causal_mask(5)}  # nn.MultiheadAttention: True = may NOT attend
    elif mask_kind == "padding":
        keep = torch.ones(2, 5, dtype=torch.bool)
        keep[0, 3:] = False
        kwargs = {"attn_mask": keep[:, None, :]}  # (B, 1, T_k), True = may attend
        builtin_kwargs = {"key_padding_mask": ~keep}  # (B, T_k), True = padding
    q, m = torch.from_numpy(query), torch.from_numpy(memory)
    out, weights = ours(q, m, **kwargs)
    expected, expected_weights = builtin(q, m, m, average_attn_weights=False, **builtin_kwargs)
    assert np.abs(out.detach().numpy() - expected.detach().numpy()).max() <= 1e-5
    assert np.abs(weights.detach().numpy() - expected_weights.detach().numpy()).max() <= 1e-5


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding"])
def test_keras_multi_head_attention_equals_keras_layers_multi_head_attention_with_weights_copied(mask_kind):
    _, ours = pair()
    query, memory = tf.constant(rand(2, 5, D, seed=1)), tf.constant(rand(2, 5, D, seed=2))
    builtin = to_keras_multihead(ours, query, memory)
    kwargs, builtin_kwargs = {}, {}
    if mask_kind == "causal":
        kwargs, builtin_kwargs = {"causal": True}, {"use_causal_mask": True}
    elif mask_kind == "padding":
        keep = np.ones((2, 5, 5), bool)
        keep[0, :, 3:] = False
        kwargs = {"attn_mask": tf.constant(keep)}  # (B, T_q, T_k), True = may attend
        builtin_kwargs = {"attention_mask": tf.constant(keep)}  # the same convention
    out, weights = ours(query, memory, **kwargs)
    expected, expected_weights = builtin(query, memory, return_attention_scores=True, **builtin_kwargs)
    assert np.abs(out.numpy() - expected.numpy()).max() <= 1e-5
    assert np.abs(weights.numpy() - expected_weights.numpy()).max() <= 1e-5


def test_projections_start_glorot_uniform_with_zero_biases_in_both_frameworks():
    t, k = T.MultiHeadAttention(64, 8), K.MultiHeadAttention(64, 8)
    bound = np.sqrt(6 / (64 + 64))
    for w in [t.q_proj.weight.detach().numpy(), t.out_proj.weight.detach().numpy(), k.q_proj.kernel.numpy(),
              k.out_proj.kernel.numpy()]:
        assert bound / 2 < np.abs(w).max() <= bound
    assert all(torch.all(lin.bias == 0) for lin in (t.q_proj, t.k_proj, t.v_proj, t.out_proj))
    assert all(np.all(d.bias.numpy() == 0) for d in (k.q_proj, k.k_proj, k.v_proj, k.out_proj))
    assert sum(p.numel() for p in t.parameters()) == k.count_params() == 4 * (64 * 64 + 64)


# --------------------------------------------------------------------------- the fast path for training


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "causal+padding", "additive"])
def test_torch_fused_path_without_weights_equals_the_explicit_path(mask_kind):
    ours, _ = pair()
    x = torch.from_numpy(rand(2, 7, D))
    keep = torch.ones(2, 1, 7, dtype=torch.bool)
    keep[1, :, 5:] = False
    kwargs = {"none": {}, "causal": {"causal": True}, "padding": {"attn_mask": keep},
              "causal+padding": {"causal": True, "attn_mask": keep},
              "additive": {"attn_mask": torch.zeros(7, 7).masked_fill(~T.causal_mask(7), float("-inf"))}}[mask_kind]
    explicit, weights = ours(x, **kwargs)
    fused, none = ours(x, need_weights=False, **kwargs)
    assert weights is not None and none is None
    np.testing.assert_allclose(fused.detach().numpy(), explicit.detach().numpy(), atol=ATOL)


@pytest.mark.parametrize("mask_kind", ["none", "causal", "causal+padding"])
def test_tf_path_without_weights_under_jit_compile_equals_the_eager_explicit_path(mask_kind):
    _, ours = pair()
    x = tf.constant(rand(2, 7, D))
    keep = np.ones((2, 1, 7), bool)
    keep[1, :, 5:] = False
    kwargs = {"none": {}, "causal": {"causal": True},
              "causal+padding": {"causal": True, "attn_mask": tf.constant(keep)}}[mask_kind]
    explicit, weights = ours(x, **kwargs)
    compiled = tf.function(lambda x: ours(x, need_weights=False, **kwargs), jit_compile=True)
    fused, none = compiled(x)
    assert weights is not None and none is None
    np.testing.assert_allclose(fused.numpy(), explicit.numpy(), atol=ATOL)


def test_tf_layer_traces_with_an_unknown_batch_and_length():
    _, ours = pair()
    spec = tf.TensorSpec((None, None, D), tf.float32)
    step = tf.function(lambda x: ours(x, causal=True, need_weights=False)[0], input_signature=[spec])
    for t in (3, 8):
        x = tf.constant(rand(2, t, D))
        np.testing.assert_allclose(step(x).numpy(), ours(x, causal=True)[0].numpy(), atol=ATOL)


# --------------------------------------------------------------------------- no position sees the future


@pytest.mark.parametrize("need_weights", [True, False])
def test_causal_outputs_do_not_change_when_later_tokens_change_in_either_framework(need_weights):
    t, k = pair()
    x = rand(1, 8, D)
    for position in range(7):
        perturbed = x.copy()
        perturbed[:, position + 1:] += 10 * rand(1, 7 - position, D, seed=position)
        for run in (lambda a: t(torch.from_numpy(a), causal=True, need_weights=need_weights)[0].detach().numpy(),
                    lambda a: k(tf.constant(a), causal=True, need_weights=need_weights)[0].numpy()):
            before, after = run(x), run(perturbed)
            np.testing.assert_allclose(after[:, : position + 1], before[:, : position + 1], atol=1e-6, rtol=0)
            assert np.abs(after[:, position + 1:] - before[:, position + 1:]).min() > 1e-3


def test_without_the_mask_earlier_outputs_do_change_when_later_tokens_change():
    t, k = pair()
    x = rand(1, 6, D)
    perturbed = x.copy()
    perturbed[:, 3:] += 1.0
    assert np.abs(t(torch.from_numpy(perturbed))[0].detach().numpy()[:, 0]
                  - t(torch.from_numpy(x))[0].detach().numpy()[:, 0]).max() > 1e-3
    assert np.abs(k(tf.constant(perturbed))[0].numpy()[:, 0] - k(tf.constant(x))[0].numpy()[:, 0]).max() > 1e-3


def test_the_function_with_a_causal_mask_puts_zero_weight_above_the_diagonal_in_both_frameworks():
    q, k, v = rand(4, 6, 8, seed=1), rand(4, 6, 8, seed=2), rand(4, 6, 8, seed=3)
    _, w_t = T.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, v)), mask=T.causal_mask(6))
    _, w_k = K.scaled_dot_product_attention(*map(tf.constant, (q, k, v)), mask=K.causal_mask(6))
    above = ~np.tri(6, dtype=bool)
    assert np.all(w_t.numpy()[:, above] == 0) and np.all(w_k.numpy()[:, above] == 0)
    assert np.all(w_t.numpy()[:, ~above] > 0)


# --------------------------------------------------------------------------- argument validation


@pytest.mark.parametrize("framework", [T, K], ids=["torch", "tf"])
@pytest.mark.parametrize(
    "make, argument",
    [
        (lambda L: L.MultiHeadAttention(d_model=10, n_heads=4), "n_heads"),
        (lambda L: L.MultiHeadAttention(d_model=0, n_heads=1), "d_model"),
        (lambda L: L.MultiHeadAttention(d_model=-8, n_heads=2), "d_model"),
        (lambda L: L.MultiHeadAttention(d_model=8, n_heads=0), "n_heads"),
        (lambda L: L.MultiHeadAttention(d_model=8.0, n_heads=2), "d_model"),
        (lambda L: L.causal_mask(0), "t_q"),
        (lambda L: L.causal_mask(3, -1), "t_k"),
    ],
)
def test_bad_constructor_arguments_raise_value_error_naming_the_argument(framework, make, argument):
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        make(framework)


FUNCTION_CASES = [  # (q, k, v, mask shapes or None, extra keyword arguments), the argument at fault
    (((2, 5, 8), (2, 7, 8), (2, 7, 4), (5, 6), {}), "mask"),
    (((2, 5, 8), (2, 7, 8), (2, 7, 4), (3, 5, 7), {}), "mask"),
    (((2, 5, 8), (2, 7, 8), (2, 7, 4), (1, 1, 2, 5, 7), {}), "mask"),
    (((2, 0, 8), (2, 7, 8), (2, 7, 4), None, {}), "q"),
    (((2, 5, 8), (2, 0, 8), (2, 0, 4), None, {}), "k"),
    (((8,), (2, 7, 8), (2, 7, 4), None, {}), "q"),
    (((2, 5, 8), (2, 7, 6), (2, 7, 4), None, {}), "k"),
    (((2, 5, 8), (2, 7, 8), (2, 6, 4), None, {}), "v"),
    (((2, 5, 8), (2, 7, 8), (2, 7, 4), None, {"scale": 1.0}), "scale"),
]


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("case, argument", FUNCTION_CASES)
def test_the_function_rejects_bad_shapes_by_name(framework, case, argument):
    q, k, v, mask, kwargs = case
    make = torch.zeros if framework == "torch" else tf.zeros
    L = T if framework == "torch" else K
    mask = None if mask is None else (make(mask, dtype=torch.bool) if framework == "torch"
                                      else tf.zeros(mask, dtype=tf.bool))
    with pytest.raises(ValueError, match=rf"^{argument}: expected"):
        L.scaled_dot_product_attention(make(q), make(k), make(v), mask=mask, **kwargs)


def test_the_function_rejects_an_integer_mask_by_name():
    q = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="^mask: expected a boolean or float"):
        T.scaled_dot_product_attention(q, q, q, mask=torch.ones(3, 3, dtype=torch.int64))
    q = tf.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="^mask: expected a boolean or float"):
        K.scaled_dot_product_attention(q, q, q, mask=tf.ones((3, 3), dtype=tf.int32))


# Keras re-raises an error from call() with its message after a header (in bold): match either form.
KERAS_CALL_ERROR = r"(^|\n|\x1b\[1m){}: expected"

LAYER_CASES = [  # (query shape, key shape or None, mask shape or None, extra keyword arguments), the argument at fault
    (((2, 5, 8), None, (5, 4), {}), "attn_mask"),
    (((2, 5, 8), None, (3, 5, 5), {}), "attn_mask"),
    (((2, 5, 8), None, (2, 3, 5, 5), {}), "attn_mask"),
    (((2, 5, 8), None, (4,), {}), "attn_mask"),
    (((2, 0, 8), None, None, {}), "query"),
    (((2, 5, 8), (2, 0, 8), None, {}), "key"),
    (((5, 8), None, None, {}), "query"),
    (((2, 5, 6), None, None, {}), "query"),
    (((2, 5, 8), (2, 5, 4), None, {}), "key"),
    (((2, 5, 8), None, None, {"need_weights": 0}), "need_weights"),
    (((2, 5, 8), None, None, {"causal": "yes"}), "causal"),
]


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("case, argument", LAYER_CASES)
def test_multi_head_attention_rejects_bad_inputs_by_name(framework, need_weights, case, argument):
    query, key, mask, kwargs = case
    kwargs = {"need_weights": need_weights, **kwargs}
    if framework == "torch":
        layer, make, boolean = T.MultiHeadAttention(8, 2), torch.zeros, lambda s: torch.ones(s, dtype=torch.bool)
    else:
        layer, make, boolean = K.MultiHeadAttention(8, 2), tf.zeros, lambda s: tf.ones(s, dtype=tf.bool)
    key = None if key is None else make(key)
    mask = None if mask is None else boolean(mask)
    with pytest.raises(ValueError, match=KERAS_CALL_ERROR.format(re.escape(argument))):
        layer(make(query), key, attn_mask=mask, **kwargs)


# --------------------------------------------------------------------------- Keras config


def test_keras_multi_head_attention_is_recreated_from_its_config():
    original = K.MultiHeadAttention(d_model=12, n_heads=3)
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(original))
    assert type(copy) is K.MultiHeadAttention and (copy.d_model, copy.n_heads, copy.d_head) == (12, 3, 4)
    copy.set_weights(original.get_weights())
    x = rand(2, 4, 12)
    np.testing.assert_allclose(copy(x)[0].numpy(), original(x)[0].numpy(), atol=1e-6)


# --------------------------------------------------------------------------- plots


def test_band_panels_draws_a_mean_line_and_band_per_label_and_reference_lines():
    x = [4, 8, 16]
    runs = np.arange(6.0).reshape(2, 3) + 1
    fig = plots.band_panels(x, [{"a": runs, "b": runs * 2}, {"a": runs}], ylabels=["y1", "y2"],
                            references=[{"a": [1, 2, 3]}, None], logy=[False, True], reference_label="NumPy")
    left, right = fig.axes
    np.testing.assert_allclose(left.get_lines()[0].get_ydata(), runs.mean(0))
    assert len(left.get_lines()) == 3 and len(right.get_lines()) == 1 and right.get_yscale() == "log"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b", "NumPy"]
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"x": [4]}, "x"), ({"panels": []}, "panels"), ({"ylabels": []}, "ylabels"),
     ({"panels": [{"a": np.ones((2, 2))}]}, "panels"), ({"logy": [True, False]}, "references, logy")],
)
def test_band_panels_rejects_bad_arguments_by_name(kwargs, argument):
    args = {"x": [4, 8], "panels": [{"a": np.ones((2, 2))}], "ylabels": ["y"], **kwargs}
    if "panels" in kwargs and kwargs["panels"] and "ylabels" not in kwargs:
        args["x"] = [4, 8, 16]
    with pytest.raises(ValueError, match=rf"^{re.escape(argument)}: expected"):
        plots.band_panels(args.pop("x"), args.pop("panels"), **args)


def test_attention_maps_draws_one_heatmap_per_head_with_masked_cells_left_out():
    w = np.tril(np.ones((3, 4, 4)))
    w /= w.sum(-1, keepdims=True)
    fig = plots.attention_maps(w, title="t")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3 and images[0].get_array().mask[0, 1] and not images[0].get_array().mask[1, 0]
    assert plots.attention_maps(w[0]).axes[0].get_title() == "head 0"
    with pytest.raises(ValueError, match="^weights: expected"):
        plots.attention_maps(np.ones(4))
    with pytest.raises(ValueError, match="^titles: expected"):
        plots.attention_maps(w, titles=["a"])
    matplotlib.pyplot.close("all")


# --------------------------------------------------------------------------- causal together with an additive mask


def numpy_multi_head(layer: T.MultiHeadAttention, x: np.ndarray, additive: np.ndarray):
    """The layer written out in float64 NumPy with `layer`'s weights: projections, heads, scores / sqrt(d_head)
    plus the additive mask (B, T, T), every later key hidden, softmax, heads concatenated, output projection."""

    def linear(torch_linear: nn.Linear, a: np.ndarray) -> np.ndarray:
        return a @ torch_linear.weight.detach().numpy().T.astype(np.float64) + torch_linear.bias.detach().numpy()

    b, t, d = x.shape
    heads = lambda a: a.reshape(b, t, layer.n_heads, layer.d_head).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = (heads(linear(p, x.astype(np.float64))) for p in (layer.q_proj, layer.k_proj, layer.v_proj))
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(layer.d_head) + additive[:, None]  # (B, H, T, T)
    scores = np.where(np.tri(t, dtype=bool), scores, -np.inf)  # causal: no query sees a later key
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    y = (weights @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
    return linear(layer.out_proj, y), weights


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("need_weights", [True, False], ids=["explicit", "fused"])
def test_causal_with_an_additive_mask_stays_causal_against_numpy(framework, need_weights):
    """The mask shifts every score (and hides the last keys of one sequence); `causal=True` must still hide
    every later key. Checked against NumPy, not against the package's own mask folding."""
    t, k = pair()
    x = rand(2, 7, D)
    additive = 2 * rand(2, 7, 7, seed=5)
    additive[1, :, 5:] = -np.inf
    expected, expected_weights = numpy_multi_head(t, x, additive)
    if framework == "torch":
        out, weights = t(torch.from_numpy(x), attn_mask=torch.from_numpy(additive), causal=True,
                         need_weights=need_weights)
    else:
        out, weights = k(tf.constant(x), attn_mask=tf.constant(additive), causal=True, need_weights=need_weights)
    out, weights = as_numpy((out, weights))
    np.testing.assert_allclose(out, expected, atol=ATOL)
    if need_weights:
        np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    else:
        assert weights is None
