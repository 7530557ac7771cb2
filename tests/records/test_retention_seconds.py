"""Retain-until dates are whole seconds, rounded up, so show, verify, the report and S3 print one value."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

from vault.storage.objects import round_up_to_second


def _json(result) -> dict:
    return json.loads(result.stdout)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _report_retention_dates(vault, item_id: str, tmp_path) -> list[str]:
    report = tmp_path / f"{item_id}.pdf"
    vault.cli("report", item_id, "-o", str(report))
    text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(report), "-"], capture_output=True, text=True,
                          check=True, timeout=120).stdout
    return re.findall(r"Retained until\s+(\S+)", text)


def test_round_up_keeps_whole_seconds():
    moment = datetime(2036, 11, 30, 14, 5, 47, 295983, tzinfo=timezone.utc)
    whole = datetime(2036, 11, 30, 14, 5, 47, tzinfo=timezone.utc)

    assert round_up_to_second(moment) == datetime(2036, 11, 30, 14, 5, 48, tzinfo=timezone.utc)
    assert round_up_to_second(whole) == whole
    assert round_up_to_second(moment.replace(microsecond=1)) == datetime(2036, 11, 30, 14, 5, 48, tzinfo=timezone.utc)


def _same_date_everywhere(vault, manifest, tmp_path, *, policy_seconds: int | None) -> None:
    suffix = uuid.uuid4().hex[:8]
    reference, jurisdiction = f"RT-{suffix}", f"RT-{suffix}"
    vault.cli("case", "create", reference, "--title", "Retention", "--jurisdiction", jurisdiction)
    if policy_seconds is not None:
        vault.cli("retention", "policy-set", "--jurisdiction", jurisdiction, "--classification", "*",
                  "--seconds", str(policy_seconds), "--basis", "test policy", user="admin")
    period = timedelta(seconds=policy_seconds) if policy_seconds is not None else timedelta(days=1)
    before = datetime.now(timezone.utc)

    item = _json(vault.cli("upload", str(manifest["dfvfs/image.dd"].path), "--case", reference, "--json"))
    show_date = _json(vault.cli("show", item["id"], "--json"))["retain_until"]
    shown_text = vault.cli("show", item["id"]).stdout
    verified = _json(vault.cli("verify", item["id"], "--json"))["files"][0]["retain_until"]
    intake = next(e for e in vault.vault.ledger.entries(item_id=item["id"]) if e.action == "intake")
    reported = _report_retention_dates(vault, item["id"], tmp_path)

    assert show_date.endswith(".000000Z"), show_date
    assert verified == show_date
    assert intake.details["retain_until"] == show_date
    assert f"until {show_date};" in shown_text
    assert reported == [show_date, show_date]
    assert _parse(show_date) >= before + period


def test_default_retention_same_everywhere(running_vault, manifest, tmp_path):
    _same_date_everywhere(running_vault, manifest, tmp_path, policy_seconds=None)


def test_policy_retention_same_everywhere(running_vault, manifest, tmp_path):
    _same_date_everywhere(running_vault, manifest, tmp_path, policy_seconds=3600)


def test_policy_retention_same_everywhere_postgresql(running_vault_pg, manifest, tmp_path):
    _same_date_everywhere(running_vault_pg, manifest, tmp_path, policy_seconds=3600)


def test_extended_retention_whole_seconds(running_vault, manifest):
    reference = f"RT-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "Retention")
    item = _json(running_vault.cli("upload", str(manifest["dfvfs/image.dd"].path), "--case", reference, "--json"))
    target = (_parse(item["retain_until"]) + timedelta(days=2, microseconds=250000)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    extended = _json(running_vault.cli("retention", "extend", item["id"], "--until", target, "--reason", "appeal", "--json"))
    show_date = _json(running_vault.cli("show", item["id"], "--json"))["retain_until"]
    verified = _json(running_vault.cli("verify", item["id"], "--json"))["files"][0]["retain_until"]

    assert extended["retain_until"].endswith(".000000Z")
    assert _parse(extended["retain_until"]) == round_up_to_second(_parse(target))
    assert show_date == extended["retain_until"]
    assert verified == show_date
