"""Offline verification of a log: entries, chain, Merkle roots and checkpoints.

Shared by `Ledger.verify` (database rows) and `audit.verify_bundle` (a bundle
directory). Everything is recomputed from the entry bytes; no stored hash is
trusted.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NamedTuple


from vault.custody import verdict as kinds
from vault.custody.checkpoint import SignedCheckpoint, open_checkpoint, read_checkpoint_unverified
from vault.custody.entry import GENESIS_HASH, canonical_json, entry_hash, parse_entry
from vault.custody.note import VerifierKey, split_note
from vault.custody.verdict import AuditVerdict, Problem
from vault.errors import InvalidInput, ProofError
from vault.hashing.merkle import MerkleTree, hash_leaf, verify_consistency

# Upper bound on (candidate positions x tree size) spent on locating a forged
# insertion whose chain was recomputed. Beyond it the finding is a plain rewrite.
MAX_INSERTION_SEARCH_WORK = 4_000_000


@dataclass(frozen=True)
class StoredColumns:
    """Columns the database keeps beside an entry's bytes, compared by `Ledger.verify`."""

    entry_hash: str
    leaf_hash: bytes
    actor: str
    action: str
    case_id: str | None
    item_id: str | None


def verify_log(
    entries: Sequence[tuple[int, bytes]],
    checkpoint_notes: Sequence[bytes],
    verifier_key: str,
    *,
    trusted_checkpoint: bytes | None = None,
    storage_notes: Sequence[bytes] = (),
    stored_columns: Sequence[StoredColumns] | None = None,
    canonical_check: bool = True,
) -> AuditVerdict:
    """Verify a log from its entries (stored index, bytes) in stored order.

    With `canonical_check=False`, step 1 reads only the index and previous
    hash from each entry's canonical tail instead of parsing the whole entry
    and comparing it with its RFC 8785 form. Every hash, link and root is still
    recomputed, so tampering is caught either way, but an entry the log itself
    wrote in a non-canonical form would pass.

    Steps:
    1. Parse every entry: UTF-8 JSON, the entry keys, RFC 8785 canonical form.
    2. Check that entry i is at position i (catches deletions, reorders, insertions).
    3. Check every chain link: `prev` of entry i is the hash of entry i-1.
    4. Compare the database's hash and query columns with the bytes (database only).
    5. Verify every checkpoint signature with the log's key.
    6. Recompute the Merkle root at each checkpoint's size.
    7. Check checkpoints from independent storage against the entries (rollback).
    8. Check consistency with the auditor's trusted checkpoint.
    """
    with _collector_paused():
        return _verify_log(
            entries, checkpoint_notes, verifier_key, trusted_checkpoint, storage_notes, stored_columns, canonical_check
        )


def _verify_log(
    entries: Sequence[tuple[int, bytes]],
    checkpoint_notes: Sequence[bytes],
    verifier_key: str,
    trusted_checkpoint: bytes | None,
    storage_notes: Sequence[bytes],
    stored_columns: Sequence[StoredColumns] | None,
    canonical_check: bool,
) -> AuditVerdict:
    key = VerifierKey.parse(verifier_key)
    problems: list[Problem] = []
    raws = [raw for _, raw in entries]
    count = len(raws)

    # 1. Parse every entry.
    scan = _scan_full(raws) if canonical_check else _scan_structure(raws)
    documents, hashes, leaves = scan.documents, scan.hashes, scan.leaves
    for position, error in scan.errors:
        problems.append(Problem(kinds.FIELD_CHANGED, position, f"entry bytes at position {position} are not a valid entry: {error}"))
    entries_intact = not problems

    # 2. Entry i at position i.
    index_problem = _check_positions(entries, documents)
    if index_problem is not None:
        problems.append(index_problem)
        entries_intact = False
    first_entry_problem = min((p.index for p in problems if p.index is not None), default=None)

    # 3. Chain links.
    chain_breaks: list[int] = []
    for position, document in enumerate(documents):
        if document is None:
            continue
        expected = GENESIS_HASH if position == 0 else hashes[position - 1]
        if document.prev != expected:
            chain_breaks.append(position)
    chain_intact = not chain_breaks
    if chain_breaks and (first_entry_problem is None or chain_breaks[0] < first_entry_problem):
        position = chain_breaks[0]
        changed = max(position - 1, 0)
        problems.append(
            Problem(
                kinds.FIELD_CHANGED,
                changed,
                f"entry {changed} was changed after it was written: entry {position} records the previous hash "
                f"{documents[position].prev} but entry {changed} now hashes to "  # type: ignore[index]
                f"{hashes[position - 1] if position else GENESIS_HASH} ({len(chain_breaks)} broken link(s) in all)",
            )
        )

    # 4. Database columns beside the bytes.
    if stored_columns is not None:
        problems.extend(_check_columns(raws, documents, hashes, stored_columns))

    # 5. Checkpoint signatures.
    checkpoints, signature_problems = _open_checkpoints(checkpoint_notes, verifier_key, key, "checkpoint")
    stored, storage_problems = _open_checkpoints(storage_notes, verifier_key, key, "checkpoint in storage")
    problems.extend(signature_problems + storage_problems)
    checkpoint_signature_valid = not signature_problems and not storage_problems

    # 6. Merkle roots at every checkpoint.
    tree = MerkleTree(leaves)
    entry_problem_found = any(p.index is not None for p in problems)
    root_problems = _check_roots(checkpoints, tree, documents, raws, kinds.TRUNCATION, entry_problem_found)
    problems.extend(root_problems)
    root_matches = not root_problems and all(cp.size <= count and tree.root(cp.size) == cp.root for cp in checkpoints)

    # 7. Checkpoints held by independent storage.
    rollback_problems = _check_roots(stored, tree, documents, raws, kinds.ROLLBACK, entry_problem_found or bool(root_problems))
    problems.extend(rollback_problems)
    if rollback_problems:
        root_matches = False

    # 8. Trusted checkpoint.
    consistent_with_trusted: bool | None = None
    if trusted_checkpoint is not None:
        trusted_problem = _check_trusted(trusted_checkpoint, verifier_key, key, tree, checkpoints + stored)
        consistent_with_trusted = trusted_problem is None
        if trusted_problem is not None:
            problems.append(trusted_problem)

    all_checkpoints = checkpoints + stored
    return AuditVerdict(
        entry_count=count,
        checkpoint_count=len(checkpoint_notes),
        storage_checkpoint_count=len(storage_notes),
        latest_checkpoint_size=max((cp.size for cp in all_checkpoints), default=None),
        entries_intact=entries_intact,
        chain_intact=chain_intact,
        root_matches_checkpoint=root_matches,
        checkpoint_signature_valid=checkpoint_signature_valid,
        consistent_with_trusted=consistent_with_trusted,
        problems=tuple(problems),
    )


class _Fields(NamedTuple):
    """The fields of a parsed entry that verification compares."""

    index: int
    prev: str
    actor: str
    action: str
    case: str | None
    item: str | None


@dataclass
class _Scan:
    """Step 1's results, one list element per entry, plus (position, message) for each malformed entry."""

    documents: "list[_Fields | None]" = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while millions of short-lived objects are made.

    Parsing builds several objects per entry and none of them form reference
    cycles, so the collector's repeated walks over every live object only cost
    time: about a quarter of the verification at 1,000,000 entries. Reference
    counting still frees everything, and the previous collector state is
    restored afterwards.

    NOTE: the pause is process-wide. In the API server, other requests cannot
    collect reference cycles while a verification runs (seconds per million
    entries), so their cyclic garbage waits until it ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_LEAF_PREFIX = b"\x00"  # RFC 6962 leaf hash prefix, as in vault.hashing.merkle.hash_leaf


def _scan_full(raws: list[bytes]) -> _Scan:
    """Parse every entry, checking its RFC 8785 form, and hash it for the chain and the tree."""
    scan = _Scan()
    add_document, add_hash, add_leaf = scan.documents.append, scan.hashes.append, scan.leaves.append
    sha256 = hashlib.sha256
    for position, raw in enumerate(raws):
        add_hash("sha256:" + sha256(raw).hexdigest())
        leaf = sha256(_LEAF_PREFIX)
        leaf.update(raw)
        add_leaf(leaf.digest())
        try:
            document = parse_entry(raw)
        except InvalidInput as error:
            add_document(None)
            scan.errors.append((position, str(error)))
            continue
        add_document(_Fields(document["index"], document["prev"], document["actor"], document["action"], document["case"], document["item"]))
    return scan


# The end of every canonical entry: the keys after "details" in RFC 8785 order.
_CANONICAL_TAIL = re.compile(
    rb',"index":(0|[1-9][0-9]*),"item":(?:null|"[^"\\]*"),"prev":"(sha256:[0-9a-f]{64})",'
    rb'"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z","version":1}\Z'
)


def _scan_structure(raws: list[bytes]) -> _Scan:
    """Hash entries and read index and prev from their canonical tail, without a full parse.

    An entry whose tail does not match is parsed in full, so a malformed entry
    is still reported. Actor, action, case and item are not read.
    """
    search = _CANONICAL_TAIL.search
    sha256 = hashlib.sha256
    scan = _Scan()
    add_document, add_hash, add_leaf = scan.documents.append, scan.hashes.append, scan.leaves.append
    for position, raw in enumerate(raws):
        match = search(raw, max(0, len(raw) - 300))
        if match is None or not raw.startswith(b'{"action":'):
            single = _scan_full([raw])
            add_document(single.documents[0])
            add_hash(single.hashes[0])
            add_leaf(single.leaves[0])
            scan.errors.extend((position, message) for _, message in single.errors)
            continue
        leaf = sha256(_LEAF_PREFIX)
        leaf.update(raw)
        add_document(_Fields(int(match[1]), match[2].decode("ascii"), "", "", None, None))
        add_hash("sha256:" + sha256(raw).hexdigest())
        add_leaf(leaf.digest())
    return scan


def _check_positions(entries: Sequence[tuple[int, bytes]], documents: "list[_Fields | None]") -> Problem | None:
    """Return the first position whose entry carries another index than the position."""
    # The common case, every entry in its place, in one comparison instead of the search below.
    if (all(document is not None for document in documents)
            and [document.index for document in documents] == list(range(len(documents)))  # type: ignore[union-attr]
            and [stored for stored, _ in entries] == list(range(len(entries)))):
        return None
    positions_by_index: dict[int, list[int]] = {}
    for position, document in enumerate(documents):
        if document is not None:
            positions_by_index.setdefault(document.index, []).append(position)

    for position, document in enumerate(documents):
        if document is None:
            continue
        claimed = document.index
        if len(positions_by_index.get(claimed, [])) > 1:
            where = ", ".join(str(p) for p in positions_by_index[claimed])
            return Problem(kinds.FORGED_INSERTION, claimed, f"entries at positions {where} all claim index {claimed}; all but one were inserted")
        if claimed == position:
            continue
        if claimed > position and position not in positions_by_index:
            missing = [i for i in range(position, claimed) if i not in positions_by_index]
            span = f"{missing[0]}" if len(missing) == 1 else f"{missing[0]}..{missing[-1]}"
            return Problem(kinds.ENTRY_DELETED, position, f"entry {span} is missing: the entry stored at position {position} has index {claimed}")
        if position in positions_by_index:
            elsewhere = positions_by_index[position][0]
            return Problem(kinds.REORDER, position, f"entries were reordered: position {position} holds entry {claimed} and entry {position} is at position {elsewhere}")
        return Problem(kinds.FORGED_INSERTION, position, f"the entry at position {position} claims index {claimed}, which belongs elsewhere")

    for position, (stored_index, _raw) in enumerate(entries):
        if stored_index != position:
            return Problem(kinds.ENTRY_DELETED, position, f"the stored index column skips from {position - 1} to {stored_index}")
    return None


def _check_columns(
    raws: list[bytes], documents: "list[_Fields | None]", hashes: list[str], columns: Sequence[StoredColumns]
) -> list[Problem]:
    problems: list[Problem] = []
    for position, (raw, document, computed, stored) in enumerate(zip(raws, documents, hashes, columns)):
        if stored.entry_hash != computed:
            problems.append(Problem(kinds.STORED_COLUMN_CHANGED, position, f"entry_hash column is {stored.entry_hash}, the bytes hash to {computed}"))
        elif stored.leaf_hash != hash_leaf(raw):
            problems.append(Problem(kinds.STORED_COLUMN_CHANGED, position, f"leaf_hash column is {stored.leaf_hash.hex()}, expected {hash_leaf(raw).hex()}"))
        elif document is not None and (
            (stored.actor, stored.action, stored.case_id, stored.item_id)
            != (document.actor, document.action, document.case, document.item)
        ):
            problems.append(Problem(kinds.STORED_COLUMN_CHANGED, position, "actor, action, case or item column differs from the entry bytes"))
        if problems:
            break
    return problems


def _open_checkpoints(
    notes: Sequence[bytes], verifier_key: str, key: VerifierKey, what: str
) -> tuple[list[SignedCheckpoint], list[Problem]]:
    opened: list[SignedCheckpoint] = []
    problems: list[Problem] = []
    for note in notes:
        try:
            opened.append(open_checkpoint(note, verifier_key, key.name))
        except ProofError as error:
            problems.append(_signature_problem(note, key, what, error))
    opened.sort(key=lambda checkpoint: checkpoint.size)
    return opened, problems


def _signature_problem(note: bytes, key: VerifierKey, what: str, error: ProofError) -> Problem:
    try:
        size = str(read_checkpoint_unverified(note).size)
        _text, signatures = split_note(note)
    except ProofError:
        return Problem(kinds.MALFORMED, None, f"a {what} is malformed: {error}")
    ours = any(name == key.name and blob[:4] == key.key_id for name, blob in signatures)
    if ours:
        return Problem(kinds.INVALID_SIGNATURE, None, f"{what} {size}: {error}")
    return Problem(kinds.FOREIGN_SIGNATURE, None, f"{what} {size} is not signed by the log key {key.name}+{key.key_id.hex()}: {error}")


def _check_roots(
    checkpoints: list[SignedCheckpoint],
    tree: MerkleTree,
    documents: "list[_Fields | None]",
    raws: list[bytes],
    beyond_kind: str,
    explained: bool,
) -> list[Problem]:
    """Compare each checkpoint root with the recomputed tree; report only the first disagreement."""
    count = tree.size
    matching = 0
    for checkpoint in checkpoints:
        if checkpoint.size > count:
            # The checkpoints are sorted by size, so the last one shows how many entries are gone.
            latest = checkpoints[-1].size
            if beyond_kind == kinds.ROLLBACK:
                message = (
                    f"storage holds checkpoint {latest} but only {count} entries are present: the database "
                    "was restored from an older copy or truncated"
                )
            else:
                message = f"checkpoint {latest} is signed but only {count} entries are present: entries {count}..{latest - 1} were removed"
            return [Problem(beyond_kind, count, message)]
        if tree.root(checkpoint.size) == checkpoint.root:
            matching = checkpoint.size
            continue
        if explained:
            return [Problem(kinds.INCONSISTENT_CHECKPOINT, matching, f"checkpoint {checkpoint.size} root differs from the entries, as the findings above explain")]
        forged = _locate_insertion(checkpoint, tree, documents, raws, matching)
        if forged is not None:
            return [Problem(kinds.FORGED_INSERTION, forged, f"entry {forged} was inserted and the entries after it renumbered and re-chained; without it the entries match checkpoint {checkpoint.size}")]
        return [
            Problem(
                kinds.REWRITE,
                matching,
                f"entries {matching}..{checkpoint.size - 1} differ from signed checkpoint {checkpoint.size} although the chain is intact "
                f"(checkpoint {matching} matches): an entry in that range was changed and the chain recomputed",
            )
        ]
    return []


def _locate_insertion(
    checkpoint: SignedCheckpoint, tree: MerkleTree, documents: "list[_Fields | None]", raws: list[bytes], first: int
) -> int | None:
    """Find a position whose removal (with the original numbering and chain restored) yields the checkpoint root."""
    size = checkpoint.size
    # An insertion inside the checkpoint leaves at least `size` + 1 entries. When the newest entry is
    # inside the checkpoint, nothing was inserted and the caller reports a rewrite.
    if size >= len(raws) or (size - first) * size > MAX_INSERTION_SEARCH_WORK:
        return None
    if any(document is None for document in documents[first : size + 1]):
        return None
    prefix = [tree.leaf(i) for i in range(size)]
    for candidate in range(first, size):
        prev = GENESIS_HASH if candidate == 0 else entry_hash(raws[candidate - 1])
        leaves = prefix[:candidate]
        for position in range(candidate + 1, size + 1):
            restored = parse_entry(raws[position])
            restored["index"] = position - 1
            restored["prev"] = prev
            raw = canonical_json(restored)
            prev = entry_hash(raw)
            leaves.append(hash_leaf(raw))
        if MerkleTree(leaves).root() == checkpoint.root:
            return candidate
    return None


def _check_trusted(
    note: bytes, verifier_key: str, key: VerifierKey, tree: MerkleTree, checkpoints: list[SignedCheckpoint]
) -> Problem | None:
    try:
        trusted = open_checkpoint(note, verifier_key, key.name)
    except ProofError as error:
        return _signature_problem(note, key, "trusted checkpoint", error)
    if trusted.size > tree.size:
        return Problem(
            kinds.ROLLBACK,
            tree.size,
            f"your trusted checkpoint covers {trusted.size} entries but the log has {tree.size}: it was truncated or rolled back",
        )
    later = [cp for cp in checkpoints if cp.size >= trusted.size and tree.root(cp.size) == cp.root]
    newest = later[-1] if later else SignedCheckpoint(key.name, tree.size, tree.root(), b"")
    proof = tree.consistency_proof(trusted.size, newest.size)
    try:
        if trusted.size == 0 or trusted.size == newest.size:
            # An empty tree is a prefix of every tree; only its root can be wrong.
            expected = tree.root(0) if trusted.size == 0 else newest.root
            if trusted.root != expected:
                raise ProofError("roots differ", expected=trusted.root.hex(), computed=expected.hex())
        else:
            verify_consistency(trusted.size, newest.size, trusted.root, newest.root, proof)
    except ProofError as error:
        return Problem(
            kinds.INCONSISTENT_CHECKPOINT,
            None,
            f"your trusted checkpoint {trusted.size} is not consistent with the log at size {newest.size}: "
            f"the history of entries 0..{trusted.size - 1} was rewritten or forked ({error})",
        )
    return None
