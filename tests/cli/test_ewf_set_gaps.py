"""The upload command refuses EWF sets with missing segments before any byte is sent, and takes complete ones."""

from __future__ import annotations

import json
import os
import shutil
import uuid


def _case(vault) -> tuple[str, str]:
    reference = f"EG-{uuid.uuid4().hex[:8]}"
    case = json.loads(vault.cli("case", "create", reference, "--title", "Segment gaps", "--json").stdout)
    return reference, case["id"]


def _check_rejected_before_upload(vault, case_id: str, result, evidence_before: list[str], reason: str) -> None:
    actions = [e.action for e in vault.vault.ledger.entries(case_id=case_id)]
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("error: incomplete EWF set: "), result.stderr
    assert reason in result.stderr, result.stderr
    assert "--allow-incomplete" in result.stderr
    assert actions == ["case.created"]
    assert vault.vault.store.list_keys("evidence/") == evidence_before


def test_last_segment_alone_refused(running_vault, manifest):
    reference, case_id = _case(running_vault)
    before = running_vault.vault.store.list_keys("evidence/")

    result = running_vault.cli("upload", str(manifest["dfvfs/image-split.E02"].path), "--case", reference, check=False)

    _check_rejected_before_upload(running_vault, case_id, result, before, "earlier segments look missing")


def test_middle_segment_missing_refused(running_vault, manifest, tmp_path):
    reference, case_id = _case(running_vault)
    shutil.copyfile(manifest["dfvfs/image-split.E01"].path, tmp_path / "disk.E01")
    shutil.copyfile(manifest["dfvfs/image-split.E02"].path, tmp_path / "disk.E03")
    before = running_vault.vault.store.list_keys("evidence/")

    result = running_vault.cli("upload", str(tmp_path / "disk.E03"), str(tmp_path / "disk.E01"), "--case", reference,
                               check=False)

    _check_rejected_before_upload(running_vault, case_id, result, before, "missing between numbers 1 and 3")


def test_lower_case_symlink_refused(running_vault, manifest, tmp_path):
    reference, case_id = _case(running_vault)
    os.symlink(manifest["dfvfs/image-split.E01"].path, tmp_path / "disk.e01")
    before = running_vault.vault.store.list_keys("evidence/")

    result = running_vault.cli("upload", str(tmp_path / "disk.e01"), "--case", reference, check=False)

    _check_rejected_before_upload(running_vault, case_id, result, before, "segment disk.e02 must follow it")


def test_lower_case_complete_set_uploads(running_vault, manifest, tmp_path):
    reference, _ = _case(running_vault)
    shutil.copyfile(manifest["dfvfs/image-split.E01"].path, tmp_path / "disk.e01")
    os.symlink(manifest["dfvfs/image-split.E02"].path, tmp_path / "disk.e02")

    item = json.loads(running_vault.cli("upload", str(tmp_path / "disk.e02"), str(tmp_path / "disk.e01"), "--case",
                                        reference, "--json").stdout)

    assert item["status"] == "accepted"
    assert [f["name"] for f in item["files"]] == ["disk.e01", "disk.e02"]


def test_raw_file_named_e01_not_refused(running_vault, manifest, tmp_path):
    reference, _ = _case(running_vault)
    shutil.copyfile(manifest["dfvfs/image.dd"].path, tmp_path / "raw.E01")

    result = running_vault.cli("upload", str(tmp_path / "raw.E01"), "--case", reference, "--json", check=False)

    assert "incomplete EWF set" not in result.stderr
    assert result.returncode == 0, result.stderr


def test_directory_named_e01_rejected(running_vault, tmp_path):
    reference, case_id = _case(running_vault)
    (tmp_path / "dir.E01").mkdir()

    result = running_vault.cli("upload", str(tmp_path / "dir.E01"), "--case", reference, check=False)

    actions = [e.action for e in running_vault.vault.ledger.entries(case_id=case_id)]
    assert result.returncode != 0
    assert "is a directory" in result.stderr
    assert actions == ["case.created"]
