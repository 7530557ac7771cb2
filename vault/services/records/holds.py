"""Legal holds and disposal.

A legal hold sets the S3 legal hold on every stored object of an item, so no
version can be deleted while it is on, whatever the retention date. Disposal
is allowed only after the retain-until date has passed, with no hold set and
with a recorded approval by someone other than the person disposing.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.models import ItemFile
from vault.custody.records import DisposalApproval, LegalHold
from vault.errors import Conflict, InvalidInput
from vault.services.records._common import iso, load_item, now, refuse, require_text
from vault.services.access import Permission, Principal
from vault.services.records._common import check_item


def _objects(session: Session, item_id: str) -> list[tuple[str, str]]:
    pairs = []
    for file in session.scalars(select(ItemFile).where(ItemFile.item_id == item_id).order_by(ItemFile.file_no)):
        pairs.append((file.object_key, file.version_id))
        if file.merkle_key and file.merkle_version_id:
            pairs.append((file.merkle_key, file.merkle_version_id))
    return pairs


def place_hold(vault, item_id: str, reason: str, principal: Principal) -> dict:
    """Place a legal hold on an item and its stored objects; append `hold.placed`."""
    actor = check_item(vault, principal, item_id, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id, held, disposed = item.case_id, item.legal_hold, item.disposed_at
        objects = _objects(session, item_id)
    try:
        reason = require_text(reason, "reason", "pass --reason, for example 'litigation hold, matter 2026-17'")
        if held:
            raise Conflict(f"item {item_id} is already under legal hold; release it first to change the reason")
        if disposed is not None:
            raise Conflict(f"item {item_id} was disposed of on {iso(disposed)}; a hold no longer applies")
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "hold", error, case_id=case_id, item_id=item_id) from None
    for key, version_id in objects:
        vault.store.set_legal_hold(key, version_id, True)
    hold = LegalHold(id=str(uuid.uuid4()), item_id=item_id, reason=reason, placed_by=actor, placed_at=now())
    with vault.ledger.transaction() as txn:
        txn.session.add(hold)
        load_item(txn.session, item_id).legal_hold = True
        txn.session.flush()
        txn.append(actor, "hold.placed", case_id=case_id, item_id=item_id, details={
            "hold_id": hold.id, "reason": reason, "objects": [{"key": k, "version_id": v} for k, v in objects],
        })
    return {"item_id": item_id, "hold_id": hold.id, "legal_hold": True, "reason": reason}


def release_hold(vault, item_id: str, reason: str, principal: Principal) -> dict:
    """Release the legal hold of an item and its stored objects; append `hold.released`."""
    actor = check_item(vault, principal, item_id, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id = item.case_id
        hold = session.scalar(select(LegalHold).where(LegalHold.item_id == item_id, LegalHold.released_at.is_(None)))
        hold_id = hold.id if hold is not None else None
        objects = _objects(session, item_id)
    try:
        reason = require_text(reason, "reason", "pass --reason with why the hold ends, for example 'matter settled'")
        if hold_id is None:
            raise Conflict(f"item {item_id} is not under legal hold; nothing to release")
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "hold", error, case_id=case_id, item_id=item_id) from None
    for key, version_id in objects:
        vault.store.set_legal_hold(key, version_id, False)
    with vault.ledger.transaction() as txn:
        row = txn.session.get(LegalHold, hold_id)
        row.released_by, row.released_at, row.release_reason = actor, now(), reason
        load_item(txn.session, item_id).legal_hold = False
        txn.session.flush()
        txn.append(actor, "hold.released", case_id=case_id, item_id=item_id, details={"hold_id": hold_id, "reason": reason})
    return {"item_id": item_id, "hold_id": hold_id, "legal_hold": False, "reason": reason}


def approve_disposal(vault, item_id: str, reference: str, reason: str, principal: Principal) -> dict:
    """Record an approval to dispose of an item; append `disposal.approved`."""
    actor = check_item(vault, principal, item_id, Permission.ITEM_REPORT)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id, disposed = item.case_id, item.disposed_at
    try:
        reference = require_text(reference, "approval reference", "pass --reference with the approval document or ticket")
        reason = require_text(reason, "reason", "pass --reason, for example 'case closed, retention ended'")
        if disposed is not None:
            raise Conflict(f"item {item_id} was already disposed of on {iso(disposed)}")
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "disposal", error, case_id=case_id, item_id=item_id) from None
    approval = DisposalApproval(id=str(uuid.uuid4()), item_id=item_id, approved_by=actor, reference=reference,
                                reason=reason, approved_at=now())
    with vault.ledger.transaction() as txn:
        txn.session.add(approval)
        txn.session.flush()
        txn.append(actor, "disposal.approved", case_id=case_id, item_id=item_id, details={
            "approval_id": approval.id, "reference": reference, "reason": reason,
        })
    return {"approval_id": approval.id, "item_id": item_id, "approved_by": actor, "reference": reference, "reason": reason}


def dispose(vault, item_id: str, reason: str, principal: Principal) -> dict:
    """Dispose of an item; append `item.disposed`.

    Steps:
    1. The item is not disposed of already and a reason is given.
    2. Its retain-until date has passed, in the record and on every stored object.
    3. No legal hold is set, in the record or on any stored object.
    4. A disposal approval is on record from someone other than `actor`.
    5. Mark the item disposed and append the entry.
    Any failed step appends `disposal.refused` and raises Conflict (InvalidInput for a missing reason).

    NOTE: the stored object versions are not deleted here. They stay in the bucket until storage
    (a lifecycle rule or an operator) removes them, which Object Lock allows once retention has ended.
    """
    actor = check_item(vault, principal, item_id, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id, retain_until, held, disposed = item.case_id, item.retain_until, item.legal_hold, item.disposed_at
        objects = _objects(session, item_id)
        approvals = list(session.scalars(select(DisposalApproval).where(DisposalApproval.item_id == item_id)
                                         .order_by(DisposalApproval.approved_at)))
        approval = next((a for a in reversed(approvals) if a.approved_by != actor), None)
        approval_details = None if approval is None else {
            "approval_id": approval.id, "approved_by": approval.approved_by, "reference": approval.reference,
        }
    moment = now()
    try:
        # 1. Not yet disposed, with a reason.
        reason = require_text(reason, "reason", "pass --reason, for example 'retention ended, approved by counsel'")
        if disposed is not None:
            raise Conflict(f"item {item_id} was already disposed of on {iso(disposed)}")

        # 2. Retention has passed, in the record and in storage.
        if retain_until is not None and retain_until > moment:
            raise Conflict(f"item {item_id} is under retention until {iso(retain_until)}; it cannot be disposed of before then")
        stored = [vault.store.head(key, version_id) for key, version_id in objects]
        for head in stored:
            if head.retain_until is not None and head.retain_until > moment:
                raise Conflict(
                    f"object {head.key} version {head.version_id} of item {item_id} is under retention until "
                    f"{iso(head.retain_until)}; it cannot be disposed of before then"
                )

        # 3. No legal hold.
        if held or any(head.legal_hold for head in stored):
            raise Conflict(f"item {item_id} is under legal hold; release the hold first with: evidence-vault hold release {item_id} --reason TEXT")

        # 4. An approval by someone else.
        if approval_details is None:
            who = f" other than {actor}" if approvals else ""
            raise Conflict(
                f"item {item_id} has no disposal approval from anyone{who}; record one with: "
                f"evidence-vault dispose approve {item_id} --reference REF --reason TEXT"
            )
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "disposal", error, case_id=case_id, item_id=item_id) from None

    # 5. Record the disposal.
    with vault.ledger.transaction() as txn:
        item = load_item(txn.session, item_id)
        item.disposed_at, item.disposed_by, item.status = moment, actor, "disposed"
        txn.session.flush()
        txn.append(actor, "item.disposed", case_id=case_id, item_id=item_id, details={
            "reason": reason, "approval": approval_details, "retain_until": iso(retain_until),
            "objects": [{"key": k, "version_id": v} for k, v in objects],
            "storage": "object versions kept until storage removes them; retention has ended and no legal hold is set",
        })
    return {"item_id": item_id, "disposed_at": iso(moment), "disposed_by": actor, "approval": approval_details}
