"""nnbook: the package behind the book "Neural Network Architectures, side by side in
PyTorch and TensorFlow".

`nnbook.torch` and `nnbook.tf` hold the same module and class names, one per framework.
The framework-neutral modules beside them (importing `nnbook` imports neither
framework):

Shared by every chapter
    `profiles` (quick / full sizes), `seeding`, `checks` (argument checks),
    `page` (notes, glued numbers, claims), `plots`, `data` (datasets: registry,
    fetching, loaders), `schedules` (learning rates), `history` (what a training run
    measured, and the loop bookkeeping).
Twins of a framework module (the parts both frameworks' versions share)
    `graphs` (+ `catalogue`, the layer catalogue), `convolutions` (size and cost
    arithmetic, the CNN's configuration), `training` (CIFAR-10 classifier training),
    `resnet`, `recurrent` (the long-sequence task), `attention` (head statistics),
    `transformer` (configuration, positional encoding, sampling), with `text` (the
    character-level data pipeline).
The book's Sphinx extension
    `sphinxext`.
"""

__version__ = "0.1.0"
