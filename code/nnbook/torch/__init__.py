"""PyTorch side of the book: the same module and class names as `nnbook.tf`."""

from __future__ import annotations

import torch


def device() -> torch.device:
    """The device experiments run on: the GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
