"""Guessing another case's ids: each role gets the response a missing id gets, and each attempt is on record."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.access.conftest import OUTSIDER
from vault.services.manifest import MANIFEST_HEADER, FileSpec, UploadManifest

# Users of every role with no membership in case A and no grant for its item.
STRANGERS = {
    "analyst": "analyst.zoe",
    "counsel": "counsel.quinn",
    "auditor": "auditor.uma",
    "examiner": "examiner.xavier",
    "admin": "admin",
}
MISSING_ITEM = str(uuid.uuid4())
MISSING_CASE = "AC-NO-SUCH-CASE"
MISSING_ENTRY = 10**9


def _probes(world, role: str) -> list[tuple[str, str, str, str, dict]]:
    """Return (name, method, hidden URL, missing URL, request options) for every read a guesser could try.

    Auditors read the whole ledger, so an entry proof is no probe for them.
    """
    manifest = UploadManifest((FileSpec("guess.dd", 4),))
    upload = {"content": b"abcd", "headers": {MANIFEST_HEADER: manifest.encode()}}
    item, missing = world.item_a, MISSING_ITEM
    return [
        ("case", "GET", f"/v1/cases/{world.case_a}", f"/v1/cases/{MISSING_CASE}", {}),
        ("upload", "POST", f"/v1/cases/{world.case_a}/items", f"/v1/cases/{MISSING_CASE}/items", upload),
        ("item", "GET", f"/v1/items/{item}", f"/v1/items/{missing}", {}),
        ("download range", "GET", f"/v1/items/{item}/files/0/content", f"/v1/items/{missing}/files/0/content",
         {"params": {"offset": 0, "length": 512}}),
        ("range proof", "GET", f"/v1/items/{item}/files/0/range-proof", f"/v1/items/{missing}/files/0/range-proof",
         {"params": {"offset": 0, "length": 512}}),
        ("report", "GET", f"/v1/items/{item}/report", f"/v1/items/{missing}/report", {}),
        ("timeline", "GET", f"/v1/items/{item}/log", f"/v1/items/{missing}/log", {}),
        ("verify", "POST", f"/v1/items/{item}/verify", f"/v1/items/{missing}/verify", {}),
    ] + ([] if role == "auditor" else [
        ("entry proof", "GET", f"/v1/ledger/entries/{world.intake_a}/proof", f"/v1/ledger/entries/{MISSING_ENTRY}/proof", {}),
    ])


def _shape(response, hidden_id: str, missing_id: str) -> tuple:
    body = response.json()
    message = body.get("message", "").replace(hidden_id, "<id>").replace(missing_id, "<id>")
    message = re.sub(r"entries 0\.\.\d+", "entries 0..<n>", message)
    return response.status_code, sorted(body), body.get("error"), message


def _ids(world, url: str) -> str:
    for candidate in (world.item_a, world.case_a, MISSING_ITEM, MISSING_CASE):
        if candidate in url:
            return candidate
    return str(world.intake_a) if f"/{world.intake_a}/" in url else str(MISSING_ENTRY)


@pytest.fixture(scope="module")
def strangers(world):
    world.running.user("counsel.quinn", "counsel")
    world.running.user("auditor.uma", "auditor")
    world.running.user("examiner.xavier", "examiner")
    return STRANGERS


@pytest.mark.parametrize("role", sorted(STRANGERS))
def test_hidden_ids_answer_like_missing_ids(world, strangers, role):
    user = strangers[role]
    with world.client(user) as client:
        for name, method, hidden_url, missing_url, options in _probes(world, role):
            hidden = client.request(method, hidden_url, **options)
            missing = client.request(method, missing_url, **options)

            hidden_shape = _shape(hidden, _ids(world, hidden_url), _ids(world, missing_url))
            missing_shape = _shape(missing, _ids(world, hidden_url), _ids(world, missing_url))
            assert hidden.status_code in (403, 404), f"{role} {name}: {hidden.status_code} {hidden.text}"
            assert hidden_shape == missing_shape, f"{role} {name}: hidden {hidden.text} but missing {missing.text}"


@pytest.mark.parametrize("role", sorted(STRANGERS))
def test_hidden_id_attempts_recorded(world, strangers, role):
    user = strangers[role]
    with world.client(user) as client:
        for _name, method, hidden_url, _missing_url, options in _probes(world, role):
            client.request(method, hidden_url, **options)

    denied = [e for e in world.entries() if e["action"] == "access.denied" and e["actor"] == user]
    objects = {e["details"]["object_id"] for e in denied}
    assert world.item_a in objects
    assert world.case_a in objects
    if role != "auditor":
        assert f"entry:{world.intake_a}" in objects
    assert all(e["details"]["token_id"] == world.running.principal(user).token_id for e in denied)


def test_hidden_item_denial_names_item_in_its_timeline(world, strangers):
    with world.client("analyst.zoe") as client:
        client.get(f"/v1/items/{world.item_a}")

    timeline = world.running.vault.ledger.entries(item_id=world.item_a)
    denials = [e for e in timeline if e.action == "access.denied" and e.actor == "analyst.zoe"]
    assert denials
    assert denials[0].case_id == world.case_a_id


def test_case_list_shows_only_member_cases(world):
    with world.client("analyst.zoe") as client:
        references = {c["reference"] for c in client.get("/v1/cases").json()}

    assert world.case_b in references
    assert world.case_a not in references


def test_repeated_denials_counted_not_flooded(world, frozen_clock):
    from datetime import timedelta

    from vault.services.access import DENIAL_SUMMARY_INTERVAL

    start = world.running.vault.clock()
    frozen_clock(start)
    probe = f"/v1/items/{world.item_a}/files/0/content"
    world.running.user("analyst.yves", "analyst")
    with world.client("analyst.yves") as client:
        for _ in range(5):
            assert client.get(probe).status_code == 404
        first = [e for e in world.entries() if e["action"] == "access.denied" and e["actor"] == "analyst.yves"]
        frozen_clock(start + DENIAL_SUMMARY_INTERVAL + timedelta(seconds=1))
        assert client.get(probe).status_code == 404
    after = [e for e in world.entries() if e["action"] == "access.denied" and e["actor"] == "analyst.yves"]

    assert len(first) == 1
    assert first[0]["details"]["repeats_since_last_entry"] == 0
    assert len(after) == 2
    assert after[1]["details"]["repeats_since_last_entry"] == 4
    assert after[1]["details"]["permission"] == "item.content"


def test_services_refuse_without_route_check(world):
    from vault.errors import NotFound, PermissionDenied
    from vault.services import items, ledger, reports

    vault, outsider, counsel = world.running.vault, world.running.principal(OUTSIDER), world.running.principal("counsel.bob")
    calls = [
        lambda: items.show_item(vault, world.item_a, outsider),
        lambda: items.open_download(vault, world.item_a, 0, outsider),
        lambda: items.range_proof(vault, world.item_a, 0, 0, 10, outsider),
        lambda: items.verify_item(vault, world.item_a, outsider),
        lambda: ledger.item_timeline(vault, world.item_a, outsider),
        lambda: ledger.entry_receipt(vault, world.intake_a, outsider),
        lambda: reports.build_report(vault, world.item_a, outsider),
    ]

    for call in calls:
        with pytest.raises(NotFound):
            call()
    with pytest.raises(PermissionDenied):
        items.open_download(vault, world.item_a, 0, counsel)
    with pytest.raises(PermissionDenied):
        ledger.raw_entries(vault, outsider, 0, None)
