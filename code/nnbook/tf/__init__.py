"""TensorFlow side of the book: the same module and class names as `nnbook.torch`.

Importing this package imports TensorFlow with its C++ start-up logging silenced, so
rendered pages and notebooks carry no oneDNN / cpu-feature / absl lines; later
`import tensorflow` statements reuse that import. It also holds `compiled`, the one
way the book compiles inference: once per model, then reused.
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
with _stderr_fd_silenced():
    import tensorflow as tf

    # the first op initialises absl logging, which announces itself on fd 2
    tf.constant(0.0) + 1.0

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
