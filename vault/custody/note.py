"""C2SP signed notes with Ed25519 keys (https://c2sp.org/signed-note).

A signed note is a text ending in a newline, a blank line, then signature
lines `— <key name> <base64(key ID || signature)>`. The key ID is the first
four bytes of SHA-256(key name || 0x0A || 0x01 || public key). Keys travel as
the strings of Go's golang.org/x/mod/sumdb/note package:

    verifier key: <name>+<key ID hex>+<base64(0x01 || 32-byte public key)>
    signer key:   PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 || 32-byte seed)>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vault.errors import InvalidInput, ProofError

ED25519_TYPE = 0x01
SIGNATURE_PREFIX = "\u2014 "
SIGNER_KEY_FILE = "log-signer.key"
VERIFIER_KEY_FILE = "log-signer.vkey"
# Verifiers must accept at least 16 signatures (signed-note spec); more are rejected.
MAX_SIGNATURES = 100


def key_id_for(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID of an Ed25519 key as the signed-note spec recommends."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519_TYPE]) + public_key).digest()[:4]


def _check_key_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise InvalidInput(f"invalid signed-note key name {name!r}: it must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class VerifierKey:
    """A parsed Ed25519 signed-note verifier key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> "VerifierKey":
        # The base64 key may itself contain "+", so split off only the first two fields.
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise InvalidInput(f"invalid verifier key {text.strip()!r}: expected NAME+KEYID+BASE64")
        name, id_hex, encoded = parts
        _check_key_name(name)
        try:
            key_id = bytes.fromhex(id_hex)
            key = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as error:
            raise InvalidInput(f"invalid verifier key {text.strip()!r}: {error}") from error
        if len(key_id) != 4 or len(key) != 33 or key[0] != ED25519_TYPE:
            raise InvalidInput(f"invalid verifier key {text.strip()!r}: expected a 4-byte key ID and an Ed25519 key")
        public_key = key[1:]
        computed = key_id_for(name, public_key)
        if computed != key_id:
            raise InvalidInput(f"verifier key {name}: key ID {id_hex} does not match its public key (computed {computed.hex()})")
        return cls(name, key_id, public_key)

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519_TYPE]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


class NoteSigner:
    """Signs note texts with one Ed25519 key named after the log's origin."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_key_name(name)
        self.name = name
        self._private_key = private_key
        public_key = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id_for(name, public_key)
        self.verifier_key = str(VerifierKey(name, self.key_id, public_key))

    @classmethod
    def generate(cls, name: str) -> "NoteSigner":
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_signer_key(cls, text: str) -> "NoteSigner":
        """Load a signer from its `PRIVATE+KEY+name+id+base64` string."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InvalidInput("invalid signer key: expected PRIVATE+KEY+NAME+KEYID+BASE64")
        try:
            key = base64.b64decode(parts[4], validate=True)
        except binascii.Error as error:
            raise InvalidInput(f"invalid signer key for {parts[2]!r}: {error}") from error
        if len(key) != 33 or key[0] != ED25519_TYPE:
            raise InvalidInput(f"invalid signer key for {parts[2]!r}: expected an Ed25519 seed")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(key[1:]))
        if signer.key_id.hex() != parts[3]:
            raise InvalidInput(f"signer key for {parts[2]!r}: key ID {parts[3]} does not match the key")
        return signer

    def signer_key(self) -> str:
        """Return the secret `PRIVATE+KEY+…` string. Store it with mode 0600 and never log it."""
        seed = self._private_key.private_bytes_raw()
        encoded = base64.b64encode(bytes([ED25519_TYPE]) + seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> bytes:
        """Return the signed note: `text`, a blank line and this key's signature line."""
        _check_note_text(text)
        signature = self._private_key.sign(text.encode("utf-8"))
        encoded = base64.b64encode(self.key_id + signature).decode("ascii")
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n".encode("utf-8")


def _check_note_text(text: str) -> None:
    if not text.endswith("\n"):
        raise InvalidInput("note text must end with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise InvalidInput("note text must not contain control characters other than newline")


def load_or_create_signer(data_dir: Path, origin: str) -> NoteSigner:
    """Load the log's Ed25519 signer from `data_dir`, creating it on first use.

    The secret key is written with mode 0600 and the verifier key beside it.
    Raises InvalidInput when the stored key was made for another origin.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path = data_dir / SIGNER_KEY_FILE
    if key_path.exists():
        signer = NoteSigner.from_signer_key(key_path.read_text(encoding="ascii"))
        if signer.name != origin:
            raise InvalidInput(
                f"the log signing key in {key_path} is named {signer.name!r} but the log origin is {origin!r}; "
                "set VAULT_LOG_ORIGIN to the key's name or move the key away"
            )
        return signer

    signer = NoteSigner.generate(origin)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(signer.signer_key() + "\n")
    (data_dir / VERIFIER_KEY_FILE).write_text(signer.verifier_key + "\n", encoding="ascii")
    return signer


def split_note(note: bytes) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a signed note into its text and its (key name, base64-decoded signature) pairs.

    Raises ProofError when the note is malformed.
    """
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProofError(f"signed note is not UTF-8: {error}") from error
    if any(ord(ch) < 0x20 and ch != "\n" for ch in decoded):
        raise ProofError("signed note contains control characters other than newline")
    separator = decoded.rfind("\n\n")
    if separator < 0 or not decoded.endswith("\n"):
        raise ProofError("signed note has no blank line before its signatures")
    text = decoded[: separator + 1]
    signature_lines = decoded[separator + 2 :].removesuffix("\n").split("\n")
    if len(signature_lines) > MAX_SIGNATURES:
        raise ProofError(f"signed note has {len(signature_lines)} signatures; at most {MAX_SIGNATURES} are accepted")
    signatures: list[tuple[str, bytes]] = []
    for line in signature_lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise ProofError(f"malformed signature line {line!r}: expected '\u2014 NAME SIGNATURE'")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise ProofError(f"malformed signature for key {name!r}: {error}") from error
        if not name or not space or len(blob) < 5:
            raise ProofError(f"malformed signature line {line!r}")
        signatures.append((name, blob))
    return text, signatures


def verify_note(note: bytes, verifier_key: str) -> str:
    """Verify a signed note against one trusted key and return its text.

    Signatures from other keys are ignored, as the spec requires. Raises
    ProofError when no signature from the key is present (a foreign or missing
    signature) or when the key's signature does not verify.
    """
    key = VerifierKey.parse(verifier_key)
    text, signatures = split_note(note)
    public_key = Ed25519PublicKey.from_public_bytes(key.public_key)
    found = False
    for name, blob in signatures:
        if name != key.name or blob[:4] != key.key_id:
            continue
        found = True
        try:
            public_key.verify(blob[4:], text.encode("utf-8"))
        except InvalidSignature as error:
            raise ProofError(f"signature of key {key.name} ({key.key_id.hex()}) on the note is invalid") from error
    if not found:
        present = ", ".join(f"{name} ({blob[:4].hex()})" for name, blob in signatures)
        raise ProofError(f"note is not signed by key {key.name} ({key.key_id.hex()}); it is signed by {present}")
    return text
