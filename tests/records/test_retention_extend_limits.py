"""`retention extend` at the end of the date range: a date that cannot be rounded up fails with a one-line error."""

from __future__ import annotations

import json
import uuid


def test_extend_past_last_second_rejected(running_vault, manifest):
    reference = f"RX-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "Retention limits")
    item = json.loads(running_vault.cli("upload", str(manifest["dfvfs/image.dd"].path), "--case", reference, "--json").stdout)

    result = running_vault.cli("retention", "extend", item["id"], "--until", "9999-12-31T23:59:59.999999Z", "--reason",
                               "appeal", check=False)
    item_after = json.loads(running_vault.cli("show", item["id"], "--json").stdout)
    whole = json.loads(running_vault.cli("retention", "extend", item["id"], "--until", "9999-12-31T23:59:59Z", "--reason",
                                         "appeal", "--json").stdout)

    assert result.returncode == 1
    assert "HTTP 500" not in result.stderr, result.stderr
    assert "past the last representable second" in result.stderr, result.stderr
    assert item_after["retain_until"] == item["retain_until"]
    assert whole["retain_until"] == "9999-12-31T23:59:59.000000Z"
