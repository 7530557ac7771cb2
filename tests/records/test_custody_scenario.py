"""Seizure to disposal across three custodians, through the real CLI, server, SeaweedFS and database."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

RETENTION_SECONDS = 20
WAIT_LIMIT_S = 90


def _json(result) -> dict:
    return json.loads(result.stdout)


def _at(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _acquisition(tmp_path: Path, md5: str, employee_owned: bool = False) -> Path:
    record = {
        "examiner": "analyst.alice", "acquired_at": "2026-03-01T14:05:00+01:00", "time_zone": "Europe/Berlin",
        "place": "Office 3.14, Example GmbH, Berlin",
        "source_device": {"make": "Samsung", "model": "870 EVO", "serial": "S6PNNX0R123456", "hostname": "ws-0042",
                          "employee_owned": employee_owned},
        "tool": {"name": "FTK Imager", "version": "4.7.1"}, "method": "physical",
        "write_blocker": {"model": "Tableau T35u", "serial": "000ECC35-1234"},
        "hashes": [f"md5:{md5}"], "read_errors": 0, "completed": True,
    }
    path = tmp_path / ("acquisition-employee.json" if employee_owned else "acquisition.json")
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def _wait_until(moment: datetime) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while datetime.now(timezone.utc) <= moment:
        assert time.monotonic() < deadline, f"retention did not pass within {WAIT_LIMIT_S} s"
        time.sleep(0.5)


def _refused(vault, *args: str, user: str) -> str:
    result = vault.cli(*args, check=False, user=user)
    assert result.returncode == 1, f"{' '.join(args)} as {user} was not refused: {result.stdout}"
    return result.stderr


def _scenario(vault, manifest, tmp_path) -> None:
    suffix = uuid.uuid4().hex[:8]
    reference, jurisdiction = f"IR-{suffix}", f"T-{suffix}"
    bob, dave, erin, frank = f"analyst.bob.{suffix}", f"analyst.dave.{suffix}", f"counsel.erin.{suffix}", f"expert.frank.{suffix}"
    vault.user(bob, "analyst")
    vault.user(dave, "analyst")
    vault.user(erin, "counsel")
    vault.user(frank, "examiner")
    image = manifest["dfvfs/image.dd"]

    # Case, retention policy, authority and a non-collection decision.
    vault.cli("case", "create", reference, "--title", "Exfiltration", "--classification", "data breach", "--jurisdiction", jurisdiction)
    for member in (bob, dave, erin):
        vault.add_member(reference, member)
    vault.cli("case", "update", reference, "--counsel", erin, "--reason", "counsel assigned")
    vault.cli("retention", "policy-set", "--jurisdiction", jurisdiction, "--classification", "data breach",
              "--seconds", str(RETENTION_SECONDS), "--basis", "test policy", user="admin")
    vault.cli("authority", "add", reference, "--kind", "warrant", "--reference", "AG-Berlin-2026-17", "--issued-by", "Amtsgericht Berlin")
    vault.cli("not-collected", reference, "--subject", "CEO personal phone", "--constraint", "legal", "--reason", "outside the warrant")

    # Seizure of the drive, then its image with an acquisition record.
    drive = _json(vault.cli("physical", "add", reference, "--description", "Samsung 870 EVO SSD", "--location", "evidence room A",
                            "--identifier", "serial=S6PNNX0R123456", "--seal", "SEAL-001", "--json"))
    item = _json(vault.cli("upload", str(image.path), "--case", reference, "--acquisition",
                           str(_acquisition(tmp_path, image.md5)), "--json"))
    early = _refused(vault, "dispose", "execute", item["id"], "--reason", "too early", user="analyst.alice")
    shorten = _refused(vault, "retention", "extend", item["id"], "--until", _at(1), "--reason", "shorter", user="analyst.alice")
    vault.cli("derive", item["id"], "--from", drive["id"], "--how", "imaged with FTK Imager 4.7.1 through a Tableau T35u")
    vault.cli("physical", "move", drive["id"], "--to", "evidence room B, locker 7", "--reason", "long-term storage")

    # Custody: alice -> bob -> dave, with refusals and a discrepancy on arrival.
    first = _json(vault.cli("transfer", "release", item["id"], "--to", bob, "--reason", "analysis", "--method", "hand delivery",
                            "--reference", "SEAL-002", "--json"))
    wrong_receiver = _refused(vault, "transfer", "accept", first["id"], user=dave)
    vault.cli("transfer", "accept", first["id"], user=bob)
    vault.cli("transfer", "discrepancy", first["id"], "--kind", "seal-broken", "--description", "seal SEAL-002 torn on arrival", user=bob)
    not_custodian = _refused(vault, "transfer", "release", item["id"], "--to", dave, "--reason", "x", "--method", "courier",
                             user="analyst.alice")
    second = _json(vault.cli("transfer", "release", item["id"], "--to", dave, "--reason", "reporting", "--method", "courier",
                             "--json", user=bob))
    vault.cli("transfer", "accept", second["id"], user=dave)
    open_transfer = _json(vault.cli("transfer", "release", drive["id"], "--to", bob, "--reason", "re-imaging",
                                    "--method", "hand delivery", "--json"))

    # An outside expert's grant, used once and left to expire.
    grant = _json(vault.cli("expert", "grant", reference, "--to", frank, "--item", item["id"], "--until", _at(4),
                            "--purpose", "independent review", "--json"))
    vault.cli("expert", "use", grant["id"], "--item", item["id"], "--purpose", "hash check", user=frank)

    # Employee-owned device without legal approval.
    employee = _refused(vault, "upload", str(image.path), "--case", reference, "--acquisition",
                        str(_acquisition(tmp_path, image.md5, employee_owned=True)), user="analyst.alice")

    vault.cli("authority", "add", reference, "--kind", "legal-approval", "--reference", "WORKS-COUNCIL-2026-3", "--employee-devices")
    approved_upload = _json(vault.cli("upload", str(image.path), "--case", reference, "--acquisition",
                                      str(_acquisition(tmp_path, image.md5, employee_owned=True)), "--json"))

    # Hold, retention passing, disposal.
    vault.cli("hold", "place", item["id"], "--reason", "litigation hold 2026-17", user=dave)
    _wait_until(datetime.fromisoformat(item["retain_until"].replace("Z", "+00:00")))
    under_hold = _refused(vault, "dispose", "execute", item["id"], "--reason", "done", user=dave)
    vault.cli("hold", "release", item["id"], "--reason", "matter settled", user=dave)
    vault.cli("dispose", "approve", item["id"], "--reference", "LEGAL-APPROVAL-9", "--reason", "retention ended", user=erin)
    disposed = _json(vault.cli("dispose", "execute", item["id"], "--reason", "retention ended, approved", "--json", user=dave))
    expired_use = _refused(vault, "expert", "use", grant["id"], "--item", item["id"], "--purpose", "late", user=frank)

    timeline = _json(vault.cli("log", item["id"], "--json"))
    readable = vault.cli("log", item["id"]).stdout
    drive_custody = _json(vault.cli("custody", drive["id"], "--json"))
    lineage = _json(vault.cli("lineage", drive["id"], "--json"))
    export = tmp_path / "case.jsonld"
    vault.cli("export-case", reference, "--format", "case-uco", "-o", str(export))
    validation = subprocess.run([str(Path(sys.executable).parent / "case_validate"), str(export)], capture_output=True, text=True,
                                timeout=300)

    actions = [e["action"] for e in timeline["entries"]]
    intake_refusals = [e for e in vault.vault.ledger.entries(case_id=item["case_id"]) if e.action == "intake.refused"]
    assert approved_upload["status"] == "accepted"
    assert len(intake_refusals) == 1
    assert "no legal approval is on record" in intake_refusals[0].details["reason"]
    assert "under retention until" in early
    assert "can only be extended" in shorten
    assert f"addressed to {bob}" in wrong_receiver
    assert f"the current custodian is {bob}" in not_custodian
    assert "no legal approval is on record" in employee
    assert "under legal hold" in under_hold
    assert "expired" in expired_use
    assert disposed["approval"]["approved_by"] == erin
    for expected in ("authority.recorded", "collection.declined", "intake", "disposal.refused", "retention.refused",
                     "item.derived", "transfer.released", "transfer.refused", "transfer.accepted", "transfer.discrepancy",
                     "expert.granted", "expert.used", "expert.grant-expired", "expert.refused", "hold.placed",
                     "hold.released", "disposal.approved", "item.disposed"):
        assert expected in actions, f"{expected} missing from the timeline: {actions}"
    accepted = [e for e in timeline["entries"] if e["action"] == "transfer.accepted"]
    assert [(e["details"]["from"], e["details"]["to"]) for e in accepted] == [("analyst.alice", bob), (bob, dave)]
    assert "DISCREPANCY (seal-broken, receiving side)" in readable
    assert "EXPIRED: expert access" in readable
    assert "DISPOSED:" in readable
    assert drive_custody["custodian"] == "analyst.alice"
    assert drive_custody["open_transfer"]["id"] == open_transfer["id"]
    assert [d["id"] for d in lineage["derivatives"]] == [item["id"]]
    assert validation.returncode == 0, validation.stdout + validation.stderr


def test_scenario_sqlite(running_vault, manifest, tmp_path):
    _scenario(running_vault, manifest, tmp_path)


def test_scenario_postgresql(running_vault_pg, manifest, tmp_path):
    _scenario(running_vault_pg, manifest, tmp_path)
