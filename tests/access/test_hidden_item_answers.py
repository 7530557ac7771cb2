"""Every role gets the same status and body for an item hidden from it as for an item id that does not exist."""

from __future__ import annotations

import uuid

import pytest

from tests.access.conftest import ROLE_USERS

# (method, path under /v1/items/ID, JSON body) for the item routes a caller can name an item in.
ITEM_ROUTES = [
    ("GET", "", None),
    ("GET", "/files/0/content", None),
    ("GET", "/files/0/range-proof?offset=0&length=1", None),
    ("POST", "/verify", None),
    ("GET", "/report", None),
    ("GET", "/log", None),
    ("GET", "/lineage", None),
    ("GET", "/custody", None),
    ("GET", "/transfers", None),
    ("POST", "/location", {"location": "locker 1", "reason": "probe"}),
    ("POST", "/hold", {"reason": "probe"}),
    ("POST", "/retention", {"until": "2099-01-01T00:00:00Z", "reason": "probe"}),
    ("PUT", "/privilege", {"privilege": "none", "reason": "probe"}),
]


@pytest.mark.parametrize("user", sorted(ROLE_USERS.values()))
def test_hidden_item_answers_like_missing(world, user):
    missing = str(uuid.uuid4())
    mismatches = []
    with world.client(user) as client:
        for method, suffix, body in ITEM_ROUTES:
            hidden = client.request(method, f"/v1/items/{world.item_b}{suffix}", json=body)
            absent = client.request(method, f"/v1/items/{missing}{suffix}", json=body)
            hidden_body = hidden.content.replace(world.item_b.encode(), b"ITEM")
            absent_body = absent.content.replace(missing.encode(), b"ITEM")
            if (hidden.status_code, hidden_body) != (absent.status_code, absent_body):
                mismatches.append((method, suffix, hidden.status_code, hidden_body, absent.status_code, absent_body))

    assert mismatches == []


def test_repeated_item_refusals_one_entry(world):
    size_before = len(world.entries())
    with world.client("counsel.bob") as client:
        answers = {client.get(f"/v1/items/{world.item_b}/files/0/content").status_code for _ in range(30)}

    added = world.entries()[size_before:]
    denied = [e for e in added if e["action"] == "access.denied"]
    # One entry at most: the first refusal may have been recorded by an earlier test on the same vault.
    assert answers == {403}
    assert len(added) <= 1
    assert len(denied) == len(added)
    assert all(e["item"] == world.item_b for e in denied)
