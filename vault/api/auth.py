"""Authentication and the per-route permission of every API route.

Every request passes `authenticate`, an app-wide dependency: it looks up the
route's permission in `ROUTE_POLICIES`, checks the bearer token and the
caller's role, and stores the principal on `request.state`. A route missing
from `ROUTE_POLICIES` is refused for everyone, and the role-by-route test
fails, so a new route cannot go out without a policy. The services check
the same permission again, together with the case or item they touch.
"""

from __future__ import annotations

import logging

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from vault.errors import PermissionDenied
from vault.services import access
from vault.services.access import Permission, Principal

log = logging.getLogger(__name__)

# Routes anyone may call without a token.
PUBLIC = None

ROUTE_POLICIES: dict[tuple[str, str], Permission | None] = {
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/whoami"): Permission.SESSION_READ,
    ("POST", "/v1/cases"): Permission.CASE_CREATE,
    ("GET", "/v1/cases"): Permission.CASE_LIST,
    ("GET", "/v1/cases/{reference}"): Permission.CASE_READ,
    ("POST", "/v1/cases/{reference}/items"): Permission.ITEM_UPLOAD,
    ("GET", "/v1/items/{item_id}"): Permission.ITEM_READ,
    ("GET", "/v1/items/{item_id}/files/{file_no}/content"): Permission.ITEM_CONTENT,
    ("GET", "/v1/items/{item_id}/files/{file_no}/range-proof"): Permission.ITEM_READ,
    ("POST", "/v1/items/{item_id}/verify"): Permission.ITEM_VERIFY,
    ("GET", "/v1/items/{item_id}/report"): Permission.ITEM_REPORT,
    ("GET", "/v1/items/{item_id}/log"): Permission.ITEM_READ,
    ("GET", "/v1/ledger/entries"): Permission.LEDGER_READ,
    ("GET", "/v1/ledger/checkpoint"): Permission.LEDGER_PUBLIC,
    ("GET", "/v1/ledger/checkpoints"): Permission.LEDGER_READ,
    ("GET", "/v1/ledger/stored-checkpoints"): Permission.LEDGER_READ,
    ("GET", "/v1/ledger/key"): Permission.LEDGER_PUBLIC,
    ("GET", "/v1/reports/ca"): Permission.LEDGER_PUBLIC,
    ("GET", "/v1/ledger/entries/{index}/proof"): Permission.ENTRY_PROOF,
    ("GET", "/v1/ledger/consistency"): Permission.LEDGER_READ,
    ("POST", "/v1/admin/users"): Permission.USERS_MANAGE,
    ("GET", "/v1/admin/users"): Permission.USERS_MANAGE,
    ("POST", "/v1/admin/users/{name}/tokens"): Permission.USERS_MANAGE,
    ("GET", "/v1/admin/tokens"): Permission.USERS_MANAGE,
    ("POST", "/v1/admin/tokens/{token_id}/revoke"): Permission.USERS_MANAGE,
    ("PUT", "/v1/cases/{reference}/members/{name}"): Permission.MEMBERS_MANAGE,
    ("DELETE", "/v1/cases/{reference}/members/{name}"): Permission.MEMBERS_MANAGE,
}

# Path parameters that name the object of a request, in order of preference.
_OBJECT_PARAMETERS = ("item_id", "reference", "token_id", "name", "index")


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def route_key(request: Request) -> tuple[str, str] | None:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return None if path is None else (request.method, path)


async def authenticate(request: Request) -> None:
    """Check the token and the role against the route's permission; store the principal in `request.state`."""
    key = route_key(request)
    if key not in ROUTE_POLICIES:
        log.error("api.route_without_policy method=%s path=%s", request.method, key[1] if key else request.url.path)
        raise PermissionDenied("access denied: this route has no access policy, so it rejects every caller; report it to the vault's maintainers")
    permission = ROUTE_POLICIES[key]
    request.state.principal = None
    if permission is PUBLIC:
        return
    vault = request.app.state.vault
    principal = await run_in_threadpool(access.verify_token, vault, bearer_token(request))
    object_id = _object_id(request)
    await run_in_threadpool(access.authorize, vault, principal, permission, object_id=object_id)
    request.state.principal = principal


def _object_id(request: Request) -> str | None:
    """Name the object of a request as the services do: an item id, a case reference, `entry:<index>`, …"""
    for parameter in _OBJECT_PARAMETERS:
        if parameter in request.path_params:
            value = str(request.path_params[parameter])
            return f"entry:{value}" if parameter == "index" else value
    return None


def principal_of(request: Request) -> Principal:
    """Return the caller that `authenticate` accepted for this request."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise PermissionDenied("this route needs an authenticated caller but its policy is public; report it to the vault's maintainers")
    return principal
