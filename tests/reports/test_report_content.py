"""The report is PDF/A-3b with embedded fonts, carries custody.json, and shows what a lawyer needs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.reports.conftest import SEGMENT_NAMES, run
from vault.errors import InvalidInput
from vault.reports import ReportData, render_report

_POINTS_PER_MM = 72 / 25.4
_A4_WIDTH = 210 * _POINTS_PER_MM
_MARGIN = 15 * _POINTS_PER_MM


def _page_texts(path: Path) -> list[str]:
    text = run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"]).stdout
    return text.split("\f")[:-1]


def _flat_text(path: Path) -> str:
    """Return the text in content-stream order without whitespace, so a value wrapped inside its cell reads whole."""
    text = run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"]).stdout
    return re.sub(r"\s+", "", text)


def test_qpdf_check_passes(signed_report: bytes, write_pdf: Callable[..., Path]) -> None:
    result = run(["qpdf", "--check", str(write_pdf(signed_report))], check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


def test_pdfa_identification_present(signed_report: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(signed_report))
    metadata = reader.root["/Metadata"].get_object().data.decode("utf-8")

    assert re.search(r"pdfaid:part(=\"3\"|>3<)", metadata), metadata
    assert re.search(r"pdfaid:conformance(=\"B\"|>B<)", metadata), metadata
    output_intents = reader.root["/OutputIntents"]
    assert output_intents[0].get_object()["/S"] == "/GTS_PDFA1"


def test_every_font_embedded(signed_report: bytes, write_pdf: Callable[..., Path]) -> None:
    listing = run(["pdffonts", str(write_pdf(signed_report))]).stdout.splitlines()[2:]

    assert listing, "pdffonts listed no fonts"
    for line in listing:
        columns = line.split()
        assert columns[-5] == "yes", f"font not embedded: {line}"
        assert "DejaVu" in columns[0], f"unexpected font: {line}"


def test_custody_json_attached_exactly(
    signed_report: bytes, ewf_report_data: ReportData, write_pdf: Callable[..., Path], tmp_path: Path
) -> None:
    path = write_pdf(signed_report)
    saved = tmp_path / "saved.json"

    listing = run(["pdfdetach", "-list", str(path)]).stdout
    run(["pdfdetach", "-save", "1", "-o", str(saved), str(path)])

    assert "1 embedded files" in listing
    assert "1: custody.json" in listing
    assert saved.read_bytes() == ewf_report_data.custody_json


def test_custody_json_is_associated_file(signed_report: bytes) -> None:
    reader = PdfFileReader(io.BytesIO(signed_report))
    associated = [spec.get_object() for spec in reader.root["/AF"]]

    assert len(associated) == 1
    assert associated[0]["/F"] == "custody.json"
    assert associated[0]["/AFRelationship"] == "/Data"


def test_report_text_shows_hashes_and_storage(
    signed_report: bytes, ewf_report_data: ReportData, write_pdf: Callable[..., Path]
) -> None:
    path = write_pdf(signed_report)
    text = "\n".join(_page_texts(path))
    flat = _flat_text(path)
    item = ewf_report_data.item

    assert "Chain-of-custody report" in text
    assert "CASE-2024-017" in text
    assert "Þjófnaður á gögnum" in text
    for name in SEGMENT_NAMES:
        assert name in text
    for key in ("sha256", "sha1", "md5", "merkle_root"):
        assert item[key] in flat, f"{key} missing"
    assert item["media"]["md5"] in flat
    assert "matches the value the vault computed" in text
    for file in ewf_report_data.files:
        assert file["object_key"] in flat
        assert file["version_id"] in flat
    assert "COMPLIANCE" in text
    assert "2034-05-01T00:00:00.000000Z" in text
    assert "Segment names were changed by the analyst" in text
    assert "EMPTY FILE" not in text
    assert ewf_report_data.signer is not None
    assert ewf_report_data.signer["trusted_ca_certificate"] in flat
    assert "How to verify" in text or "how to verify" in text


def test_every_digest_carries_algorithm(signed_report: bytes, write_pdf: Callable[..., Path]) -> None:
    flat = _flat_text(write_pdf(signed_report))

    bare = re.findall(r"(?<![0-9a-f:])[0-9a-f]{64}(?![0-9a-f])", flat)

    assert bare == []


def test_timeline_spans_pages_with_header(
    signed_report: bytes, ewf_report_data: ReportData, write_pdf: Callable[..., Path]
) -> None:
    path = write_pdf(signed_report)
    pages = _page_texts(path)
    timeline_pages = [page for page in pages if re.search(r"Time \(UTC\)\s+Actor\s+Action\s+Summary\s+Entry hash", page)]
    flat = _flat_text(path)

    assert len(timeline_pages) >= 3
    for entry in ewf_report_data.timeline:
        assert entry["entry_hash"] in flat, f"entry {entry['index']} missing"
        assert entry["time"] in flat
    assert "analyst.jónsdóttir" in flat


def test_long_values_stay_inside_margins(signed_report: bytes, write_pdf: Callable[..., Path]) -> None:
    html = run(["pdftotext", "-bbox", str(write_pdf(signed_report)), "-"]).stdout
    right_edges = [float(value) for value in re.findall(r'xMax="([0-9.]+)"', html)]

    assert right_edges
    assert max(right_edges) <= _A4_WIDTH - _MARGIN + 1.0


def test_empty_item_flagged(signed_empty_report: bytes, write_pdf: Callable[..., Path]) -> None:
    path = write_pdf(signed_empty_report)
    pages = _page_texts(path)

    assert "EMPTY FILE (0 bytes)" in pages[0]
    assert "ímynd.dd" in "\n".join(pages)
    assert "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" in _flat_text(path)


def test_hidden_characters_in_name_spelled_out(empty_report_data: ReportData, write_pdf: Callable[..., Path]) -> None:
    files = [{**empty_report_data.files[0], "original_name": "ímynd\u202egpj.exe"}]
    pdf = render_report(dataclasses.replace(empty_report_data, files=files))

    text = "\n".join(_page_texts(write_pdf(pdf)))

    assert "ímynd<U+202E>gpj.exe" in text


def test_digest_without_algorithm_rejected(empty_report_data: ReportData) -> None:
    item = {**empty_report_data.item, "declared": ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}

    with pytest.raises(InvalidInput, match="does not name its algorithm"):
        render_report(dataclasses.replace(empty_report_data, item=item))


def test_naive_generation_time_rejected(empty_report_data: ReportData) -> None:
    with pytest.raises(InvalidInput, match="no time zone"):
        render_report(dataclasses.replace(empty_report_data, generated_at=dt.datetime(2024, 5, 2, 8, 30)))


def test_declared_mismatch_shown(empty_report_data: ReportData, write_pdf: Callable[..., Path]) -> None:
    wrong = "sha256:" + "0" * 64
    item = {**empty_report_data.item, "declared_hashes": {"acquisition_hash": [wrong]}, "declared": None}
    pdf = render_report(dataclasses.replace(empty_report_data, item=item))

    flat = _flat_text(write_pdf(pdf))

    assert "DIFFERSfromthevaluethevaultcomputed" in flat
    assert "Acquisitionhash" in flat
