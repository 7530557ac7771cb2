"""Legal authority (warrant, consent, contract, policy, legal approval) and decisions not to collect."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.records import LegalAuthority, NonCollection
from vault.errors import Conflict, InvalidInput
from vault.services.records._common import iso, load_case, load_item, now, refuse, require_choice, require_text
from vault.services.access import Permission, Principal
from vault.services.records._common import check_case

AUTHORITY_KINDS = ("warrant", "consent", "contract", "policy", "legal-approval")
CONSTRAINTS = ("operational", "legal")


def authority_to_dict(row: LegalAuthority) -> dict:
    return {
        "id": row.id, "case_id": row.case_id, "item_id": row.item_id, "kind": row.kind, "reference": row.reference,
        "issued_by": row.issued_by, "description": row.description, "covers_employee_devices": row.covers_employee_devices,
        "recorded_by": row.recorded_by, "recorded_at": iso(row.recorded_at),
    }


def add_authority(vault, case_reference: str, kind: str, reference: str, principal: Principal, *, item_id: str | None = None,
                  issued_by: str | None = None, description: str | None = None,
                  covers_employee_devices: bool = False) -> dict:
    """Attach a legal authority to a case or one of its items; append `authority.recorded`.

    `covers_employee_devices` is allowed only for kind "legal-approval" and is what the intake gate for
    employee-owned devices looks for.
    """
    actor = check_case(vault, principal, case_reference, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        case_id = load_case(session, case_reference).id
        if item_id is not None and load_item(session, item_id).case_id != case_id:
            raise InvalidInput(f"item {item_id} does not belong to case {case_reference}; attach the authority to its own case")
    require_choice(kind, "authority kind", AUTHORITY_KINDS)
    reference = require_text(reference, "reference", "pass --reference with the warrant number, consent form or policy id")
    if covers_employee_devices and kind != "legal-approval":
        raise InvalidInput("--employee-devices needs --kind legal-approval: only a legal approval covers employee-owned devices")
    row = LegalAuthority(
        id=str(uuid.uuid4()), case_id=case_id, item_id=item_id, kind=kind, reference=reference, issued_by=issued_by,
        description=description, covers_employee_devices=covers_employee_devices, recorded_by=actor, recorded_at=now(),
    )
    with vault.ledger.transaction() as txn:
        txn.session.add(row)
        txn.session.flush()
        txn.append(actor, "authority.recorded", case_id=case_id, item_id=item_id, details=authority_to_dict(row))
    return authority_to_dict(row)


def list_authorities(vault, case_id: str) -> list[dict]:
    with Session(vault.engine) as session:
        rows = session.scalars(select(LegalAuthority).where(LegalAuthority.case_id == case_id).order_by(LegalAuthority.recorded_at))
        return [authority_to_dict(r) for r in rows]


def require_employee_device_approval(vault, case: dict, manifest, actor: str) -> dict:
    """Return the legal approval that allows intake from an employee-owned device into `case`.

    Without one, append `intake.refused` and raise Conflict before any byte is read.
    """
    with Session(vault.engine) as session:
        approval = session.scalar(select(LegalAuthority).where(
            LegalAuthority.case_id == case["id"], LegalAuthority.covers_employee_devices.is_(True)))
        if approval is not None:
            return authority_to_dict(approval)
    device = manifest.acquisition["source_device"]
    error = Conflict(
        f"item from employee-owned device {device['make']} {device['model']} serial {device['serial']} cannot be taken "
        f"into case {case['reference']}: no legal approval is on record; record one first with: evidence-vault authority add "
        f"{case['reference']} --kind legal-approval --reference REF --employee-devices"
    )
    raise refuse(vault, actor, "intake", error, case_id=case["id"], details={
        "files": [{"name": f.name, "size": f.size} for f in manifest.files], "source_device": device,
    })


def non_collection_to_dict(row: NonCollection) -> dict:
    return {
        "id": row.id, "case_id": row.case_id, "subject": row.subject, "constraint": row.constraint_kind, "reason": row.reason,
        "recorded_by": row.recorded_by, "recorded_at": iso(row.recorded_at),
    }


def record_non_collection(vault, case_reference: str, subject: str, constraint: str, reason: str, principal: Principal) -> dict:
    """Record what was not collected and the operational or legal constraint behind it; append `collection.declined`."""
    actor = check_case(vault, principal, case_reference, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        case_id = load_case(session, case_reference).id
    subject = require_text(subject, "subject", "pass --subject with what was not collected, for example 'CEO mailbox'")
    require_choice(constraint, "constraint", CONSTRAINTS)
    reason = require_text(reason, "reason", "pass --reason with why it was not collected")
    row = NonCollection(id=str(uuid.uuid4()), case_id=case_id, subject=subject, constraint_kind=constraint, reason=reason,
                        recorded_by=actor, recorded_at=now())
    with vault.ledger.transaction() as txn:
        txn.session.add(row)
        txn.session.flush()
        txn.append(actor, "collection.declined", case_id=case_id, details=non_collection_to_dict(row))
    return non_collection_to_dict(row)


def list_non_collections(vault, case_id: str) -> list[dict]:
    with Session(vault.engine) as session:
        rows = session.scalars(select(NonCollection).where(NonCollection.case_id == case_id).order_by(NonCollection.recorded_at))
        return [non_collection_to_dict(r) for r in rows]
