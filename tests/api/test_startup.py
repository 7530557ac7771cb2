"""Start-up refuses storage that is not write-once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vault.config import Settings
from vault.errors import WormCheckFailed
from vault.services.runtime import Vault
from vault.storage.objects import make_s3_client


def _plain_bucket(make_s3_settings):
    s3 = make_s3_settings("ev-plain")
    make_s3_client(s3).create_bucket(Bucket=s3.bucket)  # no Object Lock, no versioning
    return s3


def test_open_rejects_bucket_without_object_lock(make_s3_settings, tmp_path):
    s3 = _plain_bucket(make_s3_settings)
    settings = Settings(data_dir=tmp_path, s3_endpoint=s3.endpoint_url, s3_access_key=s3.access_key,
                        s3_secret_key=s3.secret_key, s3_bucket=s3.bucket)

    with pytest.raises(WormCheckFailed) as raised:
        Vault.open(settings)

    assert s3.bucket in str(raised.value)


def test_serve_exits_with_one_line_reason(make_s3_settings, tmp_path):
    s3 = _plain_bucket(make_s3_settings)
    env = {**os.environ, "VAULT_DATA_DIR": str(tmp_path), "VAULT_PORT": "0", "VAULT_S3_ENDPOINT": s3.endpoint_url,
           "VAULT_S3_ACCESS_KEY": s3.access_key, "VAULT_S3_SECRET_KEY": s3.secret_key, "VAULT_S3_BUCKET": s3.bucket}

    result = subprocess.run([sys.executable, "-m", "vault.cli.main", "serve"], capture_output=True, text=True, env=env, timeout=120)

    assert result.returncode == 1
    assert "error: " in result.stderr
    assert s3.bucket in result.stderr
