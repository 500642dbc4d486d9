"""Training throughput (images/s) of the book's CIFAR-10 networks, per framework and variant.

    python scripts/benchmark_cifar.py                      # every framework x variant, one process each
    python scripts/benchmark_cifar.py --images 12800 --epochs 2 --rounds 5

Each measurement runs in its own process, one after another: two frameworks sharing the cores slow each other
down. The first epoch is a warm-up (graph tracing, allocator growth) and is not counted. The data is the real
CIFAR-10 (or the labeled JPEG stand-in) through `nnbook.data`; the loop is the book's `fit_classifier`, seeded
by `seed_everything` (so TensorFlow runs with deterministic ops, as in the book). With --rounds N the frameworks
alternate N times per variant and the medians are printed: on a shared machine the speed drifts by 10-30%
between minutes, and alternating puts both frameworks under the same drift.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

VARIANTS = {
    "cnn-standard": "five-block CNN, standard 3x3 convolutions",
    "cnn-separable": "five-block CNN, depthwise separable convolutions",
    "plain-20": "20-layer plain CNN (CIFAR 6n+2, n = 3)",
    "resnet-20": "ResNet-20 (CIFAR 6n+2, n = 3)",
}
FRAMEWORKS = ("torch", "tf")


def build_model(framework: str, variant: str):
    if framework == "torch":
        from nnbook.torch import convolutions, resnet
    else:
        from nnbook.tf import convolutions, resnet
    if variant.startswith("cnn-"):
        return convolutions.FiveBlockCNN(convolutions.CNNConfig(separable=variant == "cnn-separable"))
    return resnet.CifarResNet(resnet.CifarResNetConfig(n=3, residual=variant == "resnet-20"))


def measure(framework: str, variant: str, images: int, epochs: int, batch_size: int) -> dict:
    """Train `epochs` + 1 epochs on `images` images; images/s over all but the first."""
    if framework == "tf":
        import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ log lines)
        from nnbook.tf.training import fit_classifier
    else:
        from nnbook.torch.training import fit_classifier
    from nnbook.data import load_cifar10
    from nnbook.seeding import seed_everything
    from nnbook.training import random_subset

    (x_train, y_train), test, data_file = load_cifar10(allow_stand_in=True)
    train = random_subset((x_train, y_train), images, seed=0)
    test = random_subset(test, batch_size, seed=0)  # testing is not what is measured
    seed_everything(0)
    history = fit_classifier(build_model(framework, variant), train, test, epochs=epochs + 1, batch_size=batch_size)
    steps = images // batch_size
    return {
        "framework": framework,
        "variant": variant,
        "images_per_second": epochs * steps * batch_size / float(history.epoch_seconds[1:].sum()),
        "data": data_file.dataset.name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=FRAMEWORKS, action="append", help="default: both")
    parser.add_argument("--variant", choices=sorted(VARIANTS), action="append", help="default: all")
    parser.add_argument("--images", type=int, default=6400, help="training images per epoch (default 6400)")
    parser.add_argument("--epochs", type=int, default=1, help="measured epochs after the warm-up (default 1)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=1, help="alternations of the frameworks (default 1)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("images", "epochs", "batch_size", "rounds"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')}: expected a positive int, got {getattr(args, name)}")
    frameworks, variants = args.framework or list(FRAMEWORKS), args.variant or list(VARIANTS)

    if args.child:
        print(json.dumps(measure(frameworks[0], variants[0], args.images, args.epochs, args.batch_size)))
        return

    print(f"threads: {os.cpu_count()} cores; batch {args.batch_size}; {args.images} images x {args.epochs} epoch(s); "
          f"median of {args.rounds} alternating round(s)")
    print(f"{'variant':<14} " + " ".join(f"{f + ' images/s':>16}" for f in frameworks)
          + (f" {'tf / torch':>10}" if len(frameworks) == 2 else "") + "  data")
    for variant in variants:
        speeds = {framework: [] for framework in frameworks}
        for _ in range(args.rounds):
            for framework in frameworks:
                command = [sys.executable, __file__, "--child", "--framework", framework, "--variant", variant,
                           "--images", str(args.images), "--epochs", str(args.epochs),
                           "--batch-size", str(args.batch_size)]  # fmt: skip
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    sys.exit(f"{framework} {variant} failed:\n{done.stderr[-3000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                speeds[framework].append(result["images_per_second"])
        medians = {framework: statistics.median(values) for framework, values in speeds.items()}
        ratio = f" {medians['tf'] / medians['torch']:>9.2f}x" if len(frameworks) == 2 else ""
        print(f"{variant:<14} " + " ".join(f"{medians[f]:>16.0f}" for f in frameworks) + f"{ratio}  {result['data']}",
              flush=True)


if __name__ == "__main__":
    main()
