"""Tests for nnbook.data on tiny files made here; downloads come from 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import socket
import sys
import tarfile
from pathlib import Path

import numpy as np
import pooch
import pytest
from helpers import serve
from nnbook import data
from nnbook.data import (
    CIFAR10_CLASSES,
    REGISTRY,
    Dataset,
    DataUnavailableError,
    fetch,
    fetching,
    load_boston_housing,
    load_cifar10,
    load_text,
    loaders,
    registry,
)

# Read before the autouse fixture below clears the variable.
_REPO = Path(__file__).resolve().parents[1]
_REAL_MIRRORS = [
    p for p in os.environ.get(data.MIRROR_ENV, "").split(os.pathsep) if p
] + [
    str(_REPO.parent / "shared" / "data"),
    "/work/shared/data",
]
REAL_MIRROR = next(
    (Path(p) for p in _REAL_MIRRORS if (Path(p) / "tinyshakespeare").is_dir()), None
)

TEXT = b"To be, or not to be: that is the question.\n"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch):
    # Never touch the user's cache or the machine's mirror unless a test says so,
    # and never send 127.0.0.1 traffic through a proxy.
    monkeypatch.delenv(data.CACHE_ENV, raising=False)
    monkeypatch.delenv(data.MIRROR_ENV, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def make_dataset(name: str, content: bytes, **overrides) -> Dataset:
    fields = {
        "name": name,
        "filename": f"{name}.bin",
        "url": None,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "canonical": True,
        "description": f"test file {name}",
        "mirror_path": f"{name}/{name}.bin",
    }
    fields.update(overrides)
    return Dataset(**fields)


def put(root: Path, dataset: Dataset, content: bytes) -> Path:
    path = root / dataset.mirror_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def closed_port_url(path: str = "x") -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"  # nothing listens there any more


@pytest.fixture
def http_root(tmp_path):
    """A folder served at a base URL on 127.0.0.1 (random port) during the test."""
    root = tmp_path / "www"
    root.mkdir()
    server = serve(root)
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def served(http_root, content: bytes, name: str = "corpus", **overrides) -> Dataset:
    root, base = http_root
    (root / f"{name}.bin").write_bytes(content)
    return make_dataset(name, content, url=f"{base}/{name}.bin", **overrides)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -------------------------------------------------------------------- cache and mirrors


def test_cached_file_with_good_checksum_is_used_without_network(tmp_path):
    ds = make_dataset("corpus", TEXT, url=closed_port_url())
    cached = put(tmp_path / "cache", ds, TEXT)
    got = fetch(
        "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
    )
    assert got.origin == "cache"
    assert got.path == cached and got.path.read_bytes() == TEXT


def test_truncated_cached_file_is_replaced_from_mirror(tmp_path):
    ds = make_dataset("corpus", TEXT)
    put(tmp_path / "cache", ds, TEXT[:10])
    put(tmp_path / "mirror", ds, TEXT)
    got = fetch(
        "corpus",
        cache_dir=tmp_path / "cache",
        mirrors=[tmp_path / "mirror"],
        registry={"corpus": ds},
    )
    assert got.origin == "mirror"
    assert got.path.read_bytes() == TEXT


def test_cached_file_with_right_size_but_wrong_hash_is_deleted_not_used(tmp_path):
    ds = make_dataset("corpus", TEXT)
    cached = put(tmp_path / "cache", ds, TEXT.upper())  # same length, other bytes
    with pytest.raises(DataUnavailableError):
        fetch(
            "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
        )
    assert not cached.exists()


def test_checksum_mismatch_in_mirror_is_rejected(tmp_path):
    ds = make_dataset("corpus", TEXT)
    bad = put(tmp_path / "mirror", ds, TEXT.upper())
    with (
        pytest.warns(UserWarning, match="rejected mirror copy"),
        pytest.raises(DataUnavailableError, match="rejected: sha256") as err,
    ):
        fetch(
            "corpus",
            cache_dir=tmp_path / "cache",
            mirrors=[tmp_path / "mirror"],
            registry={"corpus": ds},
        )
    assert str(bad) in str(err.value)
    assert files_under(tmp_path / "cache") == []  # no copy, no leftover temp file


def test_corrupt_first_mirror_is_skipped_for_a_good_second_one(tmp_path):
    ds = make_dataset("corpus", TEXT)
    put(tmp_path / "m1", ds, TEXT[:-1])  # wrong size: rejected without hashing
    put(tmp_path / "m2", ds, TEXT)
    with pytest.warns(UserWarning, match="size"):
        got = fetch(
            "corpus",
            cache_dir=tmp_path / "cache",
            mirrors=[tmp_path / "m1", tmp_path / "m2"],
            registry={"corpus": ds},
        )
    assert got.origin == "mirror" and got.path.read_bytes() == TEXT


def test_mirror_hit_copies_into_cache_and_reports_origin(tmp_path, monkeypatch):
    ds = make_dataset("corpus", TEXT)
    mirror_file = put(tmp_path / "mirror", ds, TEXT)
    # Several mirrors in the variable; a missing one is skipped.
    monkeypatch.setenv(
        data.MIRROR_ENV,
        os.pathsep.join([str(tmp_path / "absent"), str(tmp_path / "mirror")]),
    )
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "cache"))

    first = fetch("corpus", registry={"corpus": ds})
    assert first.origin == "mirror"
    assert first.path == tmp_path / "cache" / ds.mirror_path != mirror_file
    assert first.path.read_bytes() == TEXT
    # the temp file was renamed away
    assert files_under(tmp_path / "cache") == [first.path]

    second = fetch("corpus", registry={"corpus": ds})
    assert (second.origin, second.path) == ("cache", first.path)


def test_settings_are_read_at_call_time_and_arguments_override_them(
    tmp_path, monkeypatch
):
    assert data.resolve_cache_dir() == Path(pooch.os_cache("nnbook"))
    assert data.resolve_mirrors() == []
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "env-cache"))
    monkeypatch.setenv(data.MIRROR_ENV, os.pathsep.join(["/a", "/b"]))
    assert data.resolve_cache_dir() == tmp_path / "env-cache"
    assert data.resolve_mirrors() == [Path("/a"), Path("/b")]
    assert data.resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert data.resolve_mirrors([]) == []
    assert data.resolve_mirrors("/c") == [Path("/c")]


# ---------------------------------------------------------------------------- downloads


def test_download_from_local_http_server_verifies_checksum(tmp_path, http_root):
    ds = served(http_root, TEXT * 100)
    got = fetch(
        "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
    )
    assert got.origin == "download"
    assert got.path == tmp_path / "cache" / ds.mirror_path
    assert got.path.read_bytes() == TEXT * 100
    assert (
        fetch(
            "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
        ).origin
        == "cache"
    )


def test_download_with_wrong_checksum_raises_and_caches_nothing(tmp_path, http_root):
    ds = served(http_root, TEXT, sha256=hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(ValueError, match="checksum does not match") as err:
        fetch(
            "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
        )
    assert ds.url in str(err.value)
    assert files_under(tmp_path / "cache") == []


def test_offline_miss_names_file_url_checksum_and_where_to_put_a_copy(tmp_path):
    ds = make_dataset("corpus", TEXT, url=closed_port_url())
    with pytest.raises(DataUnavailableError) as err:
        fetch(
            "corpus",
            cache_dir=tmp_path / "cache",
            mirrors=[tmp_path / "mirror"],
            registry={"corpus": ds},
        )
    message = str(err.value)
    for needed in (
        ds.filename,
        ds.url,
        ds.sha256,
        str(tmp_path / "cache" / ds.mirror_path),
        data.MIRROR_ENV,
        ds.mirror_path,
        str(tmp_path / "mirror"),
    ):
        assert needed in message
    assert isinstance(err.value, RuntimeError)


def test_corrupt_cached_file_is_replaced_by_a_verified_download(tmp_path, http_root):
    ds = served(http_root, TEXT)
    put(tmp_path / "cache", ds, TEXT.upper())  # right size, wrong bytes
    got = fetch(
        "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
    )
    assert got.origin == "download" and got.path.read_bytes() == TEXT
    assert files_under(tmp_path / "cache") == [got.path]


def test_download_with_right_hash_but_wrong_pinned_size_caches_nothing(
    tmp_path, http_root
):
    # pooch checks the hash only; the pinned size is checked after it, and a registry
    # typo must not leave a file in the cache that the next fetch would reject.
    ds = served(http_root, TEXT, size=len(TEXT) + 1)
    with pytest.raises(ValueError, match="downloaded file rejected: size"):
        fetch(
            "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
        )
    assert files_under(tmp_path / "cache") == []


def test_http_404_is_an_offline_miss(tmp_path, http_root):
    _, base = http_root
    ds = make_dataset("corpus", TEXT, url=f"{base}/missing.bin")
    with pytest.raises(DataUnavailableError, match="HTTPError"):
        fetch(
            "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
        )


def test_mirror_only_file_without_copy_is_an_offline_miss(tmp_path):
    ds = make_dataset("corpus", TEXT, url=None)
    with pytest.raises(DataUnavailableError, match="mirror-only"):
        fetch(
            "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
        )


class _FakeStderr(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _download_with_stderr(
    tmp_path, http_root, monkeypatch, tty: bool
) -> tuple[str, list]:
    ds = served(http_root, TEXT * 200)
    fake = _FakeStderr(tty)
    # tqdm writes to sys.stderr as it is at call time
    monkeypatch.setattr(sys, "stderr", fake)
    records = _Records()
    pooch.get_logger().addHandler(records)  # pooch's logger has its own stderr handler
    try:
        fetch(
            "corpus", cache_dir=tmp_path / "cache", mirrors=[], registry={"corpus": ds}
        )
    finally:
        pooch.get_logger().removeHandler(records)
    return fake.getvalue(), records.records


def test_no_progress_bar_when_stderr_is_not_a_tty(tmp_path, http_root, monkeypatch):
    err, records = _download_with_stderr(tmp_path, http_root, monkeypatch, tty=False)
    assert "%|" not in err and "B/s" not in err
    assert records == []  # nor pooch's "Downloading data from ..." line


def test_progress_bar_shown_when_stderr_is_a_tty(tmp_path, http_root, monkeypatch):
    # The counterpart, so the test above cannot pass by capturing the wrong stream.
    err, records = _download_with_stderr(tmp_path, http_root, monkeypatch, tty=True)
    assert "%|" in err
    assert any("Downloading" in r.getMessage() for r in records)


# ---------------------------------------------------------------------------- stand-ins


@pytest.fixture
def stand_in_registry():
    canonical = make_dataset("big", b"canonical bytes", url=closed_port_url("big.bin"))
    stand_in = make_dataset(
        "big_jpeg",
        b"stand-in bytes",
        canonical=False,
        stand_in_for="big",
        note="lossy re-encoding of the same items.",
    )
    return {"big": canonical, "big_jpeg": stand_in}


def test_stand_in_is_refused_unless_asked_for(tmp_path, stand_in_registry):
    put(tmp_path / "mirror", stand_in_registry["big_jpeg"], b"stand-in bytes")
    kw = {
        "cache_dir": tmp_path / "cache",
        "mirrors": [tmp_path / "mirror"],
        "registry": stand_in_registry,
    }
    with pytest.raises(
        ValueError, match=r"'big_jpeg' is a stand-in for 'big'.*allow_stand_in=True"
    ):
        fetch("big_jpeg", **kw)
    # The canonical name never silently turns into the stand-in.
    with pytest.raises(DataUnavailableError):
        fetch("big", **kw)
    assert files_under(tmp_path / "cache") == []


def test_stand_in_used_when_allowed_and_labeled_in_provenance(
    tmp_path, stand_in_registry
):
    put(tmp_path / "mirror", stand_in_registry["big_jpeg"], b"stand-in bytes")
    kw = {
        "cache_dir": tmp_path / "cache",
        "mirrors": [tmp_path / "mirror"],
        "registry": stand_in_registry,
    }
    got = fetch("big", allow_stand_in=True, **kw)
    assert got.is_stand_in and got.dataset.name == "big_jpeg" and got.origin == "mirror"
    assert got.path.read_bytes() == b"stand-in bytes"
    sha = stand_in_registry["big_jpeg"].sha256
    assert got.provenance() == (
        f"big_jpeg: big_jpeg.bin, sha256 {sha[:12]}…, "
        "STAND-IN for big (lossy re-encoding of the same items)"
    )
    assert fetch("big_jpeg", allow_stand_in=True, **kw).origin == "cache"


def test_canonical_file_is_preferred_to_stand_in_when_available(
    tmp_path, stand_in_registry
):
    put(tmp_path / "mirror", stand_in_registry["big"], b"canonical bytes")
    put(tmp_path / "mirror", stand_in_registry["big_jpeg"], b"stand-in bytes")
    got = fetch(
        "big",
        allow_stand_in=True,
        cache_dir=tmp_path / "cache",
        mirrors=[tmp_path / "mirror"],
        registry=stand_in_registry,
    )
    assert not got.is_stand_in
    assert (
        got.provenance()
        == f"big: big.bin, sha256 {stand_in_registry['big'].sha256[:12]}…, canonical"
    )


def test_missing_canonical_and_stand_in_reports_both(tmp_path, stand_in_registry):
    with pytest.raises(DataUnavailableError, match=r"(?s)big\.bin.*big_jpeg\.bin"):
        fetch(
            "big",
            allow_stand_in=True,
            cache_dir=tmp_path / "cache",
            mirrors=[],
            registry=stand_in_registry,
        )


def test_temp_file_beside_is_removed_when_the_writer_fails(tmp_path):
    with (
        pytest.raises(OSError, match="disk full"),
        fetching.temp_file_beside(tmp_path / "file.bin") as temp,
    ):
        temp.write_bytes(b"partial")
        raise OSError("disk full")
    assert files_under(tmp_path) == []  # neither the target nor the temp file


# ---------------------------------------------------------------------- argument checks


def test_unknown_dataset_name_error_lists_known_names():
    with pytest.raises(ValueError) as err:
        fetch("foo")
    assert str(err.value) == f"name: expected one of {sorted(REGISTRY)}, got 'foo'"


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: fetch("tinyshakespeare", allow_stand_in="yes"), "allow_stand_in"),
        (lambda: fetch("tinyshakespeare", mirrors=3), "mirrors"),
        (lambda: fetch("tinyshakespeare", cache_dir=""), "cache_dir"),
        (lambda: fetch("tinyshakespeare", registry={"x": 1}), "registry"),
        (lambda: load_boston_housing(test_split=1.0), "test_split"),
        (lambda: load_boston_housing(seed="113"), "seed"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}: expected"):
        call()


def test_registry_entries_are_consistent():
    assert set(REGISTRY) == {
        "tinyshakespeare",
        "boston_housing",
        "boston_housing_csv",
        "cifar10",
        "cifar10_jpeg",
    }
    for name, ds in REGISTRY.items():
        assert ds.name == name
        if ds.canonical:
            assert ds.url and ds.url.startswith("https://") and ds.stand_in_for is None
        else:
            assert (
                ds.stand_in_for in REGISTRY
                and REGISTRY[ds.stand_in_for].canonical
                and ds.note
            )


# ------------------------------------------------------------------------------ loaders


def test_load_text_returns_str_and_data_file(tmp_path):
    ds = make_dataset("poem", "naïve café\n".encode())
    put(tmp_path / "mirror", ds, "naïve café\n".encode())
    text, got = load_text(
        "poem",
        cache_dir=tmp_path / "cache",
        mirrors=[tmp_path / "mirror"],
        registry={"poem": ds},
    )
    assert text == "naïve café\n" and got.origin == "mirror"


def _boston_registry(
    tmp_path, npz_bytes: bytes | None, csv_bytes: bytes | None
) -> dict:
    reg = {}
    if npz_bytes is not None:
        reg["boston_housing"] = make_dataset(
            "boston_housing",
            npz_bytes,
            filename="boston_housing.npz",
            mirror_path="boston_housing/boston_housing.npz",
        )
        put(tmp_path / "mirror", reg["boston_housing"], npz_bytes)
    else:
        reg["boston_housing"] = make_dataset(
            "boston_housing",
            b"never",
            filename="boston_housing.npz",
            mirror_path="boston_housing/boston_housing.npz",
        )
    if csv_bytes is not None:
        reg["boston_housing_csv"] = make_dataset(
            "boston_housing_csv",
            csv_bytes,
            filename="boston_housing.csv",
            canonical=False,
            mirror_path="boston_housing/boston_housing.csv",
            stand_in_for="boston_housing",
            note="not Keras' split",
        )
        put(tmp_path / "mirror", reg["boston_housing_csv"], csv_bytes)
    return {
        "cache_dir": tmp_path / "cache",
        "mirrors": [tmp_path / "mirror"],
        "registry": reg,
    }


def test_boston_split_reproduces_keras_procedure_on_synthetic_npz(tmp_path):
    x = np.arange(50 * 13, dtype=np.float64).reshape(50, 13)
    y = np.arange(50, dtype=np.float64) + 0.5
    buf = io.BytesIO()
    np.savez(buf, x=x, y=y)
    kw = _boston_registry(tmp_path, buf.getvalue(), None)

    (x_train, y_train), (x_test, y_test), got = load_boston_housing(**kw)
    # Keras' load_data, written out independently.
    rng = np.random.RandomState(113)
    idx = np.arange(50)
    rng.shuffle(idx)
    assert x_train.shape == (40, 13) and x_test.shape == (10, 13)
    np.testing.assert_array_equal(x_train, x[idx[:40]])
    np.testing.assert_array_equal(y_train, y[idx[:40]])
    np.testing.assert_array_equal(x_test, x[idx[40:]])
    np.testing.assert_array_equal(y_test, y[idx[40:]])
    assert not got.is_stand_in

    (x2_train, _), (x2_test, _), _ = load_boston_housing(test_split=0.3, seed=1, **kw)
    assert len(x2_train) == int(50 * 0.7) and len(x2_test) == 50 - int(50 * 0.7)
    assert not np.array_equal(x2_train[:5], x_train[:5])


def test_boston_csv_stand_in_is_parsed_and_split(tmp_path):
    rows = np.round(np.random.default_rng(0).uniform(0, 100, size=(10, 14)), 4)
    header = ",".join(f'"{c}"' for c in data.BOSTON_COLUMNS)  # quoted, like the file
    csv = (
        header + "\n" + "\n".join(",".join(f"{v:g}" for v in r) for r in rows) + "\n"
    ).encode()
    kw = _boston_registry(tmp_path, None, csv)

    with pytest.raises(DataUnavailableError):
        load_boston_housing(**kw)  # the stand-in needs asking for
    (x_train, y_train), (x_test, y_test), got = load_boston_housing(
        allow_stand_in=True, **kw
    )
    assert got.is_stand_in and "STAND-IN for boston_housing" in got.provenance()
    assert (
        x_train.shape == (8, 13) and y_train.shape == (8,) and x_test.shape == (2, 13)
    )
    idx = np.arange(10)
    np.random.RandomState(113).shuffle(idx)
    np.testing.assert_allclose(np.concatenate([x_train, x_test]), rows[idx, :13])
    np.testing.assert_allclose(np.concatenate([y_train, y_test]), rows[idx, 13])


# Tiny CIFAR-like archives: 2 images per class in each split, a few KB each.
N_PER_CLASS = 2


def _cifar_images(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images in class-interleaved order; pixels encode (image, row, col, channel)."""
    # 0..9, 0..9: not sorted by class
    labels = np.tile(np.arange(10), N_PER_CLASS).astype(np.int64)
    n, h, w, c = np.ogrid[: len(labels), :32, :32, :3]
    offset = 0 if split == "train" else 100
    x = ((n * 7 + h * 3 + w * 5 + c * 11 + offset) % 256).astype(np.uint8)
    return x, labels


def _solid_color(label: int, i: int) -> tuple[int, int, int]:
    return (label * 25, 60 + i * 120, 200)


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def _python_tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        x, y = _cifar_images("train")
        # channel-first rows, like the real file
        rows = x.transpose(0, 3, 1, 2).reshape(len(x), 3072)
        per_batch = len(x) // 5
        for b in range(5):
            part = slice(b * per_batch, (b + 1) * per_batch)
            batch = {
                b"data": rows[part],
                b"labels": y[part].tolist(),
                b"batch_label": b"x",
            }
            _add(tar, f"cifar-10-batches-py/data_batch_{b + 1}", pickle.dumps(batch))
        x, y = _cifar_images("test")
        batch = {
            b"data": x.transpose(0, 3, 1, 2).reshape(len(x), 3072),
            b"labels": y.tolist(),
        }
        _add(tar, "cifar-10-batches-py/test_batch", pickle.dumps(batch))
        _add(
            tar,
            "cifar-10-batches-py/batches.meta",
            pickle.dumps({b"label_names": list(CIFAR10_CLASSES)}),
        )
    return buf.getvalue()


def _jpeg_tarball() -> bytes:
    from PIL import Image

    entries = []
    for split in ("train", "test"):
        for label, cls in enumerate(CIFAR10_CLASSES):
            for i in range(N_PER_CLASS):
                out = io.BytesIO()
                Image.new("RGB", (32, 32), _solid_color(label, i)).save(
                    out, format="JPEG", quality=95
                )
                entries.append((f"{split}/{cls}/{i:04d}.jpg", out.getvalue()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in reversed(entries):  # archive order must not matter
            _add(tar, name, payload)
    return buf.getvalue()


@pytest.fixture(scope="module")
def cifar_archives() -> dict[str, bytes]:
    return {"python": _python_tarball(), "jpeg": _jpeg_tarball()}


def _cifar_kw(tmp_path, archives: dict[str, bytes]) -> dict:
    canonical = make_dataset(
        "cifar10",
        archives["python"],
        filename="cifar-10-python.tar.gz",
        mirror_path="cifar10/cifar-10-python.tar.gz",
        url=closed_port_url(),
    )
    stand_in = make_dataset(
        "cifar10_jpeg",
        archives["jpeg"],
        filename="cifar-10-jpeg.tar.gz",
        canonical=False,
        mirror_path="cifar10-jpeg/cifar-10-jpeg.tar.gz",
        stand_in_for="cifar10",
        note="lossy",
    )
    return {
        "cache_dir": tmp_path / "cache",
        "mirrors": [tmp_path / "mirror"],
        "registry": {"cifar10": canonical, "cifar10_jpeg": stand_in},
    }


def test_cifar_python_archive_decodes_to_nhwc_uint8_with_canonical_labels(
    tmp_path, cifar_archives
):
    kw = _cifar_kw(tmp_path, cifar_archives)
    put(tmp_path / "mirror", kw["registry"]["cifar10"], cifar_archives["python"])
    (x_train, y_train), (x_test, y_test), got = load_cifar10(**kw)
    assert not got.is_stand_in
    assert x_train.shape == (20, 32, 32, 3) and x_test.shape == (20, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        want_x, want_y = _cifar_images(split)
        np.testing.assert_array_equal(x, want_x)  # exact pixels, batch order kept
        np.testing.assert_array_equal(y, want_y)


def test_cifar_jpeg_stand_in_decodes_sorted_by_class_then_file(
    tmp_path, cifar_archives
):
    kw = _cifar_kw(tmp_path, cifar_archives)
    put(tmp_path / "mirror", kw["registry"]["cifar10_jpeg"], cifar_archives["jpeg"])
    with pytest.raises(DataUnavailableError):
        load_cifar10(**kw)
    (x_train, y_train), (x_test, y_test), got = load_cifar10(allow_stand_in=True, **kw)
    assert got.is_stand_in and got.dataset.name == "cifar10_jpeg"
    assert x_train.shape == x_test.shape == (20, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_test.dtype == np.int64
    expected_labels = np.repeat(np.arange(10), N_PER_CLASS)
    np.testing.assert_array_equal(y_train, expected_labels)
    np.testing.assert_array_equal(y_test, expected_labels)
    for k, (label, i) in enumerate(
        (lab, i) for lab in range(10) for i in range(N_PER_CLASS)
    ):
        mean = x_train[k].reshape(-1, 3).mean(axis=0)
        # JPEG is lossy
        np.testing.assert_allclose(mean, _solid_color(label, i), atol=4)


def test_cifar_npz_cache_is_reused(tmp_path, cifar_archives, monkeypatch):
    kw = _cifar_kw(tmp_path, cifar_archives)
    put(tmp_path / "mirror", kw["registry"]["cifar10_jpeg"], cifar_archives["jpeg"])
    (first, _), _, got = load_cifar10(allow_stand_in=True, **kw)
    npz = got.path.parent / f"cifar10_jpeg-{got.dataset.sha256[:12]}.npz"
    assert npz.is_file()

    def no_decoding(_archive):
        raise AssertionError("decoded again instead of using the npz cache")

    monkeypatch.setattr(loaders, "_decode_cifar_jpeg", no_decoding)
    monkeypatch.setattr(loaders, "_decode_cifar_python", no_decoding)
    (again, _), _, got2 = load_cifar10(allow_stand_in=True, **kw)
    assert got2.origin == "cache"
    np.testing.assert_array_equal(again, first)


def test_unreadable_cifar_npz_cache_is_decoded_again_and_replaced(
    tmp_path, cifar_archives
):
    kw = _cifar_kw(tmp_path, cifar_archives)
    put(tmp_path / "mirror", kw["registry"]["cifar10"], cifar_archives["python"])
    (first, _), _, got = load_cifar10(**kw)
    npz = got.path.parent / f"cifar10-{got.dataset.sha256[:12]}.npz"
    npz.write_bytes(b"not a zip archive")  # e.g. a copy cut short

    (again, _), _, _ = load_cifar10(**kw)
    np.testing.assert_array_equal(again, first)
    with np.load(npz) as f:
        np.testing.assert_array_equal(f["x_train"], first)
    assert files_under(got.path.parent) == sorted([got.path, npz])  # no temp file left


# -------------------------------------------------------------------------- the package


def test_package_re_exports_exactly_the_public_names_of_its_modules():
    modules = (registry, fetching, loaders)
    for module in modules:
        for name in module.__all__:
            assert getattr(data, name) is getattr(module, name), name
    assert sorted(data.__all__) == sorted(n for m in modules for n in m.__all__)


# ---------------------------------------------------------------------- the real mirror


@pytest.mark.skipif(REAL_MIRROR is None, reason="no shared data mirror on this machine")
def test_real_mirror_files_match_registry_checksums(tmp_path):
    kw = {"cache_dir": tmp_path / "cache", "mirrors": [REAL_MIRROR]}
    for name in ("tinyshakespeare", "boston_housing_csv", "cifar10_jpeg"):
        got = fetch(name, allow_stand_in=True, **kw)  # fetch verifies size and sha256
        assert got.origin == "mirror" and got.dataset is REGISTRY[name]

    text, got = load_text(**kw)
    assert len(text) == 1115394 and len(set(text)) == 65 and got.origin == "cache"
    (x_train, y_train), (x_test, _), got = load_boston_housing(
        allow_stand_in=True, **kw
    )
    assert (
        x_train.shape == (404, 13)
        and y_train.shape == (404,)
        and x_test.shape == (102, 13)
    )
    assert "STAND-IN for boston_housing" in got.provenance()
