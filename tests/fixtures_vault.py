"""A real vault API on a free loopback port: SeaweedFS from the session, SQLite or PostgreSQL.

The vault starts with the first administrator (`admin`, as `serve` creates it),
an analyst `analyst.alice` and an auditor `auditor.carol`, each with an API
token. `.cli()` runs as analyst.alice unless given another user's name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

from vault.api.app import create_app
from vault.config import Settings
from vault.errors import Conflict
from vault.services import access
from vault.services.runtime import Vault

PG_ADMIN_URL = os.environ.get("VAULT_TEST_PG_ADMIN_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


DEFAULT_USER = "analyst.alice"
START_USERS = {"analyst.alice": "analyst", "auditor.carol": "auditor"}


@dataclass
class RunningVault:
    url: str
    vault: Vault
    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, name: str, role: str) -> str:
        """Return the API token of `name`, creating the user with `role` and a token the first time."""
        if name not in self.tokens:
            admin = access.verify_token(self.vault, self.tokens["admin"])
            try:
                access.create_user(self.vault, admin, name, role)
            except Conflict:
                pass  # created by an earlier start on the same data directory
            self.tokens[name], _ = access.create_token(self.vault, admin, name)
        return self.tokens[name]

    def principal(self, name: str = DEFAULT_USER) -> access.Principal:
        return access.verify_token(self.vault, self.tokens[name])

    def headers(self, name: str = DEFAULT_USER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def add_member(self, reference: str, name: str) -> None:
        access.add_member(self.vault, self.principal("admin"), reference, name)

    def cli(self, *args: str, check: bool = True, env: dict | None = None, user: str = DEFAULT_USER) -> subprocess.CompletedProcess:
        """Run the real `evidence-vault` CLI against this server, with `user`'s token in VAULT_TOKEN."""
        environment = {**os.environ, "VAULT_API_URL": self.url, "VAULT_TOKEN": self.tokens[user], **(env or {})}
        result = subprocess.run([sys.executable, "-m", "vault.cli.main", *args], capture_output=True, text=True,
                                env=environment, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"evidence-vault {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result


def _postgres_database() -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    name = f"vault_api_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure here means PostgreSQL is not usable
        raise RuntimeError(f"PostgreSQL at {PG_ADMIN_URL} is not usable ({error}); run scripts/ensure-postgres.sh") from error

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def start_vault(data_dir: Path, s3, database_url: str | None = None, retention_days: int = 1) -> tuple[RunningVault, callable]:
    settings = Settings(
        data_dir=data_dir, database_url=database_url, s3_endpoint=s3.endpoint_url, s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key, s3_bucket=s3.bucket, retention_days=retention_days,
    )
    vault = Vault.open(settings)
    # A restart on an existing data directory reuses the first admin's token file.
    token_file = access.bootstrap_first_admin(vault) or data_dir / access.FIRST_ADMIN_TOKEN_FILE
    tokens = {"admin": token_file.read_text(encoding="ascii").strip()}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(vault), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start within 30 s")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)
        vault.close()

    running = RunningVault(f"http://127.0.0.1:{port}", vault, data_dir, tokens)
    for name, role in START_USERS.items():
        running.user(name, role)
    return running, stop


@pytest.fixture(scope="module")
def running_vault(tmp_path_factory, make_s3_settings) -> Iterator[RunningVault]:
    running, stop = start_vault(tmp_path_factory.mktemp("vault"), make_s3_settings("ev-api"))
    try:
        yield running
    finally:
        stop()


@pytest.fixture(scope="module")
def running_vault_pg(tmp_path_factory, make_s3_settings) -> Iterator[RunningVault]:
    url, drop = _postgres_database()
    running, stop = start_vault(tmp_path_factory.mktemp("vault-pg"), make_s3_settings("ev-api-pg"), url)
    try:
        yield running
    finally:
        stop()
        drop()
