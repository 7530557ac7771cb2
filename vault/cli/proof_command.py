"""`evidence-vault log verify-proof`: check a `log proof` receipt offline, without the server."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vault.cli.audit_commands import read_verifier_key
from vault.cli.client import ApiError
from vault.cli.output import emit
from vault.errors import InvalidInput


def _read_receipt(path: Path) -> str:
    """Return the receipt text of a file written by `log proof`, or by `log proof --json`."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"receipt file {path} is not UTF-8 text ({error}); pass the output of 'evidence-vault log proof ENTRY'") from None
    if text.lstrip().startswith("{"):
        try:
            proof = json.loads(text)["proof"]
        except (ValueError, KeyError, TypeError, RecursionError):
            proof = None
        if not isinstance(proof, str):
            raise InvalidInput(f"receipt file {path} is JSON without a 'proof' string; pass the output of "
                               "'evidence-vault log proof ENTRY'")
        return proof
    return text


def _decode_entry(data: bytes | None) -> dict | None:
    try:
        return json.loads(data) if data is not None else None
    except ValueError:
        return None


def verify_proof(receipt_file: str | None, key: str | None, entry_file: Path | None, as_json: bool) -> None:
    """Check a receipt's checkpoint signature and inclusion proof; print the verdict and raise ApiError when it fails."""
    from vault.custody.proof import check_receipt

    if receipt_file is None:
        raise InvalidInput("missing receipt file: evidence-vault log verify-proof RECEIPT_FILE --key KEY")
    if key is None:
        raise InvalidInput("missing --key: pass the log's verifier key, or a file holding it, from a source other than "
                           "the receipt ('serve' prints it after 'ledger key:', and an audit bundle has key.vkey)")
    path = Path(receipt_file)
    if not path.is_file():
        raise InvalidInput(f"receipt file {path} not found; write one with: evidence-vault log proof ENTRY > receipt.txt")
    entry = entry_file.read_bytes() if entry_file is not None else None

    verdict = check_receipt(_read_receipt(path), read_verifier_key(key), entry)
    checkpoint = verdict.checkpoint
    result = {
        "receipt": str(path),
        "index": verdict.receipt.index if verdict.receipt else None,
        "origin": checkpoint.origin if checkpoint else None,
        "tree_size": checkpoint.size if checkpoint else None,
        "root": "sha256:" + checkpoint.root.hex() if checkpoint else None,
        "checkpoint_signed": verdict.checkpoint_signed,
        "entry_included": verdict.entry_included,
        "entry": _decode_entry(verdict.entry) if verdict.ok else None,
        "problems": list(verdict.problems),
        "ok": verdict.ok,
    }
    emit(result, as_json, _render)
    if not verdict.ok:
        raise ApiError(f"receipt {path} failed verification: {verdict.problems[0]}")


def _render(result: dict) -> None:
    if result["index"] is not None:
        typer.echo(f"receipt for ledger entry #{result['index']}")
    if result["checkpoint_signed"]:
        typer.echo(f"checkpoint: signature valid; {result['origin']}, size {result['tree_size']}, root {result['root']}")
    else:
        typer.echo("checkpoint: NOT TRUSTED")
    if result["entry_included"]:
        typer.echo(f"inclusion proof: valid, entry #{result['index']} is in the signed tree")
    else:
        typer.echo("inclusion proof: " + ("NOT PROVEN" if result["checkpoint_signed"] else "not checked"))
    entry = result["entry"]
    if entry is not None:
        typer.echo(f"entry: {entry.get('time')}  {entry.get('actor')}  {entry.get('action')}  item {entry.get('item') or 'none'}")
    for problem in result["problems"]:
        typer.secho(f"problem: {problem}", fg="red")
    typer.echo("RECEIPT VERIFIED" if result["ok"] else "RECEIPT FAILED")
