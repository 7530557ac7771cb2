"""Pytest plugin: one real SeaweedFS for the test session and Object Lock buckets on it.

Fixtures:
    seaweed          (session)  a running `SeaweedServer` with generated keys, stopped at the end
    make_s3_settings (session)  `make_s3_settings(prefix="ev-test") -> S3Settings` for a new, not yet
                                created bucket with a unique name on that server
    object_store     (function) an `ObjectStore` on a fresh bucket that passed `ensure_bucket()`
    s3_client        (session)  a plain boto3 S3 client for the server, for tests that act outside the vault

There is no skip: if SeaweedFS does not start, every test that uses it errors with the server log tail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vault.storage.objects import ObjectStore, S3Settings, make_s3_client
from vault.storage.seaweed import SeaweedServer, load_or_create_credentials

# boto3 must never fall back to an instance metadata service.
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

MakeS3Settings = Callable[..., S3Settings]


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    data_dir = tmp_path_factory.mktemp("seaweed")
    access_key, secret_key = load_or_create_credentials(data_dir)
    server = SeaweedServer(data_dir, access_key, secret_key)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def make_s3_settings(seaweed: SeaweedServer) -> MakeS3Settings:
    access_key, secret_key = load_or_create_credentials(seaweed.data_dir)

    def make(prefix: str = "ev-test") -> S3Settings:
        bucket = f"{prefix}-{uuid.uuid4().hex[:16]}"
        return S3Settings(endpoint_url=seaweed.endpoint_url, access_key=access_key, secret_key=secret_key, bucket=bucket)

    return make


@pytest.fixture
def object_store(make_s3_settings: MakeS3Settings) -> ObjectStore:
    store = ObjectStore(make_s3_settings())
    store.ensure_bucket()
    return store


@pytest.fixture(scope="session")
def s3_client(make_s3_settings: MakeS3Settings) -> Any:
    return make_s3_client(make_s3_settings())
