"""`serve` over TLS with the first administrator's token file, and how the CLI reads its token."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _write_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """Write a private CA and a server certificate for 127.0.0.1; return (ca, cert, key) paths."""
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test vault CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vault.cli.main", *args], capture_output=True, text=True, env=env, timeout=120)


def test_serve_tls_first_admin_token_file(make_s3_settings, tmp_path):
    s3 = make_s3_settings("ev-serve-tls")
    ca, cert, key = _write_tls_files(tmp_path)
    data_dir = tmp_path / "data"
    env = {**os.environ, "VAULT_DATA_DIR": str(data_dir), "VAULT_PORT": "0", "VAULT_S3_ENDPOINT": s3.endpoint_url,
           "VAULT_S3_ACCESS_KEY": s3.access_key, "VAULT_S3_SECRET_KEY": s3.secret_key, "VAULT_S3_BUCKET": s3.bucket,
           "AWS_EC2_METADATA_DISABLED": "true"}
    env.pop("VAULT_TOKEN", None)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "vault.cli.main", "serve", "--tls-cert", str(cert), "--tls-key", str(key)],
                              stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        for _ in range(240):  # bounded wait for the storage self-test and migrations
            if (data_dir / "server.json").is_file() or server.poll() is not None:
                break
            time.sleep(0.25)
        time.sleep(0.5)  # server.json is written just before uvicorn binds its socket
        token_file = data_dir / "admin-token"
        client_env = {**env, "VAULT_TOKEN_FILE": str(token_file), "VAULT_TLS_CA": str(ca)}

        whoami = _cli(client_env, "whoami", "--json")
        untrusted = _cli({**client_env, "VAULT_TLS_CA": ""}, "whoami")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    token = token_file.read_text().strip()

    assert "https://127.0.0.1:" in output
    assert str(token_file) in output
    assert token not in output
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["user"] == "admin"
    assert json.loads(whoami.stdout)["role"] == "admin"
    assert untrusted.returncode == 1


def test_cli_refuses_group_readable_token_file(running_vault, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(running_vault.tokens["analyst.alice"] + "\n")
    token_file.chmod(0o640)
    env = {"VAULT_TOKEN": "", "VAULT_TOKEN_FILE": str(token_file)}

    refused = running_vault.cli("whoami", check=False, env=env)
    token_file.chmod(0o600)
    accepted = running_vault.cli("whoami", "--json", check=False, env=env)

    assert refused.returncode == 1
    assert "accessible to group or others (mode 0640)" in refused.stderr
    assert f"chmod 600 {token_file}" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["user"] == "analyst.alice"


def test_cli_has_no_token_option(running_vault):
    result = running_vault.cli("whoami", "--token", running_vault.tokens["analyst.alice"], check=False)

    assert result.returncode != 0
    assert running_vault.tokens["analyst.alice"] not in result.stderr


def test_cli_without_token_says_how_to_get_one(running_vault, tmp_path):
    env = {"VAULT_TOKEN": "", "VAULT_TOKEN_FILE": str(tmp_path / "absent"), "HOME": str(tmp_path)}
    env_default = {"VAULT_TOKEN": "", "HOME": str(tmp_path)}

    named_missing = running_vault.cli("whoami", check=False, env=env)
    environment = {k: v for k, v in os.environ.items() if k != "VAULT_TOKEN_FILE"}
    no_token = subprocess.run([sys.executable, "-m", "vault.cli.main", "whoami"], capture_output=True, text=True,
                              env={**environment, "VAULT_API_URL": running_vault.url, **env_default}, timeout=120)

    assert named_missing.returncode == 1
    assert "does not exist" in named_missing.stderr
    assert no_token.returncode == 1
    assert "no API token was sent" in no_token.stderr
    assert f"default {tmp_path}/.config/evidence-vault/token" in no_token.stderr
    assert "evidence-vault admin token create USER" in no_token.stderr
