"""Initial schema: custody ledger, checkpoints, cases, items and item files.

The ledger tables are append-only: triggers on both SQLite and PostgreSQL
reject UPDATE and DELETE (and TRUNCATE on PostgreSQL) with a message naming
the table.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from vault.custody.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("ledger_entries", "checkpoints")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("entry_hash", sa.String(71), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("time", UTCDateTime, nullable=False),
        sa.Column("actor", sa.Unicode(256), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(36)),
        sa.Column("item_id", sa.String(36)),
        sa.CheckConstraint('"index" >= 0', name="ck_ledger_entries_index_non_negative"),
    )
    op.create_index("ix_ledger_entries_case_id", "ledger_entries", ["case_id"])
    op.create_index("ix_ledger_entries_item_id", "ledger_entries", ["item_id"])

    op.create_table(
        "checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )

    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.Unicode(200), nullable=False, unique=True),
        sa.Column("title", sa.Unicode(500), nullable=False),
        sa.Column("classification", sa.String(100), nullable=False),
        sa.Column("jurisdiction", sa.Unicode(200)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )

    op.create_table(
        "items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(36), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("description", sa.Unicode),
        sa.Column("original_names", sa.JSON),
        sa.Column("set_kind", sa.String(16)),
        sa.Column("size", sa.BigInteger),
        sa.Column("sha256", sa.String(71)),
        sa.Column("md5", sa.String(36)),
        sa.Column("sha1", sa.String(45)),
        sa.Column("merkle_root", sa.String(71)),
        sa.Column("leaf_size", sa.Integer),
        sa.Column("media_hashes", sa.JSON),
        sa.Column("container_check", sa.JSON),
        sa.Column("declared_hashes", sa.JSON),
        sa.Column("warnings", sa.JSON),
        sa.Column("physical_details", sa.JSON),
        sa.Column("derived_from", sa.String(36), sa.ForeignKey("items.id")),
        sa.Column("retain_until", UTCDateTime),
        sa.Column("legal_hold", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Unicode(256), nullable=False),
    )
    op.create_index("ix_items_case_id", "items", ["case_id"])

    op.create_table(
        "item_files",
        sa.Column("item_id", sa.String(36), sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("file_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("original_name", sa.Unicode, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(71), nullable=False),
        sa.Column("md5", sa.String(36)),
        sa.Column("sha1", sa.String(45)),
        sa.Column("merkle_root", sa.String(71), nullable=False),
        sa.Column("leaf_count", sa.BigInteger, nullable=False),
        sa.Column("object_key", sa.String(512), nullable=False),
        sa.Column("version_id", sa.String(256), nullable=False),
        sa.Column("merkle_key", sa.String(512)),
        sa.Column("merkle_version_id", sa.String(256)),
        sa.Column("checksum_sha256", sa.Text),
    )

    if op.get_bind().dialect.name == "postgresql":
        _create_postgresql_triggers()
    else:
        _create_sqlite_triggers()


def _create_postgresql_triggers() -> None:
    op.execute(
        """
        CREATE FUNCTION vault_reject_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'custody entries and checkpoints are never changed or removed; append a new entry instead';
        END;
        $$
        """
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION vault_reject_ledger_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION vault_reject_ledger_change()"
        )


def _create_sqlite_triggers() -> None:
    for table in APPEND_ONLY_TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} is not allowed'); END"
            )


def downgrade() -> None:
    # NOTE: a downgrade drops the custody ledger with everything else; it exists
    # for development databases only.
    for table in ("item_files", "items", "cases", "checkpoints", "ledger_entries"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS vault_reject_ledger_change()")
