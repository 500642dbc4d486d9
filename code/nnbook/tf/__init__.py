"""TensorFlow side of the book: the same module and class names as `nnbook.torch`.

Importing this package imports TensorFlow with its C++ start-up logging silenced, so
rendered pages and notebooks carry no oneDNN / cpu-feature / absl lines; later
`import tensorflow` statements reuse that import. It also holds `compiled`, the one
way the book compiles inference: once per model, then reused, and
`FusedBatchNormalization`, the BatchNorm of the book's Keras CNNs.
"""

from __future__ import annotations

import contextlib
import os
import sys
import weakref
from collections.abc import Callable


@contextlib.contextmanager
def _stderr_fd_silenced():
    """Point file descriptor 2 at /dev/null: TensorFlow's C++ logging bypasses
    `sys.stderr`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        # no real fd 2 (e.g. an embedded interpreter): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow turns its oneDNN CPU kernels on by itself only on CPUs with AVX-512 VNNI
# or newer; without them, convolutions run on its older Eigen kernels, which trained
# the book's CNNs half as fast on an AVX2 CPU. Read once, at the import below.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
with _stderr_fd_silenced():
    import tensorflow as tf

    # the first op initialises absl logging, which announces itself on fd 2
    tf.constant(0.0) + 1.0
    import keras

tf.get_logger().setLevel("ERROR")


def device() -> str:
    """The device experiments run on: the GPU when TensorFlow sees one, else the CPU."""
    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"


# model -> {(function, tf.function options): its compiled function}
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# model -> how many times its compiled functions have been traced
_TRACES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled(model, function: Callable, **options) -> tf.types.experimental.Function:
    """`function(model, *args)` as a `tf.function(**options)`, built once per model.

    Every inference helper of the book compiles through here: a new `tf.function` per
    call would trace the model again at every call (at every evaluation of a training
    run), while this one is traced once per input signature and then reused. The model
    is held weakly, so its compiled functions go when it goes.
    """
    functions = _COMPILED.setdefault(model, {})
    key = (function, tuple(sorted(options.items())))
    if key not in functions:
        model_ref = weakref.ref(model)  # a strong one would keep the model alive

        def traced(*args):
            model = model_ref()
            _TRACES[model] = _TRACES.get(model, 0) + 1  # Python runs only when tracing
            return function(model, *args)

        functions[key] = tf.function(traced, **options)
    return functions[key]


def tracing_count(model) -> int:
    """How many times functions compiled for `model` have been traced so far: a test
    sees a retrace, or a function built anew, here."""
    return _TRACES.get(model, 0)


def predicted_labels(model, inputs) -> tf.Tensor:
    """The classes a classifier predicts in inference mode: (B, ...) -> (B,) int64.

    Compiled with `reduce_retracing`: a second batch size (the last, smaller batch of
    an evaluation) traces one graph for every size, not one graph per size."""
    return compiled(model, _argmax_of_logits, reduce_retracing=True)(inputs)


def _argmax_of_logits(model, inputs) -> tf.Tensor:
    return tf.argmax(model(inputs, training=False), axis=1)  # (B, classes) -> (B,)


@keras.saving.register_keras_serializable(package="nnbook")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras' BatchNormalization, trained on (B, H, W, C) images with TensorFlow's
    fused kernel: one op forward and one backward. Keras 3 computes the moments and
    the normalisation in a dozen separate ops, which made the book's ResNet training
    steps up to 1.8x slower on CPU (tf.keras 2 fused them by default).

    The fused kernel also averages the *unbiased* batch variance (/ (n - 1)) into the
    moving variance, as PyTorch's BatchNorm2d does; Keras' own averages the biased
    one (/ n). Both normalise the batch with the biased one. Inference, other shapes
    and dtypes, masks and renorm run Keras' own code."""

    def call(self, inputs, training=None, mask=None):
        fused = (
            training
            and self.trainable
            and mask is None
            and not self.renorm
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and inputs.dtype == tf.float32
        )
        if not fused:
            return super().call(inputs, training=training, mask=mask)
        channels = inputs.shape[-1]
        no_statistics = tf.constant([], tf.float32)  # training: none passed in
        outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs,
            scale=self.gamma if self.scale else tf.ones([channels]),
            offset=self.beta if self.center else tf.zeros([channels]),
            mean=no_statistics,
            variance=no_statistics,
            epsilon=self.epsilon,  # tf.nn's wrapper would raise 1e-5 to 1.001e-5
            exponential_avg_factor=1.0,  # return this batch's own statistics
            data_format="NHWC",
            is_training=True,
        )  # variance: unbiased
        for moving, batch in (
            (self.moving_mean, mean),
            (self.moving_variance, variance),
        ):
            moving.assign(moving * self.momentum + batch * (1.0 - self.momentum))
        return outputs
