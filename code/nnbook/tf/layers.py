"""Layers, modules and models in TensorFlow / Keras: the classes of the chapter
"Layers, modules and models".

Mirrors `nnbook.torch.layers` class for class, in the same order; read the two
files side by side. Shapes in comments: B is the batch size, d_in / d_out / H
are feature sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence as _SequenceType

import keras
import tensorflow as tf

import nnbook.tf  # noqa: F401  (imports TensorFlow without its C++ start-up logging)
from nnbook import checks

__all__ = [
    "LinearRegressionScratch",
    "LinearRegression",
    "LinearRegressionV2",
    "PartlyRegistered",
    "Dense",
    "Sequential",
    "FixedHiddenMLP",
    "NestMLP",
    "fit_custom_loop",
    "fit_builtin",
]

# Both frameworks' Sequential say the same: nn.Module and keras Layer are each
# framework's word for a layer.
_A_LAYER = "a layer of this framework"


# ---------------------------------------------- a model is parameters + computation


class LinearRegressionScratch:
    """y_hat = x @ w (+ b) from bare variables: no keras.Model, no optimizer."""

    def __init__(self, d_in: int, sigma: float = 0.01, bias=True):
        d_in = checks.positive_int("d_in", d_in)
        sigma = checks.positive_float("sigma", sigma)
        bias = checks.boolean("bias", bias)
        # Variables go where the enclosing `with tf.device(...)` puts them.
        w = tf.random.normal((d_in, 1), stddev=sigma)
        self.w = tf.Variable(w)  # (d_in, 1)
        # bias=False: the walk-through's model, whose data has no intercept
        self.b = tf.Variable(tf.zeros(1)) if bias else None  # (1,)

    def forward(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, 1)
        return x @ self.w if self.b is None else x @ self.w + self.b

    @tf.function  # model(x) runs a graph, traced once per input signature
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return self.forward(x)

    def loss(self, y_hat: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        return tf.reduce_mean((y_hat - y) ** 2 / 2)  # (B, 1), (B, 1) -> ()

    def parameters(self) -> list[tf.Variable]:
        return [self.w] if self.b is None else [self.w, self.b]

    @property
    def variables(self) -> list[tf.Variable]:  # tf.Module's and Keras' name
        return self.parameters()


@keras.saving.register_keras_serializable(package="nnbook")
class LinearRegression(keras.Model):
    """The same model as a keras.Model: Dense holds w (and b), and the model
    finds them for us."""

    def __init__(self, d_in: int, sigma: float = 0.01, bias=True, **kwargs):
        super().__init__(**kwargs)
        self.d_in = d_in = checks.positive_int("d_in", d_in)
        self.sigma = sigma = checks.positive_float("sigma", sigma)
        self.bias = bias = checks.boolean("bias", bias)
        self.linear = keras.layers.Dense(  # kernel (d_in, 1), bias (1,)
            1,
            use_bias=bias,
            # the same start as LinearRegressionScratch
            kernel_initializer=keras.initializers.RandomNormal(stddev=sigma),
            bias_initializer="zeros",
            name="linear",
        )
        self.build((None, d_in))  # d_in is known: weights now, as in nn.Linear

    def build(self, input_shape) -> None:
        self.linear.build(input_shape)

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, 1)
        return self.linear(x)

    def get_config(self) -> dict:
        config = {"d_in": self.d_in, "sigma": self.sigma, "bias": self.bias}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="nnbook")
class LinearRegressionV2(LinearRegression):
    """LinearRegression without bias, plus an extra bias that starts far from
    the 0 the walk-through's data needs: a new variable a stale compiled step
    would not know about."""

    def __init__(
        self, d_in: int, sigma: float = 0.01, bias_init: float = 100.0, **kwargs
    ):
        kwargs.pop("bias", None)  # a saved config holds LinearRegression's too
        # set before LinearRegression.__init__, whose build() makes the weight
        self.bias_init = checks.number("bias_init", bias_init)
        super().__init__(d_in, sigma, bias=False, **kwargs)

    def build(self, input_shape) -> None:
        super().build(input_shape)
        self.extra_bias = self.add_weight(  # (1,)
            shape=(1,),
            initializer=keras.initializers.Constant(self.bias_init),
            name="extra_bias",
        )

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, 1)
        return self.linear(x) + self.extra_bias

    def get_config(self) -> dict:
        return {**super().get_config(), "bias_init": self.bias_init}


class PartlyRegistered(keras.Model):
    """y = linear(x) * scale + sum of the extra layers' outputs: the same
    attributes as the PyTorch twin. Keras tracks the layers in the plain list
    too; the tensor `scale` is no weight in either framework."""

    def __init__(self, d_in: int, n_extras: int = 2, **kwargs):
        super().__init__(**kwargs)
        d_in = checks.positive_int("d_in", d_in)
        n_extras = checks.positive_int("n_extras", n_extras)
        self.linear = keras.layers.Dense(1)  # a layer attribute: tracked
        self.scale = tf.ones(1)  # a plain tensor: not a weight
        # a plain list: Keras tracks its layers all the same
        self.extras = [keras.layers.Dense(1) for _ in range(n_extras)]
        self.build((None, d_in))

    def build(self, input_shape) -> None:
        for layer in [self.linear, *self.extras]:
            layer.build(input_shape)

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, 1)
        out = self.linear(x) * self.scale
        for extra in self.extras:
            out = out + extra(x)
        return out


# ------------------------------------------------------------------------ layers


@keras.saving.register_keras_serializable(package="nnbook")
class Dense(keras.layers.Layer):
    """y = x @ W + b, with d_in read from the first input (as in
    keras.layers.Dense)."""

    def __init__(self, d_out: int, **kwargs):
        super().__init__(**kwargs)
        self.d_out = checks.positive_int("d_out", d_out)
        # No weights yet: Keras calls build() with the input's shape first.

    def build(self, input_shape) -> None:
        d_in = input_shape[-1]
        bound = 1 / math.sqrt(d_in)  # nn.Linear's default range
        init = keras.initializers.RandomUniform(-bound, bound)
        self.kernel = self.add_weight(  # (d_in, d_out): Keras' layout
            shape=(d_in, self.d_out), initializer=init, name="kernel"
        )
        self.bias = self.add_weight(  # (d_out,)
            shape=(self.d_out,), initializer=init, name="bias"
        )

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, d_out)
        return x @ self.kernel + self.bias

    def get_config(self) -> dict:
        return {**super().get_config(), "d_out": self.d_out}


# --------------------------------------------------------- models made of layers


@keras.saving.register_keras_serializable(package="nnbook")
class Sequential(keras.Model):
    """Layers applied one after another: all of keras.Sequential's call."""

    def __init__(self, *layers: keras.layers.Layer, **kwargs):
        super().__init__(**kwargs)
        checks.require("layers", len(layers) > 0, "at least one layer", "none")
        for i, layer in enumerate(layers):
            checks.instance(f"layers[{i}]", layer, keras.layers.Layer, _A_LAYER)
        # a list attribute is tracked: its layers' weights become the model's
        self.blocks = list(layers)

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, ...) -> (B, ...)
        for layer in self.blocks:  # in the order they were given
            x = layer(x)
        return x

    def get_config(self) -> dict:
        layers = [keras.saving.serialize_keras_object(layer) for layer in self.blocks]
        return {**super().get_config(), "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> Sequential:
        config = dict(config)
        layers = [
            keras.saving.deserialize_keras_object(layer, custom_objects)
            for layer in config.pop("layers")
        ]
        return cls(*layers, **config)


@keras.saving.register_keras_serializable(package="nnbook")
class FixedHiddenMLP(keras.Model):
    """Call is plain Python: a fixed random weight, one layer used twice,
    a while loop."""

    def __init__(self, d_hidden: int = 20, **kwargs):
        super().__init__(**kwargs)
        self.d_hidden = d_hidden = checks.positive_int("d_hidden", d_hidden)
        # used twice in call: one set of weights
        self.linear = Dense(d_hidden, name="linear")

    def build(self, input_shape) -> None:
        # trainable=False: saved and listed in weights, never in trainable_weights.
        self.fixed_weight = self.add_weight(  # (H, H)
            shape=(self.d_hidden, self.d_hidden),
            initializer=keras.initializers.RandomUniform(0.0, 1.0),
            trainable=False,
            name="fixed_weight",
        )

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, H) -> ()
        x = self.linear(x)  # (B, H)
        x = keras.ops.relu(x @ self.fixed_weight + 1)  # (B, H)
        x = self.linear(x)  # the same layer again: its gradient sums both uses
        # data decides how often this loop runs
        while keras.ops.sum(keras.ops.abs(x)) > 1:
            x = x / 2
        return keras.ops.sum(x)

    def get_config(self) -> dict:
        return {**super().get_config(), "d_hidden": self.d_hidden}


@keras.saving.register_keras_serializable(package="nnbook")
class NestMLP(keras.Model):
    """Nesting: Dense layers inside a Sequential inside this model."""

    def __init__(
        self, widths: _SequenceType[int] = (64, 32), d_out: int = 16, **kwargs
    ):
        super().__init__(**kwargs)
        self.widths = checks.widths("widths", widths)
        self.d_out = checks.positive_int("d_out", d_out)
        relu = keras.layers.ReLU
        blocks = [layer for w in self.widths for layer in (Dense(w), relu())]
        self.body = Sequential(*blocks, name="body")  # (B, d_in) -> (B, widths[-1])
        self.head = Dense(self.d_out, name="head")  # (B, widths[-1]) -> (B, d_out)

    def call(self, x: tf.Tensor) -> tf.Tensor:  # (B, d_in) -> (B, d_out)
        return self.head(self.body(x))

    def get_config(self) -> dict:
        config = {"widths": list(self.widths), "d_out": self.d_out}
        return {**super().get_config(), **config}


# ---------------------------------------------------------------------- training


def _check_fit_args(x, y, epochs, lr, batch_size) -> tuple[int, float, int]:
    """(epochs, lr, batch_size) as Python numbers, once x and y are checked."""
    n, _ = checks.shape("x", x, ("N", "d_in"), kind=tf.is_tensor)
    checks.shape("y", y, (n, "d_out"), kind=tf.is_tensor)
    return (
        checks.positive_int("epochs", epochs),
        checks.positive_float("lr", lr),
        checks.positive_int("batch_size", batch_size),
    )


def fit_custom_loop(
    model: keras.Model,
    x: tf.Tensor,
    y: tf.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
) -> list[float]:
    """Minibatch SGD on mean squared error, batches cut by indexing.
    Returns each epoch's mean loss."""
    epochs, lr, batch_size = _check_fit_args(x, y, epochs, lr, batch_size)
    optimizer = keras.optimizers.SGD(learning_rate=lr)

    # A new tf.function per call, so per model: never a stale graph (see the
    # chapter). reduce_retracing: the smaller last batch shares one graph.
    @tf.function(reduce_retracing=True)
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(xb, training=True) - yb) ** 2)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    n = x.shape[0]
    losses = []
    for _ in range(epochs):
        total = tf.zeros(())  # summed on the device
        order = tf.random.shuffle(tf.range(n))  # a shuffled epoch
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            loss = train_step(tf.gather(x, idx), tf.gather(y, idx))
            total += loss * tf.cast(tf.size(idx), loss.dtype)
        losses.append(float(total) / n)  # one sync per epoch
    return losses


def fit_builtin(
    model: keras.Model,
    x: tf.Tensor,
    y: tf.Tensor,
    epochs: int,
    lr: float,
    batch_size: int,
) -> list[float]:
    """The same training with Keras' built-in Model.fit, which compiles its
    own step with tf.function. Returns each epoch's mean loss."""
    epochs, lr, batch_size = _check_fit_args(x, y, epochs, lr, batch_size)
    optimizer = keras.optimizers.SGD(learning_rate=lr)
    # mean absolute error too: a metric is reported, never trained on
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    # A Dataset made once: given tensors, fit rebuilds its input pipeline every
    # epoch, a cost per epoch that the chapter measures.
    n = x.shape[0]
    data = tf.data.Dataset.from_tensor_slices((x, y))
    data = data.shuffle(n).batch(batch_size)
    # shuffle=False: the Dataset shuffles itself, every epoch
    history = model.fit(data, epochs=epochs, shuffle=False, verbose=0)
    return [float(v) for v in history.history["loss"]]
