"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL must listen on 127.0.0.1:5432 with trust authentication for user
`root` and a database `test`. Each test creates a uniquely named database and
drops it afterwards. An unreachable server fails the test with a hint; it is
never skipped. Override the server with `VAULT_TEST_POSTGRES_URL` (a URL of the
maintenance database, e.g. postgresql://root@127.0.0.1:5432/test).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine, make_url

from vault.custody.db import create_engine_for, migrate

POSTGRES_ADMIN_URL = os.environ.get("VAULT_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")

DATABASE_KINDS = ["sqlite", "postgresql"]


def _admin_connection() -> psycopg.Connection:
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        return psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "root",
            dbname=url.database or "test",
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}). Start it, for example with "
            "`pg_ctlcluster 15 main start` or `service postgresql start`, with trust authentication for user "
            "root and a database named test, or set VAULT_TEST_POSTGRES_URL.",
            pytrace=False,
        )


def create_postgres_database() -> str:
    """Create a uniquely named, empty PostgreSQL database and return its SQLAlchemy URL."""
    name = f"vault_test_{uuid.uuid4().hex[:16]}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    return make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, once for SQLite (in tmp_path) and once for PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vault.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database upgraded to the newest schema; disposed after the test."""
    engine = create_engine_for(database_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
