"""TensorFlow side of the book: the same module and class names as `nnbook.torch`.

Importing this package imports TensorFlow with its C++ start-up logging silenced, so rendered pages and
notebooks carry no oneDNN / cpu-feature / absl lines; later `import tensorflow` statements reuse that import.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_fd_silenced():
    """Point file descriptor 2 at /dev/null: TensorFlow's C++ logging bypasses `sys.stderr`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (
        OSError,
        ValueError,
    ):  # no real fd 2 (e.g. an embedded interpreter): nothing to silence
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

    (
        tf.constant(0.0) + 1.0
    )  # the first op initialises absl logging, which announces itself on fd 2

tf.get_logger().setLevel("ERROR")


def device() -> str:
    """The device experiments run on: the GPU when TensorFlow sees one, else the CPU."""
    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"
