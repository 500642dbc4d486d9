"""Recurrent networks in PyTorch: the classes of the chapter "Recurrent networks: vanilla RNN vs LSTM".

Mirrors `nnbook.tf.recurrent` class for class, in the same order; read the two files side by side.
Shapes in comments: B is the batch size, T the number of time steps, C the input features, H the hidden
size, V the vocabulary size, E the embedding width.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nnbook import checks
from nnbook.history import TrainingRecord

from . import device as default_device

__all__ = [
    "VanillaRNN",
    "LSTM",
    "load_builtin",
    "set_gate_biases",
    "SequenceClassifier",
    "evaluate",
    "fit_sequence_classifier",
    "input_gradient_norms",
]


def _check_sequence(x: torch.Tensor, input_size: int) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise ValueError(
            f"x: expected a 3-D tensor (B, T, C), got shape {tuple(getattr(x, 'shape', ()))}"
        )
    if x.shape[1] == 0:
        raise ValueError(
            "x: expected at least one time step, got an empty sequence (T = 0)"
        )
    if x.shape[2] != input_size:
        raise ValueError(
            f"x: expected C = input_size = {input_size} features, got {x.shape[2]}"
        )


def _init_like_builtin(module: nn.Module, hidden_size: int) -> None:
    # nn.RNN and nn.LSTM draw every weight and bias from U(-1/sqrt(H), 1/sqrt(H))
    bound = 1 / math.sqrt(hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


# ---------------------------------------------------------------------- the cells, unrolled


class VanillaRNN(nn.Module):
    """h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), unrolled over time:
    what nn.RNN computes."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.ih = nn.Linear(input_size, hidden_size)  # W_ih (H, C), b_ih (H,)
        self.hh = nn.Linear(hidden_size, hidden_size)  # W_hh (H, H), b_hh (H,)
        _init_like_builtin(self, hidden_size)

    def forward(self, x: torch.Tensor):  # (B, T, C) -> (B, T, H), (B, H)
        _check_sequence(x, self.input_size)
        h = x.new_zeros(x.shape[0], self.hidden_size)  # h_{-1} = 0: (B, H)
        outputs = []
        for t in range(x.shape[1]):  # in order: h_t needs h_{t-1}
            h = torch.tanh(self.ih(x[:, t]) + self.hh(h))  # (B, H)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h  # every h_t (B, T, H), the last (B, H)


class LSTM(nn.Module):
    """Long short-term memory, unrolled over time: what nn.LSTM computes. Gates in
    nn.LSTM's order i, f, g, o (input, forget, candidate, output), stacked in one
    (4H, C) and one (4H, H) weight."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.ih = nn.Linear(input_size, 4 * hidden_size)  # W_ih (4H, C), b_ih (4H,)
        self.hh = nn.Linear(hidden_size, 4 * hidden_size)  # W_hh (4H, H), b_hh (4H,)
        _init_like_builtin(self, hidden_size)

    def forward(self, x: torch.Tensor):  # (B, T, C) -> (B, T, H), ((B, H), (B, H))
        _check_sequence(x, self.input_size)
        h = x.new_zeros(x.shape[0], self.hidden_size)  # h_{-1} = 0: (B, H)
        c = x.new_zeros(x.shape[0], self.hidden_size)  # c_{-1} = 0: (B, H)
        outputs = []
        for t in range(x.shape[1]):
            gates = self.ih(x[:, t]) + self.hh(h)  # (B, 4H)
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
    """Copy a one-layer nn.RNN (tanh) / nn.LSTM into VanillaRNN / LSTM: the same layout, no transposes."""
    pairs = {VanillaRNN: nn.RNN, LSTM: nn.LSTM}
    if type(ours) not in pairs:
        raise ValueError(
            f"ours: expected a VanillaRNN or an LSTM, got {type(ours).__name__}"
        )
    expected = pairs[type(ours)]
    if (
        type(builtin) is not expected
        or builtin.num_layers != 1
        or builtin.bidirectional
        or not builtin.bias
    ):
        raise ValueError(
            f"builtin: expected a one-layer, one-direction nn.{expected.__name__} with biases, "
            f"got {builtin!r}"
        )
    if isinstance(builtin, nn.RNN) and builtin.nonlinearity != "tanh":
        raise ValueError(
            f"builtin: expected nonlinearity='tanh', got {builtin.nonlinearity!r}"
        )
    with torch.no_grad():
        ours.ih.weight.copy_(builtin.weight_ih_l0)  # (H, C) or (4H, C)
        ours.ih.bias.copy_(builtin.bias_ih_l0)
        ours.hh.weight.copy_(builtin.weight_hh_l0)  # (H, H) or (4H, H)
        ours.hh.bias.copy_(builtin.bias_hh_l0)
    return ours


def set_gate_biases(
    layer: LSTM | nn.LSTM, *, forget_bias: float, input_bias: float
) -> None:
    """Start the forget gate at sigmoid(forget_bias), the input gate at sigmoid(input_bias).

    PyTorch adds two biases, b_ih + b_hh: for these two gates the first gets the
    value and the second 0."""
    if isinstance(layer, LSTM):
        first, second = layer.ih.bias, layer.hh.bias  # (4H,) each
    elif isinstance(layer, nn.LSTM) and layer.num_layers == 1 and layer.bias:
        first, second = layer.bias_ih_l0, layer.bias_hh_l0
    else:
        raise ValueError(
            "layer: expected an LSTM or a one-layer nn.LSTM with biases, "
            f"got {type(layer).__name__}"
        )
    H = layer.hidden_size
    with torch.no_grad():
        # i = rows [0, H), f = rows [H, 2H)
        for gate, value in ((0, input_bias), (1, forget_bias)):
            first[gate * H : (gate + 1) * H] = value
            second[gate * H : (gate + 1) * H] = 0.0


# -------------------------------------------------------------------- the long-sequence classifier


class SequenceClassifier(nn.Module):
    """Tokens -> embedding -> nn.RNN or nn.LSTM (the built-in kernels) -> a linear
    layer on the last hidden state."""

    def __init__(
        self,
        cell: str = "lstm",
        vocab_size: int = 8,
        embed_dim: int = 16,
        hidden_size: int = 64,
    ):
        super().__init__()
        self.cell = checks.one_of("cell", cell, ["rnn", "lstm"])
        checks.positive_int("vocab_size", vocab_size)
        checks.positive_int("embed_dim", embed_dim)
        checks.positive_int("hidden_size", hidden_size)
        self.embedding = nn.Embedding(vocab_size, embed_dim)  # weight (V, E) ~ N(0, 1)
        layer = nn.LSTM if cell == "lstm" else nn.RNN
        # (B, T, E) -> (B, T, H)
        self.recurrent = layer(embed_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)  # (B, H) -> (B, V)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, V)
        if tokens.ndim != 2:
            raise ValueError(
                f"tokens: expected a 2-D tensor (B, T), got shape {tuple(tokens.shape)}"
            )
        return self.classify(self.embedding(tokens))

    def classify(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, E) -> (B, V)
        outputs, _ = self.recurrent(x)  # (B, T, H)
        return self.head(outputs[:, -1])  # the label is read from the last hidden state


@torch.no_grad()
def evaluate(
    model: SequenceClassifier,
    tokens: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 1000,
) -> float:
    """Test accuracy of `model` on int tokens (N, T) and labels (N,)."""
    dev = next(model.parameters()).device
    model.eval()
    correct = 0
    for i in range(0, len(tokens), batch_size):
        logits = model(torch.from_numpy(tokens[i : i + batch_size]).to(dev))  # (b, V)
        correct += (logits.argmax(1).cpu().numpy() == labels[i : i + batch_size]).sum()
    return float(correct / len(tokens))


def fit_sequence_classifier(
    model: SequenceClassifier,
    batches,
    test: tuple[np.ndarray, np.ndarray],
    *,
    lr: float = 3e-3,
    eval_every: int = 50,
) -> TrainingRecord:
    """Adam on cross-entropy, one step per (tokens, labels) batch; the test set scored
    before training and every `eval_every` steps."""
    checks.positive_float("lr", lr)
    checks.positive_int("eval_every", eval_every)
    dev = default_device()
    model.to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, eval_steps, accuracy, seconds = [], [0], [evaluate(model, *test)], 0.0
    for step, (tokens, labels) in enumerate(batches, start=1):
        start = time.perf_counter()
        model.train()
        logits = model(torch.from_numpy(tokens).to(dev))  # (B, V)
        loss = F.cross_entropy(logits, torch.from_numpy(labels).to(dev))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        seconds += time.perf_counter() - start
        if step % eval_every == 0:
            eval_steps.append(step)
            accuracy.append(evaluate(model, *test))
    if not losses:
        raise ValueError("batches: expected at least one batch, got none")
    return TrainingRecord(
        np.array(losses), np.array(eval_steps), np.array(accuracy), seconds
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
