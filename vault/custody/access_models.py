"""SQLAlchemy models for access control: users, API tokens, case memberships, denial counters.

An API token is stored only as the SHA-256 of its full text; the text is shown
once when the token is created. Outside examiners get access to named items
through `vault.custody.records.ExpertGrant`, not through a membership.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from vault.custody.models import Base, UTCDateTime, utc_now


class User(Base):
    """A person who calls the API. `name` is the actor recorded in custody entries."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(Unicode(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(Unicode(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    created_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)


class ApiToken(Base):
    """One API token. `token_hash` is `sha256:` + the hex SHA-256 of the whole token text."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(71), nullable=False)
    label: Mapped[str | None] = mapped_column(Unicode(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)
    created_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(Unicode(256))


class CaseMembership(Base):
    """Access of one user to one case and all of its items."""

    __tablename__ = "case_memberships"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    granted_by: Mapped[str] = mapped_column(Unicode(256), nullable=False)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utc_now)


class DenialCounter(Base):
    """Refused requests of one token for one permission on one object.

    The first refusal appends an `access.denied` entry. Later ones only raise
    `count`; the next refusal after the summary interval appends an entry that
    carries the repeats counted since the last entry (`count - recorded_count`).
    """

    __tablename__ = "denial_counters"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_id: Mapped[str] = mapped_column(Unicode(200), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
