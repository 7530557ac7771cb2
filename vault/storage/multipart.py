"""Streaming multipart upload of one evidence object under COMPLIANCE retention."""

from __future__ import annotations

import base64
import dataclasses
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from vault.errors import InvalidInput, StorageError
from vault.storage._heap import release_free_memory
from vault.storage.errors import StorageChecksumMismatch, client_error_code, describe_location, translate
from vault.storage.objects import LOCK_MODE, MAX_PARTS, MIN_PART_SIZE, ObjectStore, StoredObject, checksum_text, sha256_base64

logger = logging.getLogger(__name__)

MAX_CONCURRENCY = 8
# After every PARTS_PER_SIZE_STEP parts the part size doubles, so 10,000 parts of a 16 MiB
# base cover about 992 GiB instead of 156 GiB. S3 allows parts of different sizes.
PARTS_PER_SIZE_STEP = 2000


# Parts held in memory while they upload take at most this many bytes together.
IN_FLIGHT_BUDGET = 32 * 2**20
# Parts in flight for small objects: enough to keep the S3 server busy while the next part fills.
MAX_PLANNED_IN_FLIGHT = 4
MIN_PLANNED_PART_SIZE = 8 * 2**20
# Parts a planned upload uses at its base size before part_size_for doubles it.
PLANNED_PARTS = 9000


def plan_parts(expected_size: int | None) -> tuple[int, int]:
    """Return (base part size, parts in flight) for an object of `expected_size` bytes.

    The part size is the smallest power-of-two multiple of 8 MiB that fits the
    object into 9,000 parts, and the parts in flight fit into 32 MiB (at least
    one). Memory then stays near `(in flight + 1) * part size`: 40 MiB for
    objects up to 70 GiB, and 256 MiB for a 1 TiB image with 128 MiB parts.
    Without a size, 8 MiB parts and doubling every 2,000 parts cover 484 GiB.
    """
    part_size = MIN_PLANNED_PART_SIZE
    if expected_size is not None:
        while part_size * PLANNED_PARTS < expected_size:
            part_size *= 2
    in_flight = max(1, min(MAX_PLANNED_IN_FLIGHT, IN_FLIGHT_BUDGET // part_size))
    return part_size, in_flight


def part_size_for(part_number: int, base_size: int, size_step: int = PARTS_PER_SIZE_STEP) -> int:
    """Return the size of part `part_number` (1-based): `base_size`, doubled every `size_step` parts."""
    return base_size * 2 ** ((part_number - 1) // size_step)


def composite_sha256(part_checksums: list[str]) -> str:
    """Return the S3 composite checksum of a multipart object: SHA-256 of the concatenated part digests, then `-<parts>`."""
    joined = b"".join(base64.b64decode(checksum) for checksum in part_checksums)
    return f"{sha256_base64(joined)}-{len(part_checksums)}"


class MultipartWriter:
    """Write one object version in parts; nothing is visible in the bucket until `complete()` succeeds.

    `write()` accepts chunks of any size and uploads a part whenever the
    buffer reaches the part size. Each part carries its SHA-256, so S3 rejects
    damaged bytes, and the checksum S3 returns is compared with it. At most
    `concurrency` parts are in flight, so memory stays near
    `(concurrency + 1) * part_size`: the parts in flight and the one being
    filled, in buffers that are reused from part to part.

    Use it as a context manager: leaving the block without `complete()`, or
    with an exception, aborts the upload. Not safe for concurrent `write()`
    calls from several threads.
    """

    def __init__(
        self,
        store: ObjectStore,
        key: str,
        retain_until: datetime,
        metadata: dict[str, str],
        part_size: int,
        concurrency: int,
        size_step: int = PARTS_PER_SIZE_STEP,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise InvalidInput(f"invalid part size {part_size} bytes: S3 needs at least {MIN_PART_SIZE} bytes (5 MiB) per part")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise InvalidInput(f"invalid upload concurrency {concurrency}: use 1 to {MAX_CONCURRENCY} parts in flight")

        self.store = store
        self.bucket = store.bucket
        self.key = key
        self.retain_until = retain_until
        self.part_size = part_size
        self.concurrency = concurrency
        self.size_step = size_step
        self.bytes_written = 0

        response = store.call(
            "CreateMultipartUpload",
            store.client.create_multipart_upload,
            key,
            Bucket=self.bucket,
            Key=key,
            Metadata=metadata,
            ChecksumAlgorithm="SHA256",
            ObjectLockMode=LOCK_MODE,
            ObjectLockRetainUntilDate=retain_until,
        )
        self.upload_id: str = str(response["UploadId"])
        self._part: bytearray | None = None  # the part being filled by write()
        self._part_filled = 0
        # Part buffers come back here after their upload and are filled again, which spares the
        # kernel from mapping and clearing fresh pages for every part.
        self._free_buffers: list[bytearray] = []
        self._part_digests: Callable[[int, int], bytes | None] | None = None
        self.parts_hashed_here = 0  # parts whose SHA-256 no `take_part_digests_from` source had
        self._next_part = 1
        self._parts: list[dict[str, Any]] = []
        self._in_flight: deque[Future[dict[str, Any]]] = deque()
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="vault-upload")
        self._state = "open"
        logger.info("storage.upload.start key=%s upload=%s part_size=%d", key, self.upload_id, part_size)

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._state == "completed":
            return
        try:
            self.abort()
        except StorageError as error:
            # The original exception matters more; abort_stale_uploads() cleans this one up at the next start.
            logger.error("storage.upload.abort_failed key=%s upload=%s error=%s", self.key, self.upload_id, error)

    def part_size_at(self, part_number: int) -> int:
        """Return the size of part `part_number` (from 1); only the last part of an object may be shorter."""
        return part_size_for(part_number, self.part_size, self.size_step)

    def take_part_digests_from(self, source: Callable[[int, int], bytes | None]) -> None:
        """Take each part's SHA-256 from `source(part_number, size)` instead of hashing the part again.

        The intake's StreamHasher computes them in the same pass as the file
        hash. Where `source` returns None the writer hashes the part itself.
        A wrong digest cannot slip through, because S3 checks every part
        against its `ChecksumSHA256` and rejects a mismatch.
        """
        self._part_digests = source

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes; upload every full part. Raises `StorageError` from a part upload that failed."""
        self._require_open("write")
        view = memoryview(data).cast("B")
        self.bytes_written += len(view)
        while len(view):
            if self._part is None:
                self._part = self._part_buffer(self.part_size_at(self._next_part))
                self._part_filled = 0
            take = min(len(view), len(self._part) - self._part_filled)
            self._part[self._part_filled : self._part_filled + take] = view[:take]
            self._part_filled += take
            view = view[take:]
            if self._part_filled == len(self._part):
                self._wait_for_slot()
                self._submit(self._part)
                self._part = None

    def complete(self) -> StoredObject:
        """Upload the last part, complete the upload and verify the new version.

        An empty object is stored as one empty part. Any failure aborts the upload first.

        Raises:
            StorageChecksumMismatch: S3 returned another checksum for a part or for the whole object.
            WormCheckFailed: the new version lacks the requested COMPLIANCE retention.
            StorageError: any other failure, including a completion without a version id.
        """
        self._require_open("complete")
        try:
            if self._part is not None:
                del self._part[self._part_filled :]  # the last part is shorter
                self._submit(self._part)
                self._part = None
            elif self._next_part == 1:
                self._submit(bytearray())
            while self._in_flight:
                self._parts.append(self._in_flight.popleft().result())
            self._parts.sort(key=lambda part: part["PartNumber"])
            response = self.store.call(
                "CompleteMultipartUpload",
                self.store.client.complete_multipart_upload,
                self.key,
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        except BaseException:
            self.abort()
            raise
        self._state = "completed"
        self._executor.shutdown(wait=False)
        self._free_buffers.clear()
        release_free_memory()

        # NOTE: past this point the version exists under retention and cannot be removed.
        # If a check below fails, the caller must not accept the version as evidence.
        version_id = self.store.require_version_id(response, "CompleteMultipartUpload", self.key)
        location = describe_location(self.bucket, self.key, version_id)
        expected_checksum = composite_sha256([part["ChecksumSHA256"] for part in self._parts])
        returned_checksum = response.get("ChecksumSHA256")
        if returned_checksum is not None and returned_checksum != expected_checksum:
            raise StorageChecksumMismatch(location, f"sha256 {expected_checksum}", f"sha256 {returned_checksum}")

        stored = self.store.verify_locked(self.key, version_id, self.retain_until, self.bytes_written)
        if stored.checksum_sha256 is None and returned_checksum is not None:
            stored = dataclasses.replace(stored, checksum_sha256=returned_checksum)
        logger.info(
            "storage.upload.complete key=%s version=%s size=%d parts=%d parts_hashed_here=%d",
            self.key, version_id, self.bytes_written, len(self._parts), self.parts_hashed_here,
        )
        return stored

    def abort(self) -> None:
        """Abort the upload and discard its parts; calling it again, or after `complete()`, does nothing.

        Raises:
            StorageError: S3 did not accept the abort (the upload stays listed until `abort_stale_uploads`).
        """
        if self._state != "open":
            return
        self._state = "aborted"
        for future in self._in_flight:
            future.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._in_flight.clear()
        self._part = None
        self._free_buffers.clear()
        release_free_memory()
        try:
            self.store.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except ClientError as error:
            if client_error_code(error) != "NoSuchUpload":
                raise translate(error, "AbortMultipartUpload", self.store.settings.endpoint_url, self.bucket, self.key) from error
        except BotoCoreError as error:
            raise translate(error, "AbortMultipartUpload", self.store.settings.endpoint_url, self.bucket, self.key) from error
        logger.info("storage.upload.abort key=%s upload=%s bytes_written=%d", self.key, self.upload_id, self.bytes_written)

    def _require_open(self, action: str) -> None:
        if self._state != "open":
            raise StorageError(f"cannot {action} upload {self.upload_id} of {describe_location(self.bucket, self.key)}: it is already {self._state}")

    def _part_buffer(self, size: int) -> bytearray:
        """Return a buffer of `size` bytes for the next part, reusing a free one of that size."""
        while self._free_buffers:
            candidate = self._free_buffers.pop()
            if len(candidate) == size:
                return candidate
        return bytearray(size)

    def _submit(self, data: bytearray) -> None:
        number = self._next_part
        if number > MAX_PARTS:
            raise StorageError(
                f"upload of {describe_location(self.bucket, self.key)} needs more than {MAX_PARTS} parts at base part size {self.part_size} bytes; "
                "start it again with a larger part_size"
            )
        self._next_part += 1
        digest = self._part_digests(number, len(data)) if self._part_digests is not None else None
        if digest is None:
            self.parts_hashed_here += 1
        self._wait_for_slot()
        self._in_flight.append(self._executor.submit(self._upload_part, number, data, digest))

    def _wait_for_slot(self) -> None:
        """Wait for the oldest parts until fewer than `concurrency` are in flight, which bounds memory."""
        while len(self._in_flight) >= self.concurrency:
            self._parts.append(self._in_flight.popleft().result())

    def _upload_part(self, number: int, data: bytearray, digest: bytes | None) -> dict[str, Any]:
        # Hashed here, in the upload thread, when no source had the digest, so it overlaps the next part's feed.
        checksum = sha256_base64(data) if digest is None else checksum_text(digest)
        response = self._send_part(number, data, checksum)
        # botocore keeps no reference once upload_part has returned, so the buffer can be filled again.
        if len(self._free_buffers) <= self.concurrency:
            self._free_buffers.append(data)
        returned = response.get("ChecksumSHA256")
        if returned != checksum:
            raise StorageChecksumMismatch(f"part {number} of {describe_location(self.bucket, self.key)}", f"sha256 {checksum}", f"sha256 {returned}")
        return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}

    def _send_part(self, number: int, data: bytearray, checksum: str) -> dict[str, Any]:
        # A bytearray body, unlike bytes, is not joined to the request head by botocore's
        # AWSConnection._send_output (botocore 1.44), so the part is not copied once more.
        return self.store.call(
            "UploadPart",
            self.store.client.upload_part,
            self.key,
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
        )
