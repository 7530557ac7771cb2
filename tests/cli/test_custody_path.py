"""The README's custody path through the real CLI, server, SeaweedFS and database."""

from __future__ import annotations

import json
import uuid


from tests.conftest import EXT2_MEDIA_MD5


def _json(result) -> dict:
    return json.loads(result.stdout)


def _path_once(vault, manifest, tmp_path) -> None:
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    image = manifest["dfvfs/image.dd"]

    case = _json(vault.cli("case", "create", reference, "--title", "Workstation compromise", "--json"))
    item = _json(vault.cli("upload", str(image.path), "--case", reference, "--expect", f"md5:{image.md5}", "--json"))
    shown = _json(vault.cli("show", item["id"], "--json"))
    copy = tmp_path / "copy.dd"
    downloaded = _json(vault.cli("download", item["id"], "-o", str(copy), "--json"))
    verified = _json(vault.cli("verify", item["id"], "--json"))
    proven = _json(vault.cli("verify-range", item["id"], "--offset", "1000", "--length", "5000", "--json"))
    report = tmp_path / "custody.pdf"
    vault.cli("report", item["id"], "-o", str(report))
    timeline = _json(vault.cli("log", item["id"], "--json"))

    assert case["reference"] == reference
    assert item["status"] == "accepted"
    assert shown["sha256"] == f"sha256:{image.sha256}"
    assert shown["md5"] == f"md5:{image.md5}"
    assert copy.read_bytes() == image.path.read_bytes()
    assert downloaded["files"][0]["sha256"] == f"sha256:{image.sha256}"
    assert verified["ok"] is True
    assert proven["verified"] is True
    assert report.read_bytes().startswith(b"%PDF-")
    actions = [e["action"] for e in timeline["entries"]]
    assert actions[:6] == ["intake", "item.viewed", "item.viewed", "item.downloaded", "item.verified", "item.viewed"]
    assert "report.generated" in actions


def test_custody_path_sqlite(running_vault, manifest, tmp_path):
    _path_once(running_vault, manifest, tmp_path)


def test_custody_path_postgresql(running_vault_pg, manifest, tmp_path):
    _path_once(running_vault_pg, manifest, tmp_path)


def test_wrong_expect_fails_with_both_values(running_vault, manifest):
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "t")
    image = manifest["dfvfs/image.dd"]

    result = running_vault.cli("upload", str(image.path), "--case", reference, "--expect", "md5:" + "1" * 32, check=False)

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "md5:" + "1" * 32 in result.stderr
    assert f"md5:{image.md5}" in result.stderr


def test_unknown_item_is_one_line_error(running_vault):
    result = running_vault.cli("show", "no-such-item", check=False)

    assert result.returncode == 1
    assert result.stderr.startswith("error: item 'no-such-item' not found")


def test_e01_set_uploaded_as_one_item(running_vault, manifest):
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "t")
    segments = [str(manifest["dfvfs/ext2.split.E02"].path), str(manifest["dfvfs/ext2.split.E01"].path)]

    item = _json(running_vault.cli("upload", *segments, "--case", reference, "--acquisition-hash", f"md5:{EXT2_MEDIA_MD5}", "--json"))

    assert [f["name"] for f in item["files"]] == ["ext2.split.E01", "ext2.split.E02"]
    assert item["set_kind"] == "ewf"
    assert item["status"] == "accepted"
    assert item["container_check"]["verdict"] == "match"
    assert f"md5:{EXT2_MEDIA_MD5}" in item["media_hashes"]


def test_split_raw_media_hash(running_vault, manifest):
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "t")
    segments = [str(manifest["dfvfs/ext2.splitraw.000"].path), str(manifest["dfvfs/ext2.splitraw.001"].path)]

    item = _json(running_vault.cli("upload", *segments, "--case", reference, "--acquisition-hash", f"md5:{EXT2_MEDIA_MD5}", "--json"))

    assert item["set_kind"] == "split-raw"
    assert item["status"] == "accepted"
    assert item["sha256"] == "sha256:a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80"
