"""Every API route has a policy, and each role gets exactly what its policy allows, route by route.

The routes come from `app.routes`, so a route added without an entry in
`ROUTE_POLICIES` fails `test_every_route_has_policy`, and the matrix tries it
for every role.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute

from tests.access.conftest import ROLE_USERS
from vault.api.app import create_app
from vault.api.auth import PUBLIC, ROUTE_POLICIES
from vault.services.access import ROLE_PERMISSIONS, Permission, Role

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _api_routes(routes) -> list[APIRoute]:
    """Flatten the app's routes; FastAPI 0.165 keeps an included router as one lazy `_IncludedRouter` entry."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "effective_candidates"):
            for context in route.effective_candidates():
                if hasattr(context, "effective_candidates"):
                    found.extend(_api_routes([context]))
                    continue
                # `authenticate` looks policies up by the route's own path, so an include prefix would hide it.
                assert context.path == context.original_route.path, f"router included with a prefix: {context.path}"
                found.extend(_api_routes([context.original_route]))
        else:
            raise AssertionError(f"route {route!r} is not an API route and so has no policy; remove it")
    return found


def _routes() -> list[tuple[str, str]]:
    app = create_app(object())
    return sorted((method, route.path) for route in _api_routes(app.router.routes) for method in route.methods)


ROUTES = _routes()


def _url(world, path: str) -> str:
    values = {
        "reference": world.case_a,
        "item_id": world.item_a,
        "file_no": "0",
        "index": str(world.intake_a),
        # Names and ids of nothing, so that an allowed administrator changes nothing that other tests use.
        "name": "nobody.matrix",
        "token_id": "0" * 32,
        "transfer_id": str(uuid.uuid4()),
        "grant_id": str(uuid.uuid4()),
    }
    url = path
    for parameter in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        assert parameter in values, f"the matrix has no value for path parameter {parameter!r} of {path}; add one"
        url = url.replace("{" + parameter + "}", values[parameter])
    return url


def _call(client, method: str, url: str):
    params = {"offset": 0, "length": 10, "old_size": 1}
    if method in MUTATING and method != "DELETE":
        return client.request(method, url, params=params, json={})
    return client.request(method, url, params=params)


def test_every_route_has_policy():
    missing = [route for route in ROUTES if route not in ROUTE_POLICIES]

    assert missing == []


def test_policies_name_no_removed_route():
    stale = sorted(set(ROUTE_POLICIES) - set(ROUTES))

    assert stale == []


def test_roles_keep_least_privilege():
    assert Permission.ITEM_CONTENT not in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.ITEM_READ not in ROLE_PERMISSIONS[Role.ADMIN]
    assert Permission.ITEM_CONTENT not in ROLE_PERMISSIONS[Role.COUNSEL]
    assert Permission.ITEM_UPLOAD not in ROLE_PERMISSIONS[Role.AUDITOR]
    assert Permission.LEDGER_READ in ROLE_PERMISSIONS[Role.AUDITOR]
    assert Permission.CASE_LIST not in ROLE_PERMISSIONS[Role.EXAMINER]
    assert all(Permission.USERS_MANAGE not in ROLE_PERMISSIONS[r] for r in Role if r is not Role.ADMIN)


@pytest.mark.parametrize("method,path", ROUTES)
def test_route_refuses_missing_token(world, method, path):
    with world.client(None) as client:
        response = _call(client, method, _url(world, path))

    if ROUTE_POLICIES[(method, path)] is PUBLIC:
        assert response.status_code == 200
    else:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("method,path", ROUTES)
def test_role_route_matrix(world, role, method, path):
    permission = ROUTE_POLICIES[(method, path)]
    allowed = permission is PUBLIC or permission in ROLE_PERMISSIONS[Role(role)]

    with world.client(ROLE_USERS[role]) as client:
        response = _call(client, method, _url(world, path))

    if allowed:
        assert response.status_code not in (401, 403), f"{role} refused on {method} {path}: {response.text}"
    else:
        assert response.status_code == 403, f"{role} not refused on {method} {path}: {response.status_code} {response.text}"
        assert response.json()["error"] == "permission_denied"
