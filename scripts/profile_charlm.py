"""Where a training step of the book's char-level transformer spends its time, per part, in each framework.

    python scripts/profile_charlm.py                 # the chapter's model at its batch of 8
    python scripts/profile_charlm.py --batch-size 32 --rounds 7

Each part of the model is timed alone, forward and backward (the gradients of its input and its weights), on
random inputs of the training step's shapes: the attention layer (causal, no weights returned: the path the
chapter trains), the feed-forward network, one LayerNorm, and the tied head with the cross-entropy. Two reference
rows say why the attention differs: Keras' own MultiHeadAttention (TensorFlow's built-in, causal) and PyTorch's
attention with its weights computed (`need_weights=True`, no fused kernel). TensorFlow runs every part once with
XLA (`tf.function(jit_compile=True)`, the chapter's fused path) and once as a plain graph. Each framework runs in
its own process, one after the other. Figures are the median milliseconds of --rounds rounds.

"sum of parts" multiplies each part by how often a step runs it (n-layers attentions and feed-forward networks,
2 x n-layers + 1 LayerNorms, one head) and adds them up; "training step" is the book's `fit_char_lm` step
(forward, backward, AdamW), timed by its own loop on random token ids (the median of 2 x --rounds steps), to show
how much of the step the parts account for. The step's figures drift with the machine; compare columns of one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

FRAMEWORKS = ("torch", "tf")
CONFIG_ARGS = ("batch_size", "context", "n_layers", "n_heads", "d_model")
VOCAB_SIZE = 65  # tiny-shakespeare's characters
PARTS = ("attention", "feed-forward", "LayerNorm", "head + loss")
REFERENCES = ("attention, Keras' MultiHeadAttention", "attention, weights computed")


def median_ms(call, rounds: int, repeats: int) -> float:
    """Median over `rounds` of the mean milliseconds of `repeats` calls, after 2 warm-up calls."""
    for _ in range(2):
        call()
    means = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            call()
        means.append((time.perf_counter() - start) / repeats * 1000)
    return statistics.median(means)


def step_ms(framework: str, c: dict, rounds: int, fused: bool = True) -> float:
    """Median milliseconds of the book's fit_char_lm step, the first (tracing) step left out;
    `fused=False` is TensorFlow's step without XLA."""
    import numpy as np

    from nnbook.seeding import seed_everything
    from nnbook.transformer import GPTConfig

    if framework == "tf":
        from nnbook.tf.transformer import MiniGPT, fit_char_lm
    else:
        from nnbook.torch.transformer import MiniGPT, fit_char_lm
    seed_everything(0)
    model = MiniGPT(GPTConfig(vocab_size=VOCAB_SIZE, context=c["context"], n_layers=c["n_layers"],
                              n_heads=c["n_heads"], d_model=c["d_model"], d_ff=4 * c["d_model"]))
    steps = 2 * rounds + 1  # one epoch holds them all: the loop never stops to validate
    ids = np.random.default_rng(0).integers(0, VOCAB_SIZE, (steps + 2) * c["batch_size"] * c["context"])
    history = fit_char_lm(model, ids, ids[: 2 * c["context"] + 1], epochs=1, batch_size=c["batch_size"],
                          peak_lr=1e-3, max_steps=steps, fused=fused)
    return float(np.median(history.step_seconds[1:]) * 1000)


def profile_torch(c: dict, rounds: int, repeats: int) -> dict:
    import torch
    from torch import nn
    from torch.nn import functional as F

    from nnbook.torch.attention import MultiHeadAttention
    from nnbook.torch.transformer import FeedForward

    torch.manual_seed(0)
    b, t, d = c["batch_size"], c["context"], c["d_model"]
    x = torch.randn(b, t, d, requires_grad=True)  # (B, T, D)
    y = torch.randint(0, VOCAB_SIZE, (b, t))  # (B, T) targets
    embedding = nn.Parameter(torch.randn(VOCAB_SIZE, d))  # (V, D), tied head
    attention, ffn, norm = MultiHeadAttention(d, c["n_heads"]), FeedForward(d, 4 * d), nn.LayerNorm(d)
    parts = {
        "attention": lambda: attention(x, causal=True, need_weights=False)[0],
        "feed-forward": lambda: ffn(x),
        "LayerNorm": lambda: norm(x),
        "head + loss": lambda: F.cross_entropy((x @ embedding.T).reshape(-1, VOCAB_SIZE), y.reshape(-1)),
        "attention, weights computed": lambda: attention(x, causal=True, need_weights=True)[0],
    }

    def forward_backward(part):
        out = part()
        (out if out.dim() == 0 else out.pow(2).mean()).backward()

    return {name: median_ms(lambda p=part: forward_backward(p), rounds, repeats) for name, part in parts.items()}


def profile_tf(c: dict, rounds: int, repeats: int, jit: bool) -> dict:
    import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ log lines)
    import keras
    import tensorflow as tf

    from nnbook.tf.attention import MultiHeadAttention
    from nnbook.tf.transformer import FeedForward

    tf.random.set_seed(0)
    b, t, d = c["batch_size"], c["context"], c["d_model"]
    x = tf.random.normal((b, t, d))  # (B, T, D)
    y = tf.random.uniform((b, t), 0, VOCAB_SIZE, tf.int64)  # (B, T) targets
    embedding = tf.Variable(tf.random.normal((VOCAB_SIZE, d)))  # (V, D), tied head
    attention, ffn = MultiHeadAttention(d, c["n_heads"]), FeedForward(d, 4 * d)
    norm = keras.layers.LayerNormalization(epsilon=1e-5)
    keras_attention = keras.layers.MultiHeadAttention(c["n_heads"], d // c["n_heads"])
    norm.build((None, None, d))
    keras_attention(x, x, use_causal_mask=True)  # builds its weights

    def head_loss(h):
        logits = tf.matmul(h, embedding, transpose_b=True)  # (B, T, V)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    parts = {  # name: (function of the input, the weights it trains)
        "attention": (lambda h: attention(h, causal=True, need_weights=False)[0],
                      attention.trainable_variables),
        "feed-forward": (ffn, ffn.trainable_variables),
        "LayerNorm": (norm, norm.trainable_variables),
        "head + loss": (head_loss, [embedding]),
        "attention, Keras' MultiHeadAttention": (
            lambda h: keras_attention(h, h, use_causal_mask=True), keras_attention.trainable_variables),
    }
    measured = {}
    for name, (part, weights) in parts.items():

        @tf.function(jit_compile=jit)
        def forward_backward(h, part=part, weights=weights):
            with tf.GradientTape() as tape:
                tape.watch(h)
                out = part(h)
                out = out if out.shape.rank == 0 else tf.reduce_mean(out**2)
            return tape.gradient(out, [h, *weights])

        measured[name] = median_ms(lambda f=forward_backward: f(x)[0].numpy(), rounds, repeats)
    return measured


def child(framework: str, c: dict, rounds: int, repeats: int) -> dict:
    """{column: {row: ms}} for one framework."""
    if framework == "torch":
        import torch

        columns = {"PyTorch": profile_torch(c, rounds, repeats)}
        columns["PyTorch"]["training step"] = step_ms("torch", c, rounds)
        threads = torch.get_num_threads()
    else:
        import nnbook.tf  # noqa: F401
        import tensorflow as tf

        columns = {"TF, XLA": profile_tf(c, rounds, repeats, jit=True),
                   "TF, graph": profile_tf(c, rounds, repeats, jit=False)}
        columns["TF, XLA"]["training step"] = step_ms("tf", c, rounds)
        columns["TF, graph"]["training step"] = step_ms("tf", c, rounds, fused=False)
        threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    return {"columns": columns, "threads": threads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8, help="default 8, the chapter's")
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument("--n-layers", type=int, default=4)
    parser.add_argument("--n-heads", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5, help="rounds a median is taken over (default 5)")
    parser.add_argument("--repeats", type=int, default=10, help="calls timed in one round (default 10)")
    parser.add_argument("--framework", choices=FRAMEWORKS, action="append", help="default: both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("rounds", "repeats", *CONFIG_ARGS):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}: expected a positive int, got {getattr(args, name)}")
    if args.d_model % args.n_heads:
        parser.error(f"--n-heads: expected a divisor of --d-model {args.d_model}, got {args.n_heads}")
    config = {name: getattr(args, name) for name in CONFIG_ARGS}
    frameworks = args.framework or list(FRAMEWORKS)
    if args.child:
        print(json.dumps(child(frameworks[0], config, args.rounds, args.repeats)))
        return

    columns, threads = {}, {}
    for framework in frameworks:
        command = [sys.executable, __file__, "--child", "--framework", framework, "--rounds", str(args.rounds),
                   "--repeats", str(args.repeats),
                   *[a for name in CONFIG_ARGS for a in (f"--{name.replace('_', '-')}", str(config[name]))]]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"{framework} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        columns.update(result["columns"])
        threads[framework] = result["threads"]
    n = config["n_layers"]
    per_step = {"attention": n, "feed-forward": n, "LayerNorm": 2 * n + 1, "head + loss": 1}
    for values in columns.values():
        values["sum of parts"] = math.fsum(per_step[part] * values[part] for part in PARTS)
    shown = ", ".join(f"{k} {v}" for k, v in config.items())
    print(f"char LM, forward + backward per part, median ms of {args.rounds} rounds of {args.repeats} calls; "
          f"{shown}, d_ff 4 x d_model; threads {threads}")
    print(f"{'part':<38} {'per step':>8}" + "".join(f" {name:>10}" for name in columns))
    rows = [*PARTS, "sum of parts", "training step", *REFERENCES]
    for row in rows:
        count = str(per_step.get(row, ""))
        cells = "".join(f" {columns[c][row]:>10.1f}" if row in columns[c] else f" {'-':>10}" for c in columns)
        print(f"{row:<38} {count:>8}" + cells)


if __name__ == "__main__":
    main()
