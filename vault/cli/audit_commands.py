"""`evidence-vault audit …`: export the ledger and verify it without trusting the server."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Optional

import typer

from vault.cli.client import ApiError, VaultClient
from vault.cli.output import emit


def _fetch(client: VaultClient) -> tuple[list[bytes], list[bytes], str]:
    entries: list[bytes] = []
    start = 0
    while True:
        page = client.json("GET", "/v1/ledger/entries", params={"start": start})
        entries.extend(base64.b64decode(e) for e in page["entries"])
        if page["end"] >= page["size"] or not page["entries"]:
            break
        start = page["end"]
    notes = [n.encode("utf-8") for n in client.json("GET", "/v1/ledger/checkpoints")["checkpoints"]]
    key = client.request("GET", "/v1/ledger/key").text.strip()
    return entries, notes, key


def read_verifier_key(key: str) -> str:
    path = Path(key)
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if "+" not in key:
        # A verifier key is NAME+KEYID+BASE64, so a value without "+" was meant as a file.
        raise ApiError(f"verifier key file {key} not found; pass the key file (key.vkey) or the key itself, "
                       "as 'serve' prints it after 'ledger key:'")
    return key.strip()


# The separate verdicts of an AuditVerdict, in the words an auditor reads, with the JSON key beside them.
VERDICT_LABELS = {
    "entries_intact": "entries well-formed, each at its index",
    "chain_intact": "hash chain intact",
    "root_matches_checkpoint": "Merkle roots match the signed checkpoints",
    "checkpoint_signature_valid": "checkpoint signatures valid",
    "consistent_with_trusted": "consistent with the trusted checkpoint",
}


def _render(verdict: dict) -> None:
    entries = verdict.get("entry_count")
    signed = verdict.get("latest_checkpoint_size") or 0
    line = f"entries: {entries}, newest signed checkpoint covers {signed}"
    if entries is not None and entries > signed:
        line += f" ({entries - signed} newer entries not yet under a signed checkpoint)"
    typer.echo(line)
    if "stored_checkpoints" in verdict:
        typer.echo(f"checkpoints in WORM storage: {verdict['stored_checkpoints']}")
    for name, label in VERDICT_LABELS.items():
        value = verdict.get(name)
        if value is None:
            value_text = "not checked (no --trusted-checkpoint given)" if name == "consistent_with_trusted" else "not checked"
        else:
            value_text = "yes" if value else "NO"
        typer.echo(f"{label} ({name}): {value_text}")
    for problem in verdict.get("problems", []):
        typer.secho(f"problem: {_describe(problem)}", fg="red")
    typer.echo("AUDIT PASSED" if verdict.get("ok") else "AUDIT FAILED")


def _describe(problem: dict) -> str:
    where = f"entry {problem['index']}: " if problem.get("index") is not None else ""
    return f"{problem['kind']}: {where}{problem['message']}"


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Export the custody ledger and verify it offline.", no_args_is_help=True)
    app.add_typer(group, name="audit")

    @group.command("export")
    def export(
        output: Path = typer.Option(..., "-o", "--output", help="Bundle directory to create (must not exist)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Write the entries exactly as stored, every signed checkpoint and the log's public key."""
        from vault.custody.audit import export_bundle

        if output.exists():
            raise ApiError(f"{output} already exists; choose a new bundle directory")
        with VaultClient() as client:
            entries, notes, key = _fetch(client)
        export_bundle(entries, notes, key, output)
        result = {"bundle": str(output), "entries": len(entries), "checkpoints": len(notes), "verifier_key": key}
        emit(result, as_json, lambda r: typer.echo(f"exported {r['entries']} entries and {r['checkpoints']} checkpoints to {r['bundle']}"))

    @group.command("verify")
    def verify(
        bundle: Optional[Path] = typer.Argument(None, help="Bundle directory from 'audit export' (omit with --live)."),
        key: str = typer.Option(..., "--key", help="The log's verifier key, or a file holding it (key.vkey). "
                                "Take it from a source you trust, not only from the bundle."),
        trusted_checkpoint: Optional[Path] = typer.Option(None, "--trusted-checkpoint", help="A checkpoint you saved "
                                                          "earlier; the ledger must be consistent with it."),
        live: bool = typer.Option(False, "--live", help="Fetch the ledger from the running vault and also compare it "
                                  "with the checkpoints held in WORM storage."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Recompute every leaf, chain link and Merkle root and check the checkpoint signatures; exit 1 on any failure."""
        from vault.custody.audit import export_bundle, verify_bundle

        verifier_key = read_verifier_key(key)
        trusted = trusted_checkpoint.read_bytes() if trusted_checkpoint else None
        if live:
            with VaultClient() as client, tempfile.TemporaryDirectory() as scratch:
                entries, notes, _ = _fetch(client)
                stored = client.json("GET", "/v1/ledger/stored-checkpoints")["checkpoints"]
                target = Path(scratch) / "bundle"
                export_bundle(entries, notes, verifier_key, target)
                storage_notes = [entry["note"].encode("utf-8") for entry in stored]
                verdict = verify_bundle(target, verifier_key, trusted, storage_notes=storage_notes).to_dict()
                verdict["stored_checkpoints"] = len(stored)
        else:
            if bundle is None:
                raise ApiError("missing bundle directory: evidence-vault audit verify BUNDLE --key KEY (or --live)")
            verdict = verify_bundle(bundle, verifier_key, trusted).to_dict()
        emit(verdict, as_json, _render)
        if not verdict.get("ok"):
            problems = verdict.get("problems") or []
            first = _describe(problems[0]) if problems else "see the verdict above"
            raise ApiError(f"audit failed: {first}")
