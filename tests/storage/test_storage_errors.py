"""Storage failures reach callers as vault errors that name the object and the next step."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from vault.errors import StorageError
from vault.storage.errors import ObjectNotFound, StorageAccessDenied, StorageUnavailable
from vault.storage.objects import ObjectStore


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_wrong_secret_key_gives_access_denied(object_store: ObjectStore) -> None:
    wrong = ObjectStore(replace(object_store.settings, secret_key="not-the-secret"))

    with pytest.raises(StorageAccessDenied) as denied:
        wrong.ensure_bucket()

    message = str(denied.value)
    assert object_store.bucket in message
    assert "VAULT_S3_SECRET_KEY" in message
    assert "not-the-secret" not in message


def test_unknown_access_key_gives_access_denied(object_store: ObjectStore) -> None:
    wrong = ObjectStore(replace(object_store.settings, access_key="UNKNOWNKEY"))

    with pytest.raises(StorageAccessDenied, match="InvalidAccessKeyId|403"):
        wrong.put_locked("items/x", b"x", datetime.now(timezone.utc) + timedelta(days=1))


def test_unreachable_endpoint_gives_storage_unavailable(object_store: ObjectStore) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    unreachable = ObjectStore(replace(object_store.settings, endpoint_url=endpoint))

    with pytest.raises(StorageUnavailable) as unavailable:
        unreachable.ensure_bucket()

    assert endpoint in str(unavailable.value)
    assert isinstance(unavailable.value, StorageError)


def test_missing_version_gives_object_not_found(object_store: ObjectStore) -> None:
    stored = object_store.put_locked("items/present", b"x", datetime.now(timezone.utc) + timedelta(days=1))

    with pytest.raises(ObjectNotFound) as missing:
        object_store.head("items/absent", stored.version_id)
    with pytest.raises(ObjectNotFound):
        b"".join(object_store.read("items/absent", stored.version_id))

    assert "items/absent" in str(missing.value)
    assert stored.version_id in str(missing.value)


def test_settings_repr_hides_secret(object_store: ObjectStore) -> None:
    assert object_store.settings.secret_key not in repr(object_store.settings)
    assert object_store.settings.access_key not in repr(object_store.settings)
