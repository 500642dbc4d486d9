"""Small numpy loaders: a registered file in, the arrays a chapter trains on out.

Each returns its ``DataFile`` too, so the page can print where the numbers came from
(``DataFile.provenance()``), stand-in or not.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np

from nnbook import checks

from .fetching import DataFile, fetch, temp_file_beside

__all__ = [
    "BOSTON_COLUMNS",
    "CIFAR10_CLASSES",
    "Split",
    "load_boston_housing",
    "load_cifar10",
    "load_text",
]

Split = tuple[np.ndarray, np.ndarray]


def load_text(name: str = "tinyshakespeare", **fetch_kwargs) -> tuple[str, DataFile]:
    """A text corpus as one str (UTF-8), plus its DataFile."""
    data_file = fetch(name, **fetch_kwargs)
    return data_file.path.read_text(encoding="utf-8"), data_file


# --------------------------------------------------------------------------- Boston

BOSTON_COLUMNS = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE",
    "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV",
)  # fmt: skip


def load_boston_housing(
    *,
    allow_stand_in: bool = False,
    test_split: float = 0.2,
    seed: int = 113,
    **fetch_kwargs,
) -> tuple[Split, Split, DataFile]:
    """``(x_train, y_train), (x_test, y_test), data_file``, split as Keras does.

    With Keras' npz this reproduces ``keras.datasets.boston_housing.load_data``
    exactly. With the CSV stand-in the same shuffle and split are applied to the same
    506 rows, but the split is not guaranteed to be Keras' (the npz's row order is not
    checked against the CSV's).
    """
    checks.fraction("test_split", test_split)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed: expected an int, got {seed!r}")
    data_file = fetch("boston_housing", allow_stand_in=allow_stand_in, **fetch_kwargs)
    if data_file.path.suffix == ".csv":
        x, y = _read_boston_csv(data_file.path)
    else:
        with np.load(data_file.path, allow_pickle=False) as f:
            x, y = f["x"], f["y"]

    # Keras' procedure, line for line (keras/src/datasets/boston_housing.py).
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (
        (np.array(x[:cut]), np.array(y[:cut])),
        (np.array(x[cut:]), np.array(y[cut:])),
        data_file,
    )


def _read_boston_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, encoding="utf-8") as f:
        header = tuple(h.strip().strip('"') for h in f.readline().split(","))
    if header != BOSTON_COLUMNS:
        raise ValueError(
            f"{path}: expected header {','.join(BOSTON_COLUMNS)}, "
            f"got {','.join(header)}"
        )
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return table[:, :-1], table[:, -1]


# --------------------------------------------------------------------------- CIFAR-10

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

_CIFAR_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_cifar10(
    *, allow_stand_in: bool = False, **fetch_kwargs
) -> tuple[Split, Split, DataFile]:
    """``(x_train, y_train), (x_test, y_test), data_file``: uint8 NHWC, int64 labels.

    Images are (N, 32, 32, 3); labels index ``CIFAR10_CLASSES``. The archive is
    decoded once; the arrays are cached as ``<dataset>-<sha256[:12]>.npz`` beside it.
    Order: the python archive's batch order; for the JPEG stand-in, by class then
    file name (shuffle before training).
    """
    data_file = fetch("cifar10", allow_stand_in=allow_stand_in, **fetch_kwargs)
    dataset = data_file.dataset
    npz = data_file.path.with_name(f"{dataset.name}-{dataset.sha256[:12]}.npz")
    arrays = _read_cifar_npz(npz)
    if arrays is None:
        if dataset.filename.endswith("-jpeg.tar.gz") or data_file.is_stand_in:
            arrays = _decode_cifar_jpeg(data_file.path)
        else:
            arrays = _decode_cifar_python(data_file.path)
        with temp_file_beside(npz) as temp:
            # A file object, not a path: np.savez would append ".npz" to the name.
            with open(temp, "wb") as f:
                np.savez(f, **arrays)
            os.replace(temp, npz)
    return (
        (arrays["x_train"], arrays["y_train"]),
        (arrays["x_test"], arrays["y_test"]),
        data_file,
    )


def _read_cifar_npz(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None if absent or unreadable (then we decode again)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in _CIFAR_KEYS}
    except (OSError, KeyError, ValueError, EOFError):
        return None
    ok = all(
        arrays[f"x_{s}"].shape[1:] == (32, 32, 3)
        and len(arrays[f"x_{s}"]) == len(arrays[f"y_{s}"])
        for s in ("train", "test")
    )
    return arrays if ok else None


def _decode_cifar_python(archive: Path) -> dict[str, np.ndarray]:
    """The official tarball: pickled dicts with b'data' (N, 3072) and b'labels'."""
    batches: dict[str, dict] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            base = PurePosixPath(member.name).name
            if member.isfile() and (
                base.startswith("data_batch_") or base == "test_batch"
            ):
                # pickle is safe enough: fetch verified the archive's sha256.
                batches[base] = pickle.load(tar.extractfile(member), encoding="bytes")
    names = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
    missing = [n for ns in names.values() for n in ns if n not in batches]
    if missing:
        raise ValueError(f"{archive}: not a CIFAR-10 python archive, missing {missing}")
    arrays = {}
    for split, members in names.items():
        data = np.concatenate(
            [np.asarray(batches[n][b"data"], dtype=np.uint8) for n in members]
        )
        # Rows are channel-first (1024 R, 1024 G, 1024 B); the book uses NHWC.
        arrays[f"x_{split}"] = np.ascontiguousarray(
            data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        )
        arrays[f"y_{split}"] = np.concatenate(
            [np.asarray(batches[n][b"labels"], dtype=np.int64) for n in members]
        )
    return arrays


def _decode_cifar_jpeg(archive: Path) -> dict[str, np.ndarray]:
    """The JPEG stand-in: ``{train,test}/<class>/<file>.jpg``, by class then file."""
    try:
        from PIL import Image
    except ImportError as err:  # Pillow is only needed for this stand-in
        raise ImportError(
            "load_cifar10: the JPEG stand-in needs Pillow (pip install pillow)"
        ) from err
    found: dict[str, list[tuple[int, str, bytes]]] = {"train": [], "test": []}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = PurePosixPath(member.name).parts[-3:]  # tolerate a top folder
            if len(parts) != 3 or parts[0] not in found:
                continue
            split, cls, fname = parts
            if cls not in CIFAR10_CLASSES:
                raise ValueError(
                    f"{archive}: unknown class folder {cls!r} in {member.name}"
                )
            found[split].append(
                (CIFAR10_CLASSES.index(cls), fname, tar.extractfile(member).read())
            )
    arrays = {}
    for split, items in found.items():
        if not items:
            raise ValueError(f"{archive}: no images under {split}/")
        items.sort(key=lambda item: item[:2])  # fixed order, whatever the tar order
        images = []
        for _, fname, raw in items:
            image = np.asarray(
                Image.open(io.BytesIO(raw)).convert("RGB"), dtype=np.uint8
            )
            if image.shape != (32, 32, 3):
                raise ValueError(
                    f"{archive}: {split}/{fname} is {image.shape}, expected (32, 32, 3)"
                )
            images.append(image)
        arrays[f"x_{split}"] = np.stack(images)
        arrays[f"y_{split}"] = np.array(
            [label for label, _, _ in items], dtype=np.int64
        )
    return arrays
