"""The running vault: settings resolved into storage, database, ledger and signers.

`Vault.open` is the one place that wires the subpackages together. With no
configuration it starts the embedded SeaweedFS and uses SQLite under the data
directory; either can be replaced through `VAULT_*` settings. Start-up refuses
to continue when the bucket is not write-once (see `ObjectStore.worm_self_test`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vault.config import Settings
from vault.custody.checkpoint import open_checkpoint
from vault.custody.db import create_engine_for, migrate
from vault.custody.ledger import Ledger
from vault.custody.note import load_or_create_signer
from vault.errors import LedgerError
from vault.hashing import lanes
from vault.storage.objects import ObjectStore, S3Settings, round_up_to_second
from vault.storage.seaweed import SeaweedServer, load_or_create_credentials

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "checkpoints/"
EVIDENCE_PREFIX = "evidence/"
# Actor recorded for entries the vault writes on its own, outside any request.
SYSTEM_ACTOR = "system"


@dataclass
class Vault:
    """Everything a request handler needs, opened once per process."""

    settings: Settings
    store: ObjectStore
    ledger: Ledger
    engine: object
    seaweed: SeaweedServer | None = None
    notices: list[str] = field(default_factory=list)
    # The time access decisions use (token expiry, examiner grants); tests replace it to freeze time.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    _report_signer: object | None = None

    @classmethod
    def open(cls, settings: Settings | None = None) -> "Vault":
        """Open storage and the ledger, starting the embedded SeaweedFS if no S3 endpoint is set.

        Raises `WormCheckFailed` when the bucket does not refuse deleting a locked version,
        `StorageError` when storage cannot be reached, `LedgerError` when the database cannot be migrated.
        """
        settings = settings or Settings()
        data_dir = settings.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o700)

        seaweed = None
        if settings.s3_endpoint:
            if not (settings.s3_access_key and settings.s3_secret_key):
                from vault.errors import InvalidInput

                raise InvalidInput("VAULT_S3_ENDPOINT is set but VAULT_S3_ACCESS_KEY or VAULT_S3_SECRET_KEY is missing; set both")
            s3 = S3Settings(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key, settings.s3_bucket, settings.s3_region)
        else:
            access_key, secret_key = load_or_create_credentials(data_dir / "seaweedfs")
            seaweed = SeaweedServer(data_dir / "seaweedfs", access_key, secret_key)
            endpoint = seaweed.start()
            s3 = S3Settings(endpoint, access_key, secret_key, settings.s3_bucket, settings.s3_region)

        try:
            store = ObjectStore(s3)
            store.ensure_bucket()
            store.worm_self_test()
            log.info("vault.storage.ready endpoint=%s bucket=%s", s3.endpoint_url, s3.bucket)
            log.info("vault.hashing.ready sha256_engine=%s", lanes.engine())

            engine = create_engine_for(settings.resolved_database_url())
            migrate(engine)
            signer = load_or_create_signer(data_dir / "log-key", settings.log_origin)
            retention = timedelta(days=settings.retention_days)

            def store_checkpoint(size: int, note: bytes) -> None:
                store.put_locked(
                    f"{CHECKPOINT_PREFIX}{size}", note, datetime.now(timezone.utc) + retention, content_type="text/plain; charset=utf-8"
                )

            ledger = Ledger(engine, signer, checkpoint_sink=store_checkpoint)
            try:
                check_database_against_storage(store, ledger)
            except BaseException:
                ledger.stop_timer()  # never sign a checkpoint over a database that disagrees with storage
                engine.dispose()
                raise
            record_abandoned_uploads(store, ledger)
        except BaseException:
            if seaweed is not None:
                seaweed.stop()
            raise
        return cls(settings=settings, store=store, ledger=ledger, engine=engine, seaweed=seaweed)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    def retain_until(self) -> datetime:
        """Return the default retain-until date for evidence stored now, in whole seconds as Object Lock keeps it."""
        return round_up_to_second(datetime.now(timezone.utc) + timedelta(days=self.settings.retention_days))

    def report_signer(self):
        """Return the report signer, creating the local CA on first use (noted in `notices`)."""
        if self._report_signer is None:
            from vault.reports.signing import ReportSigner

            signer, created = ReportSigner.load_or_create_local(self.data_dir)
            if created:
                message = (
                    f"created a local report-signing CA under {self.data_dir / 'report-signing'}; "
                    "recipients must trust its certificate (ca.pem) to validate report signatures"
                )
                log.warning("vault.reports.local_ca_created path=%s", self.data_dir / "report-signing")
                self.notices.append(message)
            self._report_signer = signer
        return self._report_signer

    def close(self) -> None:
        close = getattr(self.ledger, "close", None)
        if close:
            close()
        dispose = getattr(self.engine, "dispose", None)
        if dispose:
            dispose()
        if self.seaweed is not None:
            self.seaweed.stop()


def stored_checkpoint_notes(store: ObjectStore) -> list[tuple[str, bytes]]:
    """Return (key, note) for every checkpoint version in the bucket, including versions behind delete markers."""
    return [(key, store.read_all(key, version_id)) for key, version_id in store.list_versions(CHECKPOINT_PREFIX)]


def check_database_against_storage(store: ObjectStore, ledger: Ledger) -> None:
    """Raise when WORM storage contains a checkpoint the database cannot reproduce.

    Steps:
    1. Read every checkpoint version in the bucket (`checkpoints/<tree-size>`); a delete
       marker, which anyone may add on an Object Lock bucket, hides none of them.
    2. Check each signature with the log's key.
    3. Require the database to hold at least that many entries (else it was rolled back)
       and to give the same Merkle root at that size (else it was rewritten).
    Raises `LedgerError` naming both sizes or both roots, or `ProofError` for a foreign signature.

    NOTE: this reads one object per checkpoint ever signed, so start-up slows as the
    bucket accumulates checkpoints (thousands of small GETs after months of heavy use).
    """
    # 1. Every checkpoint in storage.
    notes = stored_checkpoint_notes(store)
    if not notes:
        return
    size = ledger.size()
    for key, note in notes:
        # 2. Its signature.
        checkpoint = open_checkpoint(note, ledger.verifier_key, ledger.origin)

        # 3. The database against it.
        if checkpoint.size > size:
            log.error("vault.ledger.rollback_detected key=%s stored_size=%d database_size=%d", key, checkpoint.size, size)
            raise LedgerError(
                f"the database was rolled back: WORM storage contains a signed checkpoint of {checkpoint.size} entries ({key}) "
                f"but the database has {size}; restore the database that matches storage before serving, "
                "and export the current one for investigation"
            )
        root = ledger.root(checkpoint.size)
        if root != checkpoint.root:
            log.error("vault.ledger.fork_detected key=%s size=%d", key, checkpoint.size)
            raise LedgerError(
                f"the database disagrees with WORM storage at tree size {checkpoint.size} ({key}): "
                f"stored root sha256:{checkpoint.root.hex()}, database root sha256:{root.hex()}; entries were rewritten"
            )


def record_abandoned_uploads(store: ObjectStore, ledger: Ledger) -> None:
    """Abort multipart uploads a stopped server left unfinished, with one ledger entry each.

    NOTE: this assumes one vault server per bucket. A second server sharing the
    bucket would have its uploads in progress aborted by this one's start-up.
    """
    for upload in store.abort_stale_uploads(EVIDENCE_PREFIX):
        parts = upload["key"].split("/")
        ledger.append(
            SYSTEM_ACTOR,
            "intake.abandoned",
            details={
                "reason": "an upload was unfinished when the server stopped; its multipart upload was aborted at start-up",
                "attempted_item_id": parts[1] if len(parts) == 3 else None,
                "key": upload["key"],
                "upload_id": upload["upload_id"],
                "initiated": upload["initiated"],
            },
        )
        log.warning("vault.intake.abandoned key=%s upload=%s", upload["key"], upload["upload_id"])
