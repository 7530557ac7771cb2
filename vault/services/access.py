"""Access control: who may call the vault, what each role may do, and which cases and items each user can see.

Every service function takes a `Principal` and calls `authorize` before it
reads or changes anything, so the rules hold even for a route that forgets
to check. Two kinds of refusal exist:

- the role does not include the permission: `PermissionDenied` (HTTP 403),
  raised before the object is looked up, so it says nothing about the object;
- the role allows it but the caller is not a member of the case (or, for an
  outside examiner, holds no unexpired grant for the item): the same
  `NotFound` a missing object gets, so a hidden case looks like no case.

Each refusal is counted per token, permission and object; the first one, and
the next one after `DENIAL_SUMMARY_INTERVAL`, append an `access.denied` entry.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from vault.custody.access_models import ApiToken, CaseMembership, DenialCounter, User
from vault.custody.models import Case, Item
from vault.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated, VaultError

log = logging.getLogger(__name__)

TOKEN_PREFIX = "evv1"
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366
DENIAL_SUMMARY_INTERVAL = timedelta(hours=1)
SYSTEM_ACTOR = "system"
FIRST_ADMIN_NAME = "admin"
FIRST_ADMIN_TOKEN_FILE = "admin-token"
MAX_OBJECT_ID = 200
ITEM_ID_LENGTH = 36  # a UUID in its text form, as `items.id` stores it

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TOKEN = re.compile(rf"^{TOKEN_PREFIX}_([0-9a-f]{{32}})_([A-Za-z0-9_-]{{43}})$")
# Compared against when a token id is unknown, so that the check takes the same time.
_DUMMY_HASH = "sha256:" + "0" * 64

INVALID_TOKEN_MESSAGE = (
    "missing or invalid API token: send 'Authorization: Bearer TOKEN' "
    "(the CLI reads VAULT_TOKEN or the token file); ask an administrator for a token"
)


class Role(StrEnum):
    ANALYST = "analyst"
    COUNSEL = "counsel"
    AUDITOR = "auditor"
    ADMIN = "admin"
    EXAMINER = "examiner"


class Permission(StrEnum):
    SESSION_READ = "session.read"
    CASE_CREATE = "case.create"
    CASE_LIST = "case.list"
    CASE_READ = "case.read"
    ITEM_UPLOAD = "item.upload"
    ITEM_READ = "item.read"
    ITEM_CONTENT = "item.content"
    ITEM_VERIFY = "item.verify"
    ITEM_REPORT = "item.report"
    ENTRY_PROOF = "entry.proof"
    LEDGER_PUBLIC = "ledger.public"
    LEDGER_READ = "ledger.read"
    USERS_MANAGE = "users.manage"
    MEMBERS_MANAGE = "members.manage"


# Permissions of each role. Case and item permissions also need a membership
# (or an examiner's grant) for the object, which `authorize` checks.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ANALYST: frozenset({
        Permission.SESSION_READ, Permission.CASE_CREATE, Permission.CASE_LIST, Permission.CASE_READ,
        Permission.ITEM_UPLOAD, Permission.ITEM_READ, Permission.ITEM_CONTENT, Permission.ITEM_VERIFY,
        Permission.ITEM_REPORT, Permission.ENTRY_PROOF, Permission.LEDGER_PUBLIC,
    }),
    Role.COUNSEL: frozenset({
        Permission.SESSION_READ, Permission.CASE_LIST, Permission.CASE_READ, Permission.ITEM_READ,
        Permission.ITEM_VERIFY, Permission.ITEM_REPORT, Permission.ENTRY_PROOF, Permission.LEDGER_PUBLIC,
    }),
    # Evidence bytes only in cases the auditor is a member of.
    Role.AUDITOR: frozenset({
        Permission.SESSION_READ, Permission.CASE_LIST, Permission.CASE_READ, Permission.ITEM_READ,
        Permission.ITEM_CONTENT, Permission.ITEM_VERIFY, Permission.ENTRY_PROOF, Permission.LEDGER_PUBLIC,
        Permission.LEDGER_READ,
    }),
    # No permission deletes evidence or entries; no route for that exists at all.
    Role.ADMIN: frozenset({
        Permission.SESSION_READ, Permission.CASE_CREATE, Permission.CASE_LIST, Permission.LEDGER_PUBLIC,
        Permission.USERS_MANAGE, Permission.MEMBERS_MANAGE,
    }),
    # Only the items named in an unexpired expert grant.
    Role.EXAMINER: frozenset({
        Permission.SESSION_READ, Permission.ITEM_READ, Permission.ITEM_CONTENT, Permission.ITEM_VERIFY,
        Permission.ENTRY_PROOF, Permission.LEDGER_PUBLIC,
    }),
}

# Action each permission allows, as the PermissionDenied message words it.
PERMISSION_TEXT: dict[Permission, str] = {
    Permission.SESSION_READ: "show their own session",
    Permission.CASE_CREATE: "create cases",
    Permission.CASE_LIST: "list cases",
    Permission.CASE_READ: "read cases",
    Permission.ITEM_UPLOAD: "upload evidence",
    Permission.ITEM_READ: "read item metadata",
    Permission.ITEM_CONTENT: "download evidence bytes",
    Permission.ITEM_VERIFY: "verify items",
    Permission.ITEM_REPORT: "generate custody reports",
    Permission.ENTRY_PROOF: "fetch proofs of ledger entries",
    Permission.LEDGER_PUBLIC: "read the log's public key and checkpoints",
    Permission.LEDGER_READ: "read or export the whole ledger",
    Permission.USERS_MANAGE: "manage users and tokens",
    Permission.MEMBERS_MANAGE: "manage case memberships",
}

# Roles that a case membership can be given to.
MEMBER_ROLES = frozenset({Role.ANALYST, Role.COUNSEL, Role.AUDITOR})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user and the token it presented."""

    user_id: str
    name: str
    role: Role
    token_id: str

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


# Tokens ----------------------------------------------------------------------


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify_token(vault, token: str | None) -> Principal:
    """Return the principal of a token, or raise Unauthenticated.

    Steps:
    1. Parse `evv1_<token id>_<secret>`; anything else is invalid.
    2. Load the token row and compare hashes in constant time (`hmac.compare_digest`).
    3. Refuse a revoked or expired token, or a disabled user, and record the refusal.
    A missing, malformed, unknown or wrong token gets one message that names no part of it.
    """
    # 1. Format.
    match = _TOKEN.match(token or "")
    if match is None:
        if token:
            _log_failed_token()
        raise Unauthenticated(INVALID_TOKEN_MESSAGE)
    token_id = match.group(1)

    # 2. Hash comparison.
    with Session(vault.engine) as session:
        row = session.get(ApiToken, token_id)
        user = session.get(User, row.user_id) if row is not None else None
    stored = row.token_hash if row is not None else _DUMMY_HASH
    if not hmac.compare_digest(hash_token(token).encode("ascii"), stored.encode("ascii")) or user is None:
        # NOTE: such a request names no known token, so it is logged (rate-limited) but not
        # recorded in the ledger, which anonymous traffic could otherwise flood.
        _log_failed_token()
        raise Unauthenticated(INVALID_TOKEN_MESSAGE)
    principal = Principal(user.id, user.name, Role(user.role), row.id)

    # 3. Revocation, expiry and the user's state.
    now = vault.clock()
    reason = None
    if row.revoked_at is not None:
        reason = f"API token {row.id} was revoked at {_iso(row.revoked_at)}"
    elif row.expires_at <= now:
        reason = f"API token {row.id} expired at {_iso(row.expires_at)}"
    elif user.disabled:
        reason = f"user {user.name!r} is disabled"
    if reason is not None:
        record_denial(vault, principal, "authenticate", f"token:{row.id}", reason=reason)
        raise Unauthenticated(f"{reason}; ask an administrator for a new token")
    return principal


_failed_tokens = itertools.count(1)


def _log_failed_token() -> None:
    """Log the 1st, 10th, 100th, … request with an unknown or wrong token since start-up."""
    count = next(_failed_tokens)
    if count == 10 ** (len(str(count)) - 1):
        log.warning("auth.failed reason=unknown_or_wrong_token failures_since_start=%d", count)


def _new_token() -> tuple[str, str]:
    token_id = uuid.uuid4().hex
    return token_id, f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"


def create_token(vault, principal: Principal, user_name: str, days: int = DEFAULT_TOKEN_DAYS,
                 label: str | None = None) -> tuple[str, dict]:
    """Create an API token for a user; return the token text (shown once) and its record.

    Only the token's SHA-256 is stored. Appends `access.token.created` with the
    token id, never the token. Raises NotFound for an unknown user and
    InvalidInput for a lifetime outside 1..MAX_TOKEN_DAYS days.
    """
    authorize(vault, principal, Permission.USERS_MANAGE)
    return _create_token(vault, principal.name, user_name, days, label)


def _create_token(vault, actor: str, user_name: str, days: int, label: str | None) -> tuple[str, dict]:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"invalid token lifetime {days!r} days: choose 1 to {MAX_TOKEN_DAYS}")
    if label is not None and len(label) > 200:
        raise InvalidInput(f"token label is {len(label)} characters; at most 200")
    token_id, token = _new_token()
    expires_at = vault.clock() + timedelta(days=days)
    with vault.ledger.transaction() as txn:
        user = txn.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFound(f"user {user_name!r} not found; list users with: evidence-vault admin user list")
        row = ApiToken(id=token_id, user_id=user.id, token_hash=hash_token(token), label=label,
                       created_at=vault.clock(), created_by=actor, expires_at=expires_at)
        txn.session.add(row)
        txn.session.flush()
        txn.append(actor, "access.token.created", details={
            "token_id": token_id, "user": user.name, "role": user.role, "expires_at": _iso(expires_at), "label": label,
        })
        record = token_to_dict(row, user.name)
    log.info("access.token.created token=%s user=%s", token_id, user_name)
    return token, record


def revoke_token(vault, principal: Principal, token_id: str) -> dict:
    """Revoke a token from now on; appends `access.token.revoked`. Conflict if it is already revoked."""
    authorize(vault, principal, Permission.USERS_MANAGE)
    with vault.ledger.transaction() as txn:
        row = txn.session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"API token {token_id!r} not found; list tokens with: evidence-vault admin token list")
        if row.revoked_at is not None:
            raise Conflict(f"API token {token_id} was already revoked at {_iso(row.revoked_at)}")
        user = txn.session.get(User, row.user_id)
        row.revoked_at = vault.clock()
        row.revoked_by = principal.name
        txn.append(principal.name, "access.token.revoked", details={"token_id": token_id, "user": user.name})
        record = token_to_dict(row, user.name)
    log.info("access.token.revoked token=%s user=%s", token_id, user.name)
    return record


def list_tokens(vault, principal: Principal, user_name: str | None = None) -> list[dict]:
    authorize(vault, principal, Permission.USERS_MANAGE)
    with Session(vault.engine) as session:
        query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at)
        if user_name is not None:
            query = query.where(User.name == user_name)
        return [token_to_dict(row, name) for row, name in session.execute(query)]


def token_to_dict(row: ApiToken, user_name: str) -> dict:
    return {
        "id": row.id, "user": user_name, "label": row.label, "created_at": _iso(row.created_at),
        "created_by": row.created_by, "expires_at": _iso(row.expires_at), "revoked_at": _iso(row.revoked_at),
        "revoked_by": row.revoked_by,
    }


# Users and memberships -------------------------------------------------------


def create_user(vault, principal: Principal, name: str, role: str, display_name: str | None = None) -> dict:
    """Create a user; appends `access.user.created`. Conflict if the name exists."""
    authorize(vault, principal, Permission.USERS_MANAGE)
    return _create_user(vault, principal.name, name, role, display_name)


def _create_user(vault, actor: str, name: str, role: str, display_name: str | None) -> dict:
    if not USER_NAME.match(name or ""):
        raise InvalidInput(
            f"invalid user name {name!r}: use 1 to 64 lower-case letters, digits, '.', '_' or '-', for example analyst.alice"
        )
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"invalid role {role!r}: choose one of {', '.join(r.value for r in Role)}") from None
    display_name = (display_name or name).strip()
    if not display_name or len(display_name) > 200:
        raise InvalidInput("invalid display name: give 1 to 200 characters")
    user_id = str(uuid.uuid4())
    try:
        with vault.ledger.transaction() as txn:
            if txn.session.scalar(select(User.id).where(User.name == name)) is not None:
                raise Conflict(f"user {name!r} already exists; choose another name")
            txn.session.add(User(id=user_id, name=name, display_name=display_name, role=role.value, disabled=False,
                                 created_at=vault.clock(), created_by=actor))
            txn.session.flush()
            txn.append(actor, "access.user.created", details={"user": name, "display_name": display_name, "role": role.value})
    except IntegrityError:
        raise Conflict(f"user {name!r} already exists; choose another name") from None
    log.info("access.user.created user=%s role=%s", name, role.value)
    return {"id": user_id, "name": name, "display_name": display_name, "role": role.value, "disabled": False}


def list_users(vault, principal: Principal) -> list[dict]:
    authorize(vault, principal, Permission.USERS_MANAGE)
    with Session(vault.engine) as session:
        return [
            {"id": u.id, "name": u.name, "display_name": u.display_name, "role": u.role, "disabled": u.disabled,
             "created_at": _iso(u.created_at), "created_by": u.created_by}
            for u in session.scalars(select(User).order_by(User.created_at))
        ]


def add_member(vault, principal: Principal, case_reference: str, user_name: str) -> dict:
    """Give a user access to a case and its items; appends `access.member.added`."""
    authorize(vault, principal, Permission.MEMBERS_MANAGE)
    with vault.ledger.transaction() as txn:
        case, user = _case_and_user(txn.session, case_reference, user_name)
        if Role(user.role) not in MEMBER_ROLES:
            raise InvalidInput(
                f"user {user_name!r} has role {user.role}; case membership is for "
                f"{', '.join(sorted(r.value for r in MEMBER_ROLES))} (an outside examiner gets an expert grant for named items)"
            )
        if txn.session.get(CaseMembership, (case.id, user.id)) is not None:
            raise Conflict(f"user {user_name!r} is already a member of case {case_reference!r}")
        txn.session.add(CaseMembership(case_id=case.id, user_id=user.id, granted_by=principal.name, granted_at=vault.clock()))
        txn.append(principal.name, "access.member.added", case_id=case.id, details={"user": user.name, "role": user.role})
    log.info("access.member.added case=%s user=%s", case.id, user_name)
    return {"case": case_reference, "user": user_name, "role": user.role}


def remove_member(vault, principal: Principal, case_reference: str, user_name: str) -> dict:
    """Withdraw a user's access to a case; appends `access.member.removed`."""
    authorize(vault, principal, Permission.MEMBERS_MANAGE)
    with vault.ledger.transaction() as txn:
        case, user = _case_and_user(txn.session, case_reference, user_name)
        membership = txn.session.get(CaseMembership, (case.id, user.id))
        if membership is None:
            raise NotFound(f"user {user_name!r} is not a member of case {case_reference!r}")
        txn.session.delete(membership)
        txn.append(principal.name, "access.member.removed", case_id=case.id, details={"user": user.name, "role": user.role})
    log.info("access.member.removed case=%s user=%s", case.id, user_name)
    return {"case": case_reference, "user": user_name, "role": user.role}


def add_creator_membership(session: Session, case_id: str, principal: Principal, now: datetime) -> bool:
    """Make the analyst who creates a case its first member, in the caller's transaction."""
    if principal.role not in MEMBER_ROLES:
        return False
    session.add(CaseMembership(case_id=case_id, user_id=principal.user_id, granted_by=principal.name, granted_at=now))
    return True


def _case_and_user(session: Session, case_reference: str, user_name: str) -> tuple[Case, User]:
    case = session.scalar(select(Case).where(Case.reference == case_reference))
    if case is None:
        raise NotFound(f"case {case_reference!r} not found")
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise NotFound(f"user {user_name!r} not found; list users with: evidence-vault admin user list")
    return case, user


# Authorization ---------------------------------------------------------------


def authorize(vault, principal: Principal, permission: Permission, *, case_id: str | None = None,
              item_id: str | None = None, object_id: str | None = None, hidden_as: VaultError | None = None) -> None:
    """Check that the caller may use `permission`, on a case or item when `case_id` is given.

    Steps:
    1. The role must include the permission, else PermissionDenied. Call this
       before looking the object up, so the response does not depend on whether it exists.
    2. With `case_id`: the caller must be a member of the case, or an outside
       examiner with an unexpired, unrevoked expert grant naming `item_id`.
       Otherwise `hidden_as` is raised: the error a missing object gets.
    Each refusal is recorded (see `record_denial`). A role refusal on an existing
    item is recorded on that item and its case, so it shows in the item's timeline
    and report; the caller's answer stays the same whether the item exists or not.
    """
    subject = object_id or item_id or case_id or "-"

    # 1. Role.
    if not principal.may(permission):
        reason = f"role {principal.role.value} does not include {permission.value}"
        scope_case_id, scope_item_id = _item_scope(vault, item_id or object_id)
        record_denial(vault, principal, permission.value, subject, case_id=case_id or scope_case_id,
                      item_id=scope_item_id, reason=reason)
        raise PermissionDenied(_permission_denied_message(principal.role, permission))
    if case_id is None:
        return

    # 2. Membership or expert grant.
    if _has_access(vault, principal, case_id, item_id):
        return
    record_denial(vault, principal, permission.value, subject, case_id=case_id, item_id=item_id,
                  reason="not a member of the case and no unexpired grant for the item")
    raise hidden_as or NotFound(f"{subject!r} not found")


def _item_scope(vault, object_id: str | None) -> tuple[str | None, str | None]:
    """Return (case id, item id) when `object_id` names an existing item, else (None, None).

    A database error is logged and gives (None, None), so it cannot change the refusal.
    """
    if not object_id or len(object_id) > ITEM_ID_LENGTH:
        return None, None
    try:
        with Session(vault.engine) as session:
            case_id = session.scalar(select(Item.case_id).where(Item.id == object_id))
    except SQLAlchemyError as error:
        log.error("access.denial_item_lookup_failed object=%s error=%s", object_id, error)
        return None, None
    return (case_id, object_id) if case_id is not None else (None, None)


def _permission_denied_message(role: Role, permission: Permission) -> str:
    allowed = [r.value for r in Role if permission in ROLE_PERMISSIONS[r]]
    action = PERMISSION_TEXT.get(permission, f"use {permission.value}")
    needed = f"the role {allowed[0]}" if len(allowed) == 1 else f"one of the roles {', '.join(allowed)}"
    return (f"{role.value} accounts may not {action} ({permission.value}); that needs {needed}, "
            "so use such an account or ask an administrator for one")


def _has_access(vault, principal: Principal, case_id: str, item_id: str | None) -> bool:
    with Session(vault.engine) as session:
        if principal.role in MEMBER_ROLES:
            return session.get(CaseMembership, (case_id, principal.user_id)) is not None
        if principal.role is Role.EXAMINER and item_id is not None:
            return item_id in _granted_items(session, principal, case_id, vault.clock())
    return False


def _granted_items(session: Session, principal: Principal, case_id: str | None, now: datetime) -> set[str]:
    from vault.custody.records import ExpertGrant

    query = select(ExpertGrant).where(ExpertGrant.grantee == principal.name, ExpertGrant.revoked_at.is_(None))
    if case_id is not None:
        query = query.where(ExpertGrant.case_id == case_id)
    items: set[str] = set()
    for grant in session.scalars(query):
        # The grant stops working at `expires_at`, whether or not its expiry entry has been written yet.
        if grant.expires_at > now:
            items.update(str(i) for i in grant.item_ids or [])
    return items


def visible_case_ids(vault, principal: Principal) -> set[str] | None:
    """Return the ids of the cases the caller may list, or None for all cases (administrators, auditors)."""
    if principal.role in (Role.ADMIN, Role.AUDITOR):
        return None
    with Session(vault.engine) as session:
        if principal.role is Role.EXAMINER:
            granted = _granted_items(session, principal, None, vault.clock())
            if not granted:
                return set()
            return set(session.scalars(select(Item.case_id).where(Item.id.in_(granted))))
        return set(session.scalars(select(CaseMembership.case_id).where(CaseMembership.user_id == principal.user_id)))


# Denials on record -----------------------------------------------------------


def record_denial(vault, principal: Principal, permission: str, object_id: str, *, case_id: str | None = None,
                  item_id: str | None = None, reason: str) -> None:
    """Count one refused request and append `access.denied` when it is the first or a summary is due.

    The first refusal per token, permission and object appends an entry. Later
    ones raise a counter; the first refusal at least DENIAL_SUMMARY_INTERVAL
    after the last entry appends a new one with `repeats_since_last_entry`.
    A failure to record is logged and does not change the refusal.
    """
    object_id = object_id[:MAX_OBJECT_ID]
    now = vault.clock()
    key = (principal.token_id or principal.name, permission, object_id)
    try:
        with vault.ledger.transaction() as txn:
            counter = txn.session.get(DenialCounter, key)
            repeats = 0
            if counter is None:
                counter = DenialCounter(token_id=key[0], permission=permission, object_id=object_id, count=1,
                                        recorded_count=1, first_at=now, last_at=now, last_recorded_at=now)
                txn.session.add(counter)
                due = True
            else:
                counter.count += 1
                counter.last_at = now
                due = now - counter.last_recorded_at >= DENIAL_SUMMARY_INTERVAL
                if due:
                    repeats = counter.count - counter.recorded_count - 1
                    counter.recorded_count = counter.count
                    counter.last_recorded_at = now
            if due:
                txn.append(principal.name, "access.denied", case_id=case_id, item_id=item_id, details={
                    "role": principal.role.value, "token_id": principal.token_id, "permission": permission,
                    "object_id": object_id, "reason": reason, "repeats_since_last_entry": repeats,
                    "first_denied_at": _iso(counter.first_at),
                })
    except VaultError as error:
        log.error("access.denial_not_recorded user=%s permission=%s object=%s error=%s",
                  principal.name, permission, object_id, error)
        return
    if due:
        log.warning("access.denied user=%s token=%s permission=%s object=%s repeats=%d",
                    principal.name, principal.token_id, permission, object_id, repeats)


# First start -----------------------------------------------------------------


def bootstrap_first_admin(vault, token_path: Path | None = None) -> Path | None:
    """Create the first administrator and a token on a vault without users.

    Writes the token once, owner-only (0600), to `token_path` (default
    `<data dir>/admin-token`) and returns that path; returns None when users
    exist already. The token is never logged or printed.
    """
    with Session(vault.engine) as session:
        if session.scalar(select(User.id).limit(1)) is not None:
            return None
    token_path = token_path or vault.data_dir / FIRST_ADMIN_TOKEN_FILE
    _create_user(vault, SYSTEM_ACTOR, FIRST_ADMIN_NAME, Role.ADMIN.value, "First administrator")
    record = _create_token_file(vault, FIRST_ADMIN_NAME, "first start", token_path)
    log.warning("access.first_admin_created token=%s path=%s", record["id"], token_path)
    return token_path


def recover_admin_token(vault, token_path: Path | None = None) -> Path | None:
    """Give an administrator a new token when no enabled administrator has a valid one.

    Without it, a vault whose administrator tokens all expired or were revoked
    could never create a token again. Starting `serve` on the data directory
    already takes control of the vault, so start-up is the recovery point.
    The token goes owner-only (0600) to `token_path` (default
    `<data dir>/admin-token`), and `access.token.created` records it. Returns
    that path, or None when a valid administrator token exists, when there are
    no users yet (then `bootstrap_first_admin` applies) or when no enabled
    administrator is left to hold one (logged as an error, because users keep
    their tokens and the vault goes on serving them).
    """
    moment = vault.clock()
    with Session(vault.engine) as session:
        if session.scalar(select(User.id).limit(1)) is None:
            return None
        admins = list(session.scalars(
            select(User).where(User.role == Role.ADMIN.value, User.disabled.is_(False)).order_by(User.created_at)
        ))
        valid = session.scalar(
            select(ApiToken.id).join(User, ApiToken.user_id == User.id).where(
                User.role == Role.ADMIN.value, User.disabled.is_(False),
                ApiToken.revoked_at.is_(None), ApiToken.expires_at > moment,
            ).limit(1)
        )
    if valid is not None:
        return None
    if not admins:
        log.error("access.admin_token_recovery_failed reason=no_enabled_administrator")
        return None
    token_path = token_path or vault.data_dir / FIRST_ADMIN_TOKEN_FILE
    record = _create_token_file(vault, admins[0].name, "recovered at start-up", token_path)
    log.warning("access.admin_token_recovered token=%s user=%s path=%s", record["id"], admins[0].name, token_path)
    return token_path


def _create_token_file(vault, user_name: str, label: str, token_path: Path) -> dict:
    """Create a token for `user_name` and write it owner-only (0600) to `token_path`, replacing that file.

    The file is created before the token, so a path that cannot be written
    raises OSError before any token exists. A token whose file was never written
    would otherwise count as a valid administrator token and stop start-up recovery.
    """
    token_path.unlink(missing_ok=True)
    with open(token_path, "x", encoding="ascii", opener=_open_private) as out:
        try:
            token, record = _create_token(vault, SYSTEM_ACTOR, user_name, DEFAULT_TOKEN_DAYS, label)
        except BaseException:
            token_path.unlink(missing_ok=True)
            raise
        out.write(token + "\n")
    return record


def _open_private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
