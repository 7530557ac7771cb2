"""Alembic environment for the custody database.

`vault.custody.db.migrate(engine)` passes its connection in
`config.attributes["connection"]`. Run by hand, Alembic connects to the
`sqlalchemy.url` option instead (`alembic -x` is not used).
"""

from __future__ import annotations

from alembic import context

from vault.custody.models import Base


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    from vault.custody.db import create_engine_for

    _url = context.config.get_main_option("sqlalchemy.url")
    if not _url:
        raise RuntimeError("set sqlalchemy.url in alembic.ini or migrate through vault.custody.db.migrate(engine)")
    with create_engine_for(_url).begin() as _bound:
        _run(_bound)
