"""nnbook: the package behind the book "Neural Network Architectures, side by side in PyTorch and TensorFlow".

Framework-neutral modules sit here (profiles, seeding, data, plots, page notes); `nnbook.torch` and `nnbook.tf`
hold the same module and class names for each framework. Importing `nnbook` imports neither framework.
"""

__version__ = "0.1.0"
