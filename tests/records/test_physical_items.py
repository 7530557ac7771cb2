"""Physical items through the real CLI, server and database: show, verify and report use their ledger record."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from vault.custody.models import Item


def _json(result) -> dict:
    return json.loads(result.stdout)


def _drive(vault, seal: str = "SEAL-001") -> dict:
    reference = f"PH-{uuid.uuid4().hex[:8]}"
    vault.cli("case", "create", reference, "--title", "Seized drive")
    return _json(vault.cli("physical", "add", reference, "--description", "Samsung 870 EVO SSD", "--location",
                           "evidence room A", "--identifier", "serial=S6PNNX0R123456", "--seal", seal, "--json"))


def _pdf_text(path: Path) -> str:
    """Return the report's text without whitespace, so a value wrapped inside a table cell reads whole."""
    text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=120).stdout
    return re.sub(r"\s+", "", text)


def test_physical_show_prints_location_and_seal(running_vault):
    drive = _drive(running_vault)

    show_output = _json(running_vault.cli("show", drive["id"], "--json"))
    text = running_vault.cli("show", drive["id"]).stdout

    assert show_output["record_problems"] == []
    assert show_output["registration_entry"] is not None
    assert show_output["physical_details"]["location"] == "evidence room A"
    assert "description: Samsung 870 EVO SSD" in text
    assert "location: evidence room A" in text
    assert "seal: SEAL-001" in text
    assert "serial=S6PNNX0R123456" in text
    assert "None" not in text
    assert "intake entry" not in text


def test_physical_verify_passes_without_bytes(running_vault):
    drive = _drive(running_vault)

    result = running_vault.cli("verify", drive["id"], check=False)
    verdict = _json(running_vault.cli("verify", drive["id"], "--json"))
    entries = running_vault.vault.ledger.entries(item_id=drive["id"])
    timeline = running_vault.cli("log", drive["id"]).stdout

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no stored bytes to re-hash" in result.stdout
    assert "VERIFIED" in result.stdout
    assert verdict["ok"] is True
    assert verdict["kind"] == "physical"
    assert verdict["bytes_intact"] is None
    assert verdict["records_intact"] is True
    assert verdict["problems"] == []
    verified = [e for e in entries if e.action == "item.verified"]
    assert [e.details["records_intact"] for e in verified] == [True, True]
    assert "FAILED" not in timeline


def test_physical_verify_follows_moves(running_vault):
    drive = _drive(running_vault)
    running_vault.cli("physical", "move", drive["id"], "--to", "locker 7", "--reason", "long-term storage", "--seal", "SEAL-002")

    verdict = _json(running_vault.cli("verify", drive["id"], "--json"))
    show_output = _json(running_vault.cli("show", drive["id"], "--json"))

    assert verdict["ok"] is True
    assert "1 physical.moved entry" in verdict["notes"][0]
    assert show_output["physical_details"]["location"] == "locker 7"
    assert show_output["physical_details"]["seal"] == "SEAL-002"
    assert show_output["moves"] == 1


def test_physical_row_edited_fails_verify(running_vault):
    drive = _drive(running_vault)
    with Session(running_vault.vault.engine) as session, session.begin():
        row = session.get(Item, drive["id"])
        row.physical_details = {**row.physical_details, "location": "somewhere else"}

    result = running_vault.cli("verify", drive["id"], check=False)
    show_output = _json(running_vault.cli("show", drive["id"], "--json"))

    assert result.returncode == 1
    assert "'somewhere else'" in result.stderr
    assert "physical.registered entry" in result.stderr
    assert show_output["physical_details"]["location"] == "evidence room A"


def test_physical_report_prints_physical_fields(running_vault, tmp_path):
    drive = _drive(running_vault, seal="SEAL-777")
    running_vault.cli("verify", drive["id"])
    report = tmp_path / "physical.pdf"

    running_vault.cli("report", drive["id"], "-o", str(report))
    text = _pdf_text(report)

    assert "StoragelocationevidenceroomA" in text
    assert "SealSEAL-777" in text
    assert "Samsung870EVOSSD" in text
    assert "Identifier:serialS6PNNX0R123456" in text
    assert "nostoredbytestore-hash" in text
    assert "None" not in text
    assert "notrecordedbytes" not in text
    assert "FAILED" not in text
    assert "intakeentry" not in text


def test_physical_verify_postgresql(running_vault_pg):
    drive = _drive(running_vault_pg)

    result = running_vault_pg.cli("verify", drive["id"], check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no stored bytes to re-hash" in result.stdout
