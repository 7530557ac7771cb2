"""Fixtures for the custody ledger tests: a signer and a ledger on each database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine

from vault.custody.ledger import Ledger
from vault.custody.note import NoteSigner

ORIGIN = "vault.test/custody"


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


@pytest.fixture
def stored_notes() -> dict[int, bytes]:
    """Stands in for the WORM bucket's `checkpoints/<size>` objects."""
    return {}


@pytest.fixture
def make_ledger(migrated_engine: Engine, signer: NoteSigner, stored_notes: dict[int, bytes]) -> Iterator[Callable[..., Ledger]]:
    """Build ledgers on the test database; every checkpoint goes to `stored_notes`."""
    ledgers: list[Ledger] = []

    def build(engine: Engine | None = None, **options: object) -> Ledger:
        options.setdefault("checkpoint_interval", 0.0)
        ledger = Ledger(engine or migrated_engine, signer, stored_notes.__setitem__, **options)  # type: ignore[arg-type]
        ledgers.append(ledger)
        return ledger

    yield build
    for ledger in ledgers:
        ledger.stop_timer()


@pytest.fixture
def ledger(make_ledger: Callable[..., Ledger]) -> Ledger:
    return make_ledger()

