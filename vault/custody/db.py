"""Engines, migrations and the sequencer lock for the custody database.

SQLite runs in WAL mode with foreign keys on, `synchronous=FULL` and a busy
timeout. PostgreSQL goes through psycopg 3. The sequencer lock is what
serializes ledger appends across threads and processes: `BEGIN IMMEDIATE` on
SQLite, a transaction-scoped advisory lock on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from vault.errors import InvalidInput, LedgerError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Seconds a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30

# Key of the PostgreSQL advisory lock that serializes ledger appends ("VLTLEDGR" in ASCII).
SEQUENCER_LOCK_KEY = 0x564C544C45444752

_SEQUENCER_OPTION = "vault_sequencer"


def create_engine_for(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL.

    `postgresql://` URLs are switched to the psycopg 3 driver. Raises
    InvalidInput for any other database.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise InvalidInput(f"SQLite URL {url!r} has no file path; the ledger needs a database file")
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        # NOTE: no pre-ping, which would cost a round trip per append. A connection
        # dropped by a server restart fails one transaction (LedgerError) and is
        # then discarded by the pool.
        return create_engine(parsed, pool_size=8, max_overflow=16)
    raise InvalidInput(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is turned off so that "begin"
        # below decides between BEGIN and BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_SEQUENCER_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


@contextmanager
def sequenced_connection(engine: Engine) -> Iterator[Connection]:
    """Open a transaction that holds the ledger's sequencer lock until it ends.

    The transaction commits when the block exits normally and rolls back when
    it raises. Only one such transaction runs at a time per database.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execution_options(**{_SEQUENCER_OPTION: True})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK_KEY})
            yield connection


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema (Alembic `upgrade head`).

    Raises LedgerError when a migration fails.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as error:
        raise LedgerError(f"database migration failed on {engine.url.render_as_string(hide_password=True)}: {error}") from error
