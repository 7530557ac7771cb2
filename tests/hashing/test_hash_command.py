"""`evidence-vault hash` on real fixtures, through a Typer app with only this command."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from tests.conftest import EXT2_MEDIA_MD5, IMAGES_DIR, MANIFEST
from vault.cli.hash_command import register
from vault.cli.main import main

DFVFS = IMAGES_DIR / "dfvfs"


def run(*args: str):
    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)  # keep `hash` a subcommand, as in the full CLI
    return CliRunner().invoke(app, ["hash", *args])


def test_single_file_text_output() -> None:
    image = MANIFEST["dfvfs/image.dd"]

    result = run(str(image.path), "--md5", "--sha1")

    assert result.exit_code == 0
    assert image.sha256 in result.output
    assert image.md5 in result.output
    assert "merkle root  sha256:" in result.output


def test_split_ewf_json_reports_container_check() -> None:
    result = run(str(DFVFS / "ext2.split.E02"), str(DFVFS / "ext2.split.E01"), "--json")

    report = json.loads(result.output)
    assert result.exit_code == 0
    assert [entry["path"].rsplit("/", 1)[1] for entry in report["files"]] == ["ext2.split.E01", "ext2.split.E02"]
    assert report["container"]["verdict"] == "match"
    assert report["container"]["stored"] == [f"md5:{EXT2_MEDIA_MD5}"]


def test_split_raw_prints_media_hashes() -> None:
    result = run(str(DFVFS / "ext2.splitraw.001"), str(DFVFS / "ext2.splitraw.000"))

    assert result.exit_code == 0
    assert f"md5:{EXT2_MEDIA_MD5}" in result.output


def test_bogus_001_warns() -> None:
    result = run(str(DFVFS / "bogus.001"))

    assert result.exit_code == 0
    assert "warning: segment set starts at bogus.001" in result.output


def test_missing_file_exits_1_with_one_line(tmp_path) -> None:
    result = run(str(tmp_path / "absent.dd"))

    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "cannot read" in result.output


def test_console_entry_point_exits_1_on_error(capsys) -> None:
    # The console script runs click outside standalone mode, where typer.Exit(1) came back as a return value.
    with pytest.raises(SystemExit) as stopped:
        main(["hash", str(DFVFS / "image.dd"), str(DFVFS / "mbr.raw")])

    assert stopped.value.code == 1
    assert "not named like image segments" in capsys.readouterr().err
