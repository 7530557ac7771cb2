"""Edited database rows of physical and digital items never pass show or verify as if the ledger backed them."""

from __future__ import annotations

import json
import uuid

from sqlalchemy.orm import Session

from vault.custody.models import Item


def _json(result) -> dict:
    return json.loads(result.stdout)


def _case(vault) -> str:
    reference = f"PF-{uuid.uuid4().hex[:8]}"
    vault.cli("case", "create", reference, "--title", "Forged rows")
    return reference


def _drive(vault, reference: str) -> dict:
    return _json(vault.cli("physical", "add", reference, "--description", "Samsung 870 EVO SSD", "--location",
                           "evidence room A", "--seal", "SEAL-001", "--json"))


def _edit(vault, item_id: str, **values) -> None:
    with Session(vault.vault.engine) as session, session.begin():
        row = session.get(Item, item_id)
        for name, value in values.items():
            setattr(row, name, value)


def test_edited_seal_carried_by_move_fails(running_vault):
    drive = _drive(running_vault, _case(running_vault))
    _edit(running_vault, drive["id"], physical_details={"identifiers": {}, "location": "evidence room A", "seal": "FORGED"})
    # The move keeps the seal it finds in the database row, so the forged seal lands in the ledger.
    running_vault.cli("physical", "move", drive["id"], "--to", "locker 7", "--reason", "long-term storage")

    result = running_vault.cli("verify", drive["id"], check=False)
    details = _json(running_vault.cli("show", drive["id"], "--json"))

    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert any("seal 'FORGED'" in problem for problem in details["record_problems"])


def test_digital_item_edited_to_physical_fails(running_vault, tmp_path):
    reference = _case(running_vault)
    evidence = tmp_path / "small.dd"
    evidence.write_bytes(b"evidence bytes" * 100)
    item = _json(running_vault.cli("upload", str(evidence), "--case", reference, "--json"))
    _edit(running_vault, item["id"], kind="physical",
          physical_details={"identifiers": {}, "location": "evidence room A", "seal": None})

    result = running_vault.cli("verify", item["id"], check=False)
    output = running_vault.cli("show", item["id"]).stdout

    assert result.returncode == 1
    assert "no physical.registered entry" in result.stdout
    assert "problem: physical item" in output


def test_physical_item_edited_to_digital_fails(running_vault):
    drive = _drive(running_vault, _case(running_vault))
    _edit(running_vault, drive["id"], kind="digital")

    result = running_vault.cli("verify", drive["id"], check=False)

    assert result.returncode == 1
    assert "has no intake entry" in result.stdout + result.stderr


def test_physical_download_says_no_stored_files(running_vault, tmp_path):
    drive = _drive(running_vault, _case(running_vault))

    download = running_vault.cli("download", drive["id"], "-o", str(tmp_path / "copy"), check=False)
    proven = running_vault.cli("verify-range", drive["id"], "--offset", "0", "--length", "1", check=False)
    with running_vault_client(running_vault) as client:
        content = client.get(f"/v1/items/{drive['id']}/files/0/content")

    assert download.returncode == 1
    assert "physical item and has no stored files" in download.stderr
    assert proven.returncode == 1
    assert "physical item and has no stored files" in proven.stderr
    assert content.status_code == 404
    assert "physical item and has no stored files" in content.text
    assert "files 0..-1" not in content.text


def running_vault_client(vault):
    import httpx

    return httpx.Client(base_url=vault.url, headers=vault.headers(), timeout=120)
