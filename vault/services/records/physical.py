"""Physical items (a seized laptop, a drive), their storage locations and seals, and derivation between items."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.models import Item
from vault.errors import Conflict, InvalidInput
from vault.services.records._common import iso, load_item, refuse, require_text
from vault.services.records.retention import retain_until_for_case
from vault.services.access import Permission, Principal
from vault.services.records._common import check_case, check_item

MAX_LINEAGE_DEPTH = 64


def register_physical(vault, case_reference: str, description: str, principal: Principal, *, identifiers: dict | None = None,
                      location: str | None = None, seal: str | None = None, employee_owned: bool = False) -> dict:
    """Register a physical item with its identifiers, storage location and seal; append `physical.registered`.

    The registering person becomes the item's first custodian.
    """
    actor = check_case(vault, principal, case_reference, Permission.ITEM_UPLOAD)
    from vault.services.intake import find_case

    case = find_case(vault, case_reference)
    description = require_text(description, "description", "pass --description, for example 'Dell Latitude 7420 laptop'")
    location = require_text(location, "storage location", "pass --location, for example 'evidence room B, shelf 4'")
    identifiers = {str(k): str(v) for k, v in (identifiers or {}).items()}
    details = {"identifiers": identifiers, "location": location, "seal": seal}
    item_id = str(uuid.uuid4())
    retain_until = retain_until_for_case(vault, case)
    with vault.ledger.transaction() as txn:
        txn.session.add(Item(
            id=item_id, case_id=case["id"], kind="physical", status="accepted", description=description,
            physical_details=details, retain_until=retain_until, legal_hold=False,
            created_by=actor, custodian=actor, employee_device=employee_owned,
        ))
        txn.session.flush()
        txn.append(actor, "physical.registered", case_id=case["id"], item_id=item_id, details={
            "description": description, **details, "custodian": actor, "employee_owned": employee_owned,
            "retain_until": iso(retain_until),
        })
    return item_record(vault, item_id)


def move_physical(vault, item_id: str, location: str, reason: str, principal: Principal, seal: str | None = None) -> dict:
    """Record a new storage location (and seal) of a physical item; append `physical.moved` with both places."""
    actor = check_item(vault, principal, item_id, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id, kind = item.case_id, item.kind
    try:
        if kind != "physical":
            raise InvalidInput(f"item {item_id} is {kind}, not physical; only physical items have a storage location")
        location = require_text(location, "location", "pass --to with the new storage location")
        reason = require_text(reason, "reason", "pass --reason with why the item was moved")
    except InvalidInput as error:
        raise refuse(vault, actor, "physical.move", error, case_id=case_id, item_id=item_id) from None
    with vault.ledger.transaction() as txn:
        item = load_item(txn.session, item_id)
        old = dict(item.physical_details or {})
        item.physical_details = {**old, "location": location, "seal": seal if seal is not None else old.get("seal")}
        txn.session.flush()
        txn.append(actor, "physical.moved", case_id=case_id, item_id=item_id, details={
            "from": old.get("location"), "to": location, "seal_before": old.get("seal"),
            "seal_after": item.physical_details["seal"], "reason": reason,
        })
    return item_record(vault, item_id)


def derive(vault, child_id: str, parent_id: str, how: str, principal: Principal) -> dict:
    """Record that `child_id` was derived from `parent_id`; append `item.derived` on the child and `item.derivative` on the parent."""
    check_item(vault, principal, parent_id, Permission.ITEM_UPLOAD)
    actor = check_item(vault, principal, child_id, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        child = load_item(session, child_id)
        parent = load_item(session, parent_id)
        case_id, existing, parent_case = child.case_id, child.derived_from, parent.case_id
        ancestors = _ancestors(session, parent_id)
    try:
        how = require_text(how, "method", "pass --how, for example 'imaged with FTK Imager 4.7 through a Tableau T35u'")
        if child_id == parent_id or child_id in [a["id"] for a in ancestors]:
            raise InvalidInput(f"item {child_id} cannot derive from {parent_id}: the lineage would form a loop")
        if parent_case != case_id:
            raise InvalidInput(f"items {child_id} and {parent_id} belong to different cases; derivation stays within one case")
        if existing is not None:
            raise Conflict(f"item {child_id} is already recorded as derived from {existing}; a lineage is recorded once")
    except (InvalidInput, Conflict) as error:
        raise refuse(vault, actor, "item.derive", error, case_id=case_id, item_id=child_id, details={"parent": parent_id}) from None
    with vault.ledger.transaction() as txn:
        load_item(txn.session, child_id).derived_from = parent_id
        txn.session.flush()
        txn.append(actor, "item.derived", case_id=case_id, item_id=child_id, details={"parent": parent_id, "how": how})
        txn.append(actor, "item.derivative", case_id=case_id, item_id=parent_id, details={"child": child_id, "how": how})
    return lineage(vault, child_id, principal)


def _summary(item: Item) -> dict:
    return {"id": item.id, "kind": item.kind, "description": item.description, "sha256": item.sha256,
            "derived_from": item.derived_from}


def _ancestors(session: Session, item_id: str) -> list[dict]:
    chain = []
    current = session.get(Item, item_id)
    while current is not None and current.derived_from is not None and len(chain) < MAX_LINEAGE_DEPTH:
        current = session.get(Item, current.derived_from)
        if current is None:
            break
        chain.append(_summary(current))
    return chain


def _descendants(session: Session, item_id: str, depth: int = 0) -> list[dict]:
    if depth >= MAX_LINEAGE_DEPTH:
        return []
    children = session.scalars(select(Item).where(Item.derived_from == item_id).order_by(Item.created_at))
    return [_summary(c) | {"derivatives": _descendants(session, c.id, depth + 1)} for c in children]


def lineage(vault, item_id: str, principal: Principal) -> dict:
    """Return an item's ancestors (nearest first) and its derivatives as a tree; append `lineage.viewed`."""
    actor = check_item(vault, principal, item_id, Permission.ITEM_READ)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        result = {"item": _summary(item), "ancestors": _ancestors(session, item_id), "derivatives": _descendants(session, item_id)}
        case_id = item.case_id
    vault.ledger.append(actor, "lineage.viewed", case_id=case_id, item_id=item_id, details={})
    return result


def item_record(vault, item_id: str) -> dict:
    """Return an item with its custody fields (custodian, acquisition, privilege, disposal) without recording a view."""
    from vault.services.items import get_item_record

    record = get_item_record(vault, item_id)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        record.update({
            "custodian": item.custodian, "acquisition": item.acquisition, "employee_device": item.employee_device,
            "privilege": item.privilege, "derived_from": item.derived_from,
            "disposed_at": iso(item.disposed_at), "disposed_by": item.disposed_by,
        })
        # `get_item_record` already took a physical item's details from the ledger, so keep those.
        record.setdefault("physical_details", item.physical_details)
    return record
