"""What a stopped or crashed server leaves behind is cleaned up and accounted for."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from tests.fixtures_vault import start_vault
from vault.storage.objects import make_s3_client


def _unfinished(s3) -> list:
    return make_s3_client(s3).list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])


def test_unfinished_upload_aborted_and_recorded(tmp_path, make_s3_settings):
    s3 = make_s3_settings("ev-restart")
    running, stop = start_vault(tmp_path / "vault", s3)
    writer = running.vault.store.start_upload("evidence/0b7f3e8e-1111-4222-8333-944455556666/0",
                                              datetime.now(timezone.utc) + timedelta(days=1))
    writer.write(b"partial bytes of an upload cut off by a crash")  # no complete(), no abort()
    stop()

    running, stop = start_vault(tmp_path / "vault", s3)
    try:
        entries = [json.loads(e.raw) for e in running.vault.ledger.entries()]
    finally:
        stop()

    abandoned = [e for e in entries if e["action"] == "intake.abandoned"]
    assert _unfinished(s3) == []
    assert len(abandoned) == 1
    assert abandoned[0]["details"]["attempted_item_id"] == "0b7f3e8e-1111-4222-8333-944455556666"
    assert abandoned[0]["details"]["upload_id"] == writer.upload_id


def test_sigterm_stops_seaweedfs(tmp_path):
    data_dir = tmp_path / "vault"
    env = {**os.environ, "VAULT_DATA_DIR": str(data_dir), "VAULT_PORT": "0"}
    server = subprocess.Popen([sys.executable, "-m", "vault.cli.main", "serve"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(240):  # bounded wait for start-up
            if (data_dir / "server.json").exists():
                break
            time.sleep(0.25)
        assert (data_dir / "server.json").exists(), "serve did not start"
        second = subprocess.run([sys.executable, "-m", "vault.cli.main", "serve"], env=env, capture_output=True,
                                text=True, timeout=120)

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    weeds = subprocess.run(["pgrep", "-f", f"weed.*{data_dir}"], capture_output=True, text=True).stdout

    assert second.returncode == 1
    assert "already uses the data directory" in second.stderr
    assert not (data_dir / "server.json").exists()
    assert weeds == ""
