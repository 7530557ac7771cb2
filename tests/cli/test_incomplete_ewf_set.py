"""An EWF set whose last segment given is not the last one is refused before any byte is sent."""

from __future__ import annotations

import json
import uuid


def _case(vault) -> tuple[str, str]:
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    case = json.loads(vault.cli("case", "create", reference, "--title", "Split image", "--json").stdout)
    return reference, case["id"]


def test_missing_e02_refused_before_upload(running_vault, manifest):
    reference, case_id = _case(running_vault)
    evidence_before = running_vault.vault.store.list_keys("evidence/")

    result = running_vault.cli("upload", str(manifest["dfvfs/image-split.E01"].path), "--case", reference, check=False)

    actions = [e.action for e in running_vault.vault.ledger.entries(case_id=case_id)]
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: incomplete EWF set: image-split.E01 ")
    assert "image-split.E02 must follow it" in result.stderr
    assert "pass all segments" in result.stderr
    assert "--allow-incomplete" in result.stderr
    assert actions == ["case.created"]
    assert running_vault.vault.store.list_keys("evidence/") == evidence_before


def test_allow_incomplete_uploads_flagged(running_vault, manifest):
    reference, _ = _case(running_vault)

    result = running_vault.cli("upload", str(manifest["dfvfs/image-split.E01"].path), "--case", reference,
                               "--allow-incomplete", "--json")

    item = json.loads(result.stdout)
    assert item["status"] == "flagged"
    assert [f["name"] for f in item["files"]] == ["image-split.E01"]


def test_complete_split_set_uploads(running_vault, manifest):
    reference, _ = _case(running_vault)
    segments = [str(manifest["dfvfs/image-split.E02"].path), str(manifest["dfvfs/image-split.E01"].path)]

    item = json.loads(running_vault.cli("upload", *segments, "--case", reference, "--json").stdout)

    assert item["status"] == "accepted"
    assert item["container_check"]["verdict"] == "match"


def test_single_segment_e01_uploads(running_vault, manifest):
    reference, _ = _case(running_vault)

    item = json.loads(running_vault.cli("upload", str(manifest["dfvfs/image.E01"].path), "--case", reference, "--json").stdout)

    assert item["status"] == "accepted"
