"""SQLAlchemy 2.0 models: the custody ledger tables and the case and item records.

`ledger_entries` and `checkpoints` are append-only: database triggers created
by the initial migration reject UPDATE and DELETE on them. Relationships are
`lazy="raise"`, so every query is written out where it runs.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    Unicode,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp with microseconds on SQLite and PostgreSQL.

    PostgreSQL stores `timestamptz`. SQLite has no time zone type, so the value
    is stored as naive UTC text and read back with `tzinfo=UTC`. Naive input is
    rejected because its time zone is unknown.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone; pass an aware datetime")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class LedgerEntryRow(Base):
    """One custody entry, stored as the exact bytes that were hashed.

    `time`, `actor`, `action`, `case_id` and `item_id` repeat fields of `entry`
    for queries; verification reads only `entry`.
    """

    __tablename__ = "ledger_entries"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(71), nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    item_id: Mapped[str | None] = mapped_column(String(36), index=True)


class CheckpointRow(Base):
    """One signed checkpoint: a C2SP signed note over a tlog-checkpoint body."""

    __tablename__ = "checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    note: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class Case(Base):
    """One incident or legal matter."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(Unicode(200), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(Unicode(500), nullable=False)
    classification: Mapped[str] = mapped_column(String(100), nullable=False)
    jurisdiction: Mapped[str | None] = mapped_column(Unicode(200))
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    counsel: Mapped[str | None] = mapped_column(Unicode(256))
    privilege: Mapped[str | None] = mapped_column(String(32))  # "attorney-client" or "work-product"

    items: Mapped[list[Item]] = relationship(back_populates="case", lazy="raise")


class Item(Base):
    """One evidence item, digital (ordered files) or physical (a description)."""

    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "digital" or "physical"
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # "accepted" or "flagged"
    description: Mapped[str | None] = mapped_column(Unicode)
    original_names: Mapped[list[str] | None] = mapped_column(JSON)
    set_kind: Mapped[str | None] = mapped_column(String(16))  # "ewf", "split-raw" or "single"
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(71))
    md5: Mapped[str | None] = mapped_column(String(36))
    sha1: Mapped[str | None] = mapped_column(String(45))
    merkle_root: Mapped[str | None] = mapped_column(String(71))
    leaf_size: Mapped[int | None] = mapped_column(Integer)
    media_hashes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    container_check: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    declared_hashes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    warnings: Mapped[list[Any] | None] = mapped_column(JSON)
    # Make, model, serial number and storage location of a physical item.
    physical_details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    derived_from: Mapped[str | None] = mapped_column(ForeignKey("items.id"))
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    created_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    # Who acquired the item, when, where, from what and with which tool (see vault.services.records.acquisition).
    acquisition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The one person who holds the item now; changed only by an accepted transfer.
    custodian: Mapped[str | None] = mapped_column(Unicode(256))
    employee_device: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    privilege: Mapped[str | None] = mapped_column(String(32))
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposed_by: Mapped[str | None] = mapped_column(Unicode(256))

    case: Mapped[Case] = relationship(back_populates="items", lazy="raise")
    files: Mapped[list[ItemFile]] = relationship(
        back_populates="item", lazy="raise", order_by="ItemFile.file_no"
    )


class ItemFile(Base):
    """One stored file of a digital item, in acquisition order (`file_no` from 0)."""

    __tablename__ = "item_files"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), primary_key=True)
    file_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    original_name: Mapped[str] = mapped_column(Unicode, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(71), nullable=False)
    md5: Mapped[str | None] = mapped_column(String(36))
    sha1: Mapped[str | None] = mapped_column(String(45))
    merkle_root: Mapped[str] = mapped_column(String(71), nullable=False)
    leaf_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    object_key: Mapped[str] = mapped_column(String(512), nullable=False)
    version_id: Mapped[str] = mapped_column(String(256), nullable=False)
    merkle_key: Mapped[str | None] = mapped_column(String(512))
    merkle_version_id: Mapped[str | None] = mapped_column(String(256))
    checksum_sha256: Mapped[str | None] = mapped_column(Text)

    item: Mapped[Item] = relationship(back_populates="files", lazy="raise")
