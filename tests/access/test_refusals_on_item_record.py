"""A role refused on an existing item is on that item's record: its timeline, its report and the entry's item field."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import uuid


def _denials(world, user: str, permission: str) -> list[dict]:
    return [e for e in world.entries()
            if e["action"] == "access.denied" and e["actor"] == user and e["details"]["permission"] == permission]


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def test_counsel_download_denial_names_item(world, tmp_path):
    result = world.running.cli("download", world.item_a, "-o", str(tmp_path / "copy.dd"), check=False, user="counsel.bob")

    denied = _denials(world, "counsel.bob", "item.content")
    assert result.returncode == 1
    assert "counsel accounts may not download evidence bytes" in result.stderr
    assert len(denied) == 1
    assert denied[0]["item"] == world.item_a
    assert denied[0]["case"] == world.case_a_id
    assert denied[0]["details"]["object_id"] == world.item_a


def test_admin_show_denial_names_item(world):
    result = world.running.cli("show", world.item_a, check=False, user="admin")

    denied = _denials(world, "admin", "item.read")
    assert result.returncode == 1
    assert "admin accounts may not read item metadata" in result.stderr
    assert [e["item"] for e in denied if e["details"]["object_id"] == world.item_a] == [world.item_a]
    assert all(e["case"] == world.case_a_id for e in denied if e["details"]["object_id"] == world.item_a)


def test_role_denial_in_item_log_and_report(world, tmp_path):
    world.running.cli("show", world.item_a, check=False, user="admin")
    world.running.cli("download", world.item_a, "-o", str(tmp_path / "copy.dd"), check=False, user="counsel.bob")
    report = tmp_path / "custody.pdf"

    timeline = json.loads(world.running.cli("log", world.item_a, "--json").stdout)
    readable = world.running.cli("log", world.item_a).stdout
    world.running.cli("report", world.item_a, "-o", str(report))
    _run(["pdfdetach", "-savefile", "custody.json", "-o", str(tmp_path / "custody.json"), str(report)])
    attached = json.loads((tmp_path / "custody.json").read_text(encoding="utf-8"))
    text = re.sub(r"\s+", "", _run(["pdftotext", "-raw", "-enc", "UTF-8", str(report), "-"]).stdout)

    in_log = {(e["actor"], e["details"]["permission"]) for e in timeline["entries"] if e["action"] == "access.denied"}
    in_report = {(entry["actor"], entry["details"]["permission"])
                 for entry in (json.loads(base64.b64decode(e["raw"])) for e in attached["entries"])
                 if entry["action"] == "access.denied"}
    assert ("admin", "item.read") in in_log
    assert ("counsel.bob", "item.content") in in_log
    assert "ACCESS DENIED (counsel) for item.content" in readable
    assert ("admin", "item.read") in in_report
    assert ("counsel.bob", "item.content") in in_report
    assert "ACCESSDENIED(admin)foritem.read" in text
    assert "ACCESSDENIED(counsel)foritem.content" in text


def test_role_denial_on_missing_item_has_no_item(world):
    missing = str(uuid.uuid4())
    with world.client("counsel.bob") as client:
        existing = client.get(f"/v1/items/{world.item_a}/files/0/content")
        absent = client.get(f"/v1/items/{missing}/files/0/content")

    denied = [e for e in _denials(world, "counsel.bob", "item.content") if e["details"]["object_id"] == missing]
    assert existing.status_code == absent.status_code == 403
    assert existing.json() == absent.json()
    assert len(denied) == 1
    assert denied[0]["item"] is None
    assert denied[0]["case"] is None


def test_role_denial_on_hidden_item_answers_like_missing(world):
    # counsel.bob is no member of case B, and counsel may not download in any case.
    missing = str(uuid.uuid4())
    with world.client("counsel.bob") as client:
        hidden = client.get(f"/v1/items/{world.item_b}/files/0/content")
        absent = client.get(f"/v1/items/{missing}/files/0/content")

    denied = [e for e in _denials(world, "counsel.bob", "item.content") if e["details"]["object_id"] == world.item_b]
    assert hidden.status_code == absent.status_code == 403
    assert hidden.json() == absent.json()
    assert [e["item"] for e in denied] == [world.item_b]
