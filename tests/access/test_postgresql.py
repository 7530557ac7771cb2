"""Memberships, hidden items and denial counting on PostgreSQL."""

from __future__ import annotations

import json
import uuid

import httpx

from vault.services.manifest import MANIFEST_HEADER, FileSpec, UploadManifest


def test_hidden_item_denied_and_counted_postgresql(running_vault_pg):
    vault = running_vault_pg
    vault.user("analyst.pia", "analyst")
    reference = f"PG-{uuid.uuid4().hex[:8]}"
    manifest = UploadManifest((FileSpec("note.txt", 5),))

    with httpx.Client(base_url=vault.url, headers=vault.headers(), timeout=120) as alice:
        assert alice.post("/v1/cases", json={"reference": reference, "title": "PostgreSQL"}).status_code == 201
        item = alice.post(f"/v1/cases/{reference}/items", content=b"hello",
                          headers={MANIFEST_HEADER: manifest.encode()}).json()
    with httpx.Client(base_url=vault.url, headers=vault.headers("analyst.pia"), timeout=120) as pia:
        hidden = [pia.get(f"/v1/items/{item['id']}") for _ in range(3)]
        missing = pia.get(f"/v1/items/{uuid.uuid4()}")
    entries = [json.loads(e.raw) for e in vault.vault.ledger.entries()]

    assert [r.status_code for r in hidden] == [404, 404, 404]
    assert missing.status_code == 404
    assert hidden[0].json()["error"] == missing.json()["error"]
    denied = [e for e in entries if e["action"] == "access.denied" and e["actor"] == "analyst.pia"]
    assert len(denied) == 1
    assert denied[0]["item"] == item["id"]
    assert denied[0]["details"]["permission"] == "item.read"
