"""The ledger as clients see it: timelines, raw entries, checkpoints and proofs."""

from __future__ import annotations

import base64

from vault.errors import InvalidInput, NotFound
from vault.services.items import get_item_record
from vault.services.runtime import CHECKPOINT_PREFIX

MAX_PAGE = 10_000


def item_timeline(vault, item_id: str, actor: str) -> dict:
    """Return an item's custody story in order, after recording that it was read."""
    record = get_item_record(vault, item_id)
    vault.ledger.append(actor, "log.viewed", case_id=record["case_id"], item_id=item_id, details={})
    entries = vault.ledger.entries(item_id=item_id)
    return {"item": record, "entries": [e.to_dict() for e in entries]}


def raw_entries(vault, start: int, end: int | None) -> dict:
    size = vault.ledger.size()
    end = size if end is None else min(end, size)
    if start < 0 or start > end:
        raise InvalidInput(f"invalid entry range {start}..{end}; the ledger has {size} entries")
    end = min(end, start + MAX_PAGE)
    entries = vault.ledger.entries(start=start, end=end)
    return {"size": size, "start": start, "end": end, "entries": [base64.b64encode(e.raw).decode("ascii") for e in entries]}


def latest_checkpoint(vault) -> bytes:
    return vault.ledger.checkpoint().note


def all_checkpoints(vault) -> dict:
    return {"checkpoints": [c.note.decode("utf-8") for c in vault.ledger.checkpoints()]}


def stored_checkpoints(vault) -> dict:
    """Return the checkpoints held in WORM storage, keyed by tree size."""
    notes = {}
    for key in vault.store.list_keys(CHECKPOINT_PREFIX):
        notes[key[len(CHECKPOINT_PREFIX):]] = vault.store.read_all(key).decode("utf-8")
    return {"checkpoints": notes}


def entry_receipt(vault, index: int, actor: str) -> str:
    size = vault.ledger.size()
    if not 0 <= index < size:
        raise NotFound(f"ledger entry {index} not found; the ledger has entries 0..{size - 1}")
    return vault.ledger.proof_receipt(index)


def consistency(vault, old_size: int, new_size: int | None) -> dict:
    checkpoint = vault.ledger.checkpoint()
    new_size = checkpoint.size if new_size is None else new_size
    proof = vault.ledger.consistency_proof(old_size, new_size)
    return {"old_size": old_size, "new_size": new_size, "proof": [base64.b64encode(p).decode("ascii") for p in proof]}
