"""Start-up recovery of an administrator token once every administrator token has expired."""

from __future__ import annotations

import logging
import stat
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from vault.custody.access_models import User
from vault.services.access import recover_admin_token


def test_valid_admin_token_means_no_recovery(running_vault, tmp_path):
    assert recover_admin_token(running_vault.vault, tmp_path / "admin-token") is None
    assert not (tmp_path / "admin-token").exists()


def test_expired_admin_tokens_recovered_once(running_vault, tmp_path):
    vault = running_vault.vault
    original_clock = vault.clock
    far_future = datetime.now(timezone.utc) + timedelta(days=400)  # past every 90-day token
    vault.clock = lambda: far_future
    try:
        path = recover_admin_token(vault, tmp_path / "admin-token")
        second = recover_admin_token(vault, tmp_path / "second-token")
    finally:
        vault.clock = original_clock

    created = [e for e in vault.ledger.entries() if e.action == "access.token.created"][-1]
    token = path.read_text(encoding="ascii").strip()
    listed = httpx.get(f"{running_vault.url}/v1/cases", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert path == tmp_path / "admin-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert second is None
    assert created.details["label"] == "recovered at start-up"
    assert created.details["user"] == "admin"
    assert created.actor == "system"
    assert listed.status_code == 200, listed.text


def test_no_enabled_admin_logs_error(running_vault, tmp_path, caplog):
    vault = running_vault.vault
    with Session(vault.engine) as session, session.begin():
        session.execute(update(User).where(User.role == "admin").values(disabled=True))
    try:
        with caplog.at_level(logging.ERROR, logger="vault.services.access"):
            result = recover_admin_token(vault, tmp_path / "admin-token")
    finally:
        with Session(vault.engine) as session, session.begin():
            session.execute(update(User).where(User.role == "admin").values(disabled=False))

    assert result is None
    assert "access.admin_token_recovery_failed" in caplog.text


def test_failed_token_write_leaves_recovery_armed(running_vault, tmp_path):
    vault = running_vault.vault
    original_clock = vault.clock
    # Past every 90-day token, including those that tests recovering at +400 days created.
    far_future = datetime.now(timezone.utc) + timedelta(days=800)
    vault.clock = lambda: far_future
    try:
        with pytest.raises(FileNotFoundError):
            recover_admin_token(vault, tmp_path / "missing-dir" / "admin-token")
        retried = recover_admin_token(vault, tmp_path / "admin-token")
    finally:
        vault.clock = original_clock

    # A token whose file could not be written must not count as the administrator's valid token.
    assert retried == tmp_path / "admin-token"
    assert stat.S_IMODE(retried.stat().st_mode) == 0o600
