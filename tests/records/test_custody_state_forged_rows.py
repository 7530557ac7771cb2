"""Retain-until, legal hold and status edited in the database: show and verify use the ledger's values and list the edit."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from vault.custody.models import Item


def _json(result) -> dict:
    return json.loads(result.stdout)


def _uploaded_item(vault, tmp_path) -> dict:
    reference = f"CS-{uuid.uuid4().hex[:8]}"
    vault.cli("case", "create", reference, "--title", "Forged custody state")
    evidence = tmp_path / f"{reference}.dd"
    evidence.write_bytes(b"custody state" * 1000)
    return _json(vault.cli("upload", str(evidence), "--case", reference, "--json"))


def _edit(vault, item_id: str, **values) -> None:
    with Session(vault.vault.engine) as session, session.begin():
        row = session.get(Item, item_id)
        for name, value in values.items():
            setattr(row, name, value)


def test_legal_hold_cleared_in_database_caught(running_vault, tmp_path):
    item = _uploaded_item(running_vault, tmp_path)
    running_vault.cli("hold", "place", item["id"], "--reason", "litigation hold, matter 2026-17")
    _edit(running_vault, item["id"], legal_hold=False)

    item_view = _json(running_vault.cli("show", item["id"], "--json"))
    verified = running_vault.cli("verify", item["id"], check=False)

    assert item_view["legal_hold"] is True
    assert any("legal_hold False differs from hold.placed entry" in p for p in item_view["record_problems"])
    assert verified.returncode == 1


def test_retain_until_shortened_in_database_caught(running_vault, tmp_path):
    item = _uploaded_item(running_vault, tmp_path)
    recorded = item["retain_until"]
    _edit(running_vault, item["id"], retain_until=datetime.now(timezone.utc) + timedelta(hours=1))

    item_view = _json(running_vault.cli("show", item["id"], "--json"))
    text = running_vault.cli("show", item["id"]).stdout

    assert datetime.fromisoformat(item_view["retain_until"]) == datetime.fromisoformat(recorded)
    assert any("retain_until" in p and "differs from intake entry" in p for p in item_view["record_problems"])
    assert "problem: database retain_until" in text


def test_status_edited_in_database_caught(running_vault, tmp_path):
    item = _uploaded_item(running_vault, tmp_path)
    _edit(running_vault, item["id"], status="disposed")

    item_view = _json(running_vault.cli("show", item["id"], "--json"))

    assert item_view["status"] == item["status"]
    assert any("status 'disposed' differs from intake entry" in p for p in item_view["record_problems"])


def test_untouched_item_has_no_record_problems(running_vault, tmp_path):
    item = _uploaded_item(running_vault, tmp_path)
    later = (datetime.fromisoformat(item["retain_until"]) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    running_vault.cli("hold", "place", item["id"], "--reason", "preservation request")
    running_vault.cli("hold", "release", item["id"], "--reason", "matter settled")
    running_vault.cli("retention", "extend", item["id"], "--until", later, "--reason", "appeal pending")

    item_view = _json(running_vault.cli("show", item["id"], "--json"))

    assert item_view["legal_hold"] is False
    assert datetime.fromisoformat(item_view["retain_until"]) == datetime.fromisoformat(later)
    assert item_view["record_problems"] == []


def test_physical_item_retain_until_anchored(running_vault):
    reference = f"CS-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "Forged physical retention")
    drive = _json(running_vault.cli("physical", "add", reference, "--description", "Samsung 870 EVO SSD",
                                    "--location", "evidence room A", "--json"))
    _edit(running_vault, drive["id"], retain_until=datetime.now(timezone.utc) + timedelta(minutes=5))

    item_view = _json(running_vault.cli("show", drive["id"], "--json"))

    assert datetime.fromisoformat(item_view["retain_until"]) == datetime.fromisoformat(drive["retain_until"])
    assert any("differs from physical.registered entry" in p for p in item_view["record_problems"])
