"""Cases: one incident or legal matter, the container of evidence items."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vault.custody.models import Case, Item
from vault.errors import Conflict, InvalidInput, NotFound
from vault.services.access import Permission, Principal, add_creator_membership, authorize, visible_case_ids
from vault.services.items import case_to_dict, get_item_record
from vault.services.records.cases_extra import check_classification

REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def create_case(vault, reference: str, title: str, principal: Principal, classification: str | None = None,
                jurisdiction: str | None = None, counsel: str | None = None) -> dict:
    """Create a case and its `case.created` entry in one transaction; Conflict if the reference exists.

    The classification must be one of the configured schema (`VAULT_CASE_CLASSIFICATIONS`).
    An analyst who creates a case becomes its first member.
    """
    authorize(vault, principal, Permission.CASE_CREATE, object_id=reference)
    if not REFERENCE.match(reference or ""):
        raise InvalidInput(
            f"invalid case reference {reference!r}: use 1 to 64 letters, digits, '.', '_' or '-', for example IR-2026-014"
        )
    if not title or not title.strip():
        raise InvalidInput("missing case title: pass --title TEXT")
    classification = check_classification(vault, classification)
    counsel = counsel.strip() if counsel and counsel.strip() else None
    case_id = str(uuid.uuid4())
    try:
        with vault.ledger.transaction() as txn:
            # NOTE: references are unique across the vault, so this Conflict shows a caller
            # that a case they cannot see uses the reference, but nothing of its contents.
            if txn.session.scalar(select(Case.id).where(Case.reference == reference)) is not None:
                raise Conflict(f"case {reference!r} already exists; choose another reference")
            txn.session.add(Case(id=case_id, reference=reference, title=title.strip(), classification=classification,
                                 jurisdiction=jurisdiction, status="open", counsel=counsel))
            txn.session.flush()
            member = add_creator_membership(txn.session, case_id, principal, vault.clock())
            txn.append(principal.name, "case.created", case_id=case_id, details={
                "reference": reference, "title": title.strip(), "classification": classification, "jurisdiction": jurisdiction,
                "counsel": counsel, "creator_is_member": member,
            })
    except IntegrityError:
        raise Conflict(f"case {reference!r} already exists; choose another reference") from None
    return get_case(vault, reference)


def get_case(vault, reference: str) -> dict:
    with Session(vault.engine) as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        if case is None:
            raise case_not_found(reference)
        result = case_to_dict(case) | {"counsel": case.counsel, "privilege": case.privilege}
        item_ids = list(session.scalars(select(Item.id).where(Item.case_id == case.id).order_by(Item.created_at)))
    result["items"] = [_item_summary(vault, item_id) for item_id in item_ids]
    return result


def case_not_found(reference: str) -> NotFound:
    """Return the error for a missing case, also raised for a case the caller may not see."""
    return NotFound(f"case {reference!r} not found; create it with: evidence-vault case create {reference} --title TITLE")


def visible_case(vault, principal: Principal, reference: str, permission: Permission) -> dict:
    """Return a case's id and reference after checking that the caller may use `permission` on it."""
    authorize(vault, principal, permission, object_id=reference)
    with Session(vault.engine) as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        if case is None:
            raise case_not_found(reference)
        found = {"id": case.id, "reference": case.reference}
    authorize(vault, principal, permission, case_id=found["id"], object_id=reference, hidden_as=case_not_found(reference))
    return found


def show_case(vault, reference: str, principal: Principal) -> dict:
    visible_case(vault, principal, reference, Permission.CASE_READ)
    result = get_case(vault, reference)
    vault.ledger.append(principal.name, "case.viewed", case_id=result["id"], details={})
    return result


def list_cases(vault, principal: Principal) -> list[dict]:
    """List the cases the caller is a member of (all cases for administrators and auditors)."""
    authorize(vault, principal, Permission.CASE_LIST)
    visible = visible_case_ids(vault, principal)
    with Session(vault.engine) as session:
        query = select(Case).order_by(Case.created_at)
        if visible is not None:
            query = query.where(Case.id.in_(visible))
        return [case_to_dict(c) for c in session.scalars(query)]


def _item_summary(vault, item_id: str) -> dict:
    record = get_item_record(vault, item_id)
    return {key: record[key] for key in ("id", "status", "size", "sha256", "set_kind", "description")} | {
        "names": [f["name"] for f in record["files"]]
    }
