"""Datasets for the book: checksummed files, local mirrors, and small numpy loaders.

Every file is pinned by SHA-256. ``fetch`` looks in this order and returns the
first copy that verifies:

1. the cache (``NNBOOK_DATA_CACHE``, default ``pooch.os_cache("nnbook")``);
2. each mirror directory in ``NNBOOK_DATA_MIRROR`` (``os.pathsep``-separated),
   which is copied into the cache;
3. the canonical URL, downloaded with pooch.

Cache and mirrors share one layout, ``<dir>/<Dataset.mirror_path>``, so a copy
found anywhere can be dropped into either. Stand-ins (re-encoded or re-sourced
copies of a canonical file) are only ever returned when asked for, and the
returned ``DataFile`` says so in ``provenance()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import pickle
import sys
import tarfile
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal, Union

import numpy as np

with warnings.catch_warnings():
    # pooch imports tqdm.auto, which warns in a Jupyter kernel without ipywidgets; the layer shows bars only in
    # a terminal anyway, and the warning would land in the book's pages
    warnings.filterwarnings("ignore", message="IProgress not found")
    import pooch

__all__ = [
    "CACHE_ENV",
    "CIFAR10_CLASSES",
    "DataFile",
    "DataUnavailableError",
    "Dataset",
    "MIRROR_ENV",
    "REGISTRY",
    "fetch",
    "load_boston_housing",
    "load_cifar10",
    "load_text",
    "resolve_cache_dir",
    "resolve_mirrors",
]

CACHE_ENV = "NNBOOK_DATA_CACHE"
MIRROR_ENV = "NNBOOK_DATA_MIRROR"

PathLike = Union[str, "os.PathLike[str]"]
Origin = Literal["cache", "mirror", "download"]

_CHUNK = 1 << 20  # 1 MiB: big enough to hash at disk speed, small enough to stream


@dataclass(frozen=True)
class Dataset:
    """One pinned file: where it comes from, how to recognise it, where mirrors keep it."""

    name: str
    filename: str
    url: str | None  # None: a mirror-only stand-in with no public download
    sha256: str
    size: int | None  # bytes; None when not pinned (the hash still is)
    canonical: bool
    description: str
    mirror_path: str  # relative to a mirror (and cache) directory, "/"-separated
    stand_in_for: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        # Registry entries are hand-written; catch typos at import time, not at fetch time.
        sha = self.sha256
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError(f"sha256: expected 64 lowercase hex digits, got {sha!r}")
        parts = PurePosixPath(self.mirror_path).parts
        if not parts or PurePosixPath(self.mirror_path).is_absolute() or ".." in parts:
            raise ValueError(
                f"mirror_path: expected a relative path without '..', got {self.mirror_path!r}"
            )
        if parts[-1] != self.filename:
            raise ValueError(
                f"mirror_path: expected it to end in filename {self.filename!r}, "
                f"got {self.mirror_path!r}"
            )
        if self.size is not None and self.size < 0:
            raise ValueError(
                f"size: expected a byte count >= 0 or None, got {self.size!r}"
            )
        if self.canonical and self.stand_in_for is not None:
            raise ValueError(
                f"stand_in_for: a canonical dataset cannot stand in, got {self.stand_in_for!r}"
            )

    @property
    def is_stand_in(self) -> bool:
        return self.stand_in_for is not None


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="tinyshakespeare",
            filename="input.txt",
            url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
            sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            size=1115394,
            canonical=True,
            description="Tiny Shakespeare: 1,115,394 characters of plays, from char-rnn.",
            mirror_path="tinyshakespeare/input.txt",
        ),
        Dataset(
            name="boston_housing",
            filename="boston_housing.npz",
            url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz",
            sha256="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
            size=None,
            canonical=True,
            description="Boston housing as Keras ships it: x (506, 13), y (506,) median value in $1000s.",
            mirror_path="boston_housing/boston_housing.npz",
        ),
        Dataset(
            name="boston_housing_csv",
            filename="boston_housing.csv",
            url=None,
            sha256="04ea3ed0aa63691cfedf388349eafc1213e91e00f8e4d31747534692c0f1ce02",
            size=35230,
            canonical=False,
            description="Boston housing as CSV: 506 rows, CRIM..LSTAT then MEDV.",
            mirror_path="boston_housing/boston_housing.csv",
            stand_in_for="boston_housing",
            note=(
                "same 506 rows in original order (Harrison & Rubinfeld 1978, StatLib/UCI), "
                "but not Keras' file, so not Keras' exact split"
            ),
        ),
        Dataset(
            name="cifar10",
            filename="cifar-10-python.tar.gz",
            url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            size=170498071,
            canonical=True,
            description="CIFAR-10, python version: 50,000 train and 10,000 test 32x32 RGB images.",
            mirror_path="cifar10/cifar-10-python.tar.gz",
        ),
        Dataset(
            name="cifar10_jpeg",
            filename="cifar-10-jpeg.tar.gz",
            url=None,
            sha256="0bfcb68717a0ecb0d51ed61034906a773d48d424d94b766a46d7d1c55702a4d9",
            size=19432150,
            canonical=False,
            description="CIFAR-10 as JPEG files: train/<class>/NNNN.jpg, test/<class>/NNNN.jpg.",
            mirror_path="cifar10-jpeg/cifar-10-jpeg.tar.gz",
            stand_in_for="cifar10",
            note=(
                "lossy JPEG re-encoding of the same images and labels; accuracy on it is "
                "close to but not the same as on canonical CIFAR-10"
            ),
        ),
    ]
}


class DataUnavailableError(RuntimeError):
    """No verified copy of a dataset could be found or downloaded."""


@dataclass(frozen=True)
class DataFile:
    """A verified local file and how we got it."""

    path: Path
    dataset: Dataset
    origin: Origin

    @property
    def is_stand_in(self) -> bool:
        return self.dataset.is_stand_in

    def provenance(self) -> str:
        """One line for a page to print under its results."""
        d = self.dataset
        head = f"{d.name}: {d.filename}, sha256 {d.sha256[:12]}…"
        if d.stand_in_for is not None:
            note = d.note.rstrip(". ")
            return f"{head}, STAND-IN for {d.stand_in_for}" + (
                f" ({note})" if note else ""
            )
        return f"{head}, {'canonical' if d.canonical else 'non-canonical'}"


# --------------------------------------------------------------------------- settings


def resolve_cache_dir(cache_dir: PathLike | None = None) -> Path:
    """The cache directory: the argument, else $NNBOOK_DATA_CACHE, else pooch's OS cache."""
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, os.PathLike)) or str(cache_dir) == "":
            raise ValueError(
                f"cache_dir: expected a directory path or None, got {cache_dir!r}"
            )
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV, "")
    return Path(env).expanduser() if env else Path(pooch.os_cache("nnbook"))


def resolve_mirrors(mirrors: PathLike | Iterable[PathLike] | None = None) -> list[Path]:
    """Mirror directories: the argument, else $NNBOOK_DATA_MIRROR (os.pathsep-separated).

    A str is split on os.pathsep like the variable; ``[]`` means "no mirrors".
    Directories that do not exist are kept: the error message lists them.
    """
    if mirrors is None:
        mirrors = os.environ.get(MIRROR_ENV, "")
    if isinstance(mirrors, str):
        return [Path(p).expanduser() for p in mirrors.split(os.pathsep) if p]
    if isinstance(mirrors, os.PathLike):
        return [Path(mirrors).expanduser()]
    if isinstance(mirrors, Iterable):
        items = list(mirrors)
        if all(isinstance(p, (str, os.PathLike)) for p in items):
            return [Path(p).expanduser() for p in items if str(p)]
    raise ValueError(
        f"mirrors: expected a path, a list of paths, or None, got {mirrors!r}"
    )


# --------------------------------------------------------------------------- fetch


def fetch(
    name: str,
    *,
    allow_stand_in: bool = False,
    cache_dir: PathLike | None = None,
    mirrors: PathLike | Iterable[PathLike] | None = None,
    registry: Mapping[str, Dataset] | None = None,
) -> DataFile:
    """Return a verified local copy of dataset ``name`` (cache, then mirrors, then download).

    With ``allow_stand_in=True`` a canonical dataset that cannot be had is replaced by
    its registered stand-in; the result's ``is_stand_in`` and ``provenance()`` say so.
    """
    reg = REGISTRY if registry is None else registry
    if not isinstance(reg, Mapping) or not all(
        isinstance(d, Dataset) for d in reg.values()
    ):
        raise ValueError(
            f"registry: expected a mapping of name -> Dataset, got {registry!r}"
        )
    if not isinstance(name, str) or name not in reg:
        raise ValueError(f"name: expected one of {sorted(reg)}, got {name!r}")
    if not isinstance(allow_stand_in, bool):
        raise ValueError(
            f"allow_stand_in: expected True or False, got {allow_stand_in!r}"
        )
    dataset = reg[name]
    cache = resolve_cache_dir(cache_dir)
    mirror_dirs = resolve_mirrors(mirrors)

    # A stand-in changes results (e.g. lossy JPEG), so it must never arrive by accident.
    if dataset.stand_in_for is not None and not allow_stand_in:
        raise ValueError(
            f"name: {name!r} is a stand-in for {dataset.stand_in_for!r} "
            f"({dataset.note or 'not the canonical file'}); ask for it explicitly with "
            f"fetch({name!r}, allow_stand_in=True), or fetch({dataset.stand_in_for!r})"
        )

    try:
        return _fetch_one(dataset, cache, mirror_dirs)
    except DataUnavailableError as missing:
        stand_ins = [d for d in reg.values() if d.stand_in_for == name]
        if not allow_stand_in or not stand_ins:
            raise
        reasons = [str(missing)]
        for stand_in in stand_ins:
            try:
                return _fetch_one(stand_in, cache, mirror_dirs)
            except DataUnavailableError as err:
                reasons.append(str(err))
        raise DataUnavailableError(
            f"neither {name!r} nor its stand-in(s) {[d.name for d in stand_ins]} are available.\n\n"
            + "\n\n".join(reasons)
        ) from missing


def _fetch_one(dataset: Dataset, cache: Path, mirror_dirs: list[Path]) -> DataFile:
    """Cache, then mirrors, then download, for one registry entry (no stand-in logic)."""
    target = cache.joinpath(*PurePosixPath(dataset.mirror_path).parts)

    if target.is_file():
        if _problem(target, dataset) is None:
            return DataFile(target, dataset, "cache")
        # Corrupt (e.g. a truncated copy someone dropped in): never use it, replace it.
        target.unlink()

    tried: list[str] = []
    for mirror in mirror_dirs:
        src = mirror.joinpath(*PurePosixPath(dataset.mirror_path).parts)
        if not src.is_file():
            tried.append(f"{src} (not there)")
            continue
        problem = _copy_verified(src, target, dataset)
        if problem is None:
            return DataFile(target, dataset, "mirror")
        # A bad mirror copy is an operator problem worth seeing, but another
        # mirror or the download may still succeed, so warn and go on.
        warnings.warn(
            f"{dataset.name}: rejected mirror copy {src}: {problem}", stacklevel=3
        )
        tried.append(f"{src} (rejected: {problem})")

    if dataset.url is None:
        download = "no download: this is a mirror-only file"
    else:
        try:
            _download(dataset, target)
            return DataFile(target, dataset, "download")
        except _network_errors() as err:
            download = f"download failed: {type(err).__name__}: {err}"

    raise DataUnavailableError(
        _missing_message(dataset, target, mirror_dirs, tried, download)
    )


def _missing_message(
    dataset: Dataset,
    target: Path,
    mirror_dirs: list[Path],
    tried: list[str],
    download: str,
) -> str:
    size = f"{dataset.size:,} bytes, " if dataset.size is not None else ""
    lines = [
        f"{dataset.name}: no verified copy of {dataset.filename} "
        f"({size}sha256 {dataset.sha256}).",
        f"  url: {dataset.url or 'none'} ({download})",
        "  mirrors searched: "
        + (
            "; ".join(tried)
            if tried
            else f"none (no mirror directories given or in ${MIRROR_ENV})"
        ),
        "To use a copy you have, put it at",
        f"  {target}",
        f"or at <dir>/{dataset.mirror_path} in a directory listed in ${MIRROR_ENV} "
        f"(separate several with {os.pathsep!r}).",
    ]
    if mirror_dirs:
        lines[-1] += f" Currently: {os.pathsep.join(map(str, mirror_dirs))}"
    return "\n".join(lines)


def _network_errors() -> tuple[type[BaseException], ...]:
    # requests comes with pooch; import lazily like pooch does.
    import requests

    return (requests.exceptions.RequestException, ConnectionError, TimeoutError)


def _stderr_is_tty() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # closed or detached stream
        return False


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


@contextlib.contextmanager
def _quiet_pooch_info(quiet: bool) -> Iterator[None]:
    # pooch's logger has its own stderr handler and logs "Downloading data from ..."
    # at INFO; in a notebook or book build that is debris. A filter, not setLevel:
    # pooch makes its logger with logging.Logger(...), outside the logging manager,
    # so setLevel does not clear its isEnabledFor cache and a temporary level
    # change can stick (or not take effect) for the rest of the process.
    logger, muffle = pooch.get_logger(), _BelowWarning()
    if quiet:
        logger.addFilter(muffle)
    try:
        yield
    finally:
        logger.removeFilter(muffle)


def _download(dataset: Dataset, target: Path) -> None:
    """Download with pooch, which streams to a temp file, checks sha256, then renames."""
    assert dataset.url is not None
    tty = _stderr_is_tty()
    try:
        with _quiet_pooch_info(quiet=not tty):
            pooch.retrieve(
                dataset.url,
                known_hash=f"sha256:{dataset.sha256}",
                fname=dataset.filename,
                path=target.parent,
                progressbar=tty,
            )
    except _network_errors():
        raise  # some requests errors (e.g. InvalidURL) are also ValueErrors
    except ValueError as err:
        if "hash" not in str(err):
            raise
        # The server sent something else. pooch already deleted it; say so loudly.
        raise ValueError(
            f"{dataset.name}: downloaded {dataset.url} but its checksum does not match "
            f"sha256 {dataset.sha256}; nothing was cached. pooch said: {err}"
        ) from err
    # pooch checks the hash only; the pinned size is a cheap second opinion.
    problem = _problem(target, dataset)
    if problem is not None:
        target.unlink()
        raise ValueError(f"{dataset.name}: downloaded file rejected: {problem}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _mismatch(dataset: Dataset, size: int, sha256: str | None) -> str | None:
    if dataset.size is not None and size != dataset.size:
        return f"size {size:,} bytes, expected {dataset.size:,}"
    if sha256 is not None and sha256 != dataset.sha256:
        return f"sha256 {sha256}, expected {dataset.sha256}"
    return None


def _problem(path: Path, dataset: Dataset) -> str | None:
    """Why ``path`` is not ``dataset``, or None. Size first: truncation is caught without hashing."""
    size = path.stat().st_size
    return _mismatch(dataset, size, None) or _mismatch(dataset, size, _sha256(path))


def _copy_verified(src: Path, target: Path, dataset: Dataset) -> str | None:
    """Copy ``src`` to ``target`` atomically if it verifies; else return why not."""
    problem = _mismatch(dataset, src.stat().st_size, None)
    if problem is not None:
        return problem
    target.parent.mkdir(parents=True, exist_ok=True)
    # Temp file in the same directory so os.replace is an atomic rename: readers
    # see the old state or the complete verified file, never a partial copy.
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    tmp = Path(tmp_name)
    try:
        digest, size = hashlib.sha256(), 0
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            for chunk in iter(lambda: fin.read(_CHUNK), b""):
                digest.update(chunk)  # hash while copying: one read of the source
                fout.write(chunk)
                size += len(chunk)
        problem = _mismatch(dataset, size, digest.hexdigest())
        if problem is None:
            os.replace(tmp, target)
        return problem
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomically(target: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temp file beside ``target``, then rename it into place."""
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


# --------------------------------------------------------------------------- loaders


def load_text(name: str = "tinyshakespeare", **fetch_kwargs) -> tuple[str, DataFile]:
    """A text corpus as one str (UTF-8), plus its DataFile."""
    data_file = fetch(name, **fetch_kwargs)
    return data_file.path.read_text(encoding="utf-8"), data_file


BOSTON_COLUMNS = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE",
    "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV",
)  # fmt: skip

Split = tuple[np.ndarray, np.ndarray]


def load_boston_housing(
    *,
    allow_stand_in: bool = False,
    test_split: float = 0.2,
    seed: int = 113,
    **fetch_kwargs,
) -> tuple[Split, Split, DataFile]:
    """``(x_train, y_train), (x_test, y_test), data_file`` as Keras splits Boston housing.

    With Keras' npz this reproduces ``keras.datasets.boston_housing.load_data`` exactly.
    With the CSV stand-in the same shuffle and split are applied to the same 506 rows, but
    the split is not guaranteed to be Keras' (the npz's row order is not checked against
    the CSV's).
    """
    if (
        isinstance(test_split, bool)
        or not isinstance(test_split, (int, float))
        or not 0 <= test_split < 1
    ):
        raise ValueError(f"test_split: expected a number in [0, 1), got {test_split!r}")
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
            f"{path}: expected header {','.join(BOSTON_COLUMNS)}, got {','.join(header)}"
        )
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return table[:, :-1], table[:, -1]


CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

_CIFAR_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_cifar10(
    *, allow_stand_in: bool = False, **fetch_kwargs
) -> tuple[Split, Split, DataFile]:
    """``(x_train, y_train), (x_test, y_test), data_file``: uint8 (N, 32, 32, 3), int64 labels.

    Labels index ``CIFAR10_CLASSES``. The archive is decoded once; the arrays are cached
    as ``<dataset>-<sha256[:12]>.npz`` beside it. Order: the python archive's batch order;
    for the JPEG stand-in, by class then file name (shuffle before training).
    """
    data_file = fetch("cifar10", allow_stand_in=allow_stand_in, **fetch_kwargs)
    npz = data_file.path.with_name(
        f"{data_file.dataset.name}-{data_file.dataset.sha256[:12]}.npz"
    )
    arrays = _read_cifar_npz(npz)
    if arrays is None:
        if data_file.dataset.filename.endswith("-jpeg.tar.gz") or data_file.is_stand_in:
            arrays = _decode_cifar_jpeg(data_file.path)
        else:
            arrays = _decode_cifar_python(data_file.path)
        _write_atomically(npz, lambda f: np.savez(f, **arrays))
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
    ok = all(arrays[f"x_{s}"].shape[1:] == (32, 32, 3) and len(arrays[f"x_{s}"]) == len(arrays[f"y_{s}"])
             for s in ("train", "test"))  # fmt: skip
    return arrays if ok else None


def _decode_cifar_python(archive: Path) -> dict[str, np.ndarray]:
    """The official python tarball: pickled dicts with b'data' (N, 3072) and b'labels'."""
    batches: dict[str, dict] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            base = PurePosixPath(member.name).name
            if member.isfile() and (
                base.startswith("data_batch_") or base == "test_batch"
            ):
                # pickle is safe enough here: the archive's sha256 was verified by fetch.
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
    """The JPEG stand-in: ``{train,test}/<class>/<file>.jpg``, ordered by class then file name."""
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
            parts = PurePosixPath(member.name).parts[-3:]  # tolerate a top-level folder
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
