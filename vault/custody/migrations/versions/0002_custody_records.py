"""Custody records: counsel, acquisition, custodian, transfers, authority, holds, privilege and expert grants.

Adds columns to `cases` and `items` and the tables behind the chain-of-custody
records. Every change to these rows also has a ledger entry; the rows are the
current state, the ledger is the history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vault.custody.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("counsel", sa.Unicode(256)))
        batch.add_column(sa.Column("privilege", sa.String(32)))

    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("acquisition", sa.JSON))
        batch.add_column(sa.Column("custodian", sa.Unicode(256)))
        batch.add_column(sa.Column("employee_device", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("privilege", sa.String(32)))
        batch.add_column(sa.Column("disposed_at", UTCDateTime))
        batch.add_column(sa.Column("disposed_by", sa.Unicode(256)))

    op.create_table(
        "custody_transfers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("released_by", sa.Unicode(256), nullable=False),
        sa.Column("to_custodian", sa.Unicode(256), nullable=False),
        sa.Column("reason", sa.Unicode, nullable=False),
        sa.Column("method", sa.Unicode(200), nullable=False),
        sa.Column("reference", sa.Unicode(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("released_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("closed_by", sa.Unicode(256)),
    )
    op.create_index("ix_custody_transfers_item_id", "custody_transfers", ["item_id"])

    op.create_table(
        "custody_discrepancies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("transfer_id", sa.String(36), sa.ForeignKey("custody_transfers.id")),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Unicode, nullable=False),
        sa.Column("recorded_by", sa.Unicode(256), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_custody_discrepancies_item_id", "custody_discrepancies", ["item_id"])

    op.create_table(
        "legal_authorities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("items.id")),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reference", sa.Unicode(200), nullable=False),
        sa.Column("issued_by", sa.Unicode(256)),
        sa.Column("description", sa.Unicode),
        sa.Column("covers_employee_devices", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("recorded_by", sa.Unicode(256), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_legal_authorities_case_id", "legal_authorities", ["case_id"])

    op.create_table(
        "non_collections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("subject", sa.Unicode, nullable=False),
        sa.Column("constraint_kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Unicode, nullable=False),
        sa.Column("recorded_by", sa.Unicode(256), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_non_collections_case_id", "non_collections", ["case_id"])

    op.create_table(
        "retention_policies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("jurisdiction", sa.Unicode(200), nullable=False),
        sa.Column("classification", sa.String(100), nullable=False),
        sa.Column("retain_seconds", sa.BigInteger, nullable=False),
        sa.Column("basis", sa.Unicode, nullable=False),
        sa.Column("recorded_by", sa.Unicode(256), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("jurisdiction", "classification", name="uq_retention_policies_scope"),
    )

    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("reason", sa.Unicode, nullable=False),
        sa.Column("placed_by", sa.Unicode(256), nullable=False),
        sa.Column("placed_at", UTCDateTime, nullable=False),
        sa.Column("released_by", sa.Unicode(256)),
        sa.Column("released_at", UTCDateTime),
        sa.Column("release_reason", sa.Unicode),
    )
    op.create_index("ix_legal_holds_item_id", "legal_holds", ["item_id"])

    op.create_table(
        "disposal_approvals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("item_id", sa.String(36), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("approved_by", sa.Unicode(256), nullable=False),
        sa.Column("reference", sa.Unicode(200), nullable=False),
        sa.Column("reason", sa.Unicode, nullable=False),
        sa.Column("approved_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_disposal_approvals_item_id", "disposal_approvals", ["item_id"])

    op.create_table(
        "expert_grants",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("grantee", sa.Unicode(256), nullable=False),
        sa.Column("organisation", sa.Unicode(256)),
        sa.Column("item_ids", sa.JSON, nullable=False),
        sa.Column("purpose", sa.Unicode, nullable=False),
        sa.Column("granted_by", sa.Unicode(256), nullable=False),
        sa.Column("granted_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_by", sa.Unicode(256)),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("expiry_recorded_at", UTCDateTime),
    )
    op.create_index("ix_expert_grants_case_id", "expert_grants", ["case_id"])
    op.create_index("ix_expert_grants_grantee", "expert_grants", ["grantee"])


def downgrade() -> None:
    for table in (
        "expert_grants", "disposal_approvals", "legal_holds", "retention_policies",
        "non_collections", "legal_authorities", "custody_discrepancies", "custody_transfers",
    ):
        op.drop_table(table)
    with op.batch_alter_table("items") as batch:
        for column in ("disposed_by", "disposed_at", "privilege", "employee_device", "custodian", "acquisition"):
            batch.drop_column(column)
    with op.batch_alter_table("cases") as batch:
        for column in ("privilege", "counsel"):
            batch.drop_column(column)
