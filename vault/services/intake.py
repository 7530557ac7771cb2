"""Intake: one streaming upload becomes one accepted item, or nothing.

Steps for one upload request:
1. Check the case and the manifest before any byte is read.
2. Stream the body: split it at the declared file sizes, hash every file in the
   same pass (SHA-256, optional MD5/SHA-1, 1 MiB Merkle leaves) and send it into
   an S3 multipart upload under Object Lock.
3. Compare declared hashes (`expect`) with the server's own. A mismatch aborts
   every multipart upload, so nothing is stored, and is recorded as a refusal.
4. Complete the uploads, store the Merkle leaf hashes beside the evidence, run
   the container check (EWF) on the stored bytes and compare the acquisition
   (media) hash. A container or acquisition mismatch flags the item, never rejects it.
5. Write the item, its files and the intake entry in one ledger transaction.
A failure before step 5 commits leaves no accepted item.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from vault.custody.models import Case, Item, ItemFile
from vault.errors import HashMismatch, InvalidInput, LedgerError, NotFound, VaultError
from vault.hashing.digest import Digest
from vault.hashing.engine import HashResult, StreamHasher
from vault.hashing.segments import order_segment_names
from vault.services.access import Permission, Principal
from vault.services.manifest import UploadManifest

log = logging.getLogger(__name__)


@dataclass
class _FileUpload:
    number: int
    name: str
    size: int
    key: str
    writer: object
    hasher: StreamHasher
    received: int = 0
    result: HashResult | None = None
    stored: object | None = None
    merkle: object | None = None


@dataclass
class IntakeSession:
    """State of one upload in progress; `feed` and `finish` run in a worker thread."""

    vault: object
    case: dict
    manifest: UploadManifest
    actor: str
    item_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    set_kind: str = "single"
    warnings: list[str] = field(default_factory=list)
    _files: list[_FileUpload] = field(default_factory=list)
    _current: int = 0
    _set_hasher: StreamHasher | None = None
    _retain_until: datetime | None = None
    _closed: bool = False
    _container_findings: list[str] = field(default_factory=list)

    # 1. Case and manifest checks.
    @classmethod
    def begin(cls, vault, case_reference: str, manifest: UploadManifest, principal: Principal) -> "IntakeSession":
        """Check the caller, the case and the manifest; the caller must be an analyst member of the case."""
        from vault.services.cases import visible_case

        visible_case(vault, principal, case_reference, Permission.ITEM_UPLOAD)
        actor = principal.name
        case = find_case(vault, case_reference)
        if manifest.employee_device:
            from vault.services.records.authority import require_employee_device_approval

            require_employee_device_approval(vault, case, manifest, actor)
        session = cls(vault=vault, case=case, manifest=manifest, actor=actor)
        names = [spec.name for spec in manifest.files]
        order, kind, warnings = order_segment_names(names)
        if list(order) != list(range(len(names))):
            expected = ", ".join(names[i] for i in order)
            raise InvalidInput(f"files are not in segment order; send them as: {expected}")
        session.set_kind = kind
        session.warnings.extend(warnings)
        from vault.services.records.retention import retain_until_for_case

        session._retain_until = retain_until_for_case(vault, case)
        algorithms = manifest.needed_algorithms()
        if len(manifest.files) > 1:
            session._set_hasher = StreamHasher(algorithms)
        for number, spec in enumerate(manifest.files):
            session._files.append(
                _FileUpload(number, spec.name, spec.size, f"evidence/{session.item_id}/{number}", None, StreamHasher(algorithms))
            )
        log.info("intake.begin item=%s case=%s files=%d bytes=%d", session.item_id, case["reference"], len(names), manifest.total_size)
        return session

    # 2. Streaming.
    def feed_many(self, chunks: list[bytes]) -> None:
        """Feed received chunks in order; see `feed`."""
        for chunk in chunks:
            self.feed(chunk)

    def feed(self, chunk: bytes) -> None:
        """Hash and store the next bytes of the body; raise InvalidInput when it exceeds the manifest."""
        view = memoryview(chunk)
        if self._set_hasher is not None and len(view):
            self._set_hasher.update(chunk)
        while len(view):
            upload = self._open_current()
            if upload is None:
                raise InvalidInput(
                    f"request body is longer than the manifest declares ({self.manifest.total_size} bytes); "
                    "check the file sizes in the manifest"
                )
            take = min(len(view), upload.size - upload.received)
            piece = chunk if take == len(chunk) else bytes(view[:take])
            upload.hasher.update(piece)
            upload.writer.write(piece)
            upload.received += take
            view = view[take:]
            if upload.received == upload.size:
                self._current += 1

    def _open_current(self) -> _FileUpload | None:
        while self._current < len(self._files):
            upload = self._files[self._current]
            if upload.writer is None:
                metadata = {"item-id": self.item_id, "file-no": str(upload.number)}
                upload.writer = self.vault.store.start_upload(upload.key, self._retain_until, metadata, expected_size=upload.size)
                # The file's hasher also digests each S3 part in its single pass, where the SHA-NI lanes allow.
                if upload.hasher.digest_spans(upload.writer.part_size_at):
                    upload.writer.take_part_digests_from(upload.hasher.take_span_digest)
            if upload.received < upload.size:
                return upload
            self._current += 1  # a 0-byte file is complete as soon as it is opened
        return None

    def finish(self) -> dict:
        """Run steps 3 to 5 once the body has ended; return the accepted item."""
        self._open_current()  # opens trailing 0-byte files
        received = sum(f.received for f in self._files)
        if received != self.manifest.total_size:
            raise InvalidInput(
                f"request body ended after {received} bytes but the manifest declares {self.manifest.total_size}; "
                "the upload was incomplete, nothing was stored"
            )
        for upload in self._files:
            upload.result = upload.hasher.finish()
        set_result = self._set_hasher.finish() if self._set_hasher else self._files[0].result

        # 3. Declared hashes against the server's own, before anything is committed to storage.
        for declared in self.manifest.expect:
            computed = set_result.digest(declared.algorithm)
            if computed != declared:
                subject = "declared hash of " + ("the file set" if len(self._files) > 1 else repr(self._files[0].name))
                error = HashMismatch(
                    subject,
                    str(declared),
                    str(computed),
                    "The upload was refused and nothing was stored; check the acquisition log or the file",
                )
                self.refuse(error.message, {"expected": str(declared), "computed": str(computed)})
                raise error

        # 4. Commit to storage, then container and acquisition checks on the stored bytes.
        for upload in self._files:
            upload.stored = upload.writer.complete()
        merkle = {}
        for upload in self._files:
            merkle[upload.number] = self.vault.store.put_locked(
                f"merkle/{self.item_id}/{upload.number}", upload.result.leaf_hashes, self._retain_until
            )
            upload.merkle = merkle[upload.number]
        media, container = self._media_hashes(set_result)
        findings = self._acquisition_findings(media, container)

        # 5. The item, its files and the intake entry in one transaction.
        try:
            record = self._record(set_result, media, container, findings, merkle)
        except VaultError:
            raise
        except Exception as error:  # the database failed after storage committed
            log.error("intake.record_failed item=%s error=%s", self.item_id, error)
            raise LedgerError(f"item {self.item_id} was stored but its intake entry could not be written: {error}") from error
        self._closed = True
        return record

    def _media_hashes(self, set_result: HashResult) -> tuple[list[str], dict | None]:
        if self.set_kind != "ewf":
            return [str(d) for d in set_result.digests], None
        from vault.hashing.ewf import check_ewf

        # libewf and the section walk read the stored versions through ranged GETs, so no
        # segment is copied to local disk. The original names set the segment order.
        readers = [
            self.vault.store.open_reader(upload.key, upload.stored.version_id, name=upload.name, size=upload.stored.size)
            for upload in self._files
        ]
        try:
            check = check_ewf(readers)
        except InvalidInput as error:
            self._container_findings.append(
                f"named like an EWF set but could not be read as one: {error}. The bytes are stored as received; "
                "if the set has more segments (.E02, …), upload all of them together as one item"
            )
            return [str(d) for d in set_result.digests], None
        finally:
            for reader in readers:
                reader.close()
        log.info(
            "intake.container_check item=%s verdict=%s get_requests=%d",
            self.item_id, check.verdict, sum(reader.requests_sent for reader in readers),
        )
        return [str(d) for d in check.computed], check.to_dict()

    def _acquisition_findings(self, media: list[str], container: dict | None) -> list[str]:
        findings = list(self._container_findings)
        if container is not None and container.get("verdict") == "mismatch":
            findings.append(
                f"container hash mismatch: the EWF container stores {', '.join(container['stored'])} "
                f"but its media hashes to {', '.join(container['computed'])}"
            )
        if container is not None and container.get("metadata_damage"):
            findings.append("container metadata damaged: " + "; ".join(container["metadata_damage"]))
        by_algorithm = {Digest.parse(d).algorithm: d for d in media}
        for declared in self.manifest.acquisition_hash:
            computed = by_algorithm.get(declared.algorithm)
            if computed is None:
                findings.append(f"acquisition hash {declared} could not be compared: no {declared.algorithm} media hash was computed")
            elif computed != str(declared):
                findings.append(f"acquisition hash mismatch: the imaging log declares {declared}, the media hashes to {computed}")
        return findings

    def _record(self, set_result, media, container, findings, merkle) -> dict:
        first = self._files[0]
        status = "flagged" if findings else "accepted"
        if set_result.size == 0:
            self.warnings.append("empty item: 0 bytes were acquired")
        with self.vault.ledger.transaction() as txn:
            item = Item(
                id=self.item_id,
                case_id=self.case["id"],
                kind="digital",
                status=status,
                description=self.manifest.description,
                original_names=[f.name for f in self._files],
                set_kind=self.set_kind,
                size=set_result.size,
                sha256=str(set_result.sha256),
                md5=_optional(set_result.digest("md5")),
                sha1=_optional(set_result.digest("sha1")),
                merkle_root=str(first.result.merkle_root) if len(self._files) == 1 else None,
                leaf_size=first.result.leaf_size,
                media_hashes=media,
                container_check=container,
                declared_hashes={
                    "expect": [str(d) for d in self.manifest.expect],
                    "acquisition_hash": [str(d) for d in self.manifest.acquisition_hash],
                },
                warnings=list(self.warnings) + findings,
                retain_until=self._retain_until,
                legal_hold=False,
                created_by=self.actor,
                acquisition=self.manifest.acquisition,
                custodian=self.actor,
                employee_device=self.manifest.employee_device,
            )
            txn.session.add(item)
            for upload in self._files:
                txn.session.add(
                    ItemFile(
                        item_id=self.item_id,
                        file_no=upload.number,
                        original_name=upload.name,
                        size=upload.result.size,
                        sha256=str(upload.result.sha256),
                        md5=_optional(upload.result.digest("md5")),
                        sha1=_optional(upload.result.digest("sha1")),
                        merkle_root=str(upload.result.merkle_root),
                        leaf_count=len(upload.result.leaf_hashes) // 32,
                        object_key=upload.key,
                        version_id=upload.stored.version_id,
                        merkle_key=merkle[upload.number].key,
                        merkle_version_id=merkle[upload.number].version_id,
                        checksum_sha256=upload.stored.checksum_sha256,
                    )
                )
            txn.session.flush()
            details = {
                "status": status,
                "description": self.manifest.description,
                "set_kind": self.set_kind,
                "size": set_result.size,
                "digests": [str(d) for d in set_result.digests],
                "media_hashes": media,
                "declared": item.declared_hashes,
                "container_check": container,
                "findings": findings,
                "warnings": list(self.warnings),
                "retain_until": _rfc3339(self._retain_until),
                "retention_mode": "COMPLIANCE",
                "files": [file_record(f) for f in self._files],
                "custodian": self.actor,
                "acquisition": self.manifest.acquisition,
            }
            entry = txn.append(self.actor, "intake", case_id=self.case["id"], item_id=self.item_id, details=details)
            for finding in findings:
                txn.append(self.actor, "finding", case_id=self.case["id"], item_id=self.item_id, details={"finding": finding})
        log.info("intake.accepted item=%s status=%s entry=%d bytes=%d", self.item_id, status, entry.index, set_result.size)
        from vault.services.items import get_item_record

        return get_item_record(self.vault, self.item_id)

    # Failure paths.
    def abort(self, reason: str, action: str = "intake.aborted", extra: dict | None = None) -> None:
        """Abort every multipart upload that is still open and record the failed attempt."""
        if self._closed:
            return
        self._closed = True
        for upload in self._files:
            if upload.writer is not None and upload.stored is None:
                try:
                    upload.writer.abort()
                except VaultError as error:
                    log.error("intake.abort_failed item=%s key=%s error=%s", self.item_id, upload.key, error)
            upload.hasher.close()
        if self._set_hasher is not None:
            self._set_hasher.close()
        received = sum(f.received for f in self._files)
        log.warning("intake.aborted item=%s received=%d reason=%s", self.item_id, received, reason)
        self._append_failure(action, reason, {"received_bytes": received, **(extra or {})})

    def refuse(self, reason: str, extra: dict) -> None:
        self.abort(reason, action="intake.refused", extra=extra)

    def _append_failure(self, action: str, reason: str, extra: dict) -> None:
        details = {
            "reason": reason,
            "attempted_item_id": self.item_id,
            "files": [{"name": s.name, "size": s.size} for s in self.manifest.files],
            # Versions already committed to storage stay there under retention; listing them
            # accounts for every stored byte that belongs to no accepted item.
            "stored_objects": [
                {"key": f.key, "version_id": f.stored.version_id} for f in self._files if f.stored is not None
            ],
            "declared": {
                "expect": [str(d) for d in self.manifest.expect],
                "acquisition_hash": [str(d) for d in self.manifest.acquisition_hash],
            },
            **extra,
        }
        try:
            self.vault.ledger.append(self.actor, action, case_id=self.case["id"], details=details)
        except VaultError as error:
            log.error("intake.failure_not_recorded item=%s error=%s", self.item_id, error)


def file_record(upload: _FileUpload) -> dict:
    return {
        "file_no": upload.number,
        "name": upload.name,
        "size": upload.result.size,
        "digests": [str(d) for d in upload.result.digests],
        "merkle_root": str(upload.result.merkle_root),
        "leaf_size": upload.result.leaf_size,
        "object_key": upload.key,
        "version_id": upload.stored.version_id,
        "checksum_sha256": upload.stored.checksum_sha256,
        "merkle_key": upload.merkle.key,
        "merkle_version_id": upload.merkle.version_id,
    }


def find_case(vault, reference: str) -> dict:
    with Session(vault.engine) as session:
        case = session.query(Case).filter(Case.reference == reference).one_or_none()
        if case is None:
            raise NotFound(f"case {reference!r} not found; create it with: evidence-vault case create {reference} --title TITLE")
        return {"id": case.id, "reference": case.reference, "title": case.title,
                "classification": case.classification, "jurisdiction": case.jurisdiction}


def _optional(digest: Digest | None) -> str | None:
    return str(digest) if digest is not None else None


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
