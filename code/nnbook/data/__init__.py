"""Datasets for the book: checksummed files, local mirrors, and small numpy loaders.

Every file is pinned by SHA-256 and fetched by name. Three modules, one job each:

``registry``
    what each file is: URL, size, SHA-256, where mirrors keep it, stand-ins;
``fetching``
    getting a verified copy into the cache: the cache, then mirror folders
    (``NNBOOK_DATA_MIRROR``), then a download by pooch;
``loaders``
    numpy arrays from those files (text, Boston housing, CIFAR-10).

Stand-ins (re-encoded or re-sourced copies of a canonical file) are only ever
returned when asked for, and the returned ``DataFile`` says so in ``provenance()``.
"""

from .fetching import (
    CACHE_ENV,
    MIRROR_ENV,
    DataFile,
    DataUnavailableError,
    Origin,
    PathLike,
    fetch,
    resolve_cache_dir,
    resolve_mirrors,
)
from .loaders import (
    BOSTON_COLUMNS,
    CIFAR10_CLASSES,
    Split,
    load_boston_housing,
    load_cifar10,
    load_text,
)
from .registry import REGISTRY, Dataset

__all__ = [
    "BOSTON_COLUMNS",
    "CACHE_ENV",
    "CIFAR10_CLASSES",
    "DataFile",
    "DataUnavailableError",
    "Dataset",
    "MIRROR_ENV",
    "Origin",
    "PathLike",
    "REGISTRY",
    "Split",
    "fetch",
    "load_boston_housing",
    "load_cifar10",
    "load_text",
    "resolve_cache_dir",
    "resolve_mirrors",
]
