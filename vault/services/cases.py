"""Cases: one incident or legal matter, the container of evidence items."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vault.custody.models import Case, Item
from vault.errors import Conflict, InvalidInput, NotFound
from vault.services.items import case_to_dict, get_item_record

REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def create_case(vault, reference: str, title: str, actor: str, classification: str | None = None,
                jurisdiction: str | None = None) -> dict:
    """Create a case and its `case.created` entry in one transaction; Conflict if the reference exists."""
    if not REFERENCE.match(reference or ""):
        raise InvalidInput(
            f"invalid case reference {reference!r}: use 1 to 64 letters, digits, '.', '_' or '-', for example IR-2026-014"
        )
    if not title or not title.strip():
        raise InvalidInput("missing case title: pass --title TEXT")
    case_id = str(uuid.uuid4())
    try:
        with vault.ledger.transaction() as txn:
            if txn.session.scalar(select(Case.id).where(Case.reference == reference)) is not None:
                raise Conflict(f"case {reference!r} already exists; choose another reference")
            txn.session.add(Case(id=case_id, reference=reference, title=title.strip(), classification=classification or "unclassified",
                                 jurisdiction=jurisdiction, status="open"))
            txn.session.flush()
            txn.append(actor, "case.created", case_id=case_id, details={
                "reference": reference, "title": title.strip(), "classification": classification, "jurisdiction": jurisdiction,
            })
    except IntegrityError:
        raise Conflict(f"case {reference!r} already exists; choose another reference") from None
    return get_case(vault, reference)


def get_case(vault, reference: str) -> dict:
    with Session(vault.engine) as session:
        case = session.scalar(select(Case).where(Case.reference == reference))
        if case is None:
            raise NotFound(f"case {reference!r} not found; create it with: evidence-vault case create {reference} --title TITLE")
        result = case_to_dict(case)
        item_ids = list(session.scalars(select(Item.id).where(Item.case_id == case.id).order_by(Item.created_at)))
    result["items"] = [_item_summary(vault, item_id) for item_id in item_ids]
    return result


def show_case(vault, reference: str, actor: str) -> dict:
    result = get_case(vault, reference)
    vault.ledger.append(actor, "case.viewed", case_id=result["id"], details={})
    return result


def list_cases(vault) -> list[dict]:
    with Session(vault.engine) as session:
        return [case_to_dict(c) for c in session.scalars(select(Case).order_by(Case.created_at))]


def _item_summary(vault, item_id: str) -> dict:
    record = get_item_record(vault, item_id)
    return {key: record[key] for key in ("id", "status", "size", "sha256", "set_kind", "description")} | {
        "names": [f["name"] for f in record["files"]]
    }
