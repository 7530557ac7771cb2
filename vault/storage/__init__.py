"""WORM object storage: S3 Object Lock in COMPLIANCE mode, embedded SeaweedFS by default."""

from vault.storage.errors import (
    DeleteRefused,
    ObjectNotFound,
    RetentionRefused,
    StorageAccessDenied,
    StorageChecksumMismatch,
    StorageUnavailable,
)
from vault.storage.multipart import MultipartWriter
from vault.storage.objects import ObjectStore, S3Settings, StoredObject, make_s3_client
from vault.storage.reader import ObjectReader
from vault.storage.seaweed import SeaweedServer, load_or_create_credentials

__all__ = [
    "DeleteRefused",
    "MultipartWriter",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectStore",
    "RetentionRefused",
    "S3Settings",
    "SeaweedServer",
    "StorageAccessDenied",
    "StorageChecksumMismatch",
    "StorageUnavailable",
    "StoredObject",
    "load_or_create_credentials",
    "make_s3_client",
]
