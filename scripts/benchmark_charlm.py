"""Training throughput (tokens/s) of the book's character-level transformer, per framework and attention path.

    python scripts/benchmark_charlm.py                          # both frameworks, fused and explicit attention
    python scripts/benchmark_charlm.py --batch-size 16 --steps 40 --path fused
    python scripts/benchmark_charlm.py --d-model 192 --n-layers 4 --n-heads 6 --context 256
    python scripts/benchmark_charlm.py --nanogpt path/to/nanoGPT/model.py --rounds 5   # PyTorch MiniGPT vs nanoGPT

A token is one predicted character (a target): a step trains batch-size x context of them. Each measurement runs
in its own process, one after another: two frameworks sharing the cores slow each other down. The first step
(tracing, XLA compiling, allocating) is timed apart and left out of the throughput. The data is tiny-shakespeare
through `nnbook.data`; the loop is the book's `fit_char_lm` (AdamW, warm-up and cosine decay), so the numbers
are what the chapter's training gets. "fused" is PyTorch's F.scaled_dot_product_attention and TensorFlow's
`tf.function(jit_compile=True)` (XLA); "explicit" computes the attention weights (PyTorch) or traces the step
without XLA (TensorFlow).

With --nanogpt PATH, the book's PyTorch MiniGPT is compared with nanoGPT's `GPT` (karpathy/nanoGPT's model.py,
which no package registry carries: pass a copy you obtained) at the same configuration, in one process: the same
bare training step for both (forward, cross-entropy, backward, AdamW), on the same random batches (speed does not
depend on the text), the two models alternating for --rounds rounds of --steps steps; medians and their ratio are
printed. nanoGPT's model differs from ours in its details (learned positions where ours are sinusoidal, one fused
QKV projection where ours has three): what is compared is what each costs to train, not one function twice.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

FRAMEWORKS = ("torch", "tf")
PATHS = ("fused", "explicit")
CONFIG_ARGS = ("context", "n_layers", "n_heads", "d_model", "d_ff")
VOCAB_SIZE = 65  # tiny-shakespeare's characters


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


def compare_with_nanogpt(nanogpt: Path, config: dict, steps: int, batch_size: int, rounds: int) -> None:
    """Training tokens/s of the book's PyTorch MiniGPT and of nanoGPT's GPT, alternating, in this process."""
    import torch
    import torch.nn.functional as F

    from nnbook.seeding import seed_everything
    from nnbook.torch.transformer import MiniGPT
    from nnbook.transformer import GPTConfig

    spec = importlib.util.spec_from_file_location("nanogpt_model", nanogpt)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seed_everything(0)
    ours = MiniGPT(GPTConfig(vocab_size=VOCAB_SIZE, **config))
    theirs = module.GPT(module.GPTConfig(  # nanoGPT's names for the same sizes
        block_size=config["context"], vocab_size=VOCAB_SIZE, n_layer=config["n_layers"], n_head=config["n_heads"],
        n_embd=config["d_model"], dropout=0.0, bias=True))

    def ours_loss(x, y):
        logits, _ = ours(x)  # fused attention, as the chapter trains
        return F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), y.reshape(-1))

    def theirs_loss(x, y):
        return theirs(x, y)[1]

    generator = torch.Generator().manual_seed(0)
    shape = (batch_size, config["context"])
    batches = [(torch.randint(0, VOCAB_SIZE, shape, generator=generator),
                torch.randint(0, VOCAB_SIZE, shape, generator=generator)) for _ in range(steps)]
    runs = {}
    for name, model, loss_of in (("book MiniGPT", ours, ours_loss), ("nanoGPT GPT", theirs, theirs_loss)):
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def train(batches, model=model, loss_of=loss_of, optimizer=optimizer):
            for x, y in batches:
                loss = loss_of(x, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

        model.train()
        train(batches[:2])  # warm-up: allocator, first-call costs
        runs[name] = (model, train, [])
    for _ in range(rounds):
        for model, train, speeds in runs.values():
            start = time.perf_counter()
            train(batches)
            speeds.append(steps * batch_size * config["context"] / (time.perf_counter() - start))
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; {nanogpt}")
    print(f"{'model':<14} {'params':>9} {'tokens/s':>9}  (median of {rounds} alternating rounds of {steps} steps)")
    medians = {}
    for name, (model, _, speeds) in runs.items():
        medians[name] = statistics.median(speeds)
        print(f"{name:<14} {sum(_count(model)):>9,} {medians[name]:>9,.0f}")
    print(f"ratio, book / nanoGPT: {medians['book MiniGPT'] / medians['nanoGPT GPT']:.2f}x")


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
    parser.add_argument("--nanogpt", type=Path, help="nanoGPT's model.py: compare PyTorch MiniGPT with its GPT")
    parser.add_argument("--rounds", type=int, default=5, help="with --nanogpt: alternating rounds (default 5)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.d_ff is None:
        args.d_ff = 4 * args.d_model
    for name in ("steps", "batch_size", "rounds", *CONFIG_ARGS):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}: expected a positive int, got {getattr(args, name)}")
    frameworks, paths = args.framework or list(FRAMEWORKS), args.path or list(PATHS)
    config = {name: getattr(args, name) for name in CONFIG_ARGS}

    if args.nanogpt is not None:
        if not args.nanogpt.is_file():
            parser.error(f"--nanogpt: expected the path of nanoGPT's model.py, got {str(args.nanogpt)!r}")
        if args.d_ff != 4 * args.d_model:
            parser.error(f"--d-ff: nanoGPT's feed-forward width is 4 x d-model = {4 * args.d_model}, got {args.d_ff}")
        compare_with_nanogpt(args.nanogpt, config, args.steps, args.batch_size, args.rounds)
        return

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
