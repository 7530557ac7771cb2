"""Item commands: upload, show, download, verify, verify-range, report, log."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from vault.cli.client import ApiError, VaultClient
from vault.cli.output import emit
from vault.services.summary import summarize_entry
from vault.errors import HashMismatch, InvalidInput
from vault.hashing.digest import Digest
from vault.services.manifest import MANIFEST_HEADER, FileSpec, UploadManifest

CHUNK = 1 << 20


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
        transient=True, disable=not os.isatty(2),
    )


def _render_item(item: dict) -> None:
    if item.get("kind") == "physical":
        _render_physical_item(item)
        return
    names = ", ".join(f["name"] for f in item["files"])
    typer.echo(f"item {item['id']}  ({item['status']})")
    typer.echo(f"  case: {item['case']}")
    typer.echo(f"  files: {names}")
    typer.echo(f"  size: {item['size']} bytes" + ("  [EMPTY: 0 bytes acquired]" if item.get("empty") else ""))
    for key in ("sha256", "md5", "sha1"):
        if item.get(key):
            typer.echo(f"  {key}: {item[key]}")
    if item.get("merkle_root"):
        typer.echo(f"  merkle root: {item['merkle_root']} (leaf size {item['leaf_size']} bytes)")
    if item.get("media_hashes"):
        typer.echo(f"  media hashes: {', '.join(item['media_hashes'])}")
    check = item.get("container_check")
    if check:
        typer.echo(f"  container check ({check.get('format')}): {check.get('verdict')}; stored {', '.join(check.get('stored', [])) or 'none'}")
    declared = item.get("declared_hashes") or {}
    for kind, values in declared.items():
        if values:
            typer.echo(f"  declared {kind}: {', '.join(values)}")
    typer.echo(f"  retention: {item['retention_mode']} until {item['retain_until']}; legal hold: {'on' if item['legal_hold'] else 'off'}")
    for f in item["files"]:
        typer.echo(f"  file {f['file_no']}: {f['name']}  {f['size']} bytes  {f['sha256']}")
        typer.echo(f"    stored: s3://{f['bucket']}/{f['object_key']} version {f['version_id']}")
    for warning in item.get("warnings") or []:
        typer.secho(f"  warning: {warning}", fg="yellow")
    for problem in item.get("record_problems") or []:
        typer.secho(f"  problem: {problem}", fg="red")


def _render_physical_item(item: dict) -> None:
    details = item.get("physical_details") or {}
    typer.echo(f"item {item['id']}  ({item['status']}, physical item: no stored bytes)")
    typer.echo(f"  case: {item['case']}")
    typer.echo(f"  description: {item.get('description') or 'not recorded'}")
    typer.echo(f"  location: {details.get('location') or 'not recorded'}")
    typer.echo(f"  seal: {details.get('seal') or 'none recorded'}")
    identifiers = details.get("identifiers") or {}
    if identifiers:
        typer.echo("  identifiers: " + ", ".join(f"{key}={value}" for key, value in identifiers.items()))
    if item.get("registration_entry") is not None:
        moves = item.get("moves") or 0
        typer.echo(f"  registered: ledger entry #{item['registration_entry']}; {moves} move{'' if moves == 1 else 's'} recorded since")
    typer.echo(f"  kept until: {item['retain_until']} (disposal is refused before then); legal hold: {'on' if item['legal_hold'] else 'off'}")
    for problem in item.get("record_problems") or []:
        typer.secho(f"  problem: {problem}", fg="red")


def _body(files: list[tuple[Path, int]], progress: Progress, task) -> Iterator[bytes]:
    """Yield each file's bytes in order, exactly as many as the manifest declares for it.

    The request carries a Content-Length, which spares both sides the chunked
    transfer framing (a copy of every chunk). A file that changed size since
    the manifest was made is an error, and the server then aborts the upload.
    Each file's last chunk is held back until the size check passes, because
    once the server has every declared byte it stores the item.
    """
    for path, declared in files:
        read = 0
        pending_chunk = b""
        with path.open("rb") as handle:
            while read < declared and (chunk := handle.read(min(CHUNK, declared - read))):
                read += len(chunk)
                if pending_chunk:
                    progress.update(task, advance=len(pending_chunk))
                    yield pending_chunk
                pending_chunk = chunk
            grew = handle.read(1)
        if read != declared or grew:
            now = path.stat().st_size
            raise InvalidInput(
                f"{path} changed size during the upload (was {declared} bytes, now {now}); "
                "nothing was stored. Upload it again once nothing writes to it"
            )
        if pending_chunk:
            progress.update(task, advance=len(pending_chunk))
            yield pending_chunk


def _acquisition_record(path: Path | None) -> dict | None:
    """Read an acquisition record file and check it here, so a mistake fails before any byte is sent."""
    if path is None:
        return None
    import json

    from vault.services.records.acquisition import validate_acquisition

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise InvalidInput(f"invalid JSON in acquisition record {path}: {error}") from None
    validate_acquisition(document)
    return document


def _require_complete_ewf_set(last: Path, gaps: tuple[str, ...]) -> None:
    """Raise InvalidInput when segments are missing before or between those given, or the last one given
    is followed by another, before any byte is sent.

    Evidence is stored under COMPLIANCE retention, so an incomplete set
    uploaded by mistake would stay locked, flagged, for the whole retention period.
    """
    from vault.hashing.segment_ends import missing_next_segment

    if gaps:
        raise InvalidInput(f"incomplete EWF set: {gaps[0]}; pass all segments of the set, or --allow-incomplete "
                           "to store it as it is (flagged, under retention)")
    missing = missing_next_segment(last)
    if missing is None:
        return
    raise InvalidInput(
        f"incomplete EWF set: {last.name} ends with a 'next' section, so segment {missing} must follow it; "
        "pass all segments of the set, or --allow-incomplete to store it as it is (flagged, under retention)"
    )


def _require_stored_files(item: dict) -> None:
    if item.get("kind") == "physical":
        raise InvalidInput(f"item {item['id']} is a physical item and has no stored files to download or prove; "
                           f"see its location and seal with: evidence-vault show {item['id']}")


def _digests(values: list[str]) -> tuple[Digest, ...]:
    return tuple(Digest.parse(v) for v in values)


def register(app: typer.Typer) -> None:
    @app.command()
    def upload(
        files: list[Path] = typer.Argument(..., help="Evidence file, or all segments of one set (E01/E02…, .000/.001…).",
                                           exists=True, dir_okay=False, readable=True),
        case: str = typer.Option(..., "--case", help="Reference of the case the item belongs to."),
        expect: list[str] = typer.Option([], "--expect", help="Hash the analyst declares for the file (or the whole set), "
                                         "ALGORITHM:HEX with md5, sha1 or sha256; a mismatch refuses the upload."),
        acquisition_hash: list[str] = typer.Option([], "--acquisition-hash", help="Media hash from the imaging log, "
                                                   "compared with the decoded media (E01) or the bytes; a mismatch flags the item."),
        description: str = typer.Option("", "--description", help="What the item is, for the record."),
        acquisition: Optional[Path] = typer.Option(None, "--acquisition", exists=True, dir_okay=False,
                                                   help="Acquisition record (JSON file): examiner, time and time zone, place, "
                                                   "source device, tool, method, write blocker, hashes, read errors, completed."),
        md5: bool = typer.Option(False, "--md5", help="Also compute MD5 on the server."),
        sha1: bool = typer.Option(False, "--sha1", help="Also compute SHA-1 on the server."),
        allow_incomplete: bool = typer.Option(False, "--allow-incomplete", help="Upload an EWF set that lacks segments "
                                              "(after, before or between those given); the item is stored and flagged."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Stream evidence into the vault as one item; the server hashes it and stores it write-once."""
        from vault.hashing.segments import order_segments

        segment_set = order_segments(files)
        ordered = list(segment_set.paths)
        if segment_set.kind == "ewf" and not allow_incomplete:
            _require_complete_ewf_set(ordered[-1], segment_set.warnings)
        if ordered != list(files):
            typer.echo("uploading in segment order: " + ", ".join(p.name for p in ordered), err=True)
        for warning in segment_set.warnings:
            typer.secho(f"warning: {warning}", fg="yellow", err=True)
        manifest = UploadManifest(
            files=tuple(FileSpec(p.name, p.stat().st_size) for p in ordered),
            expect=_digests(expect),
            acquisition_hash=_digests(acquisition_hash),
            description=description,
            algorithms=tuple(a for a, on in (("md5", md5), ("sha1", sha1)) if on),
            acquisition=_acquisition_record(acquisition),
        )
        with VaultClient() as client, _progress() as progress:
            task = progress.add_task("upload", total=manifest.total_size)
            item = client.json(
                "POST", f"/v1/cases/{case}/items",
                content=_body([(path, spec.size) for path, spec in zip(ordered, manifest.files)], progress, task),
                headers={
                    MANIFEST_HEADER: manifest.encode(),
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(manifest.total_size),
                },
            )
        emit(item, as_json, _render_item)

    @app.command()
    def show(item_id: str = typer.Argument(..., help="Item id."), as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Show an item: metadata, hashes, storage version and retention (the view is recorded)."""
        with VaultClient() as client:
            item = client.json("GET", f"/v1/items/{item_id}")
        emit(item, as_json, _render_item)

    @app.command()
    def download(
        item_id: str = typer.Argument(..., help="Item id."),
        output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file (one-file item) or directory (a set); "
                                              "default: the original name(s) in the current directory."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Stream an item back, checking SHA-256 while writing; a mismatch deletes the partial file and fails."""
        written = []
        with VaultClient() as client:
            item = client.json("GET", f"/v1/items/{item_id}")
            _require_stored_files(item)
            files = item["files"]
            if len(files) > 1 and output is not None:
                output.mkdir(parents=True, exist_ok=True)  # a segment set is written as one folder
            for entry in files:
                if len(files) == 1 and output is not None and not output.is_dir():
                    target = output
                else:
                    target = (output or Path(".")) / entry["name"]
                written.append(_download_file(client, item_id, entry, target, force))
        result = {"item": item_id, "files": written}
        emit(result, as_json, lambda r: [typer.echo(f"{f['path']}  {f['sha256']}  OK") for f in r["files"]])

    @app.command()
    def verify(item_id: str = typer.Argument(..., help="Item id."), as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Re-read the stored bytes, recompute SHA-256 and Merkle roots, and check the ledger; exit 1 on any disagreement."""
        with VaultClient() as client:
            verdict = client.json("POST", f"/v1/items/{item_id}/verify")

        def render(v: dict) -> None:
            for note in v.get("notes") or []:
                typer.echo(note)
            if v.get("kind") == "physical":
                typer.echo(f"records: {'match the ledger' if v['records_intact'] else 'DIFFER FROM THE LEDGER'}")
            for f in v["files"]:
                state = "intact" if f["bytes_intact"] and f["merkle_intact"] and f["leaves_intact"] else "ALTERED"
                typer.echo(f"file {f['file_no']} {f['name']}: bytes {state}  {f['computed_sha256']}  retention {f['retention_mode']} until {f['retain_until']}")
            typer.echo(f"ledger: {'chain intact' if v['chain_intact'] else 'CHAIN BROKEN'}")
            for problem in v["problems"]:
                typer.secho(f"problem: {problem}", fg="red")
            typer.echo("VERIFIED" if v["ok"] else "FAILED")

        emit(verdict, as_json, render)
        if not verdict["ok"]:
            first = verdict["problems"][0] if verdict["problems"] else "verification failed"
            raise ApiError(f"item {item_id} failed verification: {first}")

    @app.command("verify-range")
    def verify_range_command(
        item_id: str = typer.Argument(..., help="Item id."),
        offset: int = typer.Option(..., "--offset", help="First byte of the range."),
        length: int = typer.Option(..., "--length", help="Number of bytes."),
        file_no: int = typer.Option(0, "--file", help="File number within the item (0 for the first)."),
        output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the proven bytes here."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Download only the leaves covering a byte range and prove them against the Merkle root recorded at intake."""
        from vault.hashing.ranges import RangeProof, verify_range

        with VaultClient() as client:
            item = client.json("GET", f"/v1/items/{item_id}")
            _require_stored_files(item)
            entry = next((f for f in item["files"] if f["file_no"] == file_no), None)
            if entry is None:
                raise InvalidInput(f"item {item_id} has no file number {file_no}")
            recorded_root = Digest.parse(entry["merkle_root"])
            answer = client.json("GET", f"/v1/items/{item_id}/files/{file_no}/range-proof", params={"offset": offset, "length": length})
            proof = RangeProof.from_json(answer["proof"])
            start, span = proof.covering_span()
            covering = client.request("GET", f"/v1/items/{item_id}/files/{file_no}/content",
                                      params={"offset": start, "length": span}).content
        data = verify_range(covering, proof, recorded_root)
        if output is not None:
            output.write_bytes(data)
        result = {
            "item": item_id, "file_no": file_no, "offset": offset, "length": length, "merkle_root": str(recorded_root),
            "leaves": len(proof.leaf_hashes), "downloaded_bytes": len(covering), "sha256": "sha256:" + hashlib.sha256(data).hexdigest(),
            "verified": True,
        }
        emit(result, as_json, lambda r: typer.echo(
            f"range {offset}+{length} of file {file_no}: VERIFIED against {r['merkle_root']} "
            f"({r['leaves']} {'leaf' if r['leaves'] == 1 else 'leaves'}, {r['downloaded_bytes']} bytes downloaded); range {r['sha256']}"))

    @app.command()
    def report(
        item_id: str = typer.Argument(..., help="Item id."),
        output: Path = typer.Option(Path("custody.pdf"), "-o", "--output", help="Where to write the signed PDF."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Write the signed PDF/A custody report for an item."""
        with VaultClient() as client:
            response = client.request("GET", f"/v1/items/{item_id}/report")
        output.write_bytes(response.content)
        result = {"path": str(output), "bytes": len(response.content), "sha256": "sha256:" + hashlib.sha256(response.content).hexdigest(),
                  "stored_key": response.headers.get("Vault-Report-Key"), "stored_version_id": response.headers.get("Vault-Report-Version-Id"),
                  "notice": response.headers.get("Vault-Notice")}
        if result["notice"]:
            typer.secho(f"notice: {result['notice']}", fg="yellow", err=True)
        emit(result, as_json, lambda r: typer.echo(f"wrote {r['path']} ({r['bytes']} bytes, {r['sha256']}); stored as {r['stored_key']}"))

    @app.command("report-ca")
    def report_ca(
        output: Path = typer.Option(Path("ca.pem"), "-o", "--output", help="Where to write the CA certificate (PEM)."),
    ) -> None:
        """Write the certificate of the CA that signs this vault's reports, for pdfsig or a PDF reader to trust."""
        with VaultClient() as client:
            pem = client.request("GET", "/v1/reports/ca").content
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        fingerprint = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex()
        output.write_bytes(pem)
        typer.echo(f"wrote {output}; certificate fingerprint sha256:{fingerprint}. "
                   "Compare it with the fingerprint your vault administrator gives you before trusting it")

    @app.command()
    def log(
        target: str = typer.Argument(..., help="Item id; or 'proof' followed by an entry number; or 'verify-proof' "
                                     "followed by a receipt file."),
        argument: Optional[str] = typer.Argument(None, metavar="[ENTRY|RECEIPT_FILE]", help="With 'proof': the ledger "
                                                 "entry number. With 'verify-proof': a receipt written by 'log proof'."),
        key: Optional[str] = typer.Option(None, "--key", help="With 'verify-proof': the log's verifier key, or a file "
                                          "holding it (key.vkey). Take it from a source you trust, not from the receipt."),
        entry_file: Optional[Path] = typer.Option(None, "--entry", exists=True, dir_okay=False, help="With 'verify-proof': "
                                                  "a file with the entry's bytes exactly as the ledger stores them, "
                                                  "proven in place of the bytes the receipt carries."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show an item's custody timeline. 'proof ENTRY' prints a tlog-proof receipt for one entry, and
        'verify-proof RECEIPT_FILE --key KEY' checks a receipt offline (exit 1 when it fails)."""
        if target == "verify-proof":
            from vault.cli.proof_command import verify_proof

            verify_proof(argument, key, entry_file, as_json)
            return
        if key is not None or entry_file is not None:
            raise InvalidInput("--key and --entry belong to: evidence-vault log verify-proof RECEIPT_FILE --key KEY")
        with VaultClient() as client:
            if target == "proof":
                entry = _entry_number(argument)
                text = client.request("GET", f"/v1/ledger/entries/{entry}/proof").text
                emit({"entry": entry, "proof": text}, as_json, lambda r: typer.echo(r["proof"], nl=False))
                return
            timeline = client.json("GET", f"/v1/items/{target}/log")
        emit(timeline, as_json, _render_timeline)


def _entry_number(argument: str | None) -> int:
    if argument is None:
        raise InvalidInput("missing entry number: evidence-vault log proof ENTRY")
    try:
        return int(argument)
    except ValueError:
        raise InvalidInput(f"invalid entry number {argument!r}: give the number shown after '#' in 'evidence-vault log ITEM'") from None


def _render_timeline(timeline: dict) -> None:
    item = timeline["item"]
    if item.get("kind") == "physical":
        contents = f"physical: {item.get('description')}"
    else:
        contents = ", ".join(f["name"] for f in item["files"])
    typer.echo(f"custody of item {item['id']} ({contents}), case {item['case']}")
    for e in timeline["entries"]:
        summary = summarize_entry(e["action"], e["details"])
        typer.echo(f"#{e['index']:<6} {e['time']}  {e['actor']:<16} {e['action']:<18} {summary}")


def _download_file(client: VaultClient, item_id: str, entry: dict, target: Path, force: bool) -> dict:
    if target.exists() and not force:
        raise InvalidInput(f"{target} already exists; pass --force to overwrite or choose another -o")
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    size = 0
    with client.stream("GET", f"/v1/items/{item_id}/files/{entry['file_no']}/content") as response, partial.open("wb") as out, _progress() as progress:
        task = progress.add_task(entry["name"], total=entry["size"])
        for chunk in response.iter_bytes(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
            progress.update(task, advance=len(chunk))
    computed = "sha256:" + digest.hexdigest()
    if computed != entry["sha256"] or size != entry["size"]:
        partial.unlink(missing_ok=True)
        raise HashMismatch(f"download of {entry['name']} (item {item_id})", entry["sha256"], f"{computed} over {size} bytes",
                           "The partial file was deleted; run 'evidence-vault verify' on the item")
    os.replace(partial, target)
    return {"file_no": entry["file_no"], "name": entry["name"], "path": str(target), "size": size, "sha256": computed}
