"""Expired and revoked tokens, an examiner's grant at its expiry, and the token never leaking."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.access.conftest import GRANT_EXPIRES
from vault.custody.access_models import ApiToken
from vault.services import access


def _token_row(world, token: str) -> ApiToken:
    token_id = token.split("_")[1]
    with Session(world.running.vault.engine) as session:
        return session.scalars(select(ApiToken).where(ApiToken.id == token_id)).one()


def test_expired_token_refused(world, frozen_clock):
    token = world.running.user("analyst.tess", "analyst")
    expires_at = _token_row(world, token).expires_at

    frozen_clock(expires_at - timedelta(microseconds=1))
    with world.client("analyst.tess") as client:
        before = client.get("/v1/whoami")
    frozen_clock(expires_at)
    with world.client("analyst.tess") as client:
        after = client.get("/v1/whoami")

    assert before.status_code == 200
    assert after.status_code == 401
    assert "expired" in after.json()["message"]
    denied = [e for e in world.entries() if e["action"] == "access.denied" and e["actor"] == "analyst.tess"]
    assert denied[-1]["details"]["permission"] == "authenticate"


def test_revoked_token_refused_from_cli(world):
    token = world.running.user("analyst.rita", "analyst")
    token_id = _token_row(world, token).id

    world.running.cli("admin", "token", "revoke", token_id, user="admin")
    result = world.running.cli("whoami", check=False, user="analyst.rita")

    assert result.returncode == 1
    assert f"API token {token_id} was revoked" in result.stderr
    revoked = [e for e in world.entries() if e["action"] == "access.token.revoked" and e["details"]["token_id"] == token_id]
    assert len(revoked) == 1


def test_wrong_secret_refused_like_unknown_token(world):
    token = world.running.tokens["analyst.alice"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    headers_forged = {"Authorization": f"Bearer {forged}"}
    headers_unknown = {"Authorization": "Bearer evv1_" + "0" * 32 + "_" + "A" * 43}

    with world.client(None) as client:
        wrong = client.get("/v1/whoami", headers=headers_forged)
        unknown = client.get("/v1/whoami", headers=headers_unknown)

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_examiner_grant_stops_at_expiry(world, frozen_clock):
    url = f"/v1/items/{world.item_a}/files/0/content"

    frozen_clock(GRANT_EXPIRES - timedelta(microseconds=1))
    with world.client("examiner.erin") as client:
        before = client.get(url, params={"offset": 0, "length": 16})
    frozen_clock(GRANT_EXPIRES)
    with world.client("examiner.erin") as client:
        after = client.get(url, params={"offset": 0, "length": 16})
        missing = client.get("/v1/items/00000000-0000-0000-0000-000000000000/files/0/content")

    assert before.status_code == 200
    assert len(before.content) == 16
    assert after.status_code == 404
    assert after.json()["message"].replace(world.item_a, "<id>") == missing.json()["message"].replace(
        "00000000-0000-0000-0000-000000000000", "<id>")


def test_examiner_sees_only_granted_item(world):
    with world.client("examiner.erin") as client:
        granted = client.get(f"/v1/items/{world.item_a}")
        other = client.get(f"/v1/items/{world.item_b}")
        case = client.get(f"/v1/cases/{world.case_a}")

    assert granted.status_code == 200
    assert other.status_code == 404
    assert case.status_code == 403


def test_role_refusal_names_allowed_roles(world):
    with world.client("counsel.bob") as client:
        download = client.get(f"/v1/items/{world.item_a}/files/0/content")

    assert download.status_code == 403
    message = download.json()["message"]
    assert "counsel accounts may not download evidence bytes (item.content)" in message
    assert "one of the roles analyst, auditor, examiner" in message


def test_token_never_in_logs_entries_or_errors(world, frozen_clock, caplog):
    caplog.set_level(logging.DEBUG)
    created = world.running.cli("admin", "token", "create", "analyst.alice", "--label", "leak test", user="admin")
    token = created.stdout.strip()
    secret = token.split("_", 2)[2]
    headers = {"Authorization": f"Bearer {token}"}
    bodies = []

    with world.client(None) as client:
        bodies.append(client.get("/v1/whoami", headers=headers).text)
        bodies.append(client.get(f"/v1/items/{world.item_b}", headers=headers).text)
        bodies.append(client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}x"}).text)
        frozen_clock(world.running.vault.clock() + timedelta(days=400))
        bodies.append(client.get("/v1/whoami", headers=headers).text)
    cli_error = world.running.cli("show", world.item_b, check=False, env={"VAULT_TOKEN": token})
    raw_ledger = b"".join(e.raw for e in world.running.vault.ledger.entries())

    assert created.returncode == 0
    assert token.startswith(access.TOKEN_PREFIX + "_")
    assert json.loads(bodies[0])["user"] == "analyst.alice"
    for text in bodies + [cli_error.stderr, cli_error.stdout, caplog.text, created.stderr]:
        assert secret not in text
    assert secret.encode() not in raw_ledger
    assert token.encode() not in raw_ledger
    assert access.hash_token(token).encode() not in raw_ledger
