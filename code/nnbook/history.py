"""What a training run measured: the records both frameworks' training loops return.

One module for the records, so each framework's loop returns the same class as its twin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TrainingHistory", "TrainingRecord", "LMHistory"]


@dataclass
class TrainingHistory:
    """What one training run measured; accuracies are fractions in [0, 1]."""

    step_loss: np.ndarray  # (steps,) training loss of every batch
    epoch_loss: np.ndarray  # (epochs,) mean training loss of each epoch
    test_accuracy: np.ndarray  # (epochs,) test accuracy after each epoch
    epoch_seconds: np.ndarray  # (epochs,) wall time of each epoch's training steps
    images_per_second: float  # training throughput over all epochs
    test_predictions: np.ndarray  # (N_test,) predicted labels after the last epoch

    @property
    def final_accuracy(self) -> float:
        return float(self.test_accuracy[-1])


@dataclass
class TrainingRecord:
    """What one training run measured; accuracies are fractions in [0, 1]."""

    step_loss: np.ndarray  # (steps,) training loss of every batch
    eval_steps: (
        np.ndarray
    )  # (evals,) the steps after which the test set was scored (0: before training)
    test_accuracy: np.ndarray  # (evals,) test accuracy at those steps
    seconds: float  # wall time of the training steps (evaluations excluded)

    @property
    def final_accuracy(self) -> float:
        return float(self.test_accuracy[-1])

    @property
    def steps_per_second(self) -> float:
        return len(self.step_loss) / self.seconds


@dataclass
class LMHistory:
    """What one language-model training run measured; losses in nats per character."""

    step_loss: np.ndarray  # (steps,) training loss of every batch
    tokens_per_step: int  # B * T targets
    eval_steps: np.ndarray  # (evals,) the number of steps taken before each validation
    val_loss: np.ndarray  # (evals,) mean validation loss at those steps
    train_seconds: float  # wall time of the training steps (validation excluded)
    first_step_seconds: (
        float  # of which the first step's: tracing, compiling, allocating
    )

    @property
    def tokens_per_second(self) -> float:
        """Training throughput in targets per second, the first step left out."""
        tokens = (len(self.step_loss) - 1) * self.tokens_per_step
        return tokens / max(self.train_seconds - self.first_step_seconds, 1e-9)

    @property
    def final_val_loss(self) -> float:
        return float(self.val_loss[-1])
