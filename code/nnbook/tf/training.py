"""Training an image classifier on CIFAR-10-sized data: the same loop as `nnbook.torch.training`.

The batches, crops and flips come from `nnbook.training.epoch_draws`, so both frameworks see the same data.
Augmentation is batched tensor indexing: no Python loop per image.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from .. import history, schedules, training

__all__ = ["prepare_images", "augment_batch", "evaluate", "fit_classifier"]


def prepare_images(x: np.ndarray) -> tf.Tensor:
    """uint8 (B, H, W, 3) → normalised float (B, H, W, 3): Keras convolutions are channels-last already."""
    training.check_images("x", (x, np.zeros(len(x), dtype=np.int64)))
    return _normalise(tf.convert_to_tensor(np.asarray(x)))


def _normalise(images: tf.Tensor) -> tf.Tensor:
    mean = tf.constant(training.CIFAR10_MEAN)
    std = tf.constant(training.CIFAR10_STD)
    return (tf.cast(images, tf.float32) / 255.0 - mean) / std  # (B, H, W, C)


def augment_batch(images: tf.Tensor, offsets: tf.Tensor, flips: tf.Tensor) -> tf.Tensor:
    """Random crop (zero padding) and horizontal flip of a batch (B, H, W, C), given the draws."""
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
    """(accuracy, predicted labels) of `model` in inference mode on uint8 images `x`."""
    training.check_images("x, y", (x, y))
    predict = _predict_function(model)
    predictions = [
        predict(prepare_images(x[i : i + batch_size])).numpy()
        for i in range(0, len(x), batch_size)
    ]
    predicted = np.concatenate(predictions)
    return float(np.mean(predicted == np.asarray(y))), predicted


def _predict_function(model: keras.Model):
    @tf.function(reduce_retracing=True)
    def predict(images):
        return tf.argmax(model(images, training=False), axis=1)

    return predict


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
    """Train `model` (logits from (B, H, W, 3)) with AdamW and a one-cycle schedule; test after each epoch."""
    training.check_fit_arguments(train, test, epochs, batch_size, peak_lr, weight_decay)
    x_train = tf.convert_to_tensor(
        np.asarray(train[0])
    )  # (N, H, W, C) uint8: normalised per batch
    y_train = tf.convert_to_tensor(np.asarray(train[1], dtype=np.int64))
    optimizer = keras.optimizers.AdamW(
        learning_rate=peak_lr, weight_decay=weight_decay, epsilon=1e-8
    )  # torch eps
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    steps_per_epoch = len(train[0]) // batch_size
    total_steps, step = epochs * steps_per_epoch, 0

    @tf.function  # one graph for every step: batches have a fixed size
    def train_step(index, offsets, flips, learning_rate):
        optimizer.learning_rate.assign(learning_rate)
        images = augment_batch(tf.gather(x_train, index), offsets, flips)
        with tf.GradientTape() as tape:
            logits = model(_normalise(images), training=True)  # (B, 10)
            loss = loss_fn(tf.gather(y_train, index), logits)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    step_loss, epoch_seconds, test_accuracy = [], [], []
    for epoch in range(epochs):
        draws = training.epoch_draws(
            len(train[0]), seed=seed, epoch=epoch, augment=augment
        )
        losses = []
        start = time.perf_counter()
        for order, offsets, flips in draws.batches(batch_size):
            learning_rate = tf.constant(
                schedules.one_cycle_lr(step, total_steps, peak_lr), tf.float32
            )
            losses.append(train_step(order, offsets, flips, learning_rate))
            step += 1
        step_loss.append(tf.stack(losses).numpy())
        epoch_seconds.append(time.perf_counter() - start)
        accuracy, predictions = evaluate(model, *test)
        test_accuracy.append(accuracy)

    step_loss = np.concatenate(step_loss)
    return history.TrainingHistory(
        step_loss=step_loss,
        epoch_loss=step_loss.reshape(epochs, steps_per_epoch).mean(1),
        test_accuracy=np.array(test_accuracy),
        epoch_seconds=np.array(epoch_seconds),
        images_per_second=total_steps * batch_size / float(np.sum(epoch_seconds)),
        test_predictions=predictions,
    )
