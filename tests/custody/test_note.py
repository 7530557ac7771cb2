"""Signed notes and checkpoints, checked against an independent reading of the C2SP specs."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vault.custody.checkpoint import checkpoint_body, open_checkpoint, parse_checkpoint_body
from vault.custody.note import NoteSigner, load_or_create_signer, verify_note
from vault.errors import InvalidInput, ProofError


def independent_verify(note: bytes, vkey: str) -> str:
    """Verify a signed note written only from c2sp.org/signed-note, sharing no vault code."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)  # the base64 key may contain "+"
    key = base64.b64decode(key_b64)
    assert key[0] == 0x01, "signature type must be Ed25519 (0x01)"
    public = key[1:]
    assert hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4].hex() == key_id_hex

    decoded = note.decode("utf-8")
    cut = decoded.rindex("\n\n")
    message = decoded[: cut + 1]
    signature_lines = decoded[cut + 2 :].splitlines()
    for line in signature_lines:
        assert line.startswith("\u2014 "), line
        line_name, encoded = line[2:].split(" ")
        blob = base64.b64decode(encoded)
        if line_name == name and blob[:4].hex() == key_id_hex:
            Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], message.encode())
            return message
    raise AssertionError("no signature by the key")


def test_checkpoint_note_verifies_independently() -> None:
    signer = NoteSigner.generate("vault.test/custody")
    root = hashlib.sha256(b"root").digest()
    body = checkpoint_body(signer.name, 12, root)

    note = signer.sign(body)

    assert body == f"vault.test/custody\n12\n{base64.b64encode(root).decode()}\n"
    assert independent_verify(note, signer.verifier_key) == body
    assert note.decode().endswith("\n")
    assert "\n\n\u2014 vault.test/custody " in note.decode()
    assert open_checkpoint(note, signer.verifier_key).size == 12


def test_note_from_other_key_rejected() -> None:
    signer = NoteSigner.generate("vault.test/custody")
    impostor = NoteSigner.generate("vault.test/custody")
    note = impostor.sign("vault.test/custody\n1\n" + base64.b64encode(b"\0" * 32).decode() + "\n")

    with pytest.raises(ProofError, match="not signed by key"):
        verify_note(note, signer.verifier_key)


def test_note_with_altered_text_rejected() -> None:
    signer = NoteSigner.generate("vault.test/custody")
    note = signer.sign("vault.test/custody\n1\n" + base64.b64encode(b"\0" * 32).decode() + "\n")
    altered = note.replace(b"\n1\n", b"\n2\n", 1)

    with pytest.raises(ProofError, match="invalid"):
        verify_note(altered, signer.verifier_key)


def test_signer_key_file_is_private(tmp_path: Path) -> None:
    first = load_or_create_signer(tmp_path / "data", "vault.test/custody")
    again = load_or_create_signer(tmp_path / "data", "vault.test/custody")

    mode = stat.S_IMODE((tmp_path / "data" / "log-signer.key").stat().st_mode)
    assert mode == 0o600
    assert again.verifier_key == first.verifier_key
    assert (tmp_path / "data" / "log-signer.vkey").read_text().strip() == first.verifier_key


def test_signer_for_other_origin_rejected(tmp_path: Path) -> None:
    load_or_create_signer(tmp_path, "vault.test/custody")

    with pytest.raises(InvalidInput, match="origin"):
        load_or_create_signer(tmp_path, "other.test/log")


@pytest.mark.parametrize(
    "body",
    ["origin\n01\n" + base64.b64encode(b"\0" * 32).decode() + "\n", "origin\n1\nAAAA\n", "origin\n1\n"],
    ids=["leading-zero-size", "short-root", "missing-root"],
)
def test_malformed_checkpoint_body_rejected(body: str) -> None:
    with pytest.raises(ProofError):
        parse_checkpoint_body(body)
