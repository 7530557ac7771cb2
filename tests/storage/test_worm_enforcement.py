"""Write-once guarantees that SeaweedFS must enforce and the vault must detect when missing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from vault.errors import InvalidInput, WormCheckFailed
from vault.storage.errors import DeleteRefused, RetentionRefused
from vault.storage.objects import ObjectStore


def in_days(days: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def test_delete_of_locked_version_refused(object_store: ObjectStore) -> None:
    stored = object_store.put_locked("items/locked", b"evidence bytes", in_days(1))

    with pytest.raises(DeleteRefused) as refused:
        object_store.delete_version(stored.key, stored.version_id)

    assert stored.version_id in str(refused.value)
    assert object_store.bucket in str(refused.value)
    assert "AccessDenied" in str(refused.value)
    assert object_store.read_all(stored.key, stored.version_id) == b"evidence bytes"


def test_delete_of_multipart_version_refused(object_store: ObjectStore) -> None:
    with object_store.start_upload("items/multipart-locked", in_days(1)) as writer:
        writer.write(b"image")
        stored = writer.complete()

    with pytest.raises(DeleteRefused):
        object_store.delete_version(stored.key, stored.version_id)

    assert object_store.read_all(stored.key, stored.version_id) == b"image"


def test_shortening_retention_rejected_before_storage(object_store: ObjectStore) -> None:
    stored = object_store.put_locked("items/retained", b"x", in_days(10))
    earlier = in_days(2)

    with pytest.raises(InvalidInput) as rejected:
        object_store.extend_retention(stored.key, stored.version_id, earlier)

    message = str(rejected.value)
    assert earlier.isoformat() in message
    assert stored.retain_until is not None
    assert stored.retain_until.isoformat() in message
    assert object_store.head(stored.key, stored.version_id).retain_until == stored.retain_until


def test_shortening_retention_refused_by_storage(object_store: ObjectStore) -> None:
    # Bypass the vault's own check to prove the storage enforces COMPLIANCE mode too.
    stored = object_store.put_locked("items/retained-raw", b"x", in_days(10))
    client = object_store.client

    for bypass in (False, True):
        with pytest.raises(RetentionRefused):
            object_store.call(
                "PutObjectRetention",
                client.put_object_retention,
                stored.key,
                stored.version_id,
                Bucket=object_store.bucket,
                Key=stored.key,
                VersionId=stored.version_id,
                Retention={"Mode": "COMPLIANCE", "RetainUntilDate": in_days(1)},
                BypassGovernanceRetention=bypass,
            )

    assert object_store.head(stored.key, stored.version_id).retain_until == stored.retain_until


def test_extend_retention_moves_date_later(object_store: ObjectStore) -> None:
    stored = object_store.put_locked("items/extend", b"x", in_days(1))
    later = in_days(400)

    object_store.extend_retention(stored.key, stored.version_id, later)
    head = object_store.head(stored.key, stored.version_id)

    assert head.retention_mode == "COMPLIANCE"
    assert head.retain_until is not None
    assert head.retain_until >= later.replace(microsecond=0)


def test_legal_hold_on_and_off(object_store: ObjectStore) -> None:
    stored = object_store.put_locked("items/held", b"x", in_days(1))

    object_store.set_legal_hold(stored.key, stored.version_id, True)
    held = object_store.head(stored.key, stored.version_id)
    with pytest.raises(DeleteRefused):
        object_store.delete_version(stored.key, stored.version_id)
    object_store.set_legal_hold(stored.key, stored.version_id, False)
    released = object_store.head(stored.key, stored.version_id)

    assert stored.legal_hold is False
    assert held.legal_hold is True
    assert released.legal_hold is False
    assert released.retention_mode == "COMPLIANCE"


def test_worm_self_test_passes_on_lock_bucket(object_store: ObjectStore) -> None:
    object_store.worm_self_test()

    canaries = object_store.list_keys("canary/")
    assert len(canaries) == 1


def test_ensure_bucket_without_versioning_fails(make_s3_settings, s3_client) -> None:
    settings = make_s3_settings()
    s3_client.create_bucket(Bucket=settings.bucket)

    with pytest.raises(WormCheckFailed, match="versioning"):
        ObjectStore(settings).ensure_bucket()


def test_ensure_bucket_versioned_without_object_lock_fails(make_s3_settings, s3_client) -> None:
    settings = make_s3_settings()
    s3_client.create_bucket(Bucket=settings.bucket)
    s3_client.put_bucket_versioning(Bucket=settings.bucket, VersioningConfiguration={"Status": "Enabled"})

    with pytest.raises(WormCheckFailed, match="Object Lock is not enabled"):
        ObjectStore(settings).ensure_bucket()


def test_ensure_bucket_accepts_existing_lock_bucket(make_s3_settings) -> None:
    settings = make_s3_settings()
    ObjectStore(settings).ensure_bucket()

    ObjectStore(settings).ensure_bucket()

    assert ObjectStore(settings).client.get_bucket_versioning(Bucket=settings.bucket)["Status"] == "Enabled"


def test_worm_self_test_fails_on_plain_bucket(make_s3_settings, s3_client) -> None:
    settings = make_s3_settings()
    s3_client.create_bucket(Bucket=settings.bucket)

    with pytest.raises(WormCheckFailed, match="canary"):
        ObjectStore(settings).worm_self_test()
