"""docs/DESIGN.md names exactly the files a report carries, as `pdfdetach -list` shows them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.reports.conftest import run

DESIGN = Path(__file__).resolve().parents[2] / "docs" / "DESIGN.md"


def _design_report_line() -> str:
    lines = [line for line in DESIGN.read_text(encoding="utf-8").splitlines() if line.startswith("- **Report**")]
    assert len(lines) == 1, f"expected one '- **Report**' line in {DESIGN}, found {len(lines)}"
    return lines[0]


def _attached(pdf: Path) -> set[str]:
    listing = run(["pdfdetach", "-list", str(pdf)]).stdout.splitlines()
    return {re.sub(r"^\d+:\s*", "", line).strip() for line in listing[1:]}


def test_design_names_report_attachments(signed_empty_report: bytes, write_pdf: Callable[..., Path]) -> None:
    attached = _attached(write_pdf(signed_empty_report))
    named = set(re.findall(r"`([\w.-]+\.json(?:ld)?)`", _design_report_line()))

    assert attached == {"custody.json"}
    assert named == attached
