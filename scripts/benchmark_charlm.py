"""Training throughput (tokens/s) of the book's character-level transformer, per framework and attention path.

    python scripts/benchmark_charlm.py                          # both frameworks, fused and explicit attention
    python scripts/benchmark_charlm.py --batch-size 16 --steps 40 --path fused
    python scripts/benchmark_charlm.py --d-model 192 --n-layers 4 --n-heads 6 --context 256

A token is one predicted character (a target): a step trains batch-size x context of them. Each measurement runs
in its own process, one after another: two frameworks sharing the cores slow each other down. The first step
(tracing, XLA compiling, allocating) is timed apart and left out of the throughput. The data is tiny-shakespeare
through `nnbook.data`; the loop is the book's `fit_char_lm` (AdamW, warm-up and cosine decay), so the numbers
are what the chapter's training gets. "fused" is PyTorch's F.scaled_dot_product_attention and TensorFlow's
`tf.function(jit_compile=True)` (XLA); "explicit" computes the attention weights (PyTorch) or traces the step
without XLA (TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

FRAMEWORKS = ("torch", "tf")
PATHS = ("fused", "explicit")
CONFIG_ARGS = ("context", "n_layers", "n_heads", "d_model", "d_ff")


def measure(framework: str, path: str, config: dict, steps: int, batch_size: int) -> dict:
    """Train `steps` + 1 steps of the chapter's loop; tokens/s over all but the first."""
    if framework == "tf":
        import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ log lines)
        from nnbook.tf.transformer import MiniGPT, fit_char_lm
        import tensorflow as tf
        threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    else:
        from nnbook.torch.transformer import MiniGPT, fit_char_lm
        import torch
        threads = torch.get_num_threads()
    from nnbook import text
    from nnbook.transformer import GPTConfig
    from nnbook.data import load_text
    from nnbook.seeding import seed_everything

    corpus, data_file = load_text("tinyshakespeare")
    vocab = text.CharVocab.from_text(corpus)
    train_ids, val_ids = text.train_val_split(vocab.encode(corpus))
    seed_everything(0)
    model = MiniGPT(GPTConfig(vocab_size=vocab.size, **config))
    epoch_steps = text.windows_per_epoch(len(train_ids), config["context"]) // batch_size
    history = fit_char_lm(model, train_ids, val_ids[: 2 * config["context"] + 1], epochs=5,
                          batch_size=batch_size, peak_lr=1e-3, max_steps=min(steps + 1, 5 * epoch_steps),
                          fused=path == "fused")
    return {
        "framework": framework,
        "path": path,
        "tokens_per_second": history.tokens_per_second,
        "first_step_seconds": history.first_step_seconds,
        "threads": threads,
        "params": sum(int(n) for n in _count(model)),
        "epoch_seconds": epoch_steps * batch_size * config["context"] / history.tokens_per_second,
        "data": data_file.dataset.name,
    }


def _count(model):
    if hasattr(model, "count_params"):
        return [model.count_params()]
    return [p.numel() for p in model.parameters()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=FRAMEWORKS, action="append", help="default: both")
    parser.add_argument("--path", choices=PATHS, action="append", help="default: both")
    parser.add_argument("--steps", type=int, default=30, help="measured steps after the first (default 30)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument("--n-layers", type=int, default=4)
    parser.add_argument("--n-heads", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--d-ff", type=int, default=None, help="default: 4 x d-model")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.d_ff is None:
        args.d_ff = 4 * args.d_model
    for name in ("steps", "batch_size", *CONFIG_ARGS):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}: expected a positive int, got {getattr(args, name)}")
    frameworks, paths = args.framework or list(FRAMEWORKS), args.path or list(PATHS)
    config = {name: getattr(args, name) for name in CONFIG_ARGS}

    if args.child:
        print(json.dumps(measure(frameworks[0], paths[0], config, args.steps, args.batch_size)))
        return

    shown = ", ".join(f"{k} {v}" for k, v in config.items())
    print(f"char LM on {os.cpu_count()} cores: {shown}; vocabulary 65, tied head, pre-LayerNorm, GELU, "
          f"dropout 0; AdamW; batch {args.batch_size} x {args.context} = {args.batch_size * args.context:,} "
          f"tokens a step; {args.steps} measured steps")
    print(f"{'framework':<10} {'attention':<9} {'params':>9} {'threads':>7} {'tokens/s':>9} {'s/epoch':>8} "
          f"{'1st step s':>10}  data")
    for path in paths:
        for framework in frameworks:
            command = [sys.executable, __file__, "--child", "--framework", framework, "--path", path,
                       "--steps", str(args.steps), "--batch-size", str(args.batch_size),
                       *[a for name in CONFIG_ARGS for a in (f"--{name.replace('_', '-')}", str(config[name]))]]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"{framework} {path} failed:\n{done.stderr[-3000:]}")
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{framework:<10} {path:<9} {r['params']:>9,} {r['threads']:>7} {r['tokens_per_second']:>9,.0f} "
                  f"{r['epoch_seconds']:>8.0f} {r['first_step_seconds']:>10.1f}  {r['data']}", flush=True)


if __name__ == "__main__":
    main()
