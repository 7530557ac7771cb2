"""What an attacker with database administrator rights does to the ledger tables.

The append-only triggers stop every UPDATE and DELETE, so each tampering test
first drops them, exactly as a DBA could, and then edits rows directly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import rfc8785
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from tests.fixtures_db import _admin_connection
from vault.custody.entry import GENESIS_HASH, entry_hash
from vault.custody.ledger import Ledger
from vault.hashing.merkle import hash_leaf

SQLITE_TRIGGERS = [
    "ledger_entries_no_update",
    "ledger_entries_no_delete",
    "checkpoints_no_update",
    "checkpoints_no_delete",
]
POSTGRES_TRIGGERS = [
    ("ledger_entries_append_only", "ledger_entries"),
    ("ledger_entries_no_truncate", "ledger_entries"),
    ("checkpoints_append_only", "checkpoints"),
    ("checkpoints_no_truncate", "checkpoints"),
]


def drop_append_only_triggers(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for trigger, table in POSTGRES_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {trigger} ON {table}"))
        else:
            for trigger in SQLITE_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {trigger}"))


def read_raw(engine: Engine, index: int) -> bytes:
    with engine.connect() as connection:
        return bytes(connection.execute(text('SELECT entry FROM ledger_entries WHERE "index" = :i'), {"i": index}).scalar_one())


def all_raw(engine: Engine) -> list[bytes]:
    with engine.connect() as connection:
        return [bytes(raw) for raw in connection.execute(text('SELECT entry FROM ledger_entries ORDER BY "index"')).scalars()]


def row_for(raw: bytes) -> dict:
    document = json.loads(raw)
    return {
        "index": document["index"],
        "entry": raw,
        "entry_hash": entry_hash(raw),
        "leaf_hash": hash_leaf(raw),
        "actor": document["actor"],
        "action": document["action"],
        "case_id": document["case"],
        "item_id": document["item"],
    }


def replace_entry(engine: Engine, index: int, raw: bytes) -> None:
    """Overwrite one entry's bytes and every column derived from them."""
    row = row_for(raw)
    with engine.begin() as connection:
        connection.execute(
            text(
                'UPDATE ledger_entries SET entry = :entry, entry_hash = :entry_hash, leaf_hash = :leaf_hash, '
                'actor = :actor, action = :action, case_id = :case_id, item_id = :item_id WHERE "index" = :index'
            ),
            row,
        )


def rewrite_from(engine: Engine, first: int, raws: list[bytes], time_column_from: int) -> None:
    """Delete entries from `first` on and insert `raws` in their place."""
    with engine.begin() as connection:
        times = {
            index: value
            for index, value in connection.execute(text('SELECT "index", time FROM ledger_entries WHERE "index" >= :i'), {"i": time_column_from})
        }
        connection.execute(text('DELETE FROM ledger_entries WHERE "index" >= :i'), {"i": first})
        fallback = next(iter(times.values()))
        for raw in raws:
            row = row_for(raw)
            row["time"] = times.get(row["index"], fallback)
            connection.execute(
                text(
                    'INSERT INTO ledger_entries ("index", entry, entry_hash, leaf_hash, time, actor, action, case_id, item_id) '
                    "VALUES (:index, :entry, :entry_hash, :leaf_hash, :time, :actor, :action, :case_id, :item_id)"
                ),
                row,
            )


def rechain(documents: list[dict], first_index: int, prev: str) -> list[bytes]:
    """Renumber documents from `first_index` and recompute their `prev` links."""
    raws = []
    for offset, document in enumerate(documents):
        document = dict(document, index=first_index + offset, prev=prev)
        raw = rfc8785.dumps(document)
        prev = entry_hash(raw)
        raws.append(raw)
    return raws


def genesis_or(raws: list[bytes], index: int) -> str:
    return GENESIS_HASH if index == 0 else entry_hash(raws[index - 1])


def snapshot_database(engine: Engine, url: str, dest_dir: Path) -> str:
    """Copy the whole database as a backup would, and return the copy's URL.

    The engine is disposed first: SQLite then folds its WAL into the file, and
    PostgreSQL can use the database as a template only without connections.
    """
    engine.dispose()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        copy = dest_dir / "backup.db"
        shutil.copyfile(parsed.database, copy)
        return f"sqlite:///{copy}"
    copy_name = f"{parsed.database}_backup"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{parsed.database}"')
    return parsed.set(database=copy_name).render_as_string(hide_password=False)


def drop_snapshot(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def fill(ledger: Ledger, count: int, start: int = 0) -> None:
    """Append `count` ordinary access entries, one by one."""
    for number in range(start, start + count):
        ledger.append(f"analyst.{number % 3}", "access", case_id="case-1", item_id=f"item-{number % 4}", details={"n": number})
