"""The vault's own exceptions.

Every subpackage raises these, never a botocore, SQLAlchemy or HTTP exception:
outside errors are translated where they enter the vault. The API turns a
`VaultError` into a response with `http_status`; the CLI prints `str(error)`
on one line.

    VaultError
    ├── InvalidInput        (400) a value the caller sent is malformed
    ├── Unauthenticated     (401) no valid API token came with the request
    ├── PermissionDenied    (403) the caller's role does not allow the operation
    ├── NotFound            (404) no such case, item, entry or object
    ├── Conflict            (409) the request contradicts the current state
    ├── HashMismatch        (422) a declared digest differs from the computed one
    ├── ProofError          (422) a Merkle proof or signature does not verify
    ├── StorageError        (502) the object store failed or returned a wrong response
    │   └── WormCheckFailed (503) the bucket does not enforce write-once
    └── LedgerError         (500) the custody ledger could not be written or read
"""

from __future__ import annotations


class VaultError(Exception):
    """Base of all errors the vault raises on purpose."""

    http_status = 500
    code = "vault_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message}


class InvalidInput(VaultError):
    http_status = 400
    code = "invalid_input"


class Unauthenticated(VaultError):
    http_status = 401
    code = "unauthenticated"


class PermissionDenied(VaultError):
    http_status = 403
    code = "permission_denied"


class NotFound(VaultError):
    http_status = 404
    code = "not_found"


class Conflict(VaultError):
    http_status = 409
    code = "conflict"


class HashMismatch(VaultError):
    """A declared digest differs from the one the vault computed."""

    http_status = 422
    code = "hash_mismatch"

    def __init__(self, subject: str, expected: str, computed: str, hint: str = "") -> None:
        message = f"{subject}: expected {expected}, computed {computed}"
        if hint:
            message += f". {hint}"
        super().__init__(message)
        self.subject = subject
        self.expected = expected
        self.computed = computed

    def to_dict(self) -> dict:
        return {**super().to_dict(), "expected": self.expected, "computed": self.computed}


class ProofError(VaultError):
    """A Merkle proof, chain link or signature does not verify."""

    http_status = 422
    code = "proof_invalid"

    def __init__(self, message: str, expected: str | None = None, computed: str | None = None) -> None:
        if expected is not None and computed is not None:
            message = f"{message}: expected {expected}, computed {computed}"
        super().__init__(message)
        self.expected = expected
        self.computed = computed


class StorageError(VaultError):
    http_status = 502
    code = "storage_error"


class WormCheckFailed(StorageError):
    http_status = 503
    code = "worm_check_failed"


class LedgerError(VaultError):
    http_status = 500
    code = "ledger_error"
