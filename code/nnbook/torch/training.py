"""Training an image classifier on CIFAR-10-sized data: the same loop as
`nnbook.tf.training`.

The batches, crops and flips come from `nnbook.training.epoch_draws`, so both
frameworks see the same data. Augmentation is batched tensor indexing: no Python loop
per image. The loop's bookkeeping (steps, evaluations, timing, the record) is
`nnbook.history.run_training_loop`; this module supplies the step and the test.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import checks, history, schedules, training
from . import device as default_device

__all__ = ["prepare_images", "augment_batch", "evaluate", "fit_classifier"]


def prepare_images(x: np.ndarray, device: torch.device | None = None) -> torch.Tensor:
    """uint8 (B, H, W, 3) → normalised float (B, 3, H, W), stored channels-last (fast
    CPU convolutions)."""
    checks.images("x", x)
    images = torch.from_numpy(np.asarray(x)).to(device or default_device())
    return _normalise(images).permute(
        0, 3, 1, 2
    )  # (B, H, W, C) → (B, C, H, W), strides stay channels-last


def _normalise(images: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(training.CIFAR10_MEAN, device=images.device)
    std = torch.tensor(training.CIFAR10_STD, device=images.device)
    return (images.float() / 255.0 - mean) / std  # (B, H, W, C)


def augment_batch(
    images: torch.Tensor, offsets: torch.Tensor, flips: torch.Tensor
) -> torch.Tensor:
    """Random crop (zero padding) and horizontal flip of a batch (B, H, W, C), given
    the draws."""
    B, H, W, C = images.shape
    p = training.CROP_PADDING
    padded = F.pad(images, (0, 0, p, p, p, p))  # (B, H+2p, W+2p, C)
    rows = offsets[:, 0, None] + torch.arange(H, device=images.device)  # (B, H)
    cols = offsets[:, 1, None] + torch.arange(W, device=images.device)  # (B, W)
    cols = torch.where(
        flips[:, None], cols.flip(1), cols
    )  # a flip reads the columns backwards
    batch = torch.arange(B, device=images.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)


@torch.no_grad()
def evaluate(
    model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, np.ndarray]:
    """(accuracy, predicted labels) of `model` in eval mode on uint8 images `x`; the
    model is left in the mode it was in."""
    checks.images_and_labels("x, y", (x, y))
    was_training, dev = model.training, next(model.parameters()).device
    model.eval()
    predictions = [
        model(prepare_images(x[i : i + batch_size], dev)).argmax(1).cpu().numpy()
        for i in range(0, len(x), batch_size)
    ]
    model.train(was_training)
    predicted = np.concatenate(predictions)
    return float(np.mean(predicted == np.asarray(y))), predicted


def fit_classifier(
    model: nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int,
    batch_size: int = 128,
    peak_lr: float = 2e-3,
    weight_decay: float = 5e-4,
    augment: bool = True,
    seed: int = 0,
) -> history.TrainingHistory:
    """Train `model` (logits from (B, 3, H, W)) with AdamW and a one-cycle schedule;
    test after each epoch.

    The model is moved to the default device and to channels-last memory format, in
    place.
    """
    epochs, batch_size, peak_lr, weight_decay, augment, seed = (
        training.check_fit_arguments(
            train, test, epochs, batch_size, peak_lr, weight_decay, augment, seed
        )
    )
    dev = default_device()
    model.to(dev, memory_format=torch.channels_last).train()
    # (N, H, W, C) uint8: normalised per batch
    x_train = torch.from_numpy(np.asarray(train[0])).to(dev)
    y_train = torch.from_numpy(np.asarray(train[1], dtype=np.int64)).to(dev)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=peak_lr, weight_decay=weight_decay
    )
    steps_per_epoch = len(train[0]) // batch_size
    total_steps = epochs * steps_per_epoch

    def train_step(step: int, batch) -> torch.Tensor:
        order, offsets, flips = batch
        for group in optimizer.param_groups:
            group["lr"] = schedules.one_cycle_lr(step, total_steps, peak_lr)
        index = torch.from_numpy(order).to(dev)
        images = augment_batch(
            x_train[index],
            torch.from_numpy(offsets).to(dev),
            torch.from_numpy(flips).to(dev),
        )
        logits = model(_normalise(images).permute(0, 3, 1, 2))  # (B, 10)
        loss = F.cross_entropy(logits, y_train[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    test_predictions = None  # the labels predicted by the latest test

    def test_model() -> dict[str, float]:
        nonlocal test_predictions
        accuracy, test_predictions = evaluate(model, *test)
        return {"test_accuracy": accuracy}

    batches = training.every_batch(
        len(train[0]), epochs=epochs, batch_size=batch_size, seed=seed, augment=augment
    )
    record = history.run_training_loop(
        train_step,
        batches,
        test_model,
        eval_at=history.epoch_evaluations(steps_per_epoch, epochs),
        items_per_step=batch_size,
        steps_per_epoch=steps_per_epoch,
    )
    record.test_predictions = test_predictions
    return record
