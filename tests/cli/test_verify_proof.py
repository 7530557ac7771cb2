"""`log verify-proof` checks a real `log proof` receipt offline, and rejects tampered ones."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from vault.custody.checkpoint import checkpoint_body
from vault.custody.note import NoteSigner
from vault.custody.proof import parse_receipt

# Nothing listens on the discard port, so a command that tried to reach a server would fail.
OFFLINE = {"VAULT_API_URL": "http://127.0.0.1:9"}


@pytest.fixture(scope="module")
def receipt(running_vault, manifest, tmp_path_factory) -> dict:
    """A receipt for the intake entry of a fresh item, its entry bytes, the key and a neighbouring entry."""
    reference = f"IR-{uuid.uuid4().hex[:8]}"
    running_vault.cli("case", "create", reference, "--title", "Receipts")
    item = json.loads(running_vault.cli("upload", str(manifest["dfvfs/image.dd"].path), "--case", reference, "--json").stdout)
    running_vault.cli("show", item["id"])
    entries = running_vault.vault.ledger.entries(item_id=item["id"])
    intake = next(e for e in entries if e.action == "intake")
    viewed = next(e for e in entries if e.action == "item.viewed")
    directory = tmp_path_factory.mktemp("receipts")
    text = running_vault.cli("log", "proof", str(intake.index)).stdout
    key_file = directory / "key.vkey"
    key_file.write_text(running_vault.vault.ledger.verifier_key + "\n", encoding="ascii")
    return {"text": text, "index": intake.index, "raw": intake.raw, "other_raw": viewed.raw, "key": running_vault.vault.ledger.verifier_key,
            "key_file": key_file, "dir": directory, "item": item["id"]}


def _write(receipt: dict, name: str, content: str | bytes) -> str:
    path: Path = receipt["dir"] / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def _verify(running_vault, receipt: dict, path: str, *extra: str):
    return running_vault.cli("log", "verify-proof", path, "--key", receipt["key"], *extra, check=False, env=OFFLINE)


def _assert_failed(result, reason: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "RECEIPT FAILED" in result.stdout
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: receipt ")
    assert reason in result.stderr, result.stderr


def test_real_receipt_verifies_offline(running_vault, receipt):
    path = _write(receipt, "good.txt", receipt["text"])

    result = _verify(running_vault, receipt, path)
    as_json = json.loads(running_vault.cli("log", "verify-proof", path, "--key", str(receipt["key_file"]), "--json",
                                           env=OFFLINE).stdout)

    assert result.returncode == 0, result.stderr
    assert f"receipt for ledger entry #{receipt['index']}" in result.stdout
    assert "checkpoint: signature valid" in result.stdout
    assert "inclusion proof: valid" in result.stdout
    assert "analyst.alice  intake" in result.stdout
    assert result.stdout.rstrip().endswith("RECEIPT VERIFIED")
    assert as_json["ok"] is True
    assert as_json["checkpoint_signed"] is True
    assert as_json["entry_included"] is True
    assert as_json["index"] == receipt["index"]
    assert as_json["entry"]["item"] == receipt["item"]


def test_json_receipt_file_accepted(running_vault, receipt):
    wrapped = running_vault.cli("log", "proof", str(receipt["index"]), "--json").stdout
    path = _write(receipt, "wrapped.json", wrapped)

    result = _verify(running_vault, receipt, path)

    assert result.returncode == 0, result.stderr


def test_entry_file_must_match(running_vault, receipt):
    path = _write(receipt, "good-entry.txt", receipt["text"])
    same = _write(receipt, "entry.json", receipt["raw"])
    other = _write(receipt, "other-entry.json", receipt["other_raw"])

    matching = _verify(running_vault, receipt, path, "--entry", same)
    differing = _verify(running_vault, receipt, path, "--entry", other)

    assert matching.returncode == 0, matching.stderr
    _assert_failed(differing, "entry bytes differ")


def test_receipt_without_extra_needs_entry(running_vault, receipt):
    lines = receipt["text"].split("\n")
    bare = "\n".join(line for line in lines if not line.startswith("extra "))
    path = _write(receipt, "bare.txt", bare)
    entry = _write(receipt, "bare-entry.json", receipt["raw"])

    without = _verify(running_vault, receipt, path)
    with_entry = _verify(running_vault, receipt, path, "--entry", entry)

    _assert_failed(without, "carries no entry bytes")
    assert with_entry.returncode == 0, with_entry.stderr


def test_edited_entry_rejected(running_vault, receipt):
    edited = receipt["raw"].replace(b"analyst.alice", b"analyst.mallory")
    parsed_extra = "extra " + base64.b64encode(receipt["raw"]).decode("ascii")
    text = receipt["text"].replace(parsed_extra, "extra " + base64.b64encode(edited).decode("ascii"))
    assert text != receipt["text"]
    path = _write(receipt, "edited-entry.txt", text)

    _assert_failed(_verify(running_vault, receipt, path), "is not proven")


def test_other_entry_in_extra_rejected(running_vault, receipt):
    parsed_extra = "extra " + base64.b64encode(receipt["raw"]).decode("ascii")
    text = receipt["text"].replace(parsed_extra, "extra " + base64.b64encode(receipt["other_raw"]).decode("ascii"))
    path = _write(receipt, "other-extra.txt", text)

    _assert_failed(_verify(running_vault, receipt, path), "is not proven")


def test_changed_index_rejected(running_vault, receipt):
    index = receipt["index"]
    text = receipt["text"].replace(f"\nindex {index}\n", f"\nindex {index + 1}\n")
    path = _write(receipt, "index.txt", text)

    _assert_failed(_verify(running_vault, receipt, path), "is not proven")


def test_changed_proof_hash_rejected(running_vault, receipt):
    parsed = parse_receipt(receipt["text"])
    assert parsed.proof, "the receipt has no proof hashes to change"
    first = base64.b64encode(parsed.proof[0]).decode("ascii")
    flipped = base64.b64encode(bytes([parsed.proof[0][0] ^ 1]) + parsed.proof[0][1:]).decode("ascii")
    path = _write(receipt, "hash.txt", receipt["text"].replace(f"\n{first}\n", f"\n{flipped}\n", 1))

    _assert_failed(_verify(running_vault, receipt, path), "is not proven")


def test_changed_checkpoint_rejected(running_vault, receipt):
    head, _, note = receipt["text"].partition("\n\n")
    origin, size = note.split("\n")[:2]
    changed_note = note.replace(f"{origin}\n{size}\n", f"{origin}\n{int(size) + 1}\n", 1)
    path = _write(receipt, "checkpoint.txt", head + "\n\n" + changed_note)

    _assert_failed(_verify(running_vault, receipt, path), "checkpoint not trusted")


def test_forged_checkpoint_rejected(running_vault, receipt):
    # An attacker signs a checkpoint of their own with a key of the same name.
    parsed = parse_receipt(receipt["text"])
    origin = receipt["key"].split("+", 1)[0]
    forger = NoteSigner.generate(origin)
    forged = forger.sign(checkpoint_body(origin, parsed.index + 1, b"\x00" * 32)).decode("utf-8")
    head = receipt["text"].partition("\n\n")[0]
    path = _write(receipt, "forged.txt", head + "\n\n" + forged)

    forged_result = _verify(running_vault, receipt, path)
    forger_key = running_vault.cli("log", "verify-proof", path, "--key", forger.verifier_key, check=False, env=OFFLINE)

    _assert_failed(forged_result, "checkpoint not trusted")
    _assert_failed(forger_key, "is not proven")


def test_malformed_receipt_rejected(running_vault, receipt):
    path = _write(receipt, "malformed.txt", receipt["text"].replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2", 1))
    binary = _write(receipt, "binary.txt", b"\xff\xfe" + receipt["raw"])

    malformed = _verify(running_vault, receipt, path)
    not_text = _verify(running_vault, receipt, binary)

    _assert_failed(malformed, "receipt is malformed")
    assert not_text.returncode == 1
    assert "is not UTF-8 text" in not_text.stderr


def test_invalid_key_one_line_error(running_vault, receipt):
    path = _write(receipt, "key-check.txt", receipt["text"])

    result = running_vault.cli("log", "verify-proof", path, "--key", "name+zz+notbase64", check=False, env=OFFLINE)
    missing = running_vault.cli("log", "verify-proof", path, check=False, env=OFFLINE)

    assert result.returncode == 1
    assert result.stderr.startswith("error: invalid verifier key 'name+zz+notbase64'")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: missing --key")
