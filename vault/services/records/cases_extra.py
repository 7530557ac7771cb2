"""Case records beyond creation: the classification schema, status and counsel."""

from __future__ import annotations

from sqlalchemy.orm import Session

from vault.errors import InvalidInput
from vault.services.records._common import load_case, refuse
from vault.services.access import Permission, Principal
from vault.services.records._common import check_case

CASE_STATUSES = ("open", "suspended", "closed", "archived")


def classifications(vault) -> tuple[str, ...]:
    """Return the configured classification schema (`VAULT_CASE_CLASSIFICATIONS`), lower case."""
    names = (name.strip().lower() for name in vault.settings.case_classifications.split(","))
    return tuple(name for name in names if name)


def check_classification(vault, value: str | None) -> str:
    """Return the classification in its schema spelling; InvalidInput names the allowed values."""
    schema = classifications(vault)
    if value is None or not value.strip():
        return "unclassified"
    folded = value.strip().lower()
    if folded not in schema:
        raise InvalidInput(
            f"invalid classification {value!r}: choose one of {', '.join(schema)} (set VAULT_CASE_CLASSIFICATIONS to change the list)"
        )
    return folded


def update_case(vault, reference: str, principal: Principal, *, title: str | None = None, classification: str | None = None,
                jurisdiction: str | None = None, status: str | None = None, counsel: str | None = None,
                reason: str | None = None) -> dict:
    """Change a case's title, classification, jurisdiction, status or counsel; append `case.updated` with old and new values."""
    actor = check_case(vault, principal, reference, Permission.ITEM_UPLOAD)
    from vault.services.cases import get_case

    with Session(vault.engine) as session:
        case_id = load_case(session, reference).id
    try:
        wanted: dict[str, str] = {}
        if title is not None:
            if not title.strip():
                raise InvalidInput("invalid title: give a non-empty title")
            wanted["title"] = title.strip()
        if classification is not None:
            wanted["classification"] = check_classification(vault, classification)
        if jurisdiction is not None:
            wanted["jurisdiction"] = jurisdiction.strip()
        if status is not None:
            if status not in CASE_STATUSES:
                raise InvalidInput(f"invalid case status {status!r}: choose one of {', '.join(CASE_STATUSES)}")
            wanted["status"] = status
        if counsel is not None:
            wanted["counsel"] = counsel.strip()
        if not wanted:
            raise InvalidInput("nothing to change: pass --title, --classification, --jurisdiction, --status or --counsel")
    except InvalidInput as error:
        raise refuse(vault, actor, "case.update", error, case_id=case_id) from None

    with vault.ledger.transaction() as txn:
        case = load_case(txn.session, reference)
        changes = {}
        for field, value in wanted.items():
            old = getattr(case, field)
            if old != value:
                changes[field] = {"from": old, "to": value}
                setattr(case, field, value)
        txn.session.flush()
        txn.append(actor, "case.updated", case_id=case.id, details={"changes": changes, "reason": reason})
    return get_case(vault, reference)
