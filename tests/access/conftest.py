"""A running vault with one user per role, two cases and one item in each.

- case A: analyst.alice (creator), counsel.bob and auditor.carol are members;
  examiner.erin has an expert grant for item A until `GRANT_EXPIRES`.
- case B: analyst.zoe (creator) is its only member.
Every test that changes the vault's clock restores it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.fixtures_vault import RunningVault
from vault.custody.records import ExpertGrant
from vault.services.manifest import MANIFEST_HEADER, FileSpec, UploadManifest

ROLE_USERS = {
    "analyst": "analyst.alice",
    "counsel": "counsel.bob",
    "auditor": "auditor.carol",
    "admin": "admin",
    "examiner": "examiner.erin",
}
OUTSIDER = "analyst.zoe"
GRANT_EXPIRES = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)


@dataclass
class World:
    running: RunningVault
    case_a: str
    case_a_id: str
    item_a: str
    intake_a: int
    case_b: str
    item_b: str

    def client(self, user: str | None) -> httpx.Client:
        headers = self.running.headers(user) if user else {}
        return httpx.Client(base_url=self.running.url, headers=headers, timeout=120)

    def entries(self) -> list[dict]:
        return [json.loads(e.raw) for e in self.running.vault.ledger.entries()]


def _upload(client: httpx.Client, reference: str, data: bytes, name: str) -> dict:
    manifest = UploadManifest((FileSpec(name, len(data)),))
    response = client.post(f"/v1/cases/{reference}/items", content=data, headers={MANIFEST_HEADER: manifest.encode()})
    assert response.status_code == 201, response.text
    return response.json()


def _new_case(client: httpx.Client) -> str:
    reference = f"AC-{uuid.uuid4().hex[:8]}"
    response = client.post("/v1/cases", json={"reference": reference, "title": "Access control"})
    assert response.status_code == 201, response.text
    return reference


@pytest.fixture(scope="module")
def world(running_vault, manifest) -> World:
    running = running_vault
    running.user("counsel.bob", "counsel")
    running.user("examiner.erin", "examiner")
    running.user(OUTSIDER, "analyst")
    image = manifest["dfvfs/image.dd"].path.read_bytes()

    with httpx.Client(base_url=running.url, headers=running.headers("analyst.alice"), timeout=120) as alice:
        case_a = _new_case(alice)
        item_a = _upload(alice, case_a, image, "image.dd")
    with httpx.Client(base_url=running.url, headers=running.headers(OUTSIDER), timeout=120) as zoe:
        case_b = _new_case(zoe)
        item_b = _upload(zoe, case_b, image[:4096], "small.dd")
    running.add_member(case_a, "counsel.bob")
    running.add_member(case_a, "auditor.carol")

    from sqlalchemy.orm import Session

    with Session(running.vault.engine) as session, session.begin():
        session.add(ExpertGrant(id=str(uuid.uuid4()), case_id=item_a["case_id"], grantee="examiner.erin",
                                item_ids=[item_a["id"]], purpose="independent review", granted_by="admin",
                                granted_at=datetime.now(timezone.utc), expires_at=GRANT_EXPIRES))
    intake = next(e.index for e in running.vault.ledger.entries(item_id=item_a["id"]) if e.action == "intake")
    return World(running, case_a, item_a["case_id"], item_a["id"], intake, case_b, item_b["id"])


@pytest.fixture
def frozen_clock(world):
    """Set the vault's access clock with `frozen_clock(moment)`; the real clock comes back after the test."""
    vault = world.running.vault
    original = vault.clock

    def freeze(moment: datetime) -> None:
        vault.clock = lambda: moment

    try:
        yield freeze
    finally:
        vault.clock = original
