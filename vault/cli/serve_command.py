"""`evidence-vault serve`: run the API, embedded storage and ledger included."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
from pathlib import Path
from typing import Optional

import typer

from vault.cli.client import SERVER_FILE
from vault.errors import InvalidInput


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _refuse_second_server(record: Path) -> None:
    """Raise when a live `serve` already uses this data directory (its server.json names a running pid)."""
    try:
        pid = json.loads(record.read_text(encoding="utf-8"))["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # stale record of a server that did not stop cleanly
    except PermissionError:
        pass
    raise InvalidInput(
        f"another 'evidence-vault serve' (pid {pid}) already uses the data directory {record.parent}; "
        "stop it first or choose another --data-dir"
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Optional[str] = typer.Option(None, help="Address to listen on (default VAULT_HOST or 127.0.0.1)."),
        port: Optional[int] = typer.Option(None, help="TCP port (default VAULT_PORT or 8750; 0 picks a free port)."),
        data_dir: Optional[Path] = typer.Option(None, help="Data directory (default VAULT_DATA_DIR or ./vault-data)."),
        tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help="PEM certificate (chain) for HTTPS; needs --tls-key."),
        tls_key: Optional[Path] = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert."),
    ) -> None:
        """Start the vault API; with no configuration, also SQLite and SeaweedFS under the data directory.

        On the first start (no users yet) it creates the administrator `admin`
        and writes its API token once to the owner-only file `<data dir>/admin-token`.
        """
        import uvicorn

        from vault.api.app import create_app
        from vault.config import Settings
        from vault.services.access import bootstrap_first_admin, recover_admin_token
        from vault.services.runtime import Vault

        overrides = {k: v for k, v in {"host": host, "port": port, "data_dir": data_dir}.items() if v is not None}
        settings = Settings(**overrides)
        if (tls_cert is None) != (tls_key is None):
            raise InvalidInput("give both --tls-cert and --tls-key, or neither")
        for path in (tls_cert, tls_key):
            if path is not None and not path.is_file():
                raise InvalidInput(f"TLS file {path} not found")
        if tls_cert is None and not _is_loopback(settings.host):
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
            raise InvalidInput(f"cannot listen on {settings.host}:{settings.port}: {error.strerror}; choose another --port or VAULT_PORT=0") from None
        actual_port = sock.getsockname()[1]
        scheme = "https" if tls_cert else "http"
        url = f"{scheme}://{settings.host if family == socket.AF_INET else '[' + settings.host + ']'}:{actual_port}"

        _refuse_second_server(settings.data_dir / SERVER_FILE)
        typer.echo("starting the vault: storage self-test and ledger migration…", err=True)
        # uvicorn re-raises SIGTERM after its graceful shutdown; turned into KeyboardInterrupt,
        # it unwinds through the `finally` below, which stops SeaweedFS and signs a last checkpoint.
        signal.signal(signal.SIGTERM, _interrupt)
        vault = Vault.open(settings)
        try:
            token_file = bootstrap_first_admin(vault)
            recovered_file = recover_admin_token(vault) if token_file is None else None
        except BaseException:
            vault.close()
            raise
        record = vault.data_dir / SERVER_FILE
        try:
            record.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
            typer.echo(f"Evidence Vault listening on {url}")
            typer.echo(f"  data: {vault.data_dir}  storage: {vault.store.settings.endpoint_url} bucket {vault.store.settings.bucket}")
            typer.echo(f"  ledger key: {vault.ledger.verifier_key}")
            if token_file is not None:
                typer.echo(f"  first start: created the administrator 'admin'; its API token is in {token_file} "
                           f"(owner-only). Use it with: export VAULT_TOKEN_FILE={token_file}")
            if recovered_file is not None:
                typer.echo(f"  no administrator had a valid token: wrote a new one to {recovered_file} "
                           f"(owner-only). Use it with: export VAULT_TOKEN_FILE={recovered_file}")
            tls = {"ssl_certfile": str(tls_cert), "ssl_keyfile": str(tls_key)} if tls_cert else {}
            config = uvicorn.Config(create_app(vault), log_level="warning", lifespan="on", **tls)
            try:
                uvicorn.Server(config).run(sockets=[sock])
            except KeyboardInterrupt:
                typer.echo("stopping the vault", err=True)
        finally:
            record.unlink(missing_ok=True)
            vault.close()
