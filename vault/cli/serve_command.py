"""`evidence-vault serve`: run the API, embedded storage and ledger included."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from pathlib import Path
from typing import Optional

import typer

from vault.cli.client import SERVER_FILE


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Optional[str] = typer.Option(None, help="Address to listen on (default VAULT_HOST or 127.0.0.1)."),
        port: Optional[int] = typer.Option(None, help="TCP port (default VAULT_PORT or 8750; 0 picks a free port)."),
        data_dir: Optional[Path] = typer.Option(None, help="Data directory (default VAULT_DATA_DIR or ./vault-data)."),
    ) -> None:
        """Start the vault API; with no configuration, also SQLite and SeaweedFS under the data directory."""
        import uvicorn

        from vault.api.app import create_app
        from vault.config import Settings
        from vault.services.runtime import Vault

        overrides = {k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items() if v is not None}
        settings = Settings(**overrides)
        if not _is_loopback(settings.host):
            typer.secho(
                f"WARNING: listening on {settings.host} without TLS: evidence and tokens cross the network in clear text",
                err=True, fg="red", bold=True,
            )
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((settings.host, settings.port))
        except OSError as error:
            raise typer.BadParameter(f"cannot listen on {settings.host}:{settings.port}: {error.strerror}; choose another --port") from None
        actual_port = sock.getsockname()[1]
        url = f"http://{settings.host if family == socket.AF_INET else '[' + settings.host + ']'}:{actual_port}"

        typer.echo("starting the vault: storage self-test and ledger migration…", err=True)
        vault = Vault.open(settings)
        record = vault.data_dir / SERVER_FILE
        try:
            record.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
            typer.echo(f"Evidence Vault listening on {url}")
            typer.echo(f"  data: {vault.data_dir}  storage: {vault.store.settings.endpoint_url} bucket {vault.store.settings.bucket}")
            typer.echo(f"  ledger key: {vault.ledger.verifier_key}")
            config = uvicorn.Config(create_app(vault), log_level="warning", lifespan="on")
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            record.unlink(missing_ok=True)
            vault.close()
