"""Intake through the real API on SeaweedFS, with the real fixture images."""

from __future__ import annotations

import base64
import os
import json
import socket
import time
import uuid
from urllib.parse import urlparse

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.conftest import MANIFEST
from vault.custody.models import ItemFile
from vault.services.manifest import MANIFEST_HEADER, FileSpec, UploadManifest
from vault.storage.objects import make_s3_client

RAW_IMAGES = ["dfvfs/image.dd", "dfvfs/mbr.raw", "dfvfs/ímynd.dd", "dfvfs/ext2.qcow2", "dfvfs/bogus.001",
              "memflow-LiME/deb-x86_64-slice.lime", "pyelftools/core_linux64.elf", "dfvfs/hfsplus.hdd/hfsplus.hdd"]


def _client(running_vault) -> httpx.Client:
    client = httpx.Client(base_url=running_vault.url, headers=running_vault.headers("analyst.alice"), timeout=120)
    client.auditor_headers = running_vault.headers("auditor.carol")  # the raw ledger is the auditor's view
    return client


def _case(client: httpx.Client) -> str:
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    response = client.post("/v1/cases", json={"reference": reference, "title": "Workstation compromise"})
    assert response.status_code == 201, response.text
    return reference


def _upload(client, reference, paths, expect=(), acquisition=()):
    manifest = UploadManifest(tuple(FileSpec(p.name, p.stat().st_size) for p in paths),
                              tuple(expect), tuple(acquisition))
    body = b"".join(p.read_bytes() for p in paths)
    return client.post(f"/v1/cases/{reference}/items", content=body,
                       headers={MANIFEST_HEADER: manifest.encode(), "Content-Type": "application/octet-stream"})


def _entries(client) -> list[dict]:
    raw = client.get("/v1/ledger/entries", headers=client.auditor_headers).json()["entries"]
    return [json.loads(base64.b64decode(e)) for e in raw]


def _unfinished_uploads(running_vault) -> list:
    store = running_vault.vault.store
    s3 = make_s3_client(store.settings)
    return s3.list_multipart_uploads(Bucket=store.settings.bucket).get("Uploads", [])


@pytest.mark.parametrize("name", sorted(n for n in MANIFEST if n not in ("dfvfs/hfsplus.hdd/DiskDescriptor.xml",)))
def test_every_fixture_stored_with_manifest_sha256(running_vault, name):
    from vault.hashing.digest import Digest

    image = MANIFEST[name]
    with _client(running_vault) as client:
        reference = _case(client)
        expect = [Digest("md5", image.md5)] if name in RAW_IMAGES else []
        response = _upload(client, reference, [image.path], expect=expect)
        assert response.status_code == 201, response.text
        item = response.json()
    assert item["sha256"] == f"sha256:{image.sha256}"
    assert item["files"][0]["sha256"] == f"sha256:{image.sha256}"
    assert item["files"][0]["name"] == image.path.name
    assert item["size"] == image.size
    assert item["files"][0]["version_id"]


def test_empty_file_accepted_and_flagged(running_vault, manifest):
    image = manifest["dfvfs/hfsplus.hdd/hfsplus.hdd"]
    with _client(running_vault) as client:
        item = _upload(client, _case(client), [image.path]).json()
        shown = client.get(f"/v1/items/{item['id']}").json()
    assert shown["empty"] is True
    assert shown["size"] == 0
    assert shown["sha256"] == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert any("empty" in w for w in shown["warnings"])


def test_unicode_name_kept_exactly(running_vault, manifest):
    image = manifest["dfvfs/ímynd.dd"]
    with _client(running_vault) as client:
        item = _upload(client, _case(client), [image.path]).json()
        shown = client.get(f"/v1/items/{item['id']}").json()
    assert shown["files"][0]["name"] == "ímynd.dd"
    assert shown["files"][0]["object_key"] == f"evidence/{item['id']}/0"


def test_wrong_declared_hash_refused_and_recorded(running_vault, manifest):
    from vault.hashing.digest import Digest

    image = manifest["dfvfs/image.dd"]
    wrong = Digest("md5", "0" * 32)
    with _client(running_vault) as client:
        reference = _case(client)
        response = _upload(client, reference, [image.path], expect=[wrong])
        case = client.get(f"/v1/cases/{reference}").json()
        entries = _entries(client)
    assert response.status_code == 422
    message = response.json()["message"]
    assert str(wrong) in message
    assert f"md5:{image.md5}" in message
    assert case["items"] == []
    refusals = [e for e in entries if e["action"] == "intake.refused" and e["case"] == case["id"]]
    assert len(refusals) == 1
    assert refusals[0]["details"]["expected"] == str(wrong)
    assert refusals[0]["details"]["computed"] == f"md5:{image.md5}"
    assert refusals[0]["details"]["stored_objects"] == []
    assert _unfinished_uploads(running_vault) == []


def test_unknown_case_is_404(running_vault, manifest):
    image = manifest["dfvfs/image.dd"]
    with _client(running_vault) as client:
        response = _upload(client, "NO-SUCH-CASE", [image.path])
    assert response.status_code == 404
    assert "case 'NO-SUCH-CASE' not found" in response.json()["message"]


def test_client_disconnect_aborts_upload(running_vault):
    size = 24 << 20
    manifest = UploadManifest((FileSpec("disk.dd", size),))
    with _client(running_vault) as client:
        reference = _case(client)
    target = urlparse(running_vault.url)
    head = (
        f"POST /v1/cases/{reference}/items HTTP/1.1\r\nHost: {target.netloc}\r\n"
        f"Authorization: Bearer {running_vault.tokens['analyst.alice']}\r\n"
        f"{MANIFEST_HEADER}: {manifest.encode()}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    with socket.create_connection((target.hostname, target.port)) as sock:
        sock.sendall(head)
        sent = 0
        block = bytes(range(256)) * 4096
        while sent < size // 2:
            sock.sendall(block)
            sent += len(block)
        time.sleep(1)  # let the server consume what was sent before the connection drops
    with _client(running_vault) as client:
        for _ in range(100):  # bounded wait for the server to notice and abort
            aborted = [e for e in _entries(client) if e["action"] == "intake.aborted" and e["details"]["files"][0]["name"] == "disk.dd"]
            if aborted:
                break
            time.sleep(0.2)
        case = client.get(f"/v1/cases/{reference}").json()
    assert aborted, "no intake.aborted entry after the client disconnected"
    assert 0 < aborted[0]["details"]["received_bytes"] < size
    assert case["items"] == []
    assert _unfinished_uploads(running_vault) == []


def test_body_longer_than_manifest_rejected(running_vault, manifest):
    image = manifest["dfvfs/image.dd"]
    bad = UploadManifest((FileSpec("image.dd", image.size - 10),))
    with _client(running_vault) as client:
        reference = _case(client)
        response = client.post(f"/v1/cases/{reference}/items", content=image.path.read_bytes(),
                               headers={MANIFEST_HEADER: bad.encode()})
        case = client.get(f"/v1/cases/{reference}").json()
    assert response.status_code == 400
    assert "longer than the manifest" in response.json()["message"]
    assert case["items"] == []


def test_stored_version_cannot_be_deleted(running_vault, manifest):
    from vault.storage.errors import DeleteRefused

    image = manifest["dfvfs/image.dd"]
    with _client(running_vault) as client:
        item = _upload(client, _case(client), [image.path]).json()
    stored = item["files"][0]
    with pytest.raises(DeleteRefused):
        running_vault.vault.store.delete_version(stored["object_key"], stored["version_id"])
    assert running_vault.vault.store.read_all(stored["object_key"], stored["version_id"]) == image.path.read_bytes()


def test_verify_names_altered_record(running_vault, manifest):
    image = manifest["dfvfs/mbr.raw"]
    with _client(running_vault) as client:
        item = _upload(client, _case(client), [image.path]).json()
        good = client.post(f"/v1/items/{item['id']}/verify").json()
        with Session(running_vault.vault.engine) as session, session.begin():
            session.execute(update(ItemFile).where(ItemFile.item_id == item["id"]).values(sha256="sha256:" + "ab" * 32))
        bad = client.post(f"/v1/items/{item['id']}/verify").json()
    assert good["ok"] is True
    assert good["bytes_intact"] is True
    assert good["chain_intact"] is True
    assert bad["ok"] is False
    assert bad["bytes_intact"] is False
    assert "sha256:" + "ab" * 32 in bad["problems"][0]
    assert f"sha256:{image.sha256}" in bad["problems"][0]


def test_reads_are_recorded(running_vault, manifest):
    image = manifest["dfvfs/image.dd"]
    with _client(running_vault) as client:
        item = _upload(client, _case(client), [image.path]).json()
        client.get(f"/v1/items/{item['id']}")
        content = client.get(f"/v1/items/{item['id']}/files/0/content").content
        client.post(f"/v1/items/{item['id']}/verify")
        timeline = client.get(f"/v1/items/{item['id']}/log").json()
    assert content == image.path.read_bytes()
    actions = [e["action"] for e in timeline["entries"]]
    assert actions == ["intake", "item.viewed", "item.downloaded", "item.verified", "log.viewed"]
    assert all(e["actor"] == "analyst.alice" for e in timeline["entries"])


def test_swapped_version_pointer_caught(running_vault, manifest):
    """A DBA with the vault's S3 keys writes forged bytes as a new version and repoints the rows to it."""
    import hashlib
    from datetime import datetime, timedelta, timezone

    from vault.custody.models import Item

    image = manifest["dfvfs/image.dd"]
    forged = b"FORGED EVIDENCE" * 100
    forged_sha256 = "sha256:" + hashlib.sha256(forged).hexdigest()
    store = running_vault.vault.store
    with _client(running_vault) as client:
        item = _upload(client, _case(client), [image.path]).json()
        key = item["files"][0]["object_key"]
        fake = store.put_locked(key, forged, datetime.now(timezone.utc) + timedelta(days=1))
        with Session(running_vault.vault.engine) as session, session.begin():
            session.execute(update(ItemFile).where(ItemFile.item_id == item["id"]).values(
                version_id=fake.version_id, sha256=forged_sha256, size=len(forged)))
            session.execute(update(Item).where(Item.id == item["id"]).values(sha256=forged_sha256, size=len(forged)))
        verdict = client.post(f"/v1/items/{item['id']}/verify").json()
        shown = client.get(f"/v1/items/{item['id']}").json()
        content = client.get(f"/v1/items/{item['id']}/files/0/content").content

    assert verdict["ok"] is False
    assert any(fake.version_id in problem for problem in verdict["problems"])
    assert shown["sha256"] == f"sha256:{image.sha256}"
    assert shown["files"][0]["version_id"] == item["files"][0]["version_id"]
    assert content == image.path.read_bytes()


def test_part_checksums_come_from_intake_pass(running_vault, manifest, tmp_path, caplog):
    # With the SHA-NI lanes, the file hasher digests every S3 part, the short last one included.
    from vault.hashing import lanes

    generated = tmp_path / "twenty-mib.bin"
    generated.write_bytes(os.urandom(20 * 2**20 + 4321))
    client = _client(running_vault)
    reference = _case(client)
    caplog.set_level("INFO", logger="vault.storage.multipart")

    for path in (manifest["dfvfs/ext2.split.E01"].path, generated):
        response = _upload(client, reference, [path])
        assert response.status_code == 201, response.text

    completed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("storage.upload.complete")]
    assert len(completed) == 2
    assert "parts=1 " in completed[0]
    assert "parts=3 " in completed[1]
    expected = "parts_hashed_here=0" if lanes.engine() != "hashlib" else "parts_hashed_here="
    assert all(expected in message for message in completed), completed


def test_hashlib_fallback_stores_same_hashes(running_vault, tmp_path, monkeypatch, caplog):
    # Where the SHA-NI extension is missing, hashlib computes the same values in separate passes.
    import hashlib

    from vault.hashing import lanes

    data = os.urandom(9 * 2**20 + 17)
    generated = tmp_path / "nine-mib.bin"
    generated.write_bytes(data)
    client = _client(running_vault)
    reference = _case(client)
    caplog.set_level("INFO", logger="vault.storage.multipart")
    monkeypatch.setattr(lanes, "_native", None)

    response = _upload(client, reference, [generated])

    assert response.status_code == 201, response.text
    item = response.json()
    assert item["sha256"] == "sha256:" + hashlib.sha256(data).hexdigest()
    completed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("storage.upload.complete")]
    assert "parts=2 parts_hashed_here=2" in completed[-1]
    monkeypatch.undo()  # verify rereads the stored bytes with the SHA-NI lanes again, where present
    verified = client.post(f"/v1/items/{item['id']}/verify").json()
    assert verified["ok"] is True
    assert verified["bytes_intact"] is True
