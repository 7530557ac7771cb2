"""The embedded SeaweedFS: generated credentials, identities file and process life cycle."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from vault.errors import StorageError
from vault.storage.seaweed import CREDENTIALS_FILE, SeaweedServer, load_or_create_credentials


def test_credentials_generated_once_owner_only(tmp_path: Path) -> None:
    first = load_or_create_credentials(tmp_path)
    second = load_or_create_credentials(tmp_path)

    mode = stat.S_IMODE((tmp_path / CREDENTIALS_FILE).stat().st_mode)
    assert first == second
    assert mode == 0o600
    assert len(first[1]) >= 30


def test_credentials_differ_between_data_dirs(tmp_path: Path) -> None:
    assert load_or_create_credentials(tmp_path / "one") != load_or_create_credentials(tmp_path / "two")


def test_corrupt_credentials_file_rejected(tmp_path: Path) -> None:
    (tmp_path / CREDENTIALS_FILE).write_text("{not json", encoding="utf-8")

    with pytest.raises(StorageError, match="invalid S3 credentials file"):
        load_or_create_credentials(tmp_path)


def test_identities_file_owner_only_with_given_keys(seaweed: SeaweedServer) -> None:
    identities = seaweed.data_dir / "s3-identities.json"
    access_key, secret_key = load_or_create_credentials(seaweed.data_dir)

    config = json.loads(identities.read_text(encoding="utf-8"))
    assert stat.S_IMODE(identities.stat().st_mode) == 0o600
    assert config["identities"][0]["credentials"] == [{"accessKey": access_key, "secretKey": secret_key}]


def test_every_port_distinct_and_loopback(seaweed: SeaweedServer) -> None:
    assert len(set(seaweed.ports.values())) == len(seaweed.ports) == 10
    assert seaweed.endpoint_url == f"http://127.0.0.1:{seaweed.ports['s3']}"


def test_second_server_runs_beside_first_and_stops(seaweed: SeaweedServer, tmp_path: Path) -> None:
    access_key, secret_key = load_or_create_credentials(tmp_path)
    server = SeaweedServer(tmp_path, access_key, secret_key)

    with server:
        endpoint = server.endpoint_url
        process = server._process
        assert process is not None
        assert process.poll() is None
    server.stop()

    assert endpoint != seaweed.endpoint_url
    assert process.poll() is not None


def test_stop_before_start_does_nothing(tmp_path: Path) -> None:
    SeaweedServer(tmp_path, "key", "secret").stop()


def test_stop_removes_socket_files(tmp_path: Path) -> None:
    access_key, secret_key = load_or_create_credentials(tmp_path)
    server = SeaweedServer(tmp_path, access_key, secret_key)

    with server:
        during = [path for port in server.ports.values() for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")]
    after = [path for port in server.ports.values() for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")]

    assert during
    assert after == []
