"""Uploads skip SigV4 payload hashing, so storage itself must reject a part whose checksum is wrong."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError


def test_wrong_part_checksum_rejected(object_store):
    client = object_store.client
    bucket = object_store.settings.bucket
    retain = datetime.now(timezone.utc) + timedelta(days=1)
    upload = client.create_multipart_upload(Bucket=bucket, Key="checksum-probe", ChecksumAlgorithm="SHA256",
                                            ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=retain)
    wrong = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode("ascii")

    with pytest.raises(ClientError) as raised:
        client.upload_part(Bucket=bucket, Key="checksum-probe", UploadId=upload["UploadId"], PartNumber=1,
                           Body=b"evidence bytes", ChecksumAlgorithm="SHA256", ChecksumSHA256=wrong)
    client.abort_multipart_upload(Bucket=bucket, Key="checksum-probe", UploadId=upload["UploadId"])

    assert raised.value.response["Error"]["Code"] in ("BadDigest", "XAmzContentChecksumMismatch", "InvalidDigest")
