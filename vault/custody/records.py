"""SQLAlchemy models of the chain-of-custody records beside cases and items.

Each row is the current state of one record; the ledger entry appended in the
same transaction is its history. Rows are created by
`vault.services.records` only, and changed there only to close them (a
transfer accepted, a hold released, a grant revoked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, UniqueConstraint, Unicode, false
from sqlalchemy.orm import Mapped, mapped_column

from vault.custody.models import Base, UTCDateTime, utc_now


class CustodyTransfer(Base):
    """A release of an item by its custodian to a named receiver.

    `status` is "open" until the receiver accepts ("accepted") or the releasing
    custodian withdraws it ("withdrawn"). The item's custodian changes only on
    acceptance.
    """

    __tablename__ = "custody_transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), nullable=False, index=True)
    released_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    to_custodian: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    reason: Mapped[str] = mapped_column(Unicode, nullable=False)
    method: Mapped[str] = mapped_column(Unicode(200), nullable=False)
    # Shipping tracking number or seal number.
    reference: Mapped[str | None] = mapped_column(Unicode(200))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(Unicode(256))


class CustodyDiscrepancy(Base):
    """Something found wrong at hand-over or on arrival: a broken seal, a hash mismatch."""

    __tablename__ = "custody_discrepancies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), nullable=False, index=True)
    transfer_id: Mapped[str | None] = mapped_column(ForeignKey("custody_transfers.id"))
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str] = mapped_column(Unicode, nullable=False)
    recorded_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class LegalAuthority(Base):
    """A warrant, consent, contract, policy or legal approval for a case or one item."""

    __tablename__ = "legal_authorities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"))
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    reference: Mapped[str] = mapped_column(Unicode(200), nullable=False)
    issued_by: Mapped[str | None] = mapped_column(Unicode(256))
    description: Mapped[str | None] = mapped_column(Unicode)
    # True for a legal approval that allows collecting from employee-owned devices.
    covers_employee_devices: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    recorded_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class NonCollection(Base):
    """A decision not to collect something, with the operational or legal constraint behind it."""

    __tablename__ = "non_collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(Unicode, nullable=False)
    constraint_kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "operational" or "legal"
    reason: Mapped[str] = mapped_column(Unicode, nullable=False)
    recorded_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class RetentionPolicy(Base):
    """How long evidence of one classification in one jurisdiction is kept.

    `jurisdiction` or `classification` may be "*" to match any value; the most
    specific policy wins at intake.
    """

    __tablename__ = "retention_policies"
    __table_args__ = (UniqueConstraint("jurisdiction", "classification", name="uq_retention_policies_scope"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(Unicode(200), nullable=False)
    classification: Mapped[str] = mapped_column(String(100), nullable=False)
    retain_seconds: Mapped[int] = mapped_column(BigInteger, nullable=False)
    basis: Mapped[str] = mapped_column(Unicode, nullable=False)
    recorded_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class LegalHold(Base):
    """A legal hold on one item; open while `released_at` is None."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Unicode, nullable=False)
    placed_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    released_by: Mapped[str | None] = mapped_column(Unicode(256))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(Unicode)


class DisposalApproval(Base):
    """A recorded approval to dispose of one item, required before disposal."""

    __tablename__ = "disposal_approvals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), nullable=False, index=True)
    approved_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    reference: Mapped[str] = mapped_column(Unicode(200), nullable=False)
    reason: Mapped[str] = mapped_column(Unicode, nullable=False)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class ExpertGrant(Base):
    """Access for an outside examiner to named items of one case until `expires_at`."""

    __tablename__ = "expert_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    grantee: Mapped[str] = mapped_column(Unicode(256), nullable=False, index=True)
    organisation: Mapped[str | None] = mapped_column(Unicode(256))
    item_ids: Mapped[list[Any]] = mapped_column(JSON, nullable=False)
    purpose: Mapped[str] = mapped_column(Unicode, nullable=False)
    granted_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_by: Mapped[str | None] = mapped_column(Unicode(256))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the `expert.grant-expired` entry was appended; None until then.
    expiry_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
