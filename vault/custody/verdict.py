"""Frozen verdicts of ledger and audit-bundle verification, one field per separate check."""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of tampering a verifier names. Each problem carries one of these.
FIELD_CHANGED = "field changed"
ENTRY_DELETED = "entry deleted"
TRUNCATION = "truncation"
REORDER = "reorder"
FORGED_INSERTION = "forged insertion"
REWRITE = "rewrite"
ROLLBACK = "rollback"
FOREIGN_SIGNATURE = "foreign signature"
INVALID_SIGNATURE = "invalid signature"
INCONSISTENT_CHECKPOINT = "inconsistent checkpoint"
MALFORMED = "malformed"
STORED_COLUMN_CHANGED = "stored column changed"


@dataclass(frozen=True)
class Problem:
    """One finding: its kind, the first entry index it concerns (if any) and a message."""

    kind: str
    index: int | None
    message: str

    def __str__(self) -> str:
        where = f"entry {self.index}: " if self.index is not None else ""
        return f"{self.kind}: {where}{self.message}"


@dataclass(frozen=True)
class AuditVerdict:
    """The result of verifying a log's entries and checkpoints.

    `consistent_with_trusted` is None when no trusted checkpoint was given.
    `problems` lists every finding in the order the steps found them.
    `checkpoint_count` counts the log's own checkpoints (bundle or database),
    `storage_checkpoint_count` those read from independent WORM storage.
    """

    entry_count: int
    checkpoint_count: int
    latest_checkpoint_size: int | None
    entries_intact: bool
    chain_intact: bool
    root_matches_checkpoint: bool
    checkpoint_signature_valid: bool
    consistent_with_trusted: bool | None
    problems: tuple[Problem, ...]
    storage_checkpoint_count: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.entries_intact
            and self.chain_intact
            and self.root_matches_checkpoint
            and self.checkpoint_signature_valid
            and self.consistent_with_trusted is not False
            and not self.problems
        )

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(problem.kind for problem in self.problems))

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entry_count": self.entry_count,
            "checkpoint_count": self.checkpoint_count,
            "storage_checkpoint_count": self.storage_checkpoint_count,
            "latest_checkpoint_size": self.latest_checkpoint_size,
            "entries_intact": self.entries_intact,
            "chain_intact": self.chain_intact,
            "root_matches_checkpoint": self.root_matches_checkpoint,
            "checkpoint_signature_valid": self.checkpoint_signature_valid,
            "consistent_with_trusted": self.consistent_with_trusted,
            "problems": [{"kind": p.kind, "index": p.index, "message": p.message} for p in self.problems],
        }


# The live ledger check returns the same verdict type.
LedgerVerdict = AuditVerdict
