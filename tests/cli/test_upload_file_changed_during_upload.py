"""`evidence-vault upload` on a file that grows or shrinks while it is sent: an error, and no item stored."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid

import httpx
import pytest

from vault.cli import item_commands
from vault.cli.main import main

MiB = 2**20


def _entries(running_vault) -> list[dict]:
    response = httpx.get(f"{running_vault.url}/v1/ledger/entries", headers=running_vault.headers("auditor.carol"), timeout=60)
    return [json.loads(base64.b64decode(entry)) for entry in response.json()["entries"]]


def _case_items(running_vault, reference: str) -> list:
    response = httpx.get(f"{running_vault.url}/v1/cases/{reference}", headers=running_vault.headers(), timeout=60)
    return response.json()["items"]


def _upload_while_changing(running_vault, monkeypatch, capsys, image, change) -> tuple[str, str]:
    """Run the real upload command in this process, calling `change(image)` once the first chunk is sent."""
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "Changed file")
    monkeypatch.setenv("VAULT_API_URL", running_vault.url)
    monkeypatch.setenv("VAULT_TOKEN", running_vault.tokens["analyst.alice"])
    original_body = item_commands._body

    def body_that_changes_the_file(files, progress, task):
        for number, chunk in enumerate(original_body(files, progress, task)):
            yield chunk
            if number == 0:
                change(image)

    monkeypatch.setattr(item_commands, "_body", body_that_changes_the_file)

    with pytest.raises(SystemExit) as stop:
        main(["upload", str(image), "--case", reference])

    assert stop.value.code == 1
    return reference, capsys.readouterr().err


def _wait_for_abort(running_vault, name: str) -> list[dict]:
    for _ in range(100):  # bounded wait for the server to notice the dropped connection
        aborted = [e for e in _entries(running_vault)
                   if e["action"] == "intake.aborted" and e["details"]["files"][0]["name"] == name]
        if aborted:
            return aborted
        time.sleep(0.2)
    return []


def test_file_grown_during_upload_stores_nothing(running_vault, monkeypatch, capsys, tmp_path) -> None:
    image = tmp_path / f"grows-{uuid.uuid4().hex[:6]}.dd"
    image.write_bytes(os.urandom(3 * MiB + 5))

    def append(path):
        with path.open("ab") as handle:
            handle.write(b"appended by the imaging tool")

    reference, stderr = _upload_while_changing(running_vault, monkeypatch, capsys, image, append)

    assert "changed size during the upload" in stderr
    assert "nothing was stored" in stderr
    aborted = _wait_for_abort(running_vault, image.name)
    # The size check must run before the last chunk goes out: once the server has every
    # declared byte, it accepts the item whatever the CLI reports.
    assert _case_items(running_vault, reference) == []
    assert aborted, "no intake.aborted entry after the CLI stopped the upload"


def test_file_truncated_during_upload_stores_nothing(running_vault, monkeypatch, capsys, tmp_path) -> None:
    image = tmp_path / f"shrinks-{uuid.uuid4().hex[:6]}.dd"
    image.write_bytes(os.urandom(3 * MiB + 5))

    def truncate(path):
        os.truncate(path, 2 * MiB)

    reference, stderr = _upload_while_changing(running_vault, monkeypatch, capsys, image, truncate)

    assert "changed size during the upload (was 3145733 bytes, now 2097152)" in stderr
    assert _wait_for_abort(running_vault, image.name), "no intake.aborted entry after the CLI stopped the upload"
    assert _case_items(running_vault, reference) == []
