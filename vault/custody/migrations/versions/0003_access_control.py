"""Access control: users, API tokens, case memberships and denial counters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vault.custody.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.Unicode(64), nullable=False, unique=True),
        sa.Column("display_name", sa.Unicode(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Unicode(256), nullable=False),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("token_hash", sa.String(71), nullable=False),
        sa.Column("label", sa.Unicode(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Unicode(256), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("revoked_by", sa.Unicode(256)),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])

    op.create_table(
        "case_memberships",
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("granted_by", sa.Unicode(256), nullable=False),
        sa.Column("granted_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_case_memberships_user_id", "case_memberships", ["user_id"])

    op.create_table(
        "denial_counters",
        sa.Column("token_id", sa.String(32), primary_key=True),
        sa.Column("permission", sa.String(64), primary_key=True),
        sa.Column("object_id", sa.Unicode(200), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("recorded_count", sa.BigInteger, nullable=False),
        sa.Column("first_at", UTCDateTime, nullable=False),
        sa.Column("last_at", UTCDateTime, nullable=False),
        sa.Column("last_recorded_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("denial_counters", "case_memberships", "api_tokens", "users"):
        op.drop_table(table)
