"""Shared test fixtures: the real forensic images and the shared components.

The images and RFC 6962 vectors live in `../shared` beside the repository
(override with `VAULT_SHARED_DIR`). A missing directory fails the run; tests
never skip because a component or a fixture is absent.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_s3", "tests.fixtures_db", "tests.fixtures_vault"]

SHARED_DIR = Path(os.environ.get("VAULT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
IMAGES_DIR = SHARED_DIR / "fixtures" / "images"
VECTORS_DIR = SHARED_DIR / "vectors" / "rfc6962"


@dataclass(frozen=True)
class FixtureImage:
    """One row of the fixtures manifest: a real image and its known hashes."""

    name: str  # path relative to the images directory, e.g. "dfvfs/ext2.E01"
    path: Path
    size: int
    sha256: str
    md5: str
    format: str


def _load_manifest() -> dict[str, FixtureImage]:
    manifest = SHARED_DIR / "fixtures" / "MANIFEST.tsv"
    if not manifest.is_file():
        raise RuntimeError(f"fixtures manifest not found at {manifest}; place the shared directory beside the repository or set VAULT_SHARED_DIR")
    images: dict[str, FixtureImage] = {}
    with manifest.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            path = IMAGES_DIR / row["file"]
            if not path.is_file():
                continue  # license texts are listed too
            images[row["file"]] = FixtureImage(row["file"], path, int(row["size"]), row["sha256"], row["md5"], row["format"])
    return images


MANIFEST = _load_manifest()

# Media MD5 and SHA-256 of the 4 MiB ext2 disk held by ext2.E01, ext2.split.E01+E02,
# ext2.splitraw.000+001 and ext2.qcow2 (decoded independently, per the manifest).
EXT2_MEDIA_MD5 = "196066add11fb71c4c49cf1bb50d6d24"


@pytest.fixture(scope="session")
def manifest() -> dict[str, FixtureImage]:
    return MANIFEST


@pytest.fixture(scope="session")
def images_dir() -> Path:
    return IMAGES_DIR


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS_DIR
