"""The layer catalogue of the chapter "Computational graphs": Keras layers next to
their PyTorch counterparts.

Framework-neutral: this module imports neither framework. Each `Entry` names a Keras
layer and its PyTorch counterpart (None where a framework has no such layer), the small
inputs both are called on, and what each framework's layer should hold and return by
closed-form formulas: trainable parameters, state (Keras' non-trainable weights,
PyTorch's buffers), output shape, and default settings known to differ (`Default`).
`verdict` compares the two frameworks' layers.

Each framework's half (`catalogue_layer` and `measure_layer` in `nnbook.torch.graphs`
and `nnbook.tf.graphs`) builds the real layers and measures them. The chapter checks
its framework's measurements against these formulas and the tests check both, so the
formulas stand for the real layers.

The entries follow the catalogue of the source notes on Keras graphs, family by family
(`NOTES_LISTING` is that list as the notes print it, repeats and a misnamed table
included; `where_covered` says where each of its names is shown): every Keras class it
names has an entry, those Keras 3 removed included (`Entry.removed`), and the book adds
its own (embedding, normalisation, bilinear). The notes' `tf.math.reduce_*` and
`tf.linalg.matmul` are operations, not layers: `OPERATIONS` pairs them with PyTorch's
functions and a NumPy reference.

Shapes exclude the batch dimension. Inputs are given in Keras' layout (channels last);
an entry with `channels_first=True` feeds PyTorch the same data with the channel axis
moved to the front, and compares a PyTorch output of the input's rank after moving
that axis back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nnbook import checks

__all__ = [
    "SIZES",
    "BATCH",
    "Spec",
    "Counts",
    "Default",
    "Measured",
    "Entry",
    "ENTRIES",
    "FAMILIES",
    "Operation",
    "OPERATIONS",
    "OPERATION_SHAPES",
    "OPERATION_TOLERANCE",
    "operation_inputs",
    "operation_reference",
    "operations_table",
    "NotesRow",
    "NOTES_LISTING",
    "where_covered",
    "torch_layout",
    "keras_layout",
    "verdict",
    "markdown_table",
]

# The one small configuration of every entry.
SIZES = {
    "features": 8,  # F: feature vectors (B, F)
    "units": 16,  # Dense / Linear outputs
    "vocab": 100,  # embedding rows
    "depth": 4,  # volumes: (B, D, H, W, C) in Keras, (B, C, D, H, W) in PyTorch
    "height": 8,  # images: (B, H, W, C) in Keras, (B, C, H, W) in PyTorch
    "width": 8,
    "channels": 3,
    "filters": 4,  # convolution outputs
    "kernel": 3,  # convolution kernel size
    "time": 5,  # sequences: (B, T, F)
    "hidden": 6,  # recurrent units
    "heads": 2,  # attention heads of key_dim 4: 2 * 4 = F, the embedding width
    "key_dim": 4,
    "bilinear": 4,  # nn.Bilinear outputs
}
BATCH = 2  # the batch every layer is called on
FRAMEWORKS = ("pytorch", "tensorflow")  # how `expected` and `markdown_table` name them

_F, _U, _V = SIZES["features"], SIZES["units"], SIZES["vocab"]
_H, _W, _C = SIZES["height"], SIZES["width"], SIZES["channels"]
_N, _K = SIZES["filters"], SIZES["kernel"]
_T, _R = SIZES["time"], SIZES["hidden"]
_HEADS, _KD, _BI = SIZES["heads"], SIZES["key_dim"], SIZES["bilinear"]

FEATURES = (_F,)
IMAGE = (_H, _W, _C)  # Keras' layout
SEQUENCE = (_T, _F)


def _shown(value) -> str:
    """An argument as code shows it: a function by its name."""
    return value.__name__ if callable(value) else repr(value)


@dataclass(frozen=True)
class Spec:
    """One layer: its class in `keras.layers` or `torch.nn`, and its arguments."""

    cls: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __str__(self) -> str:
        arguments = [_shown(a) for a in self.args] + [
            f"{k}={_shown(v)}" for k, v in self.kwargs.items()
        ]
        return f"{self.cls}({', '.join(arguments)})"


@dataclass(frozen=True)
class Counts:
    """What a layer holds, in numbers: trainable parameters, and state (non-trainable
    weights, buffers)."""

    trainable: int
    state: int = 0

    def __str__(self) -> str:
        return f"{self.trainable:,}" + (f" + {self.state:,}" if self.state else "")


@dataclass(frozen=True)
class Default:
    """A default setting both layers have: each framework's attribute name and value."""

    label: str
    keras_attr: str
    keras_value: float
    torch_attr: str
    torch_value: float


@dataclass(frozen=True)
class Measured:
    """A layer as measured, or as the formulas expect it: counts, output shape without
    the batch, and the values of its entry's `Default` settings by label."""

    counts: Counts
    shape: tuple[int, ...]
    defaults: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """A catalogue row: each framework's layer (a tuple of Specs, applied in order; None
    where the framework has none) and what the formulas expect of it, (Counts, output
    shape in the framework's layout). `call`: "single" (one input), "merge" (several
    inputs: a list in Keras, arguments in PyTorch), "self_attention" (one input as
    query, key and value) or "input" (Keras' InputLayer, called on nothing: its
    output is its symbolic tensor). A PyTorch layer that returns a tuple (recurrent
    layers, attention) is measured by its first element. `removed`: (a Keras 2 layer
    the notes list, the Keras release that removed it); `keras` is then what
    replaces it, or None."""

    family: str
    keras: tuple[Spec, ...] | None
    keras_expected: tuple[Counts, tuple[int, ...]] | None
    torch: tuple[Spec, ...] | None
    torch_expected: tuple[Counts, tuple[int, ...]] | None
    inputs: tuple[tuple[int, ...], ...]  # Keras' layout, batch excluded
    channels_first: bool = False  # PyTorch takes the channel axis first
    call: str = "single"
    integer_input: bool = False  # token ids in [0, vocab) instead of normal floats
    defaults: tuple[Default, ...] = ()
    known: tuple[
        str, ...
    ] = ()  # differences the counts and shapes cannot show (tests check them)
    note: str = ""
    removed: tuple[str, str] | None = None

    def compare(self, keras: Measured | None, torch: Measured | None) -> str:
        """`verdict` on this entry's layers as measured (or expected), a removed
        Keras layer named first."""
        result = verdict(keras, torch, self.channels_first, self.known)
        if self.removed is None:
            return result
        layer, release = self.removed
        if self.keras is None:
            result = "no PyTorch layer" if self.torch is None else "no Keras layer"
            return f"{layer} removed in Keras {release}; {result}"
        return f"{layer} removed in Keras {release}; its stand-in: {result}"

    def torch_inputs(self) -> tuple[tuple[int, ...], ...]:
        """The input shapes in PyTorch's layout."""
        if not self.channels_first:
            return self.inputs
        return tuple(torch_layout(shape) for shape in self.inputs)

    def expected(self, framework: str) -> Measured | None:
        """What the formulas expect of `framework`'s layer; None where it has no such
        layer."""
        framework = checks.one_of("framework", framework, FRAMEWORKS)
        if framework == "tensorflow":
            expected, values = (
                self.keras_expected,
                {d.label: d.keras_value for d in self.defaults},
            )
        else:
            expected, values = (
                self.torch_expected,
                {d.label: d.torch_value for d in self.defaults},
            )
        return None if expected is None else Measured(*expected, values)


def torch_layout(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(..., C) -> (C, ...): a channels-last shape (batch excluded) in PyTorch's
    order."""
    return tuple(shape[-1:]) + tuple(shape[:-1])


def keras_layout(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(C, ...) -> (..., C): the inverse of `torch_layout`."""
    return tuple(shape[1:]) + tuple(shape[:1])


# --------------------------------------------------------- closed-form parameter counts


def _dense(d_in: int, d_out: int) -> int:
    return d_in * d_out + d_out


def _conv(
    kernel: int,
    c_in: int,
    c_out: int,
    dims: int = 2,
    groups: int = 1,
    bias: bool = True,
) -> int:
    return kernel**dims * (c_in // groups) * c_out + (c_out if bias else 0)


def _recurrent(gates: int, d_in: int, units: int, bias_vectors: int) -> int:
    """Per gate: input and recurrent weights, `bias_vectors` bias vectors."""
    return gates * (units * d_in + units * units + bias_vectors * units)


def _attention(embed: int, heads: int, key_dim: int) -> int:
    """Query, key and value projections to heads * key_dim, and the output projection
    back."""
    return 3 * _dense(embed, heads * key_dim) + _dense(heads * key_dim, embed)


def _valid(size: int, kernel: int) -> int:
    """The output length of a 'valid' (unpadded) convolution."""
    return size - kernel + 1


def _layer(cls: str, *args, **kwargs) -> tuple[Spec, ...]:
    return (Spec(cls, args, kwargs),)


_EPSILON = Default(
    "epsilon", "epsilon", 1e-3, "eps", 1e-5
)  # normalisation: added to the variance
_CONV = (_valid(_H, _K), _valid(_W, _K))  # (H, W) after a 'valid' 3x3 convolution
_UP = (2 * (_H - 1) + _K, 2 * (_W - 1) + _K)  # after a stride-2 transposed convolution
_NONE = Counts(0)


_DEPTH = SIZES["depth"]
VOLUME = (_DEPTH, _H, _W, _C)  # Keras' layout of a 3-D input
_VOLUME_CONV = (_valid(_DEPTH, _K), *_CONV)  # after a 'valid' 3x3x3 convolution
_SEQUENCE_UP = 2 * (_T - 1) + _K  # a sequence after a stride-2 transposed convolution
_VOLUME_UP = (2 * (_DEPTH - 1) + _K, *_UP)


def _convolutional_lstm(kernel: int, c_in: int, filters: int, dims: int) -> int:
    """Four gates, each with an input and a recurrent convolution and one bias."""
    return 4 * (kernel**dims * (c_in + filters) * filters + filters)


def doubled(x):
    """The expression the catalogue's Lambda layer wraps (it works on either
    framework's tensors)."""
    return 2 * x


def _both(
    family: str,
    keras: tuple[Spec, ...],
    torch: tuple[Spec, ...] | None,
    counts: Counts,
    shape: tuple[int, ...],
    inputs: tuple[tuple[int, ...], ...],
    **options,
) -> Entry:
    """An entry whose formulas give both frameworks the same counts and the same
    output shape in their own layouts (PyTorch's: channel axis first when
    `channels_first` and the output keeps more than one axis)."""
    channels_first = options.get("channels_first", False)
    torch_shape = torch_layout(shape) if channels_first and len(shape) > 1 else shape
    return Entry(
        family,
        keras,
        (counts, shape),
        torch,
        None if torch is None else (counts, torch_shape),
        inputs,
        **options,
    )


def _core_entries() -> tuple[Entry, ...]:
    """The core family: the notes' core layers, then the book's own (embedding,
    normalisation)."""
    return (
        _both(
            "core",
            _layer("InputLayer", shape=FEATURES),
            None,
            _NONE,
            FEATURES,
            (FEATURES,),
            call="input",
            note="PyTorch has no input layer: a module's inputs are the arguments "
            "of forward, and their shapes are unknown until it runs.",
        ),
        Entry(
            "core",
            _layer("Dense", _U),
            (Counts(_dense(_F, _U)), (_U,)),
            _layer("Linear", _F, _U),
            (Counts(_dense(_F, _U)), (_U,)),
            (FEATURES,),
        ),
        _both(
            "core",
            _layer("Activation", "tanh"),
            _layer("Tanh"),
            _NONE,
            FEATURES,
            (FEATURES,),
            note="Keras names any activation by string; PyTorch has a class for each.",
        ),
        _both(
            "core",
            _layer("Reshape", (_F // 2, 2)),
            _layer("Unflatten", 1, (_F // 2, 2)),
            _NONE,
            (_F // 2, 2),
            (FEATURES,),
            note="Keras' target shape excludes the batch; PyTorch's Unflatten "
            "splits one axis, numbered with the batch (axis 1 here).",
        ),
        _both(
            "core",
            _layer("Permute", (2, 1)),
            None,
            _NONE,
            (_F, _T),
            (SEQUENCE,),
            note="In PyTorch a tensor method in forward: x.permute(0, 2, 1). "
            "Keras counts the axes from 1, the batch excluded.",
        ),
        _both(
            "core",
            _layer("RepeatVector", 3),
            None,
            _NONE,
            (3, _F),
            (FEATURES,),
            note="In PyTorch: x.unsqueeze(1).expand(-1, 3, -1).",
        ),
        _both(
            "core",
            _layer("Lambda", doubled),
            None,
            _NONE,
            FEATURES,
            (FEATURES,),
            note="PyTorch needs no wrapper: forward is Python, and holds any "
            "expression.",
        ),
        _both(
            "core",
            _layer("ActivityRegularization", l1=0.01),
            None,
            _NONE,
            FEATURES,
            (FEATURES,),
            note="In PyTorch the penalty is added to the loss by hand: "
            "loss + 0.01 * h.abs().sum().",
        ),
        _both(
            "core",
            _layer("Masking", mask_value=0.0),
            None,
            _NONE,
            SEQUENCE,
            (SEQUENCE,),
            note="PyTorch passes masks explicitly: packed sequences for recurrent "
            "layers, key_padding_mask for attention.",
        ),
        Entry(
            "core",
            _layer("Flatten"),
            (_NONE, (_H * _W * _C,)),
            _layer("Flatten"),
            (_NONE, (_H * _W * _C,)),
            (IMAGE,),
            channels_first=True,
            known=("element order",),
            note="Keras flattens (H, W, C), PyTorch (C, H, W): a dense layer after it "
            "needs its weight rows permuted when moved between the frameworks.",
        ),
        _both(
            "core",
            _layer("Concatenate"),
            None,
            _NONE,
            (2 * _F,),
            (FEATURES, FEATURES),
            call="merge",
            note="In PyTorch: torch.cat([x, y], dim=-1).",
        ),
        Entry(
            "core",
            _layer("Embedding", _V, _F),
            (Counts(_V * _F), (_T, _F)),
            _layer("Embedding", _V, _F),
            (Counts(_V * _F), (_T, _F)),
            ((_T,),),
            integer_input=True,
        ),
        Entry(
            "core",
            _layer("LayerNormalization"),
            (Counts(2 * _F), (_F,)),
            _layer("LayerNorm", _F),
            (Counts(2 * _F), (_F,)),
            (FEATURES,),
            defaults=(_EPSILON,),
        ),
        Entry(
            "core",
            _layer("BatchNormalization"),
            (Counts(2 * _C, 2 * _C), IMAGE),
            _layer("BatchNorm2d", _C),
            (Counts(2 * _C, 2 * _C + 1), torch_layout(IMAGE)),
            (IMAGE,),
            channels_first=True,
            defaults=(_EPSILON,),
            note="Both keep a running mean and variance per channel; PyTorch also "
            "counts the batches it has seen (num_batches_tracked). Their momentum "
            "points opposite ways: Keras keeps 0.99 of the old statistics, PyTorch "
            "mixes in 0.1 of the new.",
        ),
    )


def _convolutional_entries() -> tuple[Entry, ...]:
    """The convolutional family: 1-D, 2-D and 3-D convolutions, transposed and
    separable ones, and the layers that resize a grid (up-sampling, padding,
    cropping)."""
    crop_note = (
        "PyTorch has no cropping layer; a negative padding crops, as here, or "
        "slicing in forward."
    )
    return (
        _both(
            "convolutional",
            _layer("Conv1D", _N, _K),
            _layer("Conv1d", _F, _N, _K),
            Counts(_conv(_K, _F, _N, dims=1)),
            (_valid(_T, _K), _N),
            (SEQUENCE,),
            channels_first=True,
            note="PyTorch's 1-D layers take (B, C, L): the features first, "
            "the time last.",
        ),
        _both(
            "convolutional",
            _layer("Conv1DTranspose", _N, _K, strides=2),
            _layer("ConvTranspose1d", _F, _N, _K, stride=2),
            Counts(_conv(_K, _F, _N, dims=1)),
            (_SEQUENCE_UP, _N),
            (SEQUENCE,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("Conv2D", _N, _K),
            _layer("Conv2d", _C, _N, _K),
            Counts(_conv(_K, _C, _N)),
            (*_CONV, _N),
            (IMAGE,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("Conv2DTranspose", _N, _K, strides=2),
            _layer("ConvTranspose2d", _C, _N, _K, stride=2),
            Counts(_conv(_K, _C, _N)),
            (*_UP, _N),
            (IMAGE,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("Conv3D", _N, _K),
            _layer("Conv3d", _C, _N, _K),
            Counts(_conv(_K, _C, _N, dims=3)),
            (*_VOLUME_CONV, _N),
            (VOLUME,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("Conv3DTranspose", _N, _K, strides=2),
            _layer("ConvTranspose3d", _C, _N, _K, stride=2),
            Counts(_conv(_K, _C, _N, dims=3)),
            (*_VOLUME_UP, _N),
            (VOLUME,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("SeparableConv1D", _N, _K),
            (
                Spec("Conv1d", (_F, _F, _K), {"groups": _F, "bias": False}),
                Spec("Conv1d", (_F, _N, 1)),
            ),
            Counts(
                _conv(_K, _F, _F, dims=1, groups=_F, bias=False)
                + _conv(1, _F, _N, dims=1)
            ),
            (_valid(_T, _K), _N),
            (SEQUENCE,),
            channels_first=True,
            note="PyTorch has no single layer: a depthwise, then a 1-wide convolution.",
        ),
        _both(
            "convolutional",
            _layer("SeparableConv2D", _N, _K),
            (
                Spec("Conv2d", (_C, _C, _K), {"groups": _C, "bias": False}),
                Spec("Conv2d", (_C, _N, 1)),
            ),
            Counts(_conv(_K, _C, _C, groups=_C, bias=False) + _conv(1, _C, _N)),
            (*_CONV, _N),
            (IMAGE,),
            channels_first=True,
            note="Again a depthwise, then a 1 × 1 convolution.",
        ),
        _both(
            "convolutional",
            _layer("DepthwiseConv2D", _K),
            _layer("Conv2d", _C, _C, _K, groups=_C),
            Counts(_conv(_K, _C, _C, groups=_C)),
            (*_CONV, _C),
            (IMAGE,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("UpSampling1D", 2),
            _layer("Upsample", scale_factor=2),
            _NONE,
            (2 * _T, _F),
            (SEQUENCE,),
            channels_first=True,
            note="One PyTorch layer for every rank; both repeat each element "
            "(nearest neighbour) by default.",
        ),
        _both(
            "convolutional",
            _layer("UpSampling2D", 2),
            _layer("Upsample", scale_factor=2),
            _NONE,
            (2 * _H, 2 * _W, _C),
            (IMAGE,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("UpSampling3D", 2),
            _layer("Upsample", scale_factor=2),
            _NONE,
            (2 * _DEPTH, 2 * _H, 2 * _W, _C),
            (VOLUME,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("ZeroPadding1D", 1),
            _layer("ZeroPad1d", 1),
            _NONE,
            (_T + 2, _F),
            (SEQUENCE,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("ZeroPadding2D", 1),
            _layer("ZeroPad2d", 1),
            _NONE,
            (_H + 2, _W + 2, _C),
            (IMAGE,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("ZeroPadding3D", 1),
            _layer("ZeroPad3d", 1),
            _NONE,
            (_DEPTH + 2, _H + 2, _W + 2, _C),
            (VOLUME,),
            channels_first=True,
        ),
        _both(
            "convolutional",
            _layer("Cropping1D", 1),
            _layer("ZeroPad1d", -1),
            _NONE,
            (_T - 2, _F),
            (SEQUENCE,),
            channels_first=True,
            note=crop_note,
        ),
        _both(
            "convolutional",
            _layer("Cropping2D", 1),
            _layer("ZeroPad2d", -1),
            _NONE,
            (_H - 2, _W - 2, _C),
            (IMAGE,),
            channels_first=True,
            note=crop_note,
        ),
        _both(
            "convolutional",
            _layer("Cropping3D", 1),
            _layer("ZeroPad3d", -1),
            _NONE,
            (_DEPTH - 2, _H - 2, _W - 2, _C),
            (VOLUME,),
            channels_first=True,
            note=crop_note,
        ),
    )


def _global_pooling(
    keras_cls: str, torch_cls: str, shape: tuple[int, ...], note: str = ""
) -> Entry:
    """Global pooling: Keras drops the pooled axes; PyTorch's adaptive pooling to 1
    keeps them, so a Flatten follows it."""
    return _both(
        "pooling",
        _layer(keras_cls),
        (Spec(torch_cls, (1,)), Spec("Flatten")),
        _NONE,
        (shape[-1],),
        (shape,),
        channels_first=True,
        note=note,
    )


def _pooling_entries() -> tuple[Entry, ...]:
    """The pooling family: windowed maximum and average pooling, then global
    pooling, each for 1-D, 2-D and 3-D inputs."""
    entries = []
    for kind, torch_kind in [("MaxPooling", "MaxPool"), ("AveragePooling", "AvgPool")]:
        for dims, shape in [(1, SEQUENCE), (2, IMAGE), (3, VOLUME)]:
            pooled = tuple(size // 2 for size in shape[:-1]) + shape[-1:]
            entries.append(
                _both(
                    "pooling",
                    _layer(f"{kind}{dims}D", 2),
                    _layer(f"{torch_kind}{dims}d", 2),
                    _NONE,
                    pooled,
                    (shape,),
                    channels_first=True,
                )
            )
    entries += [
        _global_pooling("GlobalMaxPool1D", "AdaptiveMaxPool1d", SEQUENCE),
        _global_pooling(
            "GlobalMaxPool2D",
            "AdaptiveMaxPool2d",
            IMAGE,
            note="GlobalMaxPool2D, the notes' name, is an alias of "
            "GlobalMaxPooling2D: the same class.",
        ),
        _global_pooling("GlobalMaxPool3D", "AdaptiveMaxPool3d", VOLUME),
        _global_pooling("GlobalAveragePooling1D", "AdaptiveAvgPool1d", SEQUENCE),
        Entry(
            "pooling",
            _layer("GlobalAveragePooling2D"),
            (_NONE, (_C,)),
            _layer("AdaptiveAvgPool2d", 1),
            (_NONE, (_C, 1, 1)),
            (IMAGE,),
            channels_first=True,
            note="Without the Flatten: PyTorch keeps the pooled axes with size 1; "
            "Keras drops them unless keepdims=True.",
        ),
        _global_pooling("GlobalAveragePooling3D", "AdaptiveAvgPool3d", VOLUME),
    ]
    return tuple(entries)


def _activation_entries() -> tuple[Entry, ...]:
    """The activation family (the notes' Activation layer is in the core family)."""
    return (
        _both(
            "activation", _layer("ReLU"), _layer("ReLU"), _NONE, FEATURES, (FEATURES,)
        ),
        Entry(
            "activation",
            _layer("LeakyReLU"),
            (_NONE, (_F,)),
            _layer("LeakyReLU"),
            (_NONE, (_F,)),
            (FEATURES,),
            defaults=(
                Default(
                    "negative slope", "negative_slope", 0.3, "negative_slope", 0.01
                ),
            ),
        ),
        Entry(
            "activation",
            _layer("PReLU"),
            (Counts(_F), (_F,)),
            _layer("PReLU"),
            (Counts(1), (_F,)),
            (FEATURES,),
            note="Keras learns one slope per feature; PyTorch one for all, unless "
            "num_parameters is given.",
        ),
        _both(
            "activation",
            _layer("ReLU", threshold=1.0),
            _layer("Threshold", 1.0, 0.0),
            _NONE,
            FEATURES,
            (FEATURES,),
            removed=("ThresholdedReLU", "3.0"),
            note="ReLU's threshold replaces it: both give x above 1 and 0 below.",
        ),
        _both(
            "activation",
            _layer("ELU"),
            _layer("ELU"),
            _NONE,
            FEATURES,
            (FEATURES,),
            defaults=(Default("alpha", "alpha", 1.0, "alpha", 1.0),),
        ),
        _both(
            "activation",
            _layer("Softmax"),
            _layer("Softmax", dim=-1),
            _NONE,
            FEATURES,
            (FEATURES,),
            note="Keras normalises over the last axis by default; PyTorch needs dim.",
        ),
    )


def _dropout_entries() -> tuple[Entry, ...]:
    """The dropout family: element-wise, and spatial (whole channels) for 1-D, 2-D
    and 3-D inputs."""
    return (
        _both(
            "dropout",
            _layer("Dropout", 0.5),
            _layer("Dropout", 0.5),
            _NONE,
            FEATURES,
            (FEATURES,),
        ),
        _both(
            "dropout",
            _layer("SpatialDropout1D", 0.5),
            _layer("Dropout1d", 0.5),
            _NONE,
            SEQUENCE,
            (SEQUENCE,),
            channels_first=True,
            note="Spatial dropout drops whole channels (features): Keras' "
            "SpatialDropoutND is PyTorch's DropoutNd.",
        ),
        _both(
            "dropout",
            _layer("SpatialDropout2D", 0.5),
            _layer("Dropout2d", 0.5),
            _NONE,
            IMAGE,
            (IMAGE,),
            channels_first=True,
        ),
        _both(
            "dropout",
            _layer("SpatialDropout3D", 0.5),
            _layer("Dropout3d", 0.5),
            _NONE,
            VOLUME,
            (VOLUME,),
            channels_first=True,
        ),
    )


def _recurrent_entries() -> tuple[Entry, ...]:
    """The recurrent family."""
    no_torch = "PyTorch has no convolutional LSTM."
    return (
        Entry(
            "recurrent",
            _layer("SimpleRNN", _R, return_sequences=True),
            (Counts(_recurrent(1, _F, _R, bias_vectors=1)), (_T, _R)),
            _layer("RNN", _F, _R, batch_first=True),
            (Counts(_recurrent(1, _F, _R, bias_vectors=2)), (_T, _R)),
            (SEQUENCE,),
            note="PyTorch's recurrent layers have two bias vectors per gate "
            "(input and recurrent), Keras' one.",
        ),
        Entry(
            "recurrent",
            _layer("GRU", _R, return_sequences=True),
            (Counts(_recurrent(3, _F, _R, bias_vectors=2)), (_T, _R)),
            _layer("GRU", _F, _R, batch_first=True),
            (Counts(_recurrent(3, _F, _R, bias_vectors=2)), (_T, _R)),
            (SEQUENCE,),
            note="Keras' default GRU (reset_after=True) applies the reset "
            "gate after the recurrent matmul, as PyTorch's does, and "
            "has two bias vectors too.",
        ),
        Entry(
            "recurrent",
            _layer("GRU", _R, return_sequences=True, reset_after=False),
            (Counts(_recurrent(3, _F, _R, bias_vectors=1)), (_T, _R)),
            None,
            None,
            (SEQUENCE,),
            note="The original GRU (reset gate before the matmul, one bias "
            "vector) has no PyTorch layer.",
        ),
        Entry(
            "recurrent",
            _layer("LSTM", _R, return_sequences=True),
            (Counts(_recurrent(4, _F, _R, bias_vectors=1)), (_T, _R)),
            _layer("LSTM", _F, _R, batch_first=True),
            (Counts(_recurrent(4, _F, _R, bias_vectors=2)), (_T, _R)),
            (SEQUENCE,),
        ),
        _both(
            "recurrent",
            _layer("ConvLSTM1D", _N, _K),
            None,
            Counts(_convolutional_lstm(_K, _C, _N, dims=1)),
            (_valid(_W, _K), _N),
            ((_T, _W, _C),),
            note=no_torch + " Input (B, T, L, C): a sequence of 1-D signals.",
        ),
        _both(
            "recurrent",
            _layer("ConvLSTM2D", _N, _K),
            None,
            Counts(_convolutional_lstm(_K, _C, _N, dims=2)),
            (*_CONV, _N),
            ((_T, *IMAGE),),
            note=no_torch + " Input (B, T, H, W, C): a sequence of images.",
        ),
        _both(
            "recurrent",
            _layer("ConvLSTM3D", _N, _K),
            None,
            Counts(_convolutional_lstm(_K, _C, _N, dims=3)),
            (*_VOLUME_CONV, _N),
            ((_T, *VOLUME),),
            note=no_torch + " Input (B, T, D, H, W, C): a sequence of volumes.",
        ),
    )


def _locally_connected_entries() -> tuple[Entry, ...]:
    """The locally connected family: Keras 3 removed both layers, and PyTorch never
    had them."""
    note = (
        "A convolution whose weights differ at every position; in PyTorch, "
        "nn.Unfold then a per-position product."
    )
    return tuple(
        Entry(
            "locally connected",
            None,
            None,
            None,
            None,
            (shape,),
            removed=(f"LocallyConnected{dims}D", "3.0"),
            note=note,
        )
        for dims, shape in [(1, SEQUENCE), (2, IMAGE)]
    )


def _attention_entries() -> tuple[Entry, ...]:
    """The attention family."""
    return (
        _both(
            "attention",
            _layer("Dot", axes=-1),
            None,
            _NONE,
            (1,),
            (FEATURES, FEATURES),
            call="merge",
            note="In PyTorch: (x * y).sum(-1, keepdim=True); over a batch of "
            "matrices, torch.bmm.",
        ),
        _both(
            "attention",
            _layer("Attention"),
            None,
            _NONE,
            SEQUENCE,
            (SEQUENCE, SEQUENCE),
            call="merge",
            note="PyTorch has a function, F.scaled_dot_product_attention, and no "
            "module.",
        ),
        _both(
            "attention",
            _layer("AdditiveAttention"),
            None,
            Counts(_F),
            SEQUENCE,
            (SEQUENCE, SEQUENCE),
            call="merge",
            note="Scores tanh(q + k) summed with a learned scale per feature; "
            "PyTorch has no additive attention.",
        ),
        Entry(
            "attention",
            _layer("MultiHeadAttention", _HEADS, _KD),
            (Counts(_attention(_F, _HEADS, _KD)), (_T, _F)),
            _layer("MultiheadAttention", _F, _HEADS, batch_first=True),
            (Counts(_attention(_F, _HEADS, _KD)), (_T, _F)),
            (SEQUENCE,),
            call="self_attention",
            note="PyTorch's head width is embed_dim / num_heads; Keras' key_dim is "
            "free.",
        ),
    )


def _arithmetic_entries() -> tuple[Entry, ...]:
    """The arithmetic (merge) family: element-wise layers of several inputs."""
    operators = {
        "Add": "x + y",
        "Subtract": "x - y",
        "Multiply": "x * y",
        "Maximum": "torch.maximum(x, y)",
        "Minimum": "torch.minimum(x, y)",
    }
    return (
        *(
            _both(
                "arithmetic",
                _layer(cls),
                None,
                _NONE,
                FEATURES,
                (FEATURES, FEATURES),
                call="merge",
                note=f"In PyTorch: {expression} in forward.",
            )
            for cls, expression in operators.items()
        ),
        Entry(
            "arithmetic",
            None,
            None,
            _layer("Bilinear", _F, _F, _BI),
            (Counts(_F * _F * _BI + _BI), (_BI,)),
            (FEATURES, FEATURES),
            call="merge",
            note="Keras has no layer for x₁ᵀ A x₂ + b.",
        ),
    )


ENTRIES: tuple[Entry, ...] = (
    *_core_entries(),
    *_convolutional_entries(),
    *_pooling_entries(),
    *_activation_entries(),
    *_dropout_entries(),
    *_recurrent_entries(),
    *_locally_connected_entries(),
    *_attention_entries(),
    *_arithmetic_entries(),
)

# The notes' families, in their order.
FAMILIES = (
    "core",
    "convolutional",
    "pooling",
    "activation",
    "dropout",
    "recurrent",
    "locally connected",
    "attention",
    "arithmetic",
)


# ------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    """A tensor operation the notes list among layers: its TensorFlow function, its
    PyTorch function (a name in `torch`) with the arguments that make both compute
    the same, and its NumPy reference. Each takes `OPERATION_INPUTS[len(inputs)]`."""

    tensorflow: str  # dotted path under tf
    tf_kwargs: dict
    torch: str
    torch_kwargs: dict
    numpy: str
    numpy_kwargs: dict
    shape: tuple[int, ...]  # the output's
    note: str = ""
    operands: tuple[str, ...] = ("x",)  # the inputs' names in the table


# reductions take a (4, 6) matrix and reduce its rows; matmul takes (4, 6) @ (6, 3)
OPERATION_SHAPES = ((4, 6), (6, 3))
# float32 against NumPy's float64 result on values up to about 5: the largest error
# measured on the CPU over seeds 0-2 was 2.9e-7 (a few float32 roundings); 1e-5 leaves
# room for a GPU's other summation order. (TensorFloat-32 matmuls, TensorFlow's GPU
# default, round to 10 bits and would not fit: the book's TensorFlow runs on the CPU.)
OPERATION_TOLERANCE = 1e-5


def _reduction(name: str, torch_name: str, note: str = "", **torch_kwargs) -> Operation:
    rows = OPERATION_SHAPES[0][0]
    return Operation(
        f"math.reduce_{name}",
        {"axis": 1},
        torch_name,
        {"dim": 1, **torch_kwargs},
        {"variance": "var"}.get(name, name),
        {"axis": 1},
        (rows,),
        note,
    )


OPERATIONS: tuple[Operation, ...] = (
    _reduction("sum", "sum"),
    _reduction("prod", "prod"),
    _reduction("mean", "mean"),
    _reduction(
        "max", "amax", "torch.max(x, dim) returns the values and their indices."
    ),
    _reduction(
        "min", "amin", "torch.min(x, dim) returns the values and their indices."
    ),
    _reduction(
        "variance",
        "var",
        "torch.var divides by n - 1 unless told correction=0; TensorFlow and "
        "NumPy by n.",
        correction=0,
    ),
    _reduction("std", "std", "The same n - 1 default as torch.var.", correction=0),
    Operation(
        "linalg.matmul",
        {},
        "matmul",
        {},
        "matmul",
        {},
        (OPERATION_SHAPES[0][0], OPERATION_SHAPES[1][1]),
        "A matrix product (the @ operator in both), not the element-wise a * b.",
        operands=("a", "b"),
    ),
)


def operation_inputs(operation: Operation, seed: int = 0) -> list:
    """The NumPy float32 inputs `operation` takes: one matrix for a reduction, two
    for a matrix product."""
    import numpy as np

    checks.instance("operation", operation, Operation)
    seed = checks.non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    shapes = OPERATION_SHAPES[: len(operation.operands)]
    return [rng.normal(size=shape).astype(np.float32) for shape in shapes]


def operation_reference(operation: Operation, seed: int = 0):
    """What `operation` computes, by NumPy in float64."""
    import numpy as np

    inputs = [x.astype(np.float64) for x in operation_inputs(operation, seed)]
    return getattr(np, operation.numpy)(*inputs, **operation.numpy_kwargs)


def operations_table(framework: str, errors: dict[int, float]) -> str:
    """The operations as a Markdown table from one framework's side: its function and
    the other's, the output shape, and `errors` (this framework's largest absolute
    difference from NumPy's float64 result, by the operation's index)."""
    framework = checks.one_of("framework", framework, FRAMEWORKS)

    def call(name: str, kwargs: dict, module: str, operands: tuple[str, ...]) -> str:
        arguments = [*operands, *(f"{k}={v!r}" for k, v in kwargs.items())]
        return f"`{module}.{name}({', '.join(arguments)})`"

    lines = [
        "| TensorFlow ↔ PyTorch | output | largest error |",
        "|" + " --- |" * 3,
    ]
    if framework == "pytorch":
        lines[0] = "| PyTorch ↔ TensorFlow | output | largest error |"
    notes = []
    for index, operation in enumerate(OPERATIONS):
        operands = operation.operands
        ours = call(operation.tensorflow, operation.tf_kwargs, "tf", operands)
        theirs = call(operation.torch, operation.torch_kwargs, "torch", operands)
        if framework == "pytorch":
            ours, theirs = theirs, ours
        text = f"{ours} ↔ {theirs}"
        if operation.note:
            notes.append(operation.note)
            text += f" ({len(notes)})"
        lines.append(f"| {text} | {operation.shape} | {errors[index]:.1e} |")
    lines.append("")
    lines += [f"({number}) {note}  " for number, note in enumerate(notes, start=1)]
    return "\n".join(lines)


# ------------------------------------------------------------------- the notes' list


@dataclass(frozen=True)
class NotesRow:
    """A name as the notes' catalogue lists it, under its family, and the name it
    stands for where the notes misname it."""

    family: str
    name: str
    meant: str = ""

    @property
    def means(self) -> str:
        return self.meant or self.name


def _rows(family: str, *names: str) -> tuple[NotesRow, ...]:
    return tuple(NotesRow(family, name) for name in names)


def _dims(stem: str, suffix: str = "D") -> tuple[str, ...]:
    return tuple(f"{stem}{dims}{suffix}" for dims in (1, 2, 3))


# The notes' catalogue, table by table, as they list it: repeats and all. The rows
# of their first pooling table read GlobalMaxPool but describe windowed pooling.
NOTES_LISTING: tuple[NotesRow, ...] = (
    *_rows(
        "core",
        *("InputLayer", "Dense", "Activation", "Dropout", "Reshape", "Permute"),
        *("RepeatVector", "Lambda", "ActivityRegularization", "Masking"),
        *("Flatten", "Concatenate"),
    ),
    *_rows(
        "convolutional",
        *("Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D"),
        *("Conv3DTranspose", "ConvLSTM2D", "SeparableConv1D", "SeparableConv2D"),
        *_dims("UpSampling"),
        *_dims("ZeroPadding"),
        *_dims("Cropping"),
    ),
    *(
        NotesRow("pooling", name, meant)
        for name, meant in zip(_dims("GlobalMaxPool"), _dims("MaxPooling"))
    ),
    *_rows(
        "pooling",
        *_dims("AveragePooling"),
        *_dims("GlobalMaxPool"),
        *_dims("GlobalAveragePooling"),
    ),
    *_rows(
        "activation",
        *("Activation", "LeakyReLU", "PReLU", "ThresholdedReLU", "ELU", "Softmax"),
    ),
    *_rows("dropout", "Dropout", *_dims("SpatialDropout")),
    *_rows("recurrent", "SimpleRNN", "GRU", "LSTM", *_dims("ConvLSTM")),
    *_rows("locally connected", "LocallyConnected1D", "LocallyConnected2D"),
    *_rows(
        "attention",
        *("Dot", "tf.linalg.matmul", "Attention", "AdditiveAttention"),
        "MultiHeadAttention",
    ),
    *_rows(
        "arithmetic",
        *("Add", "Subtract", "Multiply", "Maximum", "Minimum"),
        *("add", "subtract", "multiply", "maximum", "minimum"),
    ),
    *_rows(
        "dimension reduction",
        *(f"tf.math.reduce_{name}" for name in ("sum", "prod", "mean", "max")),
        *(f"tf.math.reduce_{name}" for name in ("min", "variance", "std")),
    ),
)


def where_covered(name: str) -> str:
    """Where the catalogue shows a name of the notes' list: "layer <index>" (an
    entry's Keras layer, or the one Keras removed), "operation <index>", "function
    of layer <index>" (keras.layers.add and the like build the layer of that name),
    or "" where it shows nothing."""
    name = checks.instance("name", name, str)
    for index, entry in enumerate(ENTRIES):
        keras_names = {spec.cls for spec in entry.keras or ()}
        if entry.removed:
            keras_names.add(entry.removed[0])
        if name in keras_names:
            return f"layer {index}"
    for index, operation in enumerate(OPERATIONS):
        if name == f"tf.{operation.tensorflow}":
            return f"operation {index}"
    if name.islower():
        covered = where_covered(name.capitalize())
        if covered:
            return f"function of {covered}"
    return ""


def verdict(
    keras: Measured | None,
    torch: Measured | None,
    channels_first: bool,
    known: tuple[str, ...] = (),
) -> str:
    """How a Keras layer and its PyTorch counterpart compare: "same", what they differ
    in (`known` differences included), or which framework has no such layer. A PyTorch
    output of the input's rank is compared in Keras' layout when `channels_first`."""
    if keras is None:
        return "no Keras layer"
    if torch is None:
        return "no PyTorch layer"
    differences = []
    if keras.counts.trainable != torch.counts.trainable:
        differences.append("parameters")
    if keras.counts.state != torch.counts.state:
        differences.append("state")
    shape = tuple(torch.shape)
    if channels_first and len(shape) > 1 and len(shape) == len(keras.shape):
        shape = keras_layout(shape)
    if shape != tuple(keras.shape):
        differences.append("output shape")
    for label in sorted(set(keras.defaults) | set(torch.defaults)):
        if keras.defaults.get(label) != torch.defaults.get(label):
            differences.append(f"default {label}")
    differences += known
    return "differ: " + ", ".join(differences) if differences else "same"


def _specs(specs: tuple[Spec, ...] | None) -> str:
    return "—" if specs is None else " → ".join(f"`{spec}`" for spec in specs)


def _pair(mine, theirs) -> str:
    # a shape never parts across lines: its commas are followed by no-break spaces
    return " / ".join(
        "—" if value is None else str(value).replace(", ", ",\u00a0")
        for value in (mine, theirs)
    )


def markdown_table(framework: str, measured: dict[int, Measured]) -> str:
    """The catalogue as Markdown, one table per family, from one framework's side:
    its layers and what they measured, next to the other framework's layers and what
    the formulas expect of them. Parameters (+ state) and output shapes (batch
    excluded) read "measured / formula", under the headers "params" and "shape".

    `framework`: "pytorch" or "tensorflow"; `measured`: what its layers measured, by the
    entry's index in ENTRIES (absent where it has no layer). Notes and differing
    defaults become footnotes under their family's table, numbered per family."""
    framework = checks.one_of("framework", framework, FRAMEWORKS)
    other = "tensorflow" if framework == "pytorch" else "pytorch"
    ours, theirs = (
        ("PyTorch", "Keras") if framework == "pytorch" else ("Keras", "PyTorch")
    )
    sections = []
    for family in FAMILIES:
        lines = [
            f"**{family}**",
            "",
            # short headers: the table fits a column of a side-by-side page
            f"| comparison | {ours} ↔ {theirs} | params | shape |",
            "|" + " --- |" * 4,
        ]
        notes = []
        for index, entry in enumerate(ENTRIES):
            if entry.family != family:
                continue
            mine, their = measured.get(index), entry.expected(other)
            keras, torch = (their, mine) if framework == "pytorch" else (mine, their)
            result = entry.compare(keras, torch)
            result = result if result == "same" else f"**{result}**"
            text = [entry.note] if entry.note else []
            text += [
                f"Default {d.label}: Keras {d.keras_value:g}, "
                f"PyTorch {d.torch_value:g}."
                for d in entry.defaults
                if d.keras_value != d.torch_value
            ]
            if text:
                notes.append(" ".join(text))
                result += f" ({len(notes)})"
            our_specs, their_specs = (
                (entry.torch, entry.keras)
                if framework == "pytorch"
                else (entry.keras, entry.torch)
            )
            counts = _pair(*(m and m.counts for m in (mine, their)))
            shapes = _pair(*(m and m.shape for m in (mine, their)))
            layers = f"{_specs(our_specs)} ↔ {_specs(their_specs)}"
            lines.append(f"| {result} | {layers} | {counts} | {shapes} |")
        lines.append("")
        lines += [f"({number}) {note}  " for number, note in enumerate(notes, 1)]
        sections.append("\n".join(lines))
    return "\n\n".join(sections)
