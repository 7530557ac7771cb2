"""Retention: policies by jurisdiction and classification, the retain-until date at intake, and extension.

A policy sets the Object Lock retain-until date of new evidence. The most
specific policy wins: exact jurisdiction and classification, then exact
jurisdiction with classification "*", then "*" with the exact classification,
then "*" and "*". Without any policy the vault default (`VAULT_RETENTION_DAYS`)
applies. Retention can be extended, never shortened.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.models import ItemFile
from vault.custody.records import RetentionPolicy
from vault.errors import InvalidInput
from vault.storage.objects import round_up_to_second
from vault.services.records._common import iso, load_item, now, parse_time, refuse, require_text
from vault.services.access import Permission, Principal
from vault.services.records._common import check_item, check_role

ANY = "*"


def policy_to_dict(policy: RetentionPolicy) -> dict:
    return {
        "id": policy.id, "jurisdiction": policy.jurisdiction, "classification": policy.classification,
        "retain_seconds": policy.retain_seconds, "basis": policy.basis, "recorded_by": policy.recorded_by,
        "recorded_at": iso(policy.recorded_at),
    }


def set_policy(vault, jurisdiction: str, classification: str, retain_seconds: int, basis: str, principal: Principal) -> dict:
    """Create or replace the policy for one jurisdiction and classification; append `retention.policy-set`.

    Replacing a policy changes only evidence taken in afterwards; stored objects keep their dates.
    """
    actor = check_role(vault, principal, Permission.USERS_MANAGE)
    from vault.services.records.cases_extra import check_classification

    jurisdiction = require_text(jurisdiction, "jurisdiction", "pass --jurisdiction CODE, or '*' for any")
    classification = require_text(classification, "classification", "pass --classification NAME, or '*' for any")
    if classification != ANY:
        classification = check_classification(vault, classification)
    basis = require_text(basis, "basis", "pass --basis with the law or policy that sets this period")
    if not isinstance(retain_seconds, int) or retain_seconds <= 0:
        raise InvalidInput(f"invalid retention period {retain_seconds!r}: give a whole number of days or seconds > 0")
    with vault.ledger.transaction() as txn:
        policy = txn.session.scalar(select(RetentionPolicy).where(
            RetentionPolicy.jurisdiction == jurisdiction, RetentionPolicy.classification == classification))
        previous = policy.retain_seconds if policy is not None else None
        if policy is None:
            policy = RetentionPolicy(id=str(uuid.uuid4()), jurisdiction=jurisdiction, classification=classification,
                                     retain_seconds=retain_seconds, basis=basis, recorded_by=actor, recorded_at=now())
            txn.session.add(policy)
        else:
            policy.retain_seconds, policy.basis, policy.recorded_by, policy.recorded_at = retain_seconds, basis, actor, now()
        txn.session.flush()
        txn.append(actor, "retention.policy-set", details={
            "policy_id": policy.id, "jurisdiction": jurisdiction, "classification": classification,
            "retain_seconds": retain_seconds, "previous_retain_seconds": previous, "basis": basis,
        })
        return policy_to_dict(policy)


def list_policies(vault, principal: Principal) -> list[dict]:
    check_role(vault, principal, Permission.CASE_LIST)
    with Session(vault.engine) as session:
        policies = session.scalars(select(RetentionPolicy).order_by(RetentionPolicy.jurisdiction, RetentionPolicy.classification))
        return [policy_to_dict(p) for p in policies]


def policy_for(vault, jurisdiction: str | None, classification: str | None) -> RetentionPolicy | None:
    """Return the most specific policy for a case, or None."""
    with Session(vault.engine) as session:
        candidates = {
            (p.jurisdiction, p.classification): p
            for p in session.scalars(select(RetentionPolicy).where(
                RetentionPolicy.jurisdiction.in_([jurisdiction or ANY, ANY]),
                RetentionPolicy.classification.in_([classification or ANY, ANY])))
        }
    for key in ((jurisdiction, classification), (jurisdiction, ANY), (ANY, classification), (ANY, ANY)):
        if key in candidates:
            return candidates[key]
    return None


def retain_until_for_case(vault, case: dict) -> datetime:
    """Return the retain-until date for evidence taken into `case` now, rounded up to a whole second.

    S3 Object Lock keeps whole seconds, so the database, the intake entry and
    the stored objects all carry this same value.
    """
    policy = policy_for(vault, case.get("jurisdiction"), case.get("classification"))
    if policy is None:
        return vault.retain_until()
    return round_up_to_second(now() + timedelta(seconds=policy.retain_seconds))


def extend_retention(vault, item_id: str, until: str, reason: str, principal: Principal) -> dict:
    """Move an item's retain-until date later on every stored object and in the record; append `retention.extended`.

    A date earlier than the current one appends `retention.refused` and raises InvalidInput naming both dates.
    """
    actor = check_item(vault, principal, item_id, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id, current = item.case_id, item.retain_until
        files = list(session.scalars(select(ItemFile).where(ItemFile.item_id == item_id).order_by(ItemFile.file_no)))
    try:
        reason = require_text(reason, "reason", "pass --reason TEXT: why the evidence must be kept longer")
        target = round_up_to_second(parse_time(until, "retain-until date"))
        if current is not None and target < current:
            raise InvalidInput(
                f"retention of item {item_id} can only be extended: {iso(target)} is earlier than the current "
                f"retain-until date {iso(current)}; give a date after it"
            )
        if target <= now():
            raise InvalidInput(f"retain-until date {iso(target)} is in the past; give a future date")
    except InvalidInput as error:
        raise refuse(vault, actor, "retention", error, case_id=case_id, item_id=item_id,
                     details={"requested": until, "current": iso(current)}) from None

    # Storage first: the record never claims a date the objects do not carry.
    objects = []
    for file in files:
        vault.store.extend_retention(file.object_key, file.version_id, target)
        objects.append({"key": file.object_key, "version_id": file.version_id})
        if file.merkle_key and file.merkle_version_id:
            vault.store.extend_retention(file.merkle_key, file.merkle_version_id, target)
            objects.append({"key": file.merkle_key, "version_id": file.merkle_version_id})
    with vault.ledger.transaction() as txn:
        item = load_item(txn.session, item_id)
        item.retain_until = target
        txn.session.flush()
        txn.append(actor, "retention.extended", case_id=case_id, item_id=item_id, details={
            "from": iso(current), "to": iso(target), "reason": reason, "objects": objects,
        })
    return {"item_id": item_id, "retain_until": iso(target), "previous": iso(current)}
