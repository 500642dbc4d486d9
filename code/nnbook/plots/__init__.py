"""Framework-neutral plotting helpers: one look for every figure in the book.

Functions take plain numbers (lists, NumPy arrays, Python floats), never tensors, and
return a matplotlib Figure made with pyplot, so a notebook shows it once, at the end of
the cell. One module per chapter (or group of chapters), all re-exported here: the
chapters call `plots.<name>`. What the figures share (size, axes style, legend, the
loss-and-accuracy panels, the mean-and-band drawing) is in `_common`.
"""

from ._common import FIGSIZE
from .attention import attention_maps, band_panels
from .convolutions import image_grid, padding_windows, ratio_curves, training_curves
from .mlp import activations, fit_and_recovery, loss_curve, singular_values
from .recurrent import sequence_training, time_step_norms
from .resnets import depth_curves, gradient_norms
from .transformer import char_lm_curves, head_statistics, positional_encoding

__all__ = [
    "FIGSIZE",
    # layers and models, fully connected networks, depth
    "loss_curve",
    "fit_and_recovery",
    "activations",
    "singular_values",
    # convolutions (training_curves also in residual networks)
    "padding_windows",
    "ratio_curves",
    "training_curves",
    "image_grid",
    # residual networks
    "gradient_norms",
    "depth_curves",
    # attention (attention_maps also in the transformer)
    "band_panels",
    "attention_maps",
    # recurrent networks
    "sequence_training",
    "time_step_norms",
    # the transformer
    "positional_encoding",
    "char_lm_curves",
    "head_statistics",
]
