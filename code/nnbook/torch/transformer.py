"""A mini decoder-only transformer in PyTorch: the classes of the chapter "A mini
decoder-only transformer".

Mirrors `nnbook.tf.transformer` class for class, in the same order; read the two files
side by side. The attention is `nnbook.torch.attention.MultiHeadAttention`; the
vocabulary, batches and positional encoding come from `nnbook.text`, so both
frameworks train on the same windows. Shapes in comments: B is the batch size, T the
sequence length (at most config.context), D = d_model, H the number of heads, V the
vocabulary size.

One function has no twin: `numpy_weights` hands this model's trained weights to
`nnbook.tf.transformer.load_torch_weights` as NumPy arrays, so that TensorFlow code
needs no torch.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from nnbook import checks, history, schedules, text
from nnbook.torch import device as default_device
from nnbook.torch.attention import MultiHeadAttention
from nnbook.transformer import (  # shared by both frameworks
    GPTConfig,
    sample_token,
    sinusoidal_encoding,
)

__all__ = [
    "GPTConfig",
    "FeedForward",
    "TransformerBlock",
    "MiniGPT",
    "evaluate",
    "fit_char_lm",
    "final_layer_attention",
    "generate",
    "numpy_weights",
]


def _glorot(linear: nn.Linear) -> nn.Linear:
    """Glorot-uniform weight and zero bias: Keras' Dense defaults, as in
    nnbook.torch.attention."""
    nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


# ------------------------------------------------------------------------ the block


class FeedForward(nn.Module):
    """Position-wise: Linear D -> d_ff, GELU, Linear d_ff -> D, dropout.
    (B, T, D) -> (B, T, D)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        d_model = checks.positive_int("d_model", d_model)
        d_ff = checks.positive_int("d_ff", d_ff)
        dropout = checks.fraction("dropout", dropout)
        self.up = _glorot(nn.Linear(d_model, d_ff))  # weight (d_ff, D): (out, in)
        self.down = _glorot(nn.Linear(d_ff, d_model))  # weight (D, d_ff)
        self.dropout = nn.Dropout(dropout)  # active in .train() only

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        return self.dropout(self.down(F.gelu(self.up(x))))  # exact (erf) GELU


class TransformerBlock(nn.Module):
    """Pre-LayerNorm block: x + attention(LN(x)), then x + feed_forward(LN(x)).
    (B, T, D) -> (B, T, D).

    Returns (x, weights): the attention weights (B, H, T, T) when need_weights, else
    None (fused attention)."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        d_model = checks.positive_int("d_model", d_model)
        n_heads = checks.positive_int("n_heads", n_heads)
        d_ff = checks.positive_int("d_ff", d_ff)
        dropout = checks.fraction("dropout", dropout)
        self.ln_1 = nn.LayerNorm(d_model)  # eps 1e-5
        self.attn = MultiHeadAttention(d_model, n_heads)  # checks d_model % n_heads
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(d_model)
        self.ffn = FeedForward(d_model, d_ff, dropout)

    def forward(
        self,
        x: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        # (B, T, D)
        a, weights = self.attn(self.ln_1(x), causal=True, need_weights=need_weights)
        x = x + self.dropout(a)  # the residual stream carries x past the attention
        x = x + self.ffn(self.ln_2(x))  # (B, T, D)
        return x, weights  # (B, T, D), (B, H, T, T) or None


# ------------------------------------------------------------------------ the model


class MiniGPT(nn.Module):
    """Token embedding + sinusoidal positions, n_layers blocks, a final LayerNorm, and
    a head tied to the embedding (logits = h @ E^T). (B, T) int ids -> logits
    (B, T, V), and per-layer attention weights."""

    def __init__(self, config: GPTConfig | None = None):
        super().__init__()
        c = GPTConfig() if config is None else config
        self.config = c = checks.instance("config", c, GPTConfig)
        self.embed = nn.Embedding(c.vocab_size, c.d_model)  # E: (V, D)
        # E * sqrt(D) has unit-variance entries
        nn.init.normal_(self.embed.weight, std=c.d_model**-0.5)
        # (context, D), fixed: a buffer, not a parameter
        positions = torch.from_numpy(sinusoidal_encoding(c.context, c.d_model))
        self.register_buffer("positions", positions, persistent=False)
        self.dropout = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(c.d_model, c.n_heads, c.d_ff, c.dropout)
            for _ in range(c.n_layers)
        )
        self.ln_f = nn.LayerNorm(c.d_model)

    def _check(self, idx) -> None:
        _, t = checks.shape(
            "idx",
            idx,
            ("B", "T"),
            dtype="integer",
            kind=torch.is_tensor,
            what="integer token ids of shape",
        )
        checks.require(
            "idx", t != 0, "a non-empty sequence (T > 0)", checks.describe(idx)
        )
        context = self.config.context
        checks.require("idx", t <= context, f"at most context = {context} tokens", t)

    def forward(
        self,
        idx: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        self._check(idx)
        t = idx.shape[1]
        # (B, T, D)
        x = self.embed(idx) * math.sqrt(self.config.d_model) + self.positions[:t]
        x = self.dropout(x)
        weights = []
        for block in self.blocks:
            # (B, T, D), (B, H, T, T) or None
            x, w = block(x, need_weights=need_weights)
            weights.append(w)
        x = self.ln_f(x)
        # tied head: (B, T, D) @ (D, V) -> (B, T, V)
        logits = x @ self.embed.weight.T
        return logits, (weights if need_weights else None)


# ---------------------------------------------------------------------- training


def _loss(
    model: MiniGPT, x: torch.Tensor, y: torch.Tensor, fused: bool = True
) -> torch.Tensor:
    logits, _ = model(
        x, need_weights=not fused
    )  # (B, T, V); fused: F.scaled_dot_product_attention
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
    )  # nats per character


def _optimizer(
    model: MiniGPT, peak_lr: float, weight_decay: float
) -> torch.optim.AdamW:
    """AdamW (betas 0.9, 0.99) that decays the matrices (the embedding included), not
    the biases and LayerNorm's weights."""
    matrices = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    return torch.optim.AdamW(
        [
            {"params": matrices, "weight_decay": weight_decay},
            {"params": others, "weight_decay": 0.0},
        ],
        lr=peak_lr,
        betas=(0.9, 0.99),
        eps=1e-8,
    )


@torch.no_grad()
def evaluate(model: MiniGPT, ids: np.ndarray, batch_size: int = 32) -> float:
    """Mean loss (nats per character) over every back-to-back window of `ids`, in
    eval mode (no dropout); the model is left in the mode it was in."""
    checks.positive_int("batch_size", batch_size)
    x, y = text.eval_windows(ids, context=model.config.context)  # (N, T), (N, T)
    was_training, dev = model.training, next(model.parameters()).device
    model.eval()
    total = 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = (torch.from_numpy(a[i : i + batch_size]).to(dev) for a in (x, y))
        total += _loss(model, xb, yb).item() * len(xb)
    model.train(was_training)
    return total / len(x)


def fit_char_lm(
    model: MiniGPT,
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    peak_lr: float,
    weight_decay: float = 0.1,
    warmup: float = 0.05,
    evals_per_epoch: int = 1,
    max_steps: int | None = None,
    fused: bool = True,
    seed: int = 0,
) -> history.TrainingHistory:
    """AdamW (betas 0.9, 0.99) with linear warm-up and cosine decay on the batches of
    `nnbook.text`.

    Weight decay applies to matrices only (not to biases or LayerNorm). Validation
    `evals_per_epoch` times an epoch. `max_steps` stops early; the schedule still spans
    all epochs. `fused=False` trains with the explicit attention (weights computed)
    instead of F.scaled_dot_product_attention, to compare."""
    epochs = checks.positive_int("epochs", epochs)
    batch_size = checks.positive_int("batch_size", batch_size)
    peak_lr = checks.positive_float("peak_lr", peak_lr)
    weight_decay = checks.non_negative_number("weight_decay", weight_decay)
    warmup = checks.number("warmup", warmup, 0, 1)
    evals_per_epoch = checks.positive_int("evals_per_epoch", evals_per_epoch)
    fused = checks.boolean("fused", fused)
    seed = checks.non_negative_int("seed", seed)
    context, dev = model.config.context, default_device()
    model.to(dev).train()
    optimizer = _optimizer(model, peak_lr, weight_decay)
    steps_per_epoch = text.windows_per_epoch(len(train_ids), context) // batch_size
    total_steps = epochs * steps_per_epoch
    max_steps = (
        total_steps
        if max_steps is None
        else min(checks.positive_int("max_steps", max_steps), total_steps)
    )

    def train_step(step: int, batch) -> torch.Tensor:
        x, y = batch
        for group in optimizer.param_groups:
            group["lr"] = schedules.one_cycle_lr(step, total_steps, peak_lr, warmup)
        loss = _loss(
            model, torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev), fused
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def validate() -> dict[str, float]:
        return {"val_loss": evaluate(model, val_ids, batch_size)}

    batches = (
        batch
        for epoch in range(epochs)
        for batch in text.epoch_batches(
            train_ids, context=context, batch_size=batch_size, seed=seed, epoch=epoch
        )
    )
    return history.run_training_loop(
        train_step,
        batches,
        validate,
        eval_at=history.epoch_evaluations(
            steps_per_epoch, epochs, evals_per_epoch, last_step=max_steps
        ),
        items_per_step=batch_size * context,  # tokens
        steps_per_epoch=steps_per_epoch,
        max_steps=max_steps,
    )


# ------------------------------------------------------------------ using the model


@torch.no_grad()
def final_layer_attention(model: MiniGPT, ids: np.ndarray) -> np.ndarray:
    """The last block's attention weights for one sequence of ids (T,), per head:
    (H, T, T)."""
    was_training = model.training
    model.eval()
    idx = torch.as_tensor(
        np.asarray(ids, dtype=np.int64)[None], device=next(model.parameters()).device
    )
    _, weights = model(idx, need_weights=True)  # explicit attention: weights kept
    model.train(was_training)
    return weights[-1][0].cpu().numpy()  # (H, T, T)


@torch.no_grad()
def generate(
    model: MiniGPT,
    prompt_ids: np.ndarray,
    n_new: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """`prompt_ids` followed by `n_new` sampled ids, one at a time, each seeing at most
    the last context ids.

    The input is always a full window (zero-padded on the right): causal attention
    keeps the padding from reaching the position read, and one input shape is one
    compiled graph in TensorFlow."""
    n_new = checks.positive_int("n_new", n_new)
    temperature = checks.positive_float("temperature", temperature)
    seed = checks.non_negative_int("seed", seed)
    ids = [int(i) for i in np.asarray(prompt_ids).ravel()]
    checks.require("prompt_ids", len(ids) > 0, "at least one id", "none")
    was_training = model.training
    model.eval()
    rng, context = np.random.default_rng(seed), model.config.context
    window = torch.zeros(
        1, context, dtype=torch.int64, device=next(model.parameters()).device
    )
    for _ in range(n_new):
        last = ids[-context:]
        window[0, : len(last)] = torch.tensor(last)
        logits, _ = model(window)  # (1, context, V)
        ids.append(
            sample_token(logits[0, len(last) - 1].cpu().numpy(), rng, temperature)
        )
    model.train(was_training)
    return np.array(ids)


def numpy_weights(model: MiniGPT) -> dict[str, np.ndarray]:
    """The model's weights as NumPy arrays under PyTorch's state_dict names, for
    `nnbook.tf.transformer.load_torch_weights` (which thus needs no torch)."""
    checks.instance("model", model, MiniGPT)
    return {
        name: tensor.detach().cpu().numpy()
        for name, tensor in model.state_dict().items()
    }
