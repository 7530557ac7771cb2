"""`evidence-vault hash FILE...`: hash local files offline, as the vault will at intake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vault.errors import VaultError
from vault.hashing.engine import HashResult, hash_file
from vault.hashing.ewf import check_ewf, media_hashes_of_concatenation
from vault.hashing.segments import order_segments


def register(app: typer.Typer) -> None:
    """Add the `hash` command to the CLI application."""
    app.command("hash")(hash_command)


def hash_command(
    files: Annotated[list[Path], typer.Argument(help="Files to hash; the segments of one image may be given together")],
    md5: Annotated[bool, typer.Option("--md5", help="Also compute MD5")] = False,
    sha1: Annotated[bool, typer.Option("--sha1", help="Also compute SHA-1")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text")] = False,
) -> None:
    """Print size, SHA-256, the 1 MiB-leaf Merkle root and, for a segment set, its media hashes."""
    algorithms = [name for name, wanted in (("md5", md5), ("sha1", sha1)) if wanted]
    try:
        report = _build_report(files, algorithms)
    except VaultError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        typer.echo(_render_text(report))


def _build_report(files: list[Path], algorithms: list[str]) -> dict:
    segments = order_segments(files)
    report: dict = {"kind": segments.kind, "files": [], "warnings": list(segments.warnings)}
    for path in segments.paths:
        report["files"].append(_file_entry(path, hash_file(path, algorithms)))

    if segments.kind == "ewf":
        report["container"] = check_ewf(segments.paths).to_dict()
    elif segments.kind == "split-raw":
        report["media"] = [str(digest) for digest in media_hashes_of_concatenation(segments.paths)]
    return report


def _file_entry(path: Path, result: HashResult) -> dict:
    return {
        "path": str(path),
        "size": result.size,
        "digests": [str(digest) for digest in result.digests],
        "merkle_root": str(result.merkle_root),
        "leaf_size": result.leaf_size,
    }


def _render_text(report: dict) -> str:
    lines = []
    for entry in report["files"]:
        lines.append(entry["path"])
        lines.append(f"  size         {entry['size']}")
        for digest in entry["digests"]:
            algorithm, _, value = digest.partition(":")
            lines.append(f"  {algorithm:<12} {value}")
        lines.append(f"  merkle root  {entry['merkle_root']} ({entry['leaf_size']}-byte leaves)")
    if "media" in report:
        lines.append(f"split raw media of {len(report['files'])} segments:")
        lines.extend(f"  {digest}" for digest in report["media"])
    if "container" in report:
        container = report["container"]
        lines.append(f"EWF media ({container['media_size']} bytes), container check: {container['verdict']}")
        lines.extend(f"  stored   {digest}" for digest in container["stored"])
        lines.extend(f"  computed {digest}" for digest in container["computed"])
        lines.extend(f"  damaged metadata: {damage}" for damage in container["metadata_damage"])
    lines.extend(f"warning: {warning}" for warning in report["warnings"])
    return "\n".join(lines)
