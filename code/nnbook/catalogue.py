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


@dataclass(frozen=True)
class Spec:
    """One layer: its class in `keras.layers` or `torch.nn`, and its arguments."""

    cls: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __str__(self) -> str:
        arguments = [repr(a) for a in self.args] + [
            f"{k}={v!r}" for k, v in self.kwargs.items()
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
    inputs: a list in Keras, arguments in PyTorch) or "self_attention" (one input as
    query, key and value). A PyTorch layer that returns a tuple (recurrent layers,
    attention) is measured by its first element."""

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
_POOL = (_H // 2, _W // 2)
_NONE = Counts(0)


def _core_entries() -> tuple[Entry, ...]:
    """The core family."""
    return (
        Entry(
            "core",
            _layer("Dense", _U),
            (Counts(_dense(_F, _U)), (_U,)),
            _layer("Linear", _F, _U),
            (Counts(_dense(_F, _U)), (_U,)),
            (FEATURES,),
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


def _convolution_entries() -> tuple[Entry, ...]:
    """The convolution family."""
    return (
        Entry(
            "convolution",
            _layer("Conv1D", _N, _K),
            (Counts(_conv(_K, _F, _N, dims=1)), (_valid(_T, _K), _N)),
            _layer("Conv1d", _F, _N, _K),
            (Counts(_conv(_K, _F, _N, dims=1)), (_N, _valid(_T, _K))),
            (SEQUENCE,),
            channels_first=True,
            note="PyTorch's 1-D convolutions take (B, C, L): the features first, "
            "the time last.",
        ),
        Entry(
            "convolution",
            _layer("Conv2D", _N, _K),
            (Counts(_conv(_K, _C, _N)), (*_CONV, _N)),
            _layer("Conv2d", _C, _N, _K),
            (Counts(_conv(_K, _C, _N)), (_N, *_CONV)),
            (IMAGE,),
            channels_first=True,
        ),
        Entry(
            "convolution",
            _layer("DepthwiseConv2D", _K),
            (Counts(_conv(_K, _C, _C, groups=_C)), (*_CONV, _C)),
            _layer("Conv2d", _C, _C, _K, groups=_C),
            (Counts(_conv(_K, _C, _C, groups=_C)), (_C, *_CONV)),
            (IMAGE,),
            channels_first=True,
        ),
        Entry(
            "convolution",
            _layer("SeparableConv2D", _N, _K),
            (
                Counts(_conv(_K, _C, _C, groups=_C, bias=False) + _conv(1, _C, _N)),
                (*_CONV, _N),
            ),
            (
                Spec("Conv2d", (_C, _C, _K), {"groups": _C, "bias": False}),
                Spec("Conv2d", (_C, _N, 1)),
            ),
            (
                Counts(_conv(_K, _C, _C, groups=_C, bias=False) + _conv(1, _C, _N)),
                (_N, *_CONV),
            ),
            (IMAGE,),
            channels_first=True,
            note="PyTorch has no single layer: a depthwise, then a 1 × 1 convolution.",
        ),
        Entry(
            "convolution",
            _layer("Conv2DTranspose", _N, _K, strides=2),
            (Counts(_conv(_K, _C, _N)), (*_UP, _N)),
            _layer("ConvTranspose2d", _C, _N, _K, stride=2),
            (Counts(_conv(_K, _C, _N)), (_N, *_UP)),
            (IMAGE,),
            channels_first=True,
        ),
    )


def _pooling_entries() -> tuple[Entry, ...]:
    """The pooling family."""
    return (
        Entry(
            "pooling",
            _layer("MaxPooling2D", 2),
            (_NONE, (*_POOL, _C)),
            _layer("MaxPool2d", 2),
            (_NONE, (_C, *_POOL)),
            (IMAGE,),
            channels_first=True,
        ),
        Entry(
            "pooling",
            _layer("AveragePooling2D", 2),
            (_NONE, (*_POOL, _C)),
            _layer("AvgPool2d", 2),
            (_NONE, (_C, *_POOL)),
            (IMAGE,),
            channels_first=True,
        ),
        Entry(
            "pooling",
            _layer("GlobalAveragePooling2D"),
            (_NONE, (_C,)),
            _layer("AdaptiveAvgPool2d", 1),
            (_NONE, (_C, 1, 1)),
            (IMAGE,),
            channels_first=True,
            note="PyTorch keeps the pooled axes with size 1; Keras drops them unless "
            "keepdims=True.",
        ),
    )


def _activation_entries() -> tuple[Entry, ...]:
    """The activation family."""
    return (
        Entry(
            "activation",
            _layer("ReLU"),
            (_NONE, (_F,)),
            _layer("ReLU"),
            (_NONE, (_F,)),
            (FEATURES,),
        ),
        Entry(
            "activation",
            _layer("Softmax"),
            (_NONE, (_F,)),
            _layer("Softmax", dim=-1),
            (_NONE, (_F,)),
            (FEATURES,),
            note="Keras normalises over the last axis by default; PyTorch needs dim.",
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
    )


def _dropout_entries() -> tuple[Entry, ...]:
    """The dropout family."""
    return (
        Entry(
            "dropout",
            _layer("Dropout", 0.5),
            (_NONE, (_F,)),
            _layer("Dropout", 0.5),
            (_NONE, (_F,)),
            (FEATURES,),
        ),
        Entry(
            "dropout",
            _layer("SpatialDropout2D", 0.5),
            (_NONE, IMAGE),
            _layer("Dropout2d", 0.5),
            (_NONE, torch_layout(IMAGE)),
            (IMAGE,),
            channels_first=True,
        ),
    )


def _recurrent_entries() -> tuple[Entry, ...]:
    """The recurrent family."""
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
            _layer("LSTM", _R, return_sequences=True),
            (Counts(_recurrent(4, _F, _R, bias_vectors=1)), (_T, _R)),
            _layer("LSTM", _F, _R, batch_first=True),
            (Counts(_recurrent(4, _F, _R, bias_vectors=2)), (_T, _R)),
            (SEQUENCE,),
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
    )


def _attention_entries() -> tuple[Entry, ...]:
    """The attention family."""
    return (
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
        Entry(
            "attention",
            _layer("Attention"),
            (_NONE, (_T, _F)),
            None,
            None,
            (SEQUENCE, SEQUENCE),
            call="merge",
            note="PyTorch has a function, F.scaled_dot_product_attention, and no "
            "module.",
        ),
    )


def _merge_entries() -> tuple[Entry, ...]:
    """The merge, arithmetic family."""
    return (
        Entry(
            "merge",
            _layer("Add"),
            (_NONE, (_F,)),
            None,
            None,
            (FEATURES, FEATURES),
            call="merge",
            note="In PyTorch an operator in forward: x + y.",
        ),
        Entry(
            "merge",
            _layer("Multiply"),
            (_NONE, (_F,)),
            None,
            None,
            (FEATURES, FEATURES),
            call="merge",
            note="In PyTorch: x * y.",
        ),
        Entry(
            "merge",
            _layer("Concatenate"),
            (_NONE, (2 * _F,)),
            None,
            None,
            (FEATURES, FEATURES),
            call="merge",
            note="In PyTorch: torch.cat([x, y], dim=-1).",
        ),
        Entry(
            "merge",
            None,
            None,
            _layer("Bilinear", _F, _F, _BI),
            (Counts(_F * _F * _BI + _BI), (_BI,)),
            (FEATURES, FEATURES),
            call="merge",
            note="Keras has no layer for x₁ᵀ A x₂ + b.",
        ),
    )


def _reductions_entries() -> tuple[Entry, ...]:
    """The reductions family."""
    return (
        Entry(
            "reductions",
            _layer("GlobalAveragePooling1D"),
            (_NONE, (_F,)),
            (Spec("AdaptiveAvgPool1d", (1,)), Spec("Flatten")),
            (_NONE, (_F,)),
            (SEQUENCE,),
            channels_first=True,
        ),
        Entry(
            "reductions",
            _layer("GlobalMaxPooling2D"),
            (_NONE, (_C,)),
            (Spec("AdaptiveMaxPool2d", (1,)), Spec("Flatten")),
            (_NONE, (_C,)),
            (IMAGE,),
            channels_first=True,
        ),
    )


ENTRIES: tuple[Entry, ...] = (
    *_core_entries(),
    *_convolution_entries(),
    *_pooling_entries(),
    *_activation_entries(),
    *_dropout_entries(),
    *_recurrent_entries(),
    *_attention_entries(),
    *_merge_entries(),
    *_reductions_entries(),
)

FAMILIES = (
    "core",
    "convolution",
    "pooling",
    "activation",
    "dropout",
    "recurrent",
    "attention",
    "merge",
    "reductions",
)


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
    return " / ".join("—" if value is None else str(value) for value in (mine, theirs))


def markdown_table(framework: str, measured: dict[int, Measured]) -> str:
    """The catalogue as a Markdown table from one framework's side: its layers and what
    they measured, next to the other framework's layers and what the formulas expect of
    them, by family. Parameters (+ state) and output shapes (batch excluded) read
    "measured / formula".

    `framework`: "pytorch" or "tensorflow"; `measured`: what its layers measured, by the
    entry's index in ENTRIES (absent where it has no layer). Notes and differing
    defaults become numbered footnotes under the table."""
    framework = checks.one_of("framework", framework, FRAMEWORKS)
    other = "tensorflow" if framework == "pytorch" else "pytorch"
    ours, theirs = (
        ("PyTorch", "Keras") if framework == "pytorch" else ("Keras", "PyTorch")
    )
    lines = [
        f"| comparison | {ours} ↔ {theirs} | parameters | output shape |",
        "|" + " --- |" * 4,
    ]
    notes, family = [], None
    for index, entry in enumerate(ENTRIES):
        if entry.family != family:
            family = entry.family
            lines.append(f"| **{family}** | | | |")
        mine, their = measured.get(index), entry.expected(other)
        keras, torch = (their, mine) if framework == "pytorch" else (mine, their)
        result = verdict(keras, torch, entry.channels_first, entry.known)
        result = result if result == "same" else f"**{result}**"
        text = [entry.note] if entry.note else []
        text += [
            f"Default {d.label}: Keras {d.keras_value:g}, PyTorch {d.torch_value:g}."
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
    lines += [f"({number}) {note}  " for number, note in enumerate(notes, start=1)]
    return "\n".join(lines)
