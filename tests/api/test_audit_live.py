"""A rolled-back database is caught against the checkpoints in WORM storage."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from tests.fixtures_vault import start_vault
from vault.config import Settings
from vault.custody.audit import export_ledger, verify_bundle
from vault.custody.db import create_engine_for
from vault.custody.ledger import Ledger
from vault.custody.note import load_or_create_signer
from vault.errors import LedgerError
from vault.services.runtime import Vault
from vault.storage.objects import make_s3_client


def _activity(running, image) -> None:
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    running.cli("case", "create", reference, "--title", "Rollback test")
    running.cli("upload", str(image), "--case", reference)
    running.vault.ledger.checkpoint()  # signs now and writes checkpoints/<size> to the bucket


def _database_files(data_dir):
    return [p for p in data_dir.iterdir() if p.name.startswith("vault.db")]


def _stored_checkpoints(s3) -> list[bytes]:
    """Read every checkpoint version straight from the bucket, as an auditor with read-only credentials would."""
    client = make_s3_client(s3)
    versions = client.list_object_versions(Bucket=s3.bucket, Prefix="checkpoints/").get("Versions", [])
    return [client.get_object(Bucket=s3.bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read() for v in versions]


def test_live_audit_passes_on_intact_vault(running_vault, manifest):
    _activity(running_vault, manifest["dfvfs/image.dd"].path)

    result = running_vault.cli("audit", "verify", "--live", "--key", running_vault.vault.ledger.verifier_key, "--json",
                               user="auditor.carol")

    verdict = json.loads(result.stdout)
    assert verdict["ok"] is True
    assert verdict["stored_checkpoints"] >= 1


def test_live_audit_counts_each_checkpoint_once(running_vault, manifest):
    for _ in range(2):  # at least two checkpoints, so counting both sets would exceed the bound below
        _activity(running_vault, manifest["dfvfs/image.dd"].path)

    result = running_vault.cli("audit", "verify", "--live", "--key", running_vault.vault.ledger.verifier_key, "--json",
                               user="auditor.carol")

    verdict = json.loads(result.stdout)
    assert verdict["storage_checkpoint_count"] == verdict["stored_checkpoints"]
    # Every database checkpoint is also written to storage, so the database count cannot be
    # larger, give or take one signed while the audit ran. Counting both sets as one doubled it.
    assert 1 <= verdict["checkpoint_count"] <= verdict["storage_checkpoint_count"] + 1


def test_rolled_back_database_refused_and_named(tmp_path, make_s3_settings, manifest):
    s3 = make_s3_settings("ev-rollback")
    data_dir = tmp_path / "vault"
    backup = tmp_path / "backup"
    image = manifest["dfvfs/image.dd"].path

    # 1. Some custody history, then a copy of the database taken while the vault is stopped.
    running, stop = start_vault(data_dir, s3)
    _activity(running, image)
    stop()
    backup.mkdir()
    for path in _database_files(data_dir):
        shutil.copy2(path, backup / path.name)

    # 2. More history, whose checkpoints reach WORM storage.
    running, stop = start_vault(data_dir, s3)
    _activity(running, image)
    stop()

    # 3. Hide the later checkpoints behind delete markers (allowed on an Object Lock bucket),
    #    then restore the old copy, as an administrator hiding the later entries would.
    client = make_s3_client(s3)
    for listed in client.list_objects_v2(Bucket=s3.bucket, Prefix="checkpoints/").get("Contents", []):
        client.delete_object(Bucket=s3.bucket, Key=listed["Key"])
    assert client.list_objects_v2(Bucket=s3.bucket, Prefix="checkpoints/").get("KeyCount", 0) == 0
    for path in _database_files(data_dir):
        path.unlink()
    for path in backup.iterdir():
        shutil.copy2(path, data_dir / path.name)
    settings = Settings(data_dir=data_dir, s3_endpoint=s3.endpoint_url, s3_access_key=s3.access_key,
                        s3_secret_key=s3.secret_key, s3_bucket=s3.bucket)
    with pytest.raises(LedgerError) as refused:
        Vault.open(settings)

    # 4. The auditor's offline check, with checkpoints read from the bucket, names the rollback.
    engine = create_engine_for(settings.resolved_database_url())
    ledger = Ledger(engine, load_or_create_signer(data_dir / "log-key", settings.log_origin))
    bundle = tmp_path / "bundle"
    export_ledger(ledger, bundle)
    ledger.stop_timer()
    engine.dispose()
    alone = verify_bundle(bundle, ledger.verifier_key)
    with_storage = verify_bundle(bundle, ledger.verifier_key, storage_notes=_stored_checkpoints(s3))

    assert "rolled back" in str(refused.value)
    assert alone.ok, "the restored database is consistent with itself; only storage can tell"
    assert not with_storage.ok
    assert "rollback" in with_storage.kinds
