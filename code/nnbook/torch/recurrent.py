"""Recurrent networks in PyTorch: the classes of the chapter "Recurrent networks:
vanilla RNN vs LSTM".

Mirrors `nnbook.tf.recurrent` class for class, in the same order; read the two files
side by side. Shapes in comments: B is the batch size, T the number of time steps, C
the input features, H the hidden size, V the vocabulary size, E the embedding width.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnbook import checks, history

from . import device as default_device

__all__ = [
    "VanillaRNN",
    "LSTM",
    "load_builtin",
    "set_gate_biases",
    "SequenceClassifier",
    "from_scratch_copy",
    "evaluate",
    "fit_sequence_classifier",
    "input_gradient_norms",
]


def _check_sequence(x: torch.Tensor, input_size: int) -> None:
    _, steps, features = checks.shape("x", x, ("B", "T", "C"), kind=torch.is_tensor)
    checks.require(
        "x", steps != 0, "at least one time step", "an empty sequence (T = 0)"
    )
    checks.require(
        "x",
        features == input_size,
        f"C = input_size = {input_size} features",
        features,
    )


def _init_like_builtin(module: nn.Module, hidden_size: int) -> None:
    # nn.RNN and nn.LSTM draw every weight and bias from U(-1/sqrt(H), 1/sqrt(H))
    bound = 1 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


# ------------------------------------------------------------ the cells, unrolled


class VanillaRNN(nn.Module):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), unrolled over time:
    what nn.RNN computes."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.ih = nn.Linear(input_size, hidden_size)  # W_ih (H, C), b_ih (H,)
        self.hh = nn.Linear(hidden_size, hidden_size)  # W_hh (H, H), b_hh (H,)
        _init_like_builtin(self, hidden_size)

    def forward(self, x: torch.Tensor):  # (B, T, C) -> (B, T, H), (B, H)
        _check_sequence(x, self.input_size)
        # W_ih x_t + b_ih for every t in one call: T tensors (B, H); unbind, not
        # x_terms[:, t], whose backward would fill a (B, T, H) tensor per step
        x_terms = self.ih(x).unbind(dim=1)
        h = x.new_zeros(x.shape[0], self.hidden_size)  # h_{-1} = 0: (B, H)
        outputs = []
        for x_term in x_terms:  # in order: h_t needs h_{t-1}
            h = torch.tanh(x_term + self.hh(h))  # (B, H)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h  # every h_t (B, T, H), the last (B, H)


class LSTM(nn.Module):
    """Long short-term memory, unrolled over time: what nn.LSTM computes. Gates in
    nn.LSTM's order i, f, g, o (input, forget, candidate, output), stacked in one
    (4H, C) and one (4H, H) weight."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.ih = nn.Linear(input_size, 4 * hidden_size)  # W_ih (4H, C), b_ih (4H,)
        self.hh = nn.Linear(hidden_size, 4 * hidden_size)  # W_hh (4H, H), b_hh (4H,)
        _init_like_builtin(self, hidden_size)

    def forward(self, x: torch.Tensor):  # (B, T, C) -> (B, T, H), ((B, H), (B, H))
        _check_sequence(x, self.input_size)
        x_terms = self.ih(x).unbind(dim=1)  # W_ih x_t + b_ih: T tensors (B, 4H)
        h = x.new_zeros(x.shape[0], self.hidden_size)  # h_{-1} = 0: (B, H)
        c = x.new_zeros(x.shape[0], self.hidden_size)  # c_{-1} = 0: (B, H)
        outputs = []
        for x_term in x_terms:
            gates = x_term + self.hh(h)  # (B, 4H)
            i, f, g, o = gates.chunk(4, dim=-1)  # each (B, H)
            i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)  # in (0, 1)
            g = torch.tanh(g)  # the candidate, in (-1, 1)
            c = f * c + i * g  # keep a fraction f of the cell, write a fraction i of g
            h = o * torch.tanh(c)  # (B, H)
            outputs.append(h)
        return torch.stack(outputs, dim=1), (h, c)  # (B, T, H), the last (h, c)


def load_builtin(
    ours: VanillaRNN | LSTM, builtin: nn.RNN | nn.LSTM
) -> VanillaRNN | LSTM:
    """Copy a one-layer nn.RNN (tanh) / nn.LSTM into VanillaRNN / LSTM: the same
    layout, no transposes."""
    pairs = {VanillaRNN: nn.RNN, LSTM: nn.LSTM}
    checks.require(
        "ours", type(ours) in pairs, "a VanillaRNN or an LSTM", type(ours).__name__
    )
    expected = pairs[type(ours)]
    checks.require(
        "builtin",
        type(builtin) is expected
        and builtin.num_layers == 1
        and not builtin.bidirectional
        and builtin.bias,
        f"a one-layer, one-direction nn.{expected.__name__} with biases",
        repr(builtin),
    )
    if isinstance(builtin, nn.RNN):
        checks.require(
            "builtin",
            builtin.nonlinearity == "tanh",
            "nonlinearity='tanh'",
            repr(builtin.nonlinearity),
        )
    with torch.no_grad():
        ours.ih.weight.copy_(builtin.weight_ih_l0)  # (H, C) or (4H, C)
        ours.ih.bias.copy_(builtin.bias_ih_l0)
        ours.hh.weight.copy_(builtin.weight_hh_l0)  # (H, H) or (4H, H)
        ours.hh.bias.copy_(builtin.bias_hh_l0)
    return ours


# set_gate_biases' rule in words both frameworks share (an nn.LSTM is built when made,
# a Keras LSTM has one layer)
_AN_LSTM = "an LSTM, or a built one-layer LSTM of this framework with biases"


def set_gate_biases(
    layer: LSTM | nn.LSTM, *, forget_bias: float, input_bias: float
) -> None:
    """Start the forget gate at sigmoid(forget_bias), the input gate at
    sigmoid(input_bias).

    PyTorch adds two biases, b_ih + b_hh: for these two gates the first gets the
    value and the second 0."""
    forget_bias = checks.number("forget_bias", forget_bias)
    input_bias = checks.number("input_bias", input_bias)
    builtin = isinstance(layer, nn.LSTM) and layer.num_layers == 1 and layer.bias
    checks.require(
        "layer",
        isinstance(layer, LSTM) or builtin,
        _AN_LSTM,
        type(layer).__name__,
    )
    if isinstance(layer, LSTM):
        first, second = layer.ih.bias, layer.hh.bias  # (4H,) each
    else:
        first, second = layer.bias_ih_l0, layer.bias_hh_l0
    H = layer.hidden_size
    with torch.no_grad():
        # i = rows [0, H), f = rows [H, 2H)
        for gate, value in ((0, input_bias), (1, forget_bias)):
            first[gate * H : (gate + 1) * H] = value
            second[gate * H : (gate + 1) * H] = 0.0


# ---------------------------------------------------- the long-sequence classifier


class SequenceClassifier(nn.Module):
    """Tokens -> embedding -> a recurrent layer -> a linear layer on the last hidden
    state. The recurrent layer is nn.RNN or nn.LSTM (the built-in kernels), or with
    `from_scratch=True` our VanillaRNN or LSTM above, unrolled in Python."""

    def __init__(
        self,
        cell: str = "lstm",
        vocab_size: int = 8,
        embed_dim: int = 16,
        hidden_size: int = 64,
        from_scratch: bool = False,
    ):
        super().__init__()
        self.cell = cell = checks.one_of("cell", cell, ["rnn", "lstm"])
        vocab_size = checks.positive_int("vocab_size", vocab_size)
        embed_dim = checks.positive_int("embed_dim", embed_dim)
        hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.from_scratch = checks.boolean("from_scratch", from_scratch)
        self.embedding = nn.Embedding(vocab_size, embed_dim)  # weight (V, E) ~ N(0, 1)
        if from_scratch:
            layer = LSTM if cell == "lstm" else VanillaRNN
            self.recurrent = layer(embed_dim, hidden_size)  # (B, T, E) -> (B, T, H)
        else:
            layer = nn.LSTM if cell == "lstm" else nn.RNN
            # (B, T, E) -> (B, T, H)
            self.recurrent = layer(embed_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)  # (B, H) -> (B, V)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, V)
        checks.shape("tokens", tokens, ("B", "T"))
        return self.classify(self.embedding(tokens))

    def classify(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, E) -> (B, V)
        outputs, _ = self.recurrent(x)  # (B, T, H)
        return self.head(outputs[:, -1])  # the label is read from the last hidden state


def from_scratch_copy(model: SequenceClassifier) -> SequenceClassifier:
    """The same classifier, weights included, with our unrolled cell in place of the
    built-in layer: the two compute the same function."""
    checks.require(
        "model",
        isinstance(model, SequenceClassifier) and not model.from_scratch,
        "a SequenceClassifier with a built-in recurrent layer",
        repr(model),
    )
    builtin = model.recurrent
    copy_ = SequenceClassifier(
        model.cell,
        model.embedding.num_embeddings,
        model.embedding.embedding_dim,
        builtin.hidden_size,
        from_scratch=True,
    )
    copy_.embedding.load_state_dict(model.embedding.state_dict())
    load_builtin(copy_.recurrent, builtin)
    copy_.head.load_state_dict(model.head.state_dict())
    return copy_.to(next(model.parameters()).device)


@torch.no_grad()
def evaluate(
    model: SequenceClassifier,
    tokens: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 1000,
) -> float:
    """Test accuracy of `model` on int tokens (N, T) and labels (N,), in eval mode; the
    model is left in the mode it was in."""
    was_training, dev = model.training, next(model.parameters()).device
    model.eval()
    correct = 0
    for i in range(0, len(tokens), batch_size):
        logits = model(torch.from_numpy(tokens[i : i + batch_size]).to(dev))  # (b, V)
        predicted = logits.argmax(1).cpu().numpy()  # (b,)
        correct += (predicted == labels[i : i + batch_size]).sum()
    model.train(was_training)
    return float(correct / len(tokens))


def fit_sequence_classifier(
    model: SequenceClassifier,
    batches,
    test: tuple[np.ndarray, np.ndarray],
    *,
    lr: float = 3e-3,
    eval_every: int = 50,
) -> history.TrainingHistory:
    """Adam on cross-entropy, one step per (tokens, labels) batch; the test set scored
    before training and every `eval_every` steps."""
    lr = checks.positive_float("lr", lr)
    eval_every = checks.positive_int("eval_every", eval_every)
    dev = default_device()
    model.to(dev).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def train_step(step: int, batch) -> torch.Tensor:
        tokens, labels = batch
        logits = model(torch.from_numpy(tokens).to(dev))  # (B, V)
        loss = F.cross_entropy(logits, torch.from_numpy(labels).to(dev))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def test_model() -> dict[str, float]:
        return {"test_accuracy": evaluate(model, *test)}

    return history.run_training_loop(
        train_step,
        batches,
        test_model,
        eval_at=history.every(eval_every),
        items_per_step=lambda batch: len(batch[0]),  # sequences
    )


def input_gradient_norms(
    model: SequenceClassifier, tokens: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """||d loss / d x_t|| for every time step t, averaged over the sequences: (T,).

    x_t is the embedded token at step t, the recurrent layer's input; each sequence's
    own loss. Computed in float64, on a copy of the model: the smallest norms
    underflow float32 (nothing below ~1e-45)."""
    dev = next(model.parameters()).device
    model64 = copy.deepcopy(model).double().eval()
    x = model64.embedding(
        torch.from_numpy(tokens).to(dev)
    ).detach()  # (B, T, E) float64
    x.requires_grad_()  # autograd records from here: one gradient per x_t
    labels = torch.from_numpy(labels).to(dev)
    loss = F.cross_entropy(model64.classify(x), labels, reduction="sum")
    (grad,) = torch.autograd.grad(loss, x)  # (B, T, E)
    return grad.norm(dim=-1).mean(0).cpu().numpy()  # (T,)
