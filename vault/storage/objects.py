"""WORM object storage on S3 Object Lock: every version written in COMPLIANCE mode with a retain-until date.

`ObjectStore` is the only class in the vault that calls S3. It checks that the bucket
enforces write-once, writes small objects with `put_locked` and large ones
through `MultipartWriter`, and verifies what S3 returns for every write: the
version id, the SHA-256 checksum and the Object Lock retention on the new
version. Every botocore exception leaves this package as a `StorageError`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vault.errors import InvalidInput, StorageError, WormCheckFailed
from vault.storage.errors import (
    DeleteRefused,
    RetentionRefused,
    StorageAccessDenied,
    StorageChecksumMismatch,
    StorageUnavailable,
    client_error_code,
    describe_location,
    translate,
)

if TYPE_CHECKING:
    from vault.storage.multipart import MultipartWriter
    from vault.storage.reader import ObjectReader

logger = logging.getLogger(__name__)

LOCK_MODE = "COMPLIANCE"
MIN_PART_SIZE = 5 * 2**20  # S3 minimum for every part but the last
MAX_PARTS = 10_000
CANARY_PREFIX = "canary/"
CANARY_RETENTION = timedelta(days=1)

_T = TypeVar("_T")


@dataclass(frozen=True)
class S3Settings:
    """Connection settings for the vault's bucket: endpoint, credentials, bucket name and region."""

    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str
    region: str = "us-east-1"

    def __repr__(self) -> str:  # keeps the secret key out of logs and tracebacks
        return f"S3Settings(endpoint_url={self.endpoint_url!r}, bucket={self.bucket!r}, region={self.region!r})"


@dataclass(frozen=True)
class StoredObject:
    """One object version as S3 reports it after a write or a HEAD."""

    bucket: str
    key: str
    version_id: str
    size: int
    retention_mode: str | None
    retain_until: datetime | None
    legal_hold: bool
    checksum_sha256: str | None  # as S3 returned it (base64; `<base64>-<parts>` for multipart), for the record


def make_s3_client(settings: S3Settings) -> Any:
    """Create a boto3 S3 client with explicit endpoint and credentials, path-style addressing and bounded retries."""
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        aws_access_key_id=settings.access_key,
        aws_secret_access_key=settings.secret_key,
        region_name=settings.region,
        config=Config(
            # Every part and small object carries ChecksumSHA256, which S3 checks and which the
            # request signature covers, so hashing the body a second time for SigV4 buys nothing.
            s3={"addressing_style": "path", "payload_signing_enabled": False},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=120,
            max_pool_connections=16,
        ),
    )


def sha256_base64(data: bytes | bytearray | memoryview) -> str:
    """Return the SHA-256 of `data` in the base64 form S3 uses for `ChecksumSHA256`."""
    return checksum_text(hashlib.sha256(data).digest())


def checksum_text(digest: bytes) -> str:
    """Return a raw SHA-256 digest in the base64 form S3 uses for `ChecksumSHA256`."""
    return base64.b64encode(digest).decode("ascii")


def round_up_to_second(moment: datetime) -> datetime:
    """Return `moment` rounded up to a whole second, the precision S3 Object Lock keeps for retain-until dates.

    Rounding up, never down, keeps retention at least as long as the policy sets.
    A date computed once this way is the same in the database, in S3 and in every output.
    """
    if moment.microsecond == 0:
        return moment
    try:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    except OverflowError:
        raise InvalidInput(f"retain-until date {moment.isoformat()} is past the last representable second; "
                           "give an earlier date") from None


def require_future_utc(retain_until: datetime) -> datetime:
    """Return `retain_until` in UTC, rejecting naive and past dates."""
    if retain_until.tzinfo is None:
        raise InvalidInput(f"retain-until date {retain_until.isoformat()} has no time zone; pass an aware datetime, for example in UTC")
    value = retain_until.astimezone(timezone.utc)
    if value <= datetime.now(timezone.utc):
        raise InvalidInput(f"retain-until date {value.isoformat()} is not in the future; Object Lock needs a future date")
    return value


class ObjectStore:
    """Write-once object storage on one S3 bucket with Object Lock.

    The client is thread-safe, so one `ObjectStore` may serve concurrent requests.
    """

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self.client = make_s3_client(settings)

    def call(self, operation: str, function: Callable[..., _T], key: str | None = None, version_id: str | None = None, **kwargs: Any) -> _T:
        """Run one client method and translate any botocore exception into a `StorageError`."""
        try:
            return function(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise translate(error, operation, self.settings.endpoint_url, self.bucket, key, version_id) from error

    # Bucket checks

    def ensure_bucket(self) -> None:
        """Create the bucket with Object Lock if it is missing, then check that it is versioned and locked.

        Raises:
            WormCheckFailed: versioning is not Enabled or Object Lock is not enabled.
            StorageError: the bucket could not be read or created.
        """
        client = self.client
        try:
            client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            if client_error_code(error) not in {"404", "NoSuchBucket", "NotFound"}:
                raise translate(error, "HeadBucket", self.settings.endpoint_url, self.bucket) from error
            self._create_bucket()
        except BotoCoreError as error:
            raise translate(error, "HeadBucket", self.settings.endpoint_url, self.bucket) from error

        versioning = self.call("GetBucketVersioning", client.get_bucket_versioning, Bucket=self.bucket)
        if versioning.get("Status") != "Enabled":
            raise WormCheckFailed(
                f"bucket {self.bucket} does not enforce write-once: versioning is {versioning.get('Status') or 'not enabled'}, expected Enabled; "
                "use a bucket created with Object Lock enabled"
            )

        try:
            lock = client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as error:
            if client_error_code(error) == "ObjectLockConfigurationNotFoundError":
                raise WormCheckFailed(
                    f"bucket {self.bucket} does not enforce write-once: Object Lock is not enabled; "
                    "Object Lock can only be turned on when a bucket is created, so use a new bucket created with Object Lock enabled"
                ) from error
            raise translate(error, "GetObjectLockConfiguration", self.settings.endpoint_url, self.bucket) from error
        except BotoCoreError as error:
            raise translate(error, "GetObjectLockConfiguration", self.settings.endpoint_url, self.bucket) from error
        enabled = lock.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        if enabled != "Enabled":
            raise WormCheckFailed(f"bucket {self.bucket} does not enforce write-once: ObjectLockEnabled is {enabled!r}, expected 'Enabled'")

    def _create_bucket(self) -> None:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "ObjectLockEnabledForBucket": True}
        if self.settings.region != "us-east-1":
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.settings.region}
        self.call("CreateBucket", self.client.create_bucket, **arguments)
        logger.info("storage.bucket.create bucket=%s object_lock=enabled", self.bucket)

    def worm_self_test(self) -> None:
        """Write a canary and confirm that the storage rejects deleting it and shortening its retention.

        Steps:
            1. Write `canary/<uuid>` with COMPLIANCE retention for one day.
            2. Try to delete that version; the storage must reject it.
            3. Try to shorten its retention, with and without the governance bypass; the storage must reject it.
            4. Read the version back: it must still exist with its original retention.

        NOTE: each call leaves one small canary version that the storage keeps for a day.

        Raises:
            WormCheckFailed: the storage accepted a delete or a shorter retention.
            StorageError: the canary could not be written or read.
        """
        # 1. Write the canary.
        key = f"{CANARY_PREFIX}{uuid.uuid4()}"
        retain_until = datetime.now(timezone.utc) + CANARY_RETENTION
        try:
            canary = self.put_locked(key, b"evidence-vault write-once canary\n", retain_until, content_type="text/plain")
        except (StorageUnavailable, StorageAccessDenied):
            raise
        except StorageError as error:
            if isinstance(error, WormCheckFailed):
                raise
            raise WormCheckFailed(f"bucket {self.bucket} does not enforce write-once: writing a COMPLIANCE-locked canary failed: {error}") from error

        # 2. Delete must be rejected.
        try:
            self.delete_version(key, canary.version_id)
        except DeleteRefused:
            pass
        else:
            raise WormCheckFailed(
                f"bucket {self.bucket} does not enforce write-once: deleting locked canary {describe_location(self.bucket, key, canary.version_id)} succeeded"
            )

        # 3. Shortening the retention must be rejected, also with the governance bypass.
        shorter = datetime.now(timezone.utc) + timedelta(hours=1)
        for bypass in (False, True):
            arguments: dict[str, Any] = {
                "Bucket": self.bucket,
                "Key": key,
                "VersionId": canary.version_id,
                "Retention": {"Mode": LOCK_MODE, "RetainUntilDate": shorter},
            }
            if bypass:
                arguments["BypassGovernanceRetention"] = True
            try:
                self.call("PutObjectRetention", self.client.put_object_retention, key, canary.version_id, **arguments)
            except RetentionRefused:
                continue
            raise WormCheckFailed(
                f"bucket {self.bucket} does not enforce write-once: shortening the COMPLIANCE retention of canary "
                f"{describe_location(self.bucket, key, canary.version_id)} to {shorter.isoformat()} succeeded (bypass={bypass})"
            )

        # 4. The canary is intact.
        after = self.head(key, canary.version_id)
        if after.retention_mode != LOCK_MODE or after.retain_until is None or canary.retain_until is None or after.retain_until < canary.retain_until:
            raise WormCheckFailed(
                f"bucket {self.bucket} does not enforce write-once: canary {describe_location(self.bucket, key, canary.version_id)} "
                f"has retention {after.retention_mode} until {after.retain_until} after the rejected changes, expected {LOCK_MODE} until {canary.retain_until}"
            )
        logger.info("storage.worm_self_test.pass bucket=%s canary=%s version=%s", self.bucket, key, canary.version_id)

    # Writes

    def start_upload(
        self,
        key: str,
        retain_until: datetime,
        metadata: dict[str, str] | None = None,
        part_size: int | None = None,
        concurrency: int | None = None,
        expected_size: int | None = None,
    ) -> MultipartWriter:
        """Begin a multipart upload of one object version under COMPLIANCE retention until `retain_until`.

        Without `part_size` and `concurrency`, both come from `plan_parts(expected_size)`.
        A planned part size for a declared `expected_size` stays fixed for the
        first 9,000 parts, so an object of that size never gets larger parts.
        See `MultipartWriter` for what the returned writer checks and guarantees.
        """
        from vault.storage.multipart import PARTS_PER_SIZE_STEP, PLANNED_PARTS, MultipartWriter, plan_parts

        planned_size, planned_in_flight = plan_parts(expected_size)
        size_step = PLANNED_PARTS if part_size is None and expected_size is not None else PARTS_PER_SIZE_STEP
        part_size = planned_size if part_size is None else part_size
        concurrency = planned_in_flight if concurrency is None else concurrency

        metadata = metadata or {}
        for name, value in metadata.items():
            if not (name + value).isascii():
                # S3 sends user metadata as HTTP headers, which carry ASCII only.
                raise InvalidInput(
                    f"invalid S3 metadata {name}={value!r}: names and values must be ASCII; "
                    "keep Unicode file names in the ledger or percent-encode them"
                )
        return MultipartWriter(self, key, require_future_utc(retain_until), metadata, part_size, concurrency, size_step)

    def put_locked(self, key: str, data: bytes, retain_until: datetime, content_type: str = "application/octet-stream") -> StoredObject:
        """Write a small object in one request under COMPLIANCE retention until `retain_until`.

        The request carries the SHA-256 checksum, so S3 rejects damaged bytes,
        and the returned checksum, version id and retention are checked.

        Raises:
            InvalidInput: `retain_until` is naive or not in the future.
            StorageChecksumMismatch: S3 returned another checksum.
            WormCheckFailed: the new version does not carry the requested retention.
            StorageError: the write failed or S3 returned no version id.
        """
        retain_until = require_future_utc(retain_until)
        checksum = sha256_base64(data)
        response = self.call(
            "PutObject",
            self.client.put_object,
            key,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ChecksumSHA256=checksum,
            ObjectLockMode=LOCK_MODE,
            ObjectLockRetainUntilDate=retain_until,
        )
        version_id = self.require_version_id(response, "PutObject", key)
        returned = response.get("ChecksumSHA256")
        if returned != checksum:
            raise StorageChecksumMismatch(describe_location(self.bucket, key, version_id), f"sha256 {checksum}", f"sha256 {returned}")

        stored = self.verify_locked(key, version_id, retain_until, len(data))
        logger.info("storage.put.complete key=%s version=%s size=%d", key, version_id, len(data))
        return stored

    def require_version_id(self, response: dict[str, Any], operation: str, key: str) -> str:
        """Return the version id from a write response; a write without one is not write-once."""
        version_id = response.get("VersionId")
        if not version_id or version_id == "null":
            raise StorageError(
                f"S3 {operation} for {describe_location(self.bucket, key)} returned no version id; "
                "the bucket is not versioned, so nothing written there is protected: check the bucket with ensure_bucket()"
            )
        return str(version_id)

    def verify_locked(self, key: str, version_id: str, retain_until: datetime, size: int) -> StoredObject:
        """Read back a new version and check its size and its COMPLIANCE retention.

        Raises:
            WormCheckFailed: the mode is not COMPLIANCE or the retention ends earlier than requested.
            StorageError: the size differs from the bytes sent.
        """
        stored = self.head(key, version_id)
        location = describe_location(self.bucket, key, version_id)
        if stored.size != size:
            raise StorageError(f"{location}: size stored is {stored.size} bytes, expected {size} bytes as sent; the write was not accepted")
        # S3 keeps retain-until dates to the second or the millisecond, so compare at whole seconds.
        expected_until = retain_until.replace(microsecond=0)
        if stored.retention_mode != LOCK_MODE or stored.retain_until is None or stored.retain_until < expected_until:
            raise WormCheckFailed(
                f"{location}: Object Lock not applied as requested: mode {stored.retention_mode} until "
                f"{stored.retain_until.isoformat() if stored.retain_until else None}, expected {LOCK_MODE} until {expected_until.isoformat()}"
            )
        return stored

    # Reads

    def read(self, key: str, version_id: str, offset: int = 0, length: int | None = None, chunk_size: int = 2**20) -> Iterator[bytes]:
        """Stream one version, or `length` bytes of it from `offset`, in chunks of at most `chunk_size` bytes.

        The request is sent when iteration starts. Raises `StorageError` when
        the request fails, the stream breaks or S3 returns another length or version.
        """
        if offset < 0 or (length is not None and length < 0):
            raise InvalidInput(f"invalid byte range offset={offset} length={length}: both must be non-negative")
        if chunk_size <= 0:
            raise InvalidInput(f"invalid chunk size {chunk_size}: must be positive")
        return self._stream(key, version_id, offset, length, chunk_size)

    def _stream(self, key: str, version_id: str, offset: int, length: int | None, chunk_size: int) -> Iterator[bytes]:
        if length == 0:
            return
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "VersionId": version_id}
        if offset or length is not None:
            end = "" if length is None else str(offset + length - 1)
            arguments["Range"] = f"bytes={offset}-{end}"
        response = self.call("GetObject", self.client.get_object, key, version_id, **arguments)
        location = describe_location(self.bucket, key, version_id)
        if response.get("VersionId") not in (None, version_id):
            raise StorageError(f"{location}: S3 returned version {response.get('VersionId')} instead; the read was discarded")

        expected = int(response["ContentLength"])
        received = 0
        body = response["Body"]
        try:
            for chunk in body.iter_chunks(chunk_size):
                received += len(chunk)
                yield chunk
        except (BotoCoreError, OSError) as error:
            raise translate(error, "GetObject", self.settings.endpoint_url, self.bucket, key, version_id) from error
        finally:
            body.close()
        if received != expected:
            raise StorageError(f"{location}: read {received} bytes but S3 announced {expected}; the connection broke, so retry the read")

    def open_reader(self, key: str, version_id: str, name: str | None = None, size: int | None = None) -> ObjectReader:
        """Return a seekable, read-only file object over one version, read with ranged GETs.

        `size` is the stored size when the caller has it from a write or a HEAD;
        without it, one HEAD request reads it (and raises `ObjectNotFound` for a
        missing version). `name` becomes the file object's `name` (default: the key).
        """
        from vault.storage.reader import ObjectReader

        if size is None:
            size = self.head(key, version_id).size
        return ObjectReader(self, key, version_id, size, name=name)

    def read_all(self, key: str, version_id: str | None = None) -> bytes:
        """Read a whole small object; without `version_id`, the latest version."""
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            arguments["VersionId"] = version_id
        response = self.call("GetObject", self.client.get_object, key, version_id, **arguments)
        try:
            data: bytes = response["Body"].read()
        except (BotoCoreError, OSError) as error:
            raise translate(error, "GetObject", self.settings.endpoint_url, self.bucket, key, version_id) from error
        if len(data) != int(response["ContentLength"]):
            raise StorageError(
                f"{describe_location(self.bucket, key, version_id)}: read {len(data)} bytes but S3 announced {response['ContentLength']}; retry the read"
            )
        return data

    def head(self, key: str, version_id: str) -> StoredObject:
        """Return size, checksum, retention and legal hold of one version."""
        response = self.call(
            "HeadObject", self.client.head_object, key, version_id, Bucket=self.bucket, Key=key, VersionId=version_id, ChecksumMode="ENABLED"
        )
        hold = response.get("ObjectLockLegalHoldStatus")
        if hold is None:
            hold = self._legal_hold_status(key, version_id)
        retain_until = response.get("ObjectLockRetainUntilDate")
        return StoredObject(
            bucket=self.bucket,
            key=key,
            version_id=str(response.get("VersionId") or version_id),
            size=int(response["ContentLength"]),
            retention_mode=response.get("ObjectLockMode"),
            retain_until=retain_until.astimezone(timezone.utc) if retain_until else None,
            legal_hold=hold == "ON",
            checksum_sha256=response.get("ChecksumSHA256"),
        )

    def _legal_hold_status(self, key: str, version_id: str) -> str | None:
        try:
            response = self.client.get_object_legal_hold(Bucket=self.bucket, Key=key, VersionId=version_id)
        except ClientError as error:
            if client_error_code(error) in {"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"}:
                return None
            raise translate(error, "GetObjectLegalHold", self.settings.endpoint_url, self.bucket, key, version_id) from error
        except BotoCoreError as error:
            raise translate(error, "GetObjectLegalHold", self.settings.endpoint_url, self.bucket, key, version_id) from error
        status = response.get("LegalHold", {}).get("Status")
        return str(status) if status else None

    def list_keys(self, prefix: str) -> list[str]:
        """Return every key under `prefix` whose latest version is not a delete marker, sorted."""
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(str(item["Key"]) for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as error:
            raise translate(error, "ListObjectsV2", self.settings.endpoint_url, self.bucket, prefix) from error
        return sorted(keys)

    def list_versions(self, prefix: str) -> list[tuple[str, str]]:
        """Return (key, version id) of every object version under `prefix`, delete markers left out.

        Unlike `list_keys`, a delete marker cannot hide a version here: on an
        Object Lock bucket anyone may add one, but the locked versions stay.
        """
        versions: list[tuple[str, str]] = []
        paginator = self.client.get_paginator("list_object_versions")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                versions.extend((str(v["Key"]), str(v["VersionId"])) for v in page.get("Versions", []))
        except (ClientError, BotoCoreError) as error:
            raise translate(error, "ListObjectVersions", self.settings.endpoint_url, self.bucket, prefix) from error
        return sorted(versions)

    # Retention

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None:
        """Place or lift a legal hold on one version, then check that S3 reports the new status."""
        status = "ON" if on else "OFF"
        self.call(
            "PutObjectLegalHold",
            self.client.put_object_legal_hold,
            key,
            version_id,
            Bucket=self.bucket,
            Key=key,
            VersionId=version_id,
            LegalHold={"Status": status},
        )
        if self.head(key, version_id).legal_hold != on:
            raise StorageError(f"{describe_location(self.bucket, key, version_id)}: legal hold still not {status} after S3 accepted the change")
        logger.info("storage.legal_hold.set key=%s version=%s status=%s", key, version_id, status)

    def extend_retention(self, key: str, version_id: str, retain_until: datetime) -> None:
        """Move the COMPLIANCE retain-until date of one version later; never earlier.

        Raises:
            InvalidInput: `retain_until` is earlier than the current date (both dates named) or naive.
            RetentionRefused: the storage rejected the change.
            WormCheckFailed: S3 accepted the change but reports another date.
        """
        retain_until = require_future_utc(retain_until)
        current = self.head(key, version_id)
        if current.retain_until is not None and retain_until < current.retain_until:
            raise InvalidInput(
                f"retention of {describe_location(self.bucket, key, version_id)} can only be extended: "
                f"requested {retain_until.isoformat()} is earlier than the current retain-until date {current.retain_until.isoformat()}"
            )
        self.call(
            "PutObjectRetention",
            self.client.put_object_retention,
            key,
            version_id,
            Bucket=self.bucket,
            Key=key,
            VersionId=version_id,
            Retention={"Mode": LOCK_MODE, "RetainUntilDate": retain_until},
        )
        self.verify_locked(key, version_id, retain_until, current.size)
        logger.info("storage.retention.extend key=%s version=%s retain_until=%s", key, version_id, retain_until.isoformat())

    # Deletes

    def delete_version(self, key: str, version_id: str) -> None:
        """Try to delete one version for good.

        .. warning:: this really deletes once retention has ended and no legal hold is set.

        Raises:
            DeleteRefused: the storage rejected the delete (retention or legal hold in force).
            StorageError: the delete failed for another reason.
        """
        self.call("DeleteObject", self.client.delete_object, key, version_id, Bucket=self.bucket, Key=key, VersionId=version_id)
        logger.warning("storage.version.delete key=%s version=%s", key, version_id)

    def abort_stale_uploads(self, prefix: str, initiated_before: datetime | None = None) -> list[dict[str, Any]]:
        """Abort unfinished multipart uploads under `prefix` (all, or those begun before `initiated_before`).

        Used at start-up to clean up after a crash: no unfinished upload can become evidence.
        Returns one record (key, upload id, initiation time) per aborted upload, for the ledger.
        """
        aborted: list[dict[str, Any]] = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        try:
            pages = list(paginator.paginate(Bucket=self.bucket, Prefix=prefix))
        except (ClientError, BotoCoreError) as error:
            raise translate(error, "ListMultipartUploads", self.settings.endpoint_url, self.bucket, prefix) from error
        for page in pages:
            for upload in page.get("Uploads", []):
                initiated = upload.get("Initiated")
                if initiated_before is not None and initiated is not None and initiated >= initiated_before:
                    continue
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                except ClientError as error:
                    if client_error_code(error) == "NoSuchUpload":
                        continue
                    raise translate(error, "AbortMultipartUpload", self.settings.endpoint_url, self.bucket, upload["Key"]) from error
                except BotoCoreError as error:
                    raise translate(error, "AbortMultipartUpload", self.settings.endpoint_url, self.bucket, upload["Key"]) from error
                aborted.append({"key": str(upload["Key"]), "upload_id": str(upload["UploadId"]),
                                "initiated": initiated.isoformat() if initiated is not None else None})
                logger.info("storage.upload.abort_stale key=%s upload=%s", upload["Key"], upload["UploadId"])
        return aborted

