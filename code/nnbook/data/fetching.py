"""Getting a verified copy of a registered file into the cache.

``fetch`` returns the first copy that verifies, looking in this order:

1. the cache (``NNBOOK_DATA_CACHE``, default ``pooch.os_cache("nnbook")``);
2. each mirror directory in ``NNBOOK_DATA_MIRROR`` (``os.pathsep``-separated),
   whose copy is copied into the cache;
3. the canonical URL, downloaded by ``pooch.retrieve``.

pooch does the hashing and the download (a temp file, checked, then renamed). What it
has no notion of is a mirror: a folder holding copies for machines that cannot
download (CI, offline laptops), in the cache's own layout, ``<dir>/<mirror_path>``,
so a copy found anywhere can be dropped into either. That search, the stand-in rule
and an offline error saying what is missing and where to put a copy are what this
module adds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Union

from nnbook import checks

from .registry import REGISTRY, Dataset

with warnings.catch_warnings():
    # pooch imports tqdm.auto, which warns in a Jupyter kernel without ipywidgets; we
    # show bars only in a terminal anyway, and the warning would land in the pages
    warnings.filterwarnings("ignore", message="IProgress not found")
    import pooch

__all__ = [
    "CACHE_ENV",
    "DataFile",
    "DataUnavailableError",
    "MIRROR_ENV",
    "Origin",
    "PathLike",
    "fetch",
    "resolve_cache_dir",
    "resolve_mirrors",
]

CACHE_ENV = "NNBOOK_DATA_CACHE"
MIRROR_ENV = "NNBOOK_DATA_MIRROR"

PathLike = Union[str, "os.PathLike[str]"]
Origin = Literal["cache", "mirror", "download"]


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


def resolve_cache_dir(cache_dir: PathLike | None = None) -> Path:
    """The cache: the argument, else $NNBOOK_DATA_CACHE, else pooch's OS cache."""
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, os.PathLike)) or str(cache_dir) == "":
            raise ValueError(
                f"cache_dir: expected a directory path or None, got {cache_dir!r}"
            )
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV, "")
    return Path(env).expanduser() if env else Path(pooch.os_cache("nnbook"))


def resolve_mirrors(mirrors: PathLike | Iterable[PathLike] | None = None) -> list[Path]:
    """Mirror folders: the argument, else $NNBOOK_DATA_MIRROR (os.pathsep-separated).

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


def fetch(
    name: str,
    *,
    allow_stand_in: bool = False,
    cache_dir: PathLike | None = None,
    mirrors: PathLike | Iterable[PathLike] | None = None,
    registry: Mapping[str, Dataset] | None = None,
) -> DataFile:
    """A verified local copy of dataset ``name`` (cache, then mirrors, then download).

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
    checks.boolean("allow_stand_in", allow_stand_in)
    dataset = reg[name]
    cache = resolve_cache_dir(cache_dir)
    mirror_dirs = resolve_mirrors(mirrors)

    # A stand-in changes results (e.g. lossy JPEG): it must never arrive by accident.
    if dataset.stand_in_for is not None and not allow_stand_in:
        raise ValueError(
            f"name: {name!r} is a stand-in for {dataset.stand_in_for!r} "
            f"({dataset.note or 'not the canonical file'}); ask for it explicitly "
            f"with fetch({name!r}, allow_stand_in=True), "
            f"or fetch({dataset.stand_in_for!r})"
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
            f"neither {name!r} nor its stand-in(s) "
            f"{[d.name for d in stand_ins]} are available.\n\n" + "\n\n".join(reasons)
        ) from missing


def _fetch_one(dataset: Dataset, cache: Path, mirror_dirs: list[Path]) -> DataFile:
    """Cache, then mirrors, then download, for one entry (no stand-in logic)."""
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
    """What is missing, what was tried, and where a copy you have would be found."""
    size = f"{dataset.size:,} bytes, " if dataset.size is not None else ""
    searched = (
        "; ".join(tried)
        if tried
        else f"none (no mirror directories given or in ${MIRROR_ENV})"
    )
    lines = [
        f"{dataset.name}: no verified copy of {dataset.filename} "
        f"({size}sha256 {dataset.sha256}).",
        f"  url: {dataset.url or 'none'} ({download})",
        f"  mirrors searched: {searched}",
        "To use a copy you have, put it at",
        f"  {target}",
        f"or at <dir>/{dataset.mirror_path} in a directory listed in ${MIRROR_ENV} "
        f"(separate several with {os.pathsep!r}).",
    ]
    if mirror_dirs:
        lines[-1] += f" Currently: {os.pathsep.join(map(str, mirror_dirs))}"
    return "\n".join(lines)


# --------------------------------------------------------------------------- verify


def _size_problem(dataset: Dataset, size: int) -> str | None:
    if dataset.size is not None and size != dataset.size:
        return f"size {size:,} bytes, expected {dataset.size:,}"
    return None


def _problem(path: Path, dataset: Dataset) -> str | None:
    """Why ``path`` is not ``dataset``'s file, or None.

    Size first: a truncated copy is caught without reading it.
    """
    problem = _size_problem(dataset, path.stat().st_size)
    if problem is not None:
        return problem
    sha256 = pooch.file_hash(str(path), alg="sha256")
    if sha256 != dataset.sha256:
        return f"sha256 {sha256}, expected {dataset.sha256}"
    return None


# --------------------------------------------------------------------------- mirrors


@contextlib.contextmanager
def temp_file_beside(target: Path) -> Iterator[Path]:
    """An empty temp file in ``target``'s folder, deleted on exit unless renamed away.

    The same folder makes ``os.replace(temp, target)`` an atomic rename: readers see
    the old state or the complete file, never a partial one (pooch downloads the
    same way).
    """
    fd, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _copy_verified(src: Path, target: Path, dataset: Dataset) -> str | None:
    """Copy ``src`` to ``target`` atomically if it verifies; else return why not."""
    problem = _size_problem(dataset, src.stat().st_size)
    if problem is not None:
        return problem
    target.parent.mkdir(parents=True, exist_ok=True)
    with temp_file_beside(target) as temp:
        shutil.copyfile(src, temp)
        problem = _problem(temp, dataset)  # the copy that will be used, not the source
        if problem is None:
            os.replace(temp, target)
    return problem


# --------------------------------------------------------------------------- download


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
    """Download with pooch, which streams to a temp file, checks sha256, renames.

    A progress bar and pooch's log line only when stderr is a terminal: in a
    notebook or a book build they would land in the page.
    """
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
            f"{dataset.name}: downloaded {dataset.url} but its checksum does not "
            f"match sha256 {dataset.sha256}; nothing was cached. pooch said: {err}"
        ) from err
    # pooch checked the hash; the pinned size is a cheap second opinion.
    problem = _size_problem(dataset, target.stat().st_size)
    if problem is not None:
        target.unlink()
        raise ValueError(f"{dataset.name}: downloaded file rejected: {problem}")
