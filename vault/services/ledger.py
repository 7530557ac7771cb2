"""The ledger as clients see it: timelines, raw entries, checkpoints and proofs."""

from __future__ import annotations

import base64

from vault.errors import InvalidInput, NotFound
from vault.services.access import Permission, Principal, authorize, record_denial
from vault.services.items import visible_item
from vault.services.records.timeline import timeline_entries
from vault.services.runtime import stored_checkpoint_notes

MAX_PAGE = 10_000


def item_timeline(vault, item_id: str, principal: Principal) -> dict:
    """Return an item's custody story in order, after recording that it was read."""
    record = visible_item(vault, principal, item_id, Permission.ITEM_READ)
    vault.ledger.append(principal.name, "log.viewed", case_id=record["case_id"], item_id=item_id, details={})
    # The item's own entries plus the case-wide records (authority, non-collection, case changes).
    entries = timeline_entries(vault, item_id, record["case_id"])
    return {"item": record, "entries": [e.to_dict() for e in entries]}


def raw_entries(vault, principal: Principal, start: int, end: int | None) -> dict:
    authorize(vault, principal, Permission.LEDGER_READ)
    size = vault.ledger.size()
    end = size if end is None else min(end, size)
    if start < 0 or start > end:
        raise InvalidInput(f"invalid entry range {start}..{end}; the ledger has {size} entries")
    end = min(end, start + MAX_PAGE)
    entries = vault.ledger.entries(start=start, end=end)
    return {"size": size, "start": start, "end": end, "entries": [base64.b64encode(e.raw).decode("ascii") for e in entries]}


def latest_checkpoint(vault, principal: Principal) -> bytes:
    authorize(vault, principal, Permission.LEDGER_PUBLIC)
    return vault.ledger.checkpoint().note


def verifier_key(vault, principal: Principal) -> str:
    authorize(vault, principal, Permission.LEDGER_PUBLIC)
    return vault.ledger.verifier_key


def all_checkpoints(vault, principal: Principal) -> dict:
    authorize(vault, principal, Permission.LEDGER_READ)
    return {"checkpoints": [c.note.decode("utf-8") for c in vault.ledger.checkpoints()]}


def stored_checkpoints(vault, principal: Principal) -> dict:
    """Return the checkpoints held in WORM storage, keyed by tree size."""
    authorize(vault, principal, Permission.LEDGER_READ)
    notes = stored_checkpoint_notes(vault.store)
    return {"checkpoints": [{"key": key, "note": note.decode("utf-8")} for key, note in notes]}


def entry_receipt(vault, index: int, principal: Principal) -> str:
    """Return a tlog-proof receipt for one entry.

    Auditors may prove any entry. Other callers may prove only entries of a
    case or item they can see. Any other entry raises the same NotFound as an index beyond the end.
    """
    authorize(vault, principal, Permission.ENTRY_PROOF, object_id=f"entry:{index}")
    size = vault.ledger.size()
    # One message for an index beyond the end and for an entry the caller may not see, so neither reveals the other.
    missing = NotFound(f"ledger entry {index} not found or not visible to you; ask an auditor for a proof of it")
    if not 0 <= index < size:
        raise missing
    if not principal.may(Permission.LEDGER_READ):
        entry = vault.ledger.entry(index)
        if entry.case_id is None:
            record_denial(vault, principal, Permission.ENTRY_PROOF.value, f"entry:{index}",
                          reason="entry belongs to no case; only auditors prove such entries")
            raise missing
        authorize(vault, principal, Permission.ENTRY_PROOF, case_id=entry.case_id, item_id=entry.item_id,
                  object_id=f"entry:{index}", hidden_as=missing)
    return vault.ledger.proof_receipt(index)


def consistency(vault, principal: Principal, old_size: int, new_size: int | None) -> dict:
    authorize(vault, principal, Permission.LEDGER_READ)
    checkpoint = vault.ledger.checkpoint()
    new_size = checkpoint.size if new_size is None else new_size
    proof = vault.ledger.consistency_proof(old_size, new_size)
    return {"old_size": old_size, "new_size": new_size, "proof": [base64.b64encode(p).decode("ascii") for p in proof]}
