"""Two-party custody transfers: the custodian releases, the named receiver accepts, either side records discrepancies.

An item has exactly one current custodian (`Item.custodian`), and at most one
open transfer. Custody changes only when the receiver accepts; until then the
releasing custodian still holds the item and the open transfer is listed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.records import CustodyDiscrepancy, CustodyTransfer
from vault.errors import Conflict, InvalidInput, NotFound
from vault.services.records._common import require_user, iso, load_item, now, refuse, require_choice, require_text
from vault.services.access import Permission, Principal
from vault.services.records._common import check_item, check_row

DISCREPANCY_KINDS = ("seal-broken", "hash-mismatch", "damaged", "missing-part", "wrong-item", "other")


def transfer_to_dict(row: CustodyTransfer) -> dict:
    return {
        "id": row.id, "item_id": row.item_id, "released_by": row.released_by, "to": row.to_custodian, "reason": row.reason,
        "method": row.method, "reference": row.reference, "status": row.status, "released_at": iso(row.released_at),
        "closed_at": iso(row.closed_at), "closed_by": row.closed_by,
    }


def _load_transfer(session: Session, transfer_id: str) -> CustodyTransfer:
    row = session.get(CustodyTransfer, transfer_id)
    if row is None:
        raise NotFound(f"transfer {transfer_id!r} not found; list an item's transfers with: evidence-vault transfer list --item ITEM")
    return row


def _open_transfer(session: Session, item_id: str) -> CustodyTransfer | None:
    return session.scalar(select(CustodyTransfer).where(CustodyTransfer.item_id == item_id, CustodyTransfer.status == "open"))


def release(vault, item_id: str, to: str, reason: str, method: str, principal: Principal, reference: str | None = None) -> dict:
    """Record the custodian's release of an item to a named receiver; append `transfer.released`.

    Refused (`transfer.refused`, Conflict) when `actor` is not the current custodian, when a transfer is
    already open or the item was disposed of.
    """
    actor = check_item(vault, principal, item_id, Permission.ITEM_READ)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id, custodian, disposed = item.case_id, item.custodian, item.disposed_at
        open_row = _open_transfer(session, item_id)
    try:
        to = require_text(to, "receiver", "pass --to with the name of the person who will receive the item")
        require_user(vault, to, "receiver")
        reason = require_text(reason, "reason", "pass --reason, for example 'analysis at the forensic lab'")
        method = require_text(method, "method", "pass --method, for example 'hand delivery' or 'courier'")
        if disposed is not None:
            raise Conflict(f"item {item_id} was disposed of on {iso(disposed)}; it can no longer be transferred")
        if custodian != actor:
            raise Conflict(
                f"{actor} cannot release item {item_id}: the current custodian is {custodian}; "
                f"only {custodian} can release it"
            )
        if open_row is not None:
            raise Conflict(
                f"item {item_id} already has open transfer {open_row.id} to {open_row.to_custodian}; "
                f"it must be accepted or withdrawn first"
            )
        if to == actor:
            raise InvalidInput(f"{actor} already holds item {item_id}; name another receiver with --to")
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "transfer", error, case_id=case_id, item_id=item_id, details={"to": to}) from None
    row = CustodyTransfer(id=str(uuid.uuid4()), item_id=item_id, released_by=actor, to_custodian=to, reason=reason,
                          method=method, reference=reference, status="open", released_at=now())
    with vault.ledger.transaction() as txn:
        txn.session.add(row)
        txn.session.flush()
        txn.append(actor, "transfer.released", case_id=case_id, item_id=item_id, details=transfer_to_dict(row))
    return transfer_to_dict(row)


def accept(vault, transfer_id: str, principal: Principal, note: str | None = None) -> dict:
    """Record the receiver's acceptance; the item's custodian becomes the receiver. Appends `transfer.accepted`.

    Refused (`transfer.refused`, Conflict) when `actor` is not the named receiver or the transfer is not open.
    """
    actor = check_row(vault, principal, CustodyTransfer, transfer_id, Permission.ITEM_READ, NotFound(f"transfer {transfer_id!r} not found; list an item's transfers with: evidence-vault transfer list --item ITEM"))
    with Session(vault.engine) as session:
        row = _load_transfer(session, transfer_id)
        item = load_item(session, row.item_id)
        case_id, item_id, to, status = item.case_id, item.id, row.to_custodian, row.status
    try:
        if status != "open":
            raise Conflict(f"transfer {transfer_id} is {status}, not open; nothing to accept")
        if actor != to:
            raise Conflict(f"{actor} cannot accept transfer {transfer_id}: it is addressed to {to}; only {to} can accept it")
    except Conflict as error:
        raise refuse(vault, actor, "transfer", error, case_id=case_id, item_id=item_id, details={"transfer_id": transfer_id}) from None
    with vault.ledger.transaction() as txn:
        row = _load_transfer(txn.session, transfer_id)
        item = load_item(txn.session, item_id)
        previous = item.custodian
        row.status, row.closed_at, row.closed_by = "accepted", now(), actor
        item.custodian = actor
        txn.session.flush()
        txn.append(actor, "transfer.accepted", case_id=case_id, item_id=item_id, details={
            "transfer_id": transfer_id, "from": previous, "to": actor, "note": note,
        })
        return transfer_to_dict(row)


def withdraw(vault, transfer_id: str, reason: str, principal: Principal) -> dict:
    """Withdraw an open transfer (only the releasing custodian may); append `transfer.withdrawn`."""
    actor = check_row(vault, principal, CustodyTransfer, transfer_id, Permission.ITEM_READ, NotFound(f"transfer {transfer_id!r} not found; list an item's transfers with: evidence-vault transfer list --item ITEM"))
    with Session(vault.engine) as session:
        row = _load_transfer(session, transfer_id)
        case_id = load_item(session, row.item_id).case_id
        item_id, released_by, status = row.item_id, row.released_by, row.status
    try:
        reason = require_text(reason, "reason", "pass --reason with why the transfer is withdrawn")
        if status != "open":
            raise Conflict(f"transfer {transfer_id} is {status}, not open; nothing to withdraw")
        if actor != released_by:
            raise Conflict(f"{actor} cannot withdraw transfer {transfer_id}: only the releasing custodian {released_by} can")
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "transfer", error, case_id=case_id, item_id=item_id, details={"transfer_id": transfer_id}) from None
    with vault.ledger.transaction() as txn:
        row = _load_transfer(txn.session, transfer_id)
        row.status, row.closed_at, row.closed_by = "withdrawn", now(), actor
        txn.session.flush()
        txn.append(actor, "transfer.withdrawn", case_id=case_id, item_id=item_id, details={"transfer_id": transfer_id, "reason": reason})
        return transfer_to_dict(row)


def record_discrepancy(vault, transfer_id: str, kind: str, description: str, principal: Principal) -> dict:
    """Record a discrepancy found at hand-over (broken seal, hash mismatch on arrival); append `transfer.discrepancy`.

    Either side of the transfer may record one, before or after acceptance.
    """
    actor = check_row(vault, principal, CustodyTransfer, transfer_id, Permission.ITEM_READ, NotFound(f"transfer {transfer_id!r} not found; list an item's transfers with: evidence-vault transfer list --item ITEM"))
    with Session(vault.engine) as session:
        row = _load_transfer(session, transfer_id)
        case_id = load_item(session, row.item_id).case_id
        item_id, parties = row.item_id, (row.released_by, row.to_custodian)
    try:
        require_choice(kind, "discrepancy kind", DISCREPANCY_KINDS)
        description = require_text(description, "description", "pass --description with what was found")
        if actor not in parties:
            raise Conflict(
                f"{actor} cannot record a discrepancy on transfer {transfer_id}: only {parties[0]} (releasing) "
                f"or {parties[1]} (receiving) can"
            )
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "transfer.discrepancy", error, case_id=case_id, item_id=item_id,
                     details={"transfer_id": transfer_id}) from None
    side = "releasing" if actor == parties[0] else "receiving"
    record = CustodyDiscrepancy(id=str(uuid.uuid4()), item_id=item_id, transfer_id=transfer_id, kind=kind,
                                description=description, recorded_by=actor, recorded_at=now())
    details = {"discrepancy_id": record.id, "transfer_id": transfer_id, "kind": kind, "description": description, "side": side}
    with vault.ledger.transaction() as txn:
        txn.session.add(record)
        txn.session.flush()
        txn.append(actor, "transfer.discrepancy", case_id=case_id, item_id=item_id, details=details)
    return details | {"recorded_at": iso(record.recorded_at), "recorded_by": actor}


def list_transfers(vault, *, item_id: str | None = None, case_id: str | None = None, open_only: bool = False) -> list[dict]:
    """Return transfers of an item or a case, oldest first, each with its discrepancies."""
    from vault.custody.models import Item

    query = select(CustodyTransfer).order_by(CustodyTransfer.released_at)
    if item_id is not None:
        query = query.where(CustodyTransfer.item_id == item_id)
    if case_id is not None:
        query = query.join(Item, Item.id == CustodyTransfer.item_id).where(Item.case_id == case_id)
    if open_only:
        query = query.where(CustodyTransfer.status == "open")
    with Session(vault.engine) as session:
        rows = list(session.scalars(query))
        discrepancies = {}
        for d in session.scalars(select(CustodyDiscrepancy).where(CustodyDiscrepancy.transfer_id.in_([r.id for r in rows]))):
            discrepancies.setdefault(d.transfer_id, []).append({
                "kind": d.kind, "description": d.description, "recorded_by": d.recorded_by, "recorded_at": iso(d.recorded_at),
            })
        return [transfer_to_dict(r) | {"discrepancies": discrepancies.get(r.id, [])} for r in rows]


def item_transfers(vault, principal: Principal, item_id: str, open_only: bool = False) -> list[dict]:
    """Return an item's transfers after checking that the caller may read the item."""
    check_item(vault, principal, item_id, Permission.ITEM_READ)
    return list_transfers(vault, item_id=item_id, open_only=open_only)
