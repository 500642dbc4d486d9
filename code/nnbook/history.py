"""What a training run measured, and the loop bookkeeping that measures it.

Every training loop of the book, in both frameworks, returns one `TrainingHistory`,
filled by `run_training_loop`: the framework's loop supplies its step, its evaluation
and its batches; counting the steps, evaluating at the planned points, timing (the
evaluations left out, the first step apart) and assembling the record happen here,
once. The record and the loop live together because the loop is the record's only
writer: what each field means is decided in this one file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnbook import checks

__all__ = ["TrainingHistory", "run_training_loop", "epoch_evaluations", "every"]


@dataclass
class TrainingHistory:
    """What one training run measured; accuracies are fractions in [0, 1], losses in
    nats. A classifier's run fills `test_accuracy`, a language model's `val_loss`."""

    step_loss: np.ndarray  # (steps,) float32 training loss of every step
    step_seconds: np.ndarray  # (steps,) wall time of every step, evaluations excluded
    items_per_step: int  # what one step trains on: images, sequences or tokens
    eval_steps: np.ndarray  # (evals,) steps taken before each evaluation (0: none)
    test_accuracy: np.ndarray | None = None  # (evals,) test accuracy at eval_steps
    val_loss: np.ndarray | None = None  # (evals,) mean validation loss at eval_steps
    steps_per_epoch: int | None = None  # None: the batches came in no epochs
    test_predictions: np.ndarray | None = None  # (N_test,) labels, last evaluation

    @property
    def final_accuracy(self) -> float:
        return float(self._measured("test_accuracy")[-1])

    @property
    def final_val_loss(self) -> float:
        return float(self._measured("val_loss")[-1])

    @property
    def train_seconds(self) -> float:
        """Wall time of the training steps, evaluations excluded."""
        return float(np.sum(self.step_seconds))

    @property
    def first_step_seconds(self) -> float:
        """The first step's share of `train_seconds`: tracing, compiling, allocating."""
        return float(self.step_seconds[0])

    @property
    def steps_per_second(self) -> float:
        """Training speed, the first step left out (a one-step run keeps it)."""
        timed = (
            self.step_seconds[1:] if len(self.step_seconds) > 1 else self.step_seconds
        )
        return len(timed) / max(float(np.sum(timed)), 1e-9)

    @property
    def items_per_second(self) -> float:
        """Training throughput in images, sequences or tokens per second, the first
        step left out."""
        return self.steps_per_second * self.items_per_step

    # The chapters' words for the same quantities.
    images_per_second = items_per_second
    tokens_per_second = items_per_second
    seconds = train_seconds

    @property
    def epoch_loss(self) -> np.ndarray:
        """(epochs,) mean training loss of each complete epoch."""
        return self._per_epoch("epoch_loss", self.step_loss).mean(1)

    @property
    def epoch_seconds(self) -> np.ndarray:
        """(epochs,) wall time of each complete epoch's steps."""
        return self._per_epoch("epoch_seconds", self.step_seconds).sum(1)

    def _measured(self, name: str) -> np.ndarray:
        values = getattr(self, name)
        if values is None or len(values) == 0:
            raise AttributeError(f"{name}: this run did not measure it")
        return values

    def _per_epoch(self, name: str, per_step: np.ndarray) -> np.ndarray:
        if self.steps_per_epoch is None:
            raise AttributeError(f"{name}: this run's batches came in no epochs")
        epochs = len(per_step) // self.steps_per_epoch
        return per_step[: epochs * self.steps_per_epoch].reshape(epochs, -1)


def epoch_evaluations(
    steps_per_epoch: int, epochs: int, per_epoch: int = 1, last_step: int | None = None
) -> frozenset[int]:
    """The steps after which to evaluate: `per_epoch` evenly spaced points in every
    epoch, the last at its end, and `last_step` (where a run stops early)."""
    points = {
        round(steps_per_epoch * (epoch + k / per_epoch))
        for epoch in range(epochs)
        for k in range(1, per_epoch + 1)
    }
    return frozenset(points if last_step is None else points | {last_step})


def every(steps: int) -> range:
    """0, steps, 2 steps, ...: before training and after every `steps` steps."""
    return range(0, sys.maxsize, steps)


def run_training_loop(
    train_step: Callable[[int, Any], Any],
    batches: Iterable[Any],
    evaluate: Callable[[], Mapping[str, float]],
    *,
    eval_at: Container[int],
    items_per_step: int | Callable[[Any], int],
    steps_per_epoch: int | None = None,
    max_steps: int | None = None,
) -> TrainingHistory:
    """`train_step(step, batch)` on each batch in turn, `evaluate()` at `eval_at`.

    `step` counts the steps taken before this one (0 first): the learning-rate
    schedule's argument. `train_step` returns the batch's loss as a scalar tensor of
    its framework, left where it is: the losses are read once, at the end, so no step
    waits for the previous one to finish. `evaluate` returns what it measured under
    the record's field names, e.g. {"test_accuracy": 0.93}; it runs before training
    if 0 is in `eval_at`, and after each step whose count is in `eval_at`. Training
    stops when the batches run out or after `max_steps` steps. `items_per_step` is a
    number, or a function of the first batch where the batches decide it.

    A step is timed from the end of the one before (or of an evaluation): drawing
    its batch counts as training time, evaluating does not.
    """
    step_loss, step_seconds, eval_steps = [], [], []
    measured: dict[str, list[float]] = {}

    def evaluate_after(steps: int) -> None:
        eval_steps.append(steps)
        for name, value in evaluate().items():
            measured.setdefault(name, []).append(value)

    if 0 in eval_at:
        evaluate_after(0)
    clock = time.perf_counter()
    for step, batch in enumerate(batches):
        if step == 0 and callable(items_per_step):
            items_per_step = items_per_step(batch)
        step_loss.append(train_step(step, batch))
        now = time.perf_counter()
        step_seconds.append(now - clock)
        if step + 1 in eval_at:
            evaluate_after(step + 1)
            now = time.perf_counter()  # the evaluation is not training time
        clock = now
        if step + 1 == max_steps:
            break
    checks.require("batches", len(step_loss) > 0, "at least one batch", "none")
    return TrainingHistory(
        step_loss=np.array([float(loss) for loss in step_loss], dtype=np.float32),
        step_seconds=np.array(step_seconds),
        items_per_step=items_per_step,
        eval_steps=np.array(eval_steps),
        steps_per_epoch=steps_per_epoch,
        **{name: np.array(values) for name, values in measured.items()},
    )
