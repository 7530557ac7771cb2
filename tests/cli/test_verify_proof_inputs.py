"""`log verify-proof` fails with one line, never a traceback or VERIFIED, on odd receipt files."""

from __future__ import annotations

import pytest

from tests.cli.test_verify_proof import OFFLINE, _write, receipt  # noqa: F401 - the module fixture is reused here


@pytest.mark.parametrize("name,content", [
    ("proof-number.json", '{"proof": 5}'),
    ("proof-list.json", '{"proof": ["c2sp.org/tlog-proof@v1"]}'),
    ("deep.json", "{" + '"a":[' * 100_000),
    ("long-index.txt", "c2sp.org/tlog-proof@v1\nindex " + "9" * 5000 + "\n\nlog\n1\nAAAA\n\n"),
    ("empty.txt", ""),
])
def test_odd_receipt_fails_in_one_line(running_vault, receipt, name, content):  # noqa: F811
    path = _write(receipt, name, content)

    result = running_vault.cli("log", "verify-proof", path, "--key", receipt["key"], check=False, env=OFFLINE)

    assert result.returncode == 1, result.stdout
    assert "VERIFIED" not in result.stdout.replace("NOT VERIFIED", "")
    assert "Traceback" not in result.stderr, result.stderr
    assert "unexpected" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
