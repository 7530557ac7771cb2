"""Container checks and range proofs through the real API and CLI."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.conftest import EXT2_MEDIA_MD5
from tests.hashing.test_ewf import damaged_copy, section_offset
from vault.custody.checkpoint import open_checkpoint
from vault.custody.models import ItemFile
from vault.custody.proof import parse_receipt
from vault.hashing.merkle import hash_leaf, verify_inclusion

LEAF = 1 << 20


def _case(vault) -> str:
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    vault.cli("case", "create", reference, "--title", "Container and range tests")
    return reference


def _entries(vault) -> list[dict]:
    return [json.loads(e.raw) for e in vault.vault.ledger.entries()]


def test_tampered_e01_hash_flagged_and_stored(running_vault, manifest, tmp_path):
    original = manifest["dfvfs/ext2.E01"].path.read_bytes()
    copy = damaged_copy(tmp_path, section_offset(original, b"hash") + 76)
    reference = _case(running_vault)

    item = json.loads(running_vault.cli("upload", str(copy), "--case", reference, "--json").stdout)
    stored = running_vault.vault.store.read_all(item["files"][0]["object_key"], item["files"][0]["version_id"])
    findings = [e for e in _entries(running_vault) if e["action"] == "finding" and e["item"] == item["id"]]

    assert item["status"] == "flagged"
    assert item["container_check"]["verdict"] == "mismatch"
    assert stored == copy.read_bytes()
    assert f"md5:{EXT2_MEDIA_MD5}" in item["media_hashes"]
    assert any("container hash mismatch" in f["details"]["finding"] for f in findings)


def test_split_e01_checked_without_local_copy(running_vault, manifest, monkeypatch):
    from vault.hashing import ewf

    scratch = running_vault.vault.data_dir / "tmp"  # where a spooled copy of the segments would appear
    seen = []
    check = ewf.check_ewf

    def scratch_files() -> list[str]:
        return sorted(str(path) for path in scratch.rglob("*")) if scratch.exists() else []

    def check_and_list_scratch(sources):
        before = scratch_files()
        result = check(sources)
        seen.append({"sources": list(sources), "before": before, "after": scratch_files()})
        return result

    monkeypatch.setattr(ewf, "check_ewf", check_and_list_scratch)
    segments = [manifest["dfvfs/ext2.split.E02"].path, manifest["dfvfs/ext2.split.E01"].path]
    reference = _case(running_vault)

    item = json.loads(running_vault.cli("upload", *map(str, segments), "--case", reference, "--json").stdout)

    assert item["container_check"]["verdict"] == "match"
    assert item["container_check"]["decoder"] == "libewf"
    assert f"md5:{EXT2_MEDIA_MD5}" in item["media_hashes"]
    assert len(seen) == 1
    assert seen[0]["before"] == []
    assert seen[0]["after"] == []
    assert scratch_files() == []
    readers = seen[0]["sources"]
    assert [reader.name for reader in readers] == ["ext2.split.E01", "ext2.split.E02"]
    assert [(r.key, r.version_id) for r in readers] == [(f["object_key"], f["version_id"]) for f in item["files"]]
    assert all(reader.closed for reader in readers)


def test_header_damage_reported_media_intact(running_vault, manifest, tmp_path):
    copy = damaged_copy(tmp_path, 13 + 40)
    reference = _case(running_vault)

    item = json.loads(running_vault.cli("upload", str(copy), "--case", reference, "--json").stdout)

    assert item["container_check"]["verdict"] == "match"
    assert item["container_check"]["metadata_damage"]
    assert item["status"] == "flagged"
    assert any("metadata damaged" in w for w in item["warnings"])


def test_wrong_acquisition_hash_flags_item(running_vault, manifest):
    reference = _case(running_vault)
    image = manifest["dfvfs/image.E01"]

    item = json.loads(running_vault.cli("upload", str(image.path), "--case", reference,
                                        "--acquisition-hash", "md5:" + "2" * 32, "--json").stdout)

    assert item["status"] == "flagged"
    assert any("acquisition hash mismatch" in w and "md5:" + "2" * 32 in w for w in item["warnings"])


def test_bare_001_segment_warns(running_vault, manifest):
    reference = _case(running_vault)
    result = running_vault.cli("upload", str(manifest["dfvfs/bogus.001"].path), "--case", reference, "--json")

    item = json.loads(result.stdout)

    assert item["status"] == "accepted"
    assert "incomplete" in result.stderr
    assert any("incomplete" in w for w in item["warnings"])


def test_range_proofs_on_two_leaf_image(running_vault, manifest, tmp_path):
    image = manifest["dfvfs/mbr.raw"]  # 1,474,560 bytes: one full 1 MiB leaf and a short last leaf
    data = image.path.read_bytes()
    reference = _case(running_vault)
    item = json.loads(running_vault.cli("upload", str(image.path), "--case", reference, "--json").stdout)
    cases = [(0, 1), (LEAF - 10, 20), (LEAF, image.size - LEAF), (image.size - 1, 1), (0, image.size)]

    for offset, length in cases:
        out = tmp_path / f"range-{offset}-{length}"
        result = json.loads(running_vault.cli("verify-range", item["id"], "--offset", str(offset), "--length", str(length),
                                              "-o", str(out), "--json").stdout)
        assert result["verified"] is True, (offset, length)
        assert out.read_bytes() == data[offset : offset + length], (offset, length)


def test_range_beyond_end_is_clear_error(running_vault, manifest):
    image = manifest["dfvfs/mbr.raw"]
    reference = _case(running_vault)
    item = json.loads(running_vault.cli("upload", str(image.path), "--case", reference, "--json").stdout)

    result = running_vault.cli("verify-range", item["id"], "--offset", str(image.size - 5), "--length", "10", check=False)

    assert result.returncode == 1
    assert str(image.size) in result.stderr
    assert result.stderr.startswith("error: ")


def test_altered_row_root_ignored_and_reported(running_vault, manifest):
    image = manifest["dfvfs/mbr.raw"]
    reference = _case(running_vault)
    item = json.loads(running_vault.cli("upload", str(image.path), "--case", reference, "--json").stdout)
    forged = "sha256:" + "cd" * 32
    with Session(running_vault.vault.engine) as session, session.begin():
        session.execute(update(ItemFile).where(ItemFile.item_id == item["id"]).values(merkle_root=forged))

    proven = json.loads(running_vault.cli("verify-range", item["id"], "--offset", "0", "--length", "100", "--json").stdout)
    verified = running_vault.cli("verify", item["id"], "--json", check=False)

    assert proven["merkle_root"] == item["files"][0]["merkle_root"]
    assert verified.returncode == 1
    assert "cd" * 32 in verified.stderr


def test_log_proof_receipt(running_vault, manifest):
    reference = _case(running_vault)
    image = manifest["dfvfs/image.dd"]
    item = json.loads(running_vault.cli("upload", str(image.path), "--case", reference, "--json").stdout)
    intake = next(e for e in _entries(running_vault) if e["action"] == "intake" and e["item"] == item["id"])

    receipt = running_vault.cli("log", "proof", str(intake["index"])).stdout

    parsed = parse_receipt(receipt)
    checkpoint = open_checkpoint(parsed.checkpoint_note, running_vault.vault.ledger.verifier_key,
                                 running_vault.vault.ledger.origin)

    assert receipt.startswith("c2sp.org/tlog-proof@v1\n")
    assert parsed.index == intake["index"]
    verify_inclusion(hash_leaf(running_vault.vault.ledger.entries(start=parsed.index, end=parsed.index + 1)[0].raw),
                     parsed.index, checkpoint.size, list(parsed.proof), checkpoint.root)
