"""Output of `evidence-vault audit verify` for people, on a bundle checked offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.custody.tamper_tools import fill
from vault.cli.main import main
from vault.custody.audit import export_ledger
from vault.custody.ledger import Ledger


def test_output_counts_entries_past_newest_checkpoint(ledger: Ledger, tmp_path: Path, capsys) -> None:
    fill(ledger, 12)
    bundle = tmp_path / "bundle"
    export_ledger(ledger, bundle)
    ledger.stop_timer()
    notes = sorted((bundle / "checkpoints").iterdir(), key=lambda path: int(path.stem))
    notes[-1].unlink()
    newest = int(notes[-2].stem)

    main(["audit", "verify", str(bundle), "--key", ledger.verifier_key])

    output = capsys.readouterr().out
    assert newest < 12
    assert f"entries: 12, newest signed checkpoint covers {newest} ({12 - newest} newer entries" in output
    assert "consistent with the trusted checkpoint (consistent_with_trusted): not checked (no --trusted-checkpoint given)" in output
    assert "hash chain intact (chain_intact): yes" in output
    assert output.rstrip().endswith("AUDIT PASSED")


def test_missing_key_file_named_as_file(ledger: Ledger, tmp_path: Path, capsys) -> None:
    fill(ledger, 2)
    bundle = tmp_path / "bundle"
    export_ledger(ledger, bundle)
    ledger.stop_timer()

    with pytest.raises(SystemExit) as stop:
        main(["audit", "verify", str(bundle), "--key", str(tmp_path / "key.vkey")])

    assert stop.value.code == 1
    assert f"verifier key file {tmp_path / 'key.vkey'} not found" in capsys.readouterr().err
