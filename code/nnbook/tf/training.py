"""Training an image classifier on CIFAR-10-sized data: the same loop as
`nnbook.torch.training`.

The batches, crops and flips come from `nnbook.training.epoch_draws`, so both
frameworks see the same data. Augmentation is batched tensor indexing: no Python loop
per image. The loop's bookkeeping (steps, evaluations, timing, the record) is
`nnbook.history.run_training_loop`; this module supplies the step and the test.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .. import checks, history, schedules, training
from . import predicted_labels

__all__ = ["prepare_images", "augment_batch", "evaluate", "fit_classifier"]


def prepare_images(x: np.ndarray) -> tf.Tensor:
    """uint8 (B, H, W, 3) → normalised float (B, H, W, 3): Keras convolutions are
    channels-last already."""
    checks.images("x", x)
    return _normalise(tf.convert_to_tensor(np.asarray(x)))


def _normalise(images: tf.Tensor) -> tf.Tensor:
    mean = tf.constant(training.CIFAR10_MEAN)
    std = tf.constant(training.CIFAR10_STD)
    return (tf.cast(images, tf.float32) / 255.0 - mean) / std  # (B, H, W, C)


def augment_batch(images: tf.Tensor, offsets: tf.Tensor, flips: tf.Tensor) -> tf.Tensor:
    """Random crop (zero padding) and horizontal flip of a batch (B, H, W, C), given
    the draws."""
    H, W = images.shape[1], images.shape[2]
    p = training.CROP_PADDING
    padded = tf.pad(images, [[0, 0], [p, p], [p, p], [0, 0]])  # (B, H+2p, W+2p, C)
    rows = offsets[:, 0, None] + tf.range(H)  # (B, H)
    cols = offsets[:, 1, None] + tf.range(W)  # (B, W)
    cols = tf.where(
        flips[:, None], tf.reverse(cols, axis=[1]), cols
    )  # a flip reads the columns backwards
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)  # (B, H, W+2p, C)
    return tf.gather(cropped, cols, axis=2, batch_dims=1)  # (B, H, W, C)


def evaluate(
    model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000
) -> tuple[float, np.ndarray]:
    """(accuracy, predicted labels) of `model` in inference mode on uint8 images `x`;
    the prediction is compiled once per model (`nnbook.tf.predicted_labels`)."""
    checks.images_and_labels("x, y", (x, y))
    predictions = [
        predicted_labels(model, prepare_images(x[i : i + batch_size])).numpy()
        for i in range(0, len(x), batch_size)
    ]
    predicted = np.concatenate(predictions)
    return float(np.mean(predicted == np.asarray(y))), predicted


def fit_classifier(
    model: keras.Model,
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
    """Train `model` (logits from (B, H, W, 3)) with AdamW and a one-cycle schedule;
    test after each epoch.
    """
    epochs, batch_size, peak_lr, weight_decay, augment, seed = (
        training.check_fit_arguments(
            train, test, epochs, batch_size, peak_lr, weight_decay, augment, seed
        )
    )
    # (N, H, W, C) uint8: normalised per batch
    x_train = tf.convert_to_tensor(np.asarray(train[0]))
    y_train = tf.convert_to_tensor(np.asarray(train[1], dtype=np.int64))
    optimizer = keras.optimizers.AdamW(
        learning_rate=peak_lr, weight_decay=weight_decay, epsilon=1e-8
    )  # torch eps
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    steps_per_epoch = len(train[0]) // batch_size
    total_steps = epochs * steps_per_epoch

    @tf.function  # one graph for every step: batches have a fixed size
    def compiled_step(index, offsets, flips, learning_rate):
        optimizer.learning_rate.assign(learning_rate)
        images = augment_batch(tf.gather(x_train, index), offsets, flips)
        with tf.GradientTape() as tape:
            logits = model(_normalise(images), training=True)  # (B, 10)
            loss = loss_fn(tf.gather(y_train, index), logits)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    def train_step(step: int, batch) -> tf.Tensor:
        order, offsets, flips = batch
        learning_rate = schedules.one_cycle_lr(step, total_steps, peak_lr)
        # a tensor, not a Python float: a new float would trace a new graph
        return compiled_step(
            order, offsets, flips, tf.constant(learning_rate, tf.float32)
        )

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
