"""The upload body: exactly the declared bytes of each file, and a clear error when a file changes size."""

from __future__ import annotations

import pytest
from rich.progress import Progress

from vault.cli.item_commands import _body
from vault.errors import InvalidInput


def collect(files) -> bytes:
    with Progress(disable=True) as progress:
        task = progress.add_task("upload", total=sum(size for _, size in files))
        return b"".join(_body(files, progress, task))


def test_files_sent_in_order_with_declared_sizes(tmp_path) -> None:
    first, second, empty = tmp_path / "disk.001", tmp_path / "disk.002", tmp_path / "empty.dd"
    first.write_bytes(b"a" * 3_000_000)
    second.write_bytes(b"b" * 17)
    empty.write_bytes(b"")

    body = collect([(first, 3_000_000), (empty, 0), (second, 17)])

    assert body == b"a" * 3_000_000 + b"b" * 17


def test_file_shrunk_since_manifest_rejected(tmp_path) -> None:
    image = tmp_path / "image.dd"
    image.write_bytes(b"x" * 1000)

    with pytest.raises(InvalidInput, match=r"image.dd changed size during the upload \(was 2000 bytes, now 1000\)"):
        collect([(image, 2000)])


def test_file_grown_since_manifest_rejected(tmp_path) -> None:
    image = tmp_path / "image.dd"
    image.write_bytes(b"x" * 3000)

    with pytest.raises(InvalidInput, match=r"was 2000 bytes, now 3000"):
        collect([(image, 2000)])
