"""Storage errors, and the one place where botocore exceptions become vault errors.

    StorageError (vault.errors)
    ├── StorageUnavailable       the endpoint could not be reached or timed out
    ├── StorageAccessDenied      the credentials are invalid or lack a permission
    ├── ObjectNotFound     (404) no such bucket, key, version or multipart upload
    ├── DeleteRefused      (409) the storage rejected deleting a locked version (WORM at work)
    ├── RetentionRefused   (409) the storage rejected a retention or legal hold change
    ├── StorageChecksumMismatch  the checksum S3 returned differs from the one sent
    └── WormCheckFailed    (vault.errors) the bucket does not enforce write-once
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError, ReadTimeoutError

from vault.errors import StorageError


class StorageUnavailable(StorageError):
    code = "storage_unavailable"


class StorageAccessDenied(StorageError):
    code = "storage_access_denied"


class ObjectNotFound(StorageError):
    http_status = 404
    code = "object_not_found"


class DeleteRefused(StorageError):
    """The storage rejected deleting an object version, as Object Lock requires while it is retained."""

    http_status = 409
    code = "delete_refused"


class RetentionRefused(StorageError):
    http_status = 409
    code = "retention_refused"


class StorageChecksumMismatch(StorageError):
    """S3 returned a checksum other than the one the vault computed for the bytes it sent."""

    code = "storage_checksum_mismatch"

    def __init__(self, location: str, expected: str, computed: str) -> None:
        super().__init__(
            f"{location}: checksum returned by S3 differs: expected {expected}, S3 returned {computed}; "
            "the bytes were damaged in transit or the storage is faulty, so the write was not accepted"
        )
        self.expected = expected
        self.computed = computed

    def to_dict(self) -> dict:
        return {**super().to_dict(), "expected": self.expected, "computed": self.computed}


_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed"}
_MISSING_CODES = {"NoSuchKey", "NoSuchVersion", "NoSuchBucket", "NoSuchUpload", "NotFound", "404"}


def describe_location(bucket: str, key: str | None = None, version_id: str | None = None) -> str:
    """Format an object address as `s3://bucket/key (version V)` for messages."""
    location = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
    if version_id:
        location += f" (version {version_id})"
    return location


def client_error_code(error: ClientError) -> str:
    """Return the S3 error code of `error`, falling back to the HTTP status for bodiless HEAD responses."""
    code = str(error.response.get("Error", {}).get("Code", "") or "")
    if code:
        return code
    return str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "unknown"))


def translate(
    error: Exception,
    operation: str,
    endpoint: str,
    bucket: str,
    key: str | None = None,
    version_id: str | None = None,
) -> StorageError:
    """Turn a botocore exception into the matching `StorageError`, with the object address and a next step.

    The caller raises the result `from` the original error. Exceptions that
    are not botocore's become a plain `StorageError` with their text.
    """
    location = describe_location(bucket, key, version_id)

    if isinstance(error, ClientError):
        code = client_error_code(error)
        detail = str(error.response.get("Error", {}).get("Message", "") or "").strip()
        prefix = f"S3 {operation} failed for {location}: {code}" + (f" ({detail})" if detail else "")

        if code in _CREDENTIAL_CODES or (code in {"403", "Forbidden"} and operation in {"HeadBucket", "HeadObject"}):
            return StorageAccessDenied(
                f"{prefix}; the S3 credentials were rejected by {endpoint}: check VAULT_S3_ACCESS_KEY and VAULT_S3_SECRET_KEY "
                "(the embedded server keeps its keys in s3-credentials.json under the data directory)"
            )
        if code in _MISSING_CODES:
            return ObjectNotFound(f"{prefix}; check the bucket name, key and version id recorded in the ledger")
        if code == "AccessDenied" and operation == "DeleteObject":
            return DeleteRefused(f"{prefix}; the version is under Object Lock retention or legal hold and cannot be deleted before it ends")
        if code == "AccessDenied" and operation in {"PutObjectRetention", "PutObjectLegalHold"}:
            return RetentionRefused(f"{prefix}; Object Lock rejects shortening COMPLIANCE retention or changing it without permission")
        if code == "AccessDenied":
            return StorageAccessDenied(f"{prefix}; grant the vault's S3 user this permission on bucket {bucket}")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if 400 <= status < 500:
            return StorageError(f"{prefix}; the storage rejected the request: check that bucket {bucket} exists with Object Lock enabled (ensure_bucket())")
        return StorageError(f"{prefix}; retry later, and check the storage server log if it persists")

    if isinstance(error, (BotoConnectionError, ReadTimeoutError)):
        return StorageUnavailable(
            f"S3 {operation} failed for {location}: cannot reach {endpoint} ({error}); "
            "check that the S3 server is running and that VAULT_S3_ENDPOINT is correct"
        )
    if isinstance(error, BotoCoreError):
        return StorageError(f"S3 {operation} failed for {location}: {error}")
    return StorageError(f"S3 {operation} failed for {location}: {type(error).__name__}: {error}")
