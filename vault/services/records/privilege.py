"""Privilege marks (attorney-client, work product) and outside-expert access grants.

A grant names an outside examiner, the items they may access and an expiry
date. The grant, each recorded use and the expiry are custody entries on
every named item. NOTE: this module records grants and uses; the API does not
yet authenticate the examiner, so enforcement comes with access control.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.models import Item
from vault.custody.records import ExpertGrant
from vault.errors import Conflict, InvalidInput, NotFound
from vault.services.records._common import require_user, iso, load_case, load_item, now, parse_time, refuse, require_choice, require_text
from vault.services.access import Permission, Principal
from vault.services.records._common import check_case, check_item, check_role, check_row

PRIVILEGES = ("attorney-client", "work-product")


def set_privilege(vault, principal: Principal, privilege: str | None, basis: str, *, item_id: str | None = None,
                  case_reference: str | None = None) -> dict:
    """Mark an item or a case privileged, or clear the mark with `privilege=None`; append `privilege.marked` or `privilege.cleared`."""
    actor = (check_item(vault, principal, item_id, Permission.ITEM_REPORT) if item_id is not None
             else check_case(vault, principal, case_reference or "", Permission.ITEM_REPORT))
    if (item_id is None) == (case_reference is None):
        raise InvalidInput("give exactly one of an item id or --case CASE")
    with Session(vault.engine) as session:
        if item_id is not None:
            case_id = load_item(session, item_id).case_id
        else:
            case_id = load_case(session, case_reference).id
    try:
        if privilege is not None:
            require_choice(privilege, "privilege", PRIVILEGES)
        basis = require_text(basis, "basis", "pass --basis, for example 'prepared at the request of counsel'")
    except InvalidInput as error:
        raise refuse(vault, actor, "privilege", error, case_id=case_id, item_id=item_id) from None
    with vault.ledger.transaction() as txn:
        row = load_item(txn.session, item_id) if item_id is not None else load_case(txn.session, case_reference)
        previous = row.privilege
        row.privilege = privilege
        txn.session.flush()
        action = "privilege.marked" if privilege is not None else "privilege.cleared"
        txn.append(actor, action, case_id=case_id, item_id=item_id, details={
            "scope": "item" if item_id is not None else "case", "privilege": privilege, "previous": previous, "basis": basis,
        })
    return {"case_id": case_id, "item_id": item_id, "privilege": privilege, "previous": previous}


def grant_to_dict(row: ExpertGrant) -> dict:
    return {
        "id": row.id, "case_id": row.case_id, "grantee": row.grantee, "organisation": row.organisation,
        "item_ids": list(row.item_ids), "purpose": row.purpose, "granted_by": row.granted_by,
        "granted_at": iso(row.granted_at), "expires_at": iso(row.expires_at), "revoked_by": row.revoked_by,
        "revoked_at": iso(row.revoked_at), "expiry_recorded_at": iso(row.expiry_recorded_at),
        "state": _state(row),
    }


def _state(row: ExpertGrant) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= now():
        return "expired"
    return "active"


def grant_expert(vault, case_reference: str, grantee: str, item_ids: list[str], expires_at: str, purpose: str,
                 principal: Principal, organisation: str | None = None) -> dict:
    """Grant an outside examiner access to named items of a case until a date; append `expert.granted` on each item."""
    actor = check_case(vault, principal, case_reference, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        case_id = load_case(session, case_reference).id
        for item_id in item_ids:
            if load_item(session, item_id).case_id != case_id:
                raise InvalidInput(f"item {item_id} does not belong to case {case_reference}; a grant covers items of one case")
    grantee = require_text(grantee, "expert", "pass --to with the outside examiner's name")
    require_user(vault, grantee, "expert", role="examiner")
    purpose = require_text(purpose, "purpose", "pass --purpose, for example 'independent review for the defence'")
    if not item_ids:
        raise InvalidInput("missing items: pass --item ITEM once for each item the expert may access")
    until = parse_time(expires_at, "expiry date")
    if until <= now():
        raise InvalidInput(f"expiry date {iso(until)} is in the past; give a future date")
    row = ExpertGrant(id=str(uuid.uuid4()), case_id=case_id, grantee=grantee, organisation=organisation,
                      item_ids=list(dict.fromkeys(item_ids)), purpose=purpose, granted_by=actor, granted_at=now(), expires_at=until)
    with vault.ledger.transaction() as txn:
        txn.session.add(row)
        txn.session.flush()
        details = grant_to_dict(row)
        for item_id in row.item_ids:
            txn.append(actor, "expert.granted", case_id=case_id, item_id=item_id, details=details)
    return grant_to_dict(row)


def _load_grant(session: Session, grant_id: str) -> ExpertGrant:
    row = session.get(ExpertGrant, grant_id)
    if row is None:
        raise NotFound(f"expert grant {grant_id!r} not found; list a case's grants with: evidence-vault expert list CASE")
    return row


def record_use(vault, grant_id: str, item_id: str, purpose: str, principal: Principal) -> dict:
    """Record one use of a grant by its expert on one item; append `expert.used`.

    Refused (`expert.refused`, Conflict) when the actor is not the grantee, the item is not named, or the
    grant is revoked or expired.
    """
    # The grant itself is the access check here: its expert only, its items only, until it expires or is revoked.
    actor = check_role(vault, principal, Permission.ITEM_READ)
    record_expired_grants(vault)
    with Session(vault.engine) as session:
        row = _load_grant(session, grant_id)
        case_id, grantee, items, state = row.case_id, row.grantee, list(row.item_ids), _state(row)
        expires_at = iso(row.expires_at)
    try:
        purpose = require_text(purpose, "purpose", "pass --purpose with what the expert is doing")
        if actor != grantee:
            raise Conflict(f"{actor} cannot use expert grant {grant_id}: it was granted to {grantee}")
        if item_id not in items:
            raise Conflict(f"expert grant {grant_id} does not cover item {item_id}; it covers {', '.join(items)}")
        if state != "active":
            raise Conflict(f"expert grant {grant_id} is {state} (expiry {expires_at}); ask for a new grant")
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "expert", error, case_id=case_id, item_id=item_id, details={"grant_id": grant_id}) from None
    details = {"grant_id": grant_id, "purpose": purpose, "expires_at": expires_at}
    vault.ledger.append(actor, "expert.used", case_id=case_id, item_id=item_id, details=details)
    return details | {"item_id": item_id, "grantee": grantee}


def revoke_grant(vault, grant_id: str, reason: str, principal: Principal) -> dict:
    """Revoke a grant before its expiry; append `expert.revoked` on each item."""
    actor = check_row(vault, principal, ExpertGrant, grant_id, Permission.ITEM_UPLOAD, NotFound(f"expert grant {grant_id!r} not found; list a case's grants with: evidence-vault expert list CASE"))
    with Session(vault.engine) as session:
        row = _load_grant(session, grant_id)
        case_id, state = row.case_id, _state(row)
    try:
        reason = require_text(reason, "reason", "pass --reason with why access ends early")
        if state != "active":
            raise Conflict(f"expert grant {grant_id} is already {state}")
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "expert", error, case_id=case_id, details={"grant_id": grant_id}) from None
    with vault.ledger.transaction() as txn:
        row = _load_grant(txn.session, grant_id)
        row.revoked_by, row.revoked_at = actor, now()
        txn.session.flush()
        for item_id in row.item_ids:
            txn.append(actor, "expert.revoked", case_id=case_id, item_id=item_id, details={"grant_id": grant_id, "reason": reason})
        return grant_to_dict(row)


def record_expired_grants(vault) -> int:
    """Append `expert.grant-expired` on each item of every grant that has expired and is not yet on record; return how many grants.

    Runs before custody reads, so a timeline shows the expiry even when nobody tried to use the grant.
    The entry's actor is "vault" because no person acted.
    """
    moment = now()
    with Session(vault.engine) as session:
        due = list(session.scalars(select(ExpertGrant.id).where(
            ExpertGrant.expires_at <= moment, ExpertGrant.expiry_recorded_at.is_(None), ExpertGrant.revoked_at.is_(None))))
    count = 0
    for grant_id in due:
        with vault.ledger.transaction() as txn:
            row = txn.session.get(ExpertGrant, grant_id)
            if row.expiry_recorded_at is not None:  # another request recorded it first
                continue
            row.expiry_recorded_at = moment
            txn.session.flush()
            for item_id in row.item_ids:
                txn.append("vault", "expert.grant-expired", case_id=row.case_id, item_id=item_id, details={
                    "grant_id": grant_id, "grantee": row.grantee, "expired_at": iso(row.expires_at),
                })
        count += 1
    return count


def list_grants(vault, case_id: str) -> list[dict]:
    record_expired_grants(vault)
    with Session(vault.engine) as session:
        rows = session.scalars(select(ExpertGrant).where(ExpertGrant.case_id == case_id).order_by(ExpertGrant.granted_at))
        return [grant_to_dict(r) for r in rows]


def active_grant_for(vault, grantee: str, item_id: str) -> dict | None:
    """Return an active grant that lets `grantee` access `item_id`, or None (for access control to call)."""
    with Session(vault.engine) as session:
        case_id = session.scalar(select(Item.case_id).where(Item.id == item_id))
        for row in session.scalars(select(ExpertGrant).where(ExpertGrant.grantee == grantee, ExpertGrant.case_id == case_id)):
            if item_id in row.item_ids and _state(row) == "active":
                return grant_to_dict(row)
    return None
