"""Helpers shared by the record services: refusals, loading rows, times and text checks."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.models import Case, Item
from vault.errors import InvalidInput, NotFound, VaultError
from vault.services.access import Permission, Principal, authorize

log = logging.getLogger("vault.services.records")


def refuse(vault, actor: str, action: str, error: VaultError, *, case_id: str | None = None,
           item_id: str | None = None, details: dict | None = None) -> VaultError:
    """Append a `<action>.refused` entry naming the reason, and return `error` for the caller to raise."""
    vault.ledger.append(actor, f"{action}.refused", case_id=case_id, item_id=item_id,
                        details={"reason": error.message, **(details or {})})
    log.info("records.refused action=%s case=%s item=%s", action, case_id, item_id)
    return error


def load_case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"case {reference!r} not found; list cases with: evidence-vault case list")
    return case


def load_item(session: Session, item_id: str) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id!r} not found; list a case's items with: evidence-vault case show CASE")
    return item


def require_text(value: str | None, name: str, hint: str) -> str:
    if value is None or not str(value).strip():
        raise InvalidInput(f"missing {name}: {hint}")
    return str(value).strip()


def require_choice(value: str | None, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(f"invalid {name} {value!r}: choose one of {', '.join(choices)}")
    return value


def parse_time(value: str | None, name: str) -> datetime:
    """Parse an RFC 3339 / ISO 8601 time that carries its UTC offset; return it in UTC."""
    if not value:
        raise InvalidInput(f"missing {name}: give an RFC 3339 time with its offset, for example 2026-03-01T14:05:00+01:00")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"invalid {name} {value!r}: give an RFC 3339 time, for example 2026-03-01T14:05:00+01:00") from None
    if moment.utcoffset() is None:
        raise InvalidInput(f"invalid {name} {value!r}: the time has no UTC offset; add one, for example +01:00 or Z")
    return moment.astimezone(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now() -> datetime:
    return datetime.now(timezone.utc)


# Access checks: each record service calls one of these first and records the returned name as the actor.


def check_role(vault, principal: Principal, permission: Permission) -> str:
    """Check the caller's role for an operation on no particular case; return the actor name."""
    authorize(vault, principal, permission)
    return principal.name


def check_case(vault, principal: Principal, reference: str, permission: Permission) -> str:
    """Check the caller against a case, which looks missing when hidden; return the actor name."""
    from vault.services.cases import visible_case

    visible_case(vault, principal, reference, permission)
    return principal.name


def check_item(vault, principal: Principal, item_id: str, permission: Permission) -> str:
    """Check the caller against an item, which looks missing when hidden; return the actor name."""
    from vault.services.items import visible_item

    visible_item(vault, principal, item_id, permission)
    return principal.name


def check_row(vault, principal: Principal, model: type, row_id: str, permission: Permission, missing: NotFound) -> str:
    """Check the caller against the case and item of a transfer or expert grant; return the actor name.

    A row that does not exist passes here, so that the service raises its own
    NotFound. A row the caller may not see raises `missing`, the same error.
    """
    authorize(vault, principal, permission, object_id=row_id)
    with Session(vault.engine) as session:
        row = session.get(model, row_id)
        if row is None:
            return principal.name
        item_id = getattr(row, "item_id", None)
        case_id = getattr(row, "case_id", None) or session.get(Item, item_id).case_id
    authorize(vault, principal, permission, case_id=case_id, item_id=item_id, object_id=row_id, hidden_as=missing)
    return principal.name


def require_user(vault, name: str, what: str, role: str | None = None) -> str:
    """Return `name` when it is an existing user (with `role`, if given); raise InvalidInput naming the fix otherwise."""
    from vault.custody.access_models import User

    with Session(vault.engine) as session:
        user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise InvalidInput(f"{what} {name!r} is not a user of this vault; an administrator adds it with: "
                           f"evidence-vault admin user add {name} --role {role or 'ROLE'}")
    if role is not None and user.role != role:
        raise InvalidInput(f"{what} {name!r} has role {user.role!r}; an outside examiner needs a user with role {role!r}")
    return name
