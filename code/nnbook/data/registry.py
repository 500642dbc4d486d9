"""The registry: every file the book uses, pinned by URL, size and SHA-256.

A file is named once here and fetched by that name everywhere else, so a chapter can
never end up with a copy nobody checked. Stand-ins (re-encoded or re-sourced copies of
a canonical file, for machines that cannot download it) are entries of their own that
point at the file they replace; ``fetch`` returns them only when asked to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["Dataset", "REGISTRY"]


@dataclass(frozen=True)
class Dataset:
    """One pinned file: where it comes from, how to recognise it, where it is kept."""

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
        # Entries are hand-written: catch typos at import time, not at fetch time.
        sha = self.sha256
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise ValueError(f"sha256: expected 64 lowercase hex digits, got {sha!r}")
        path = PurePosixPath(self.mirror_path)
        if not path.parts or path.is_absolute() or ".." in path.parts:
            raise ValueError(
                "mirror_path: expected a relative path without '..', "
                f"got {self.mirror_path!r}"
            )
        if path.parts[-1] != self.filename:
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
                "stand_in_for: a canonical dataset cannot stand in, "
                f"got {self.stand_in_for!r}"
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
            url=(
                "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                "tinyshakespeare/input.txt"
            ),
            sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            size=1115394,
            canonical=True,
            description=(
                "Tiny Shakespeare: 1,115,394 characters of plays, from char-rnn."
            ),
            mirror_path="tinyshakespeare/input.txt",
        ),
        Dataset(
            name="boston_housing",
            filename="boston_housing.npz",
            url=(
                "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
                "boston_housing.npz"
            ),
            sha256="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
            size=None,
            canonical=True,
            description=(
                "Boston housing as Keras ships it: x (506, 13), "
                "y (506,) median value in $1000s."
            ),
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
                "same 506 rows in original order (Harrison & Rubinfeld 1978, "
                "StatLib/UCI), but not Keras' file, so not Keras' exact split"
            ),
        ),
        Dataset(
            name="cifar10",
            filename="cifar-10-python.tar.gz",
            url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            size=170498071,
            canonical=True,
            description=(
                "CIFAR-10, python version: 50,000 train and 10,000 test "
                "32x32 RGB images."
            ),
            mirror_path="cifar10/cifar-10-python.tar.gz",
        ),
        Dataset(
            name="cifar10_jpeg",
            filename="cifar-10-jpeg.tar.gz",
            url=None,
            sha256="0bfcb68717a0ecb0d51ed61034906a773d48d424d94b766a46d7d1c55702a4d9",
            size=19432150,
            canonical=False,
            description=(
                "CIFAR-10 as JPEG files: train/<class>/NNNN.jpg, test/<class>/NNNN.jpg."
            ),
            mirror_path="cifar10-jpeg/cifar-10-jpeg.tar.gz",
            stand_in_for="cifar10",
            note=(
                "lossy JPEG re-encoding of the same images and labels; accuracy on "
                "it is close to but not the same as on canonical CIFAR-10"
            ),
        ),
    ]
}
