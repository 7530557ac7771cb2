"""Objects written by other S3 clients read back byte-identical through the vault."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone

from vault.storage.objects import ObjectStore


def test_default_boto3_put_object_reads_back_identical(object_store: ObjectStore) -> None:
    # boto3 >= 1.36 sends put_object with aws-chunked framing and a trailing CRC32;
    # older SeaweedFS releases stored that framing as part of the object.
    data = os.urandom(1_500_000)
    response = object_store.client.put_object(
        Bucket=object_store.bucket,
        Key="foreign/crc32",
        Body=data,
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=datetime.now(timezone.utc) + timedelta(days=1),
    )

    read_back = b"".join(object_store.read("foreign/crc32", response["VersionId"]))

    assert "ChecksumCRC32" in response
    assert len(read_back) == len(data)
    assert hashlib.sha256(read_back).digest() == hashlib.sha256(data).digest()
