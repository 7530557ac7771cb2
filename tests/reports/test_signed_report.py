"""A signed report verifies with pyHanko and with poppler's pdfsig, and tampering is caught."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.stamp import TextStamp, TextStampStyle

from tests.reports.conftest import run
from vault.reports import ReportData, ReportSigner, render_report, verify_report


def _byte_range(pdf: bytes) -> list[int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match is not None, "no /ByteRange in the signed PDF"
    return [int(value) for value in match.groups()]


def test_signed_report_verifies(signed_report: bytes, signer: ReportSigner) -> None:
    verdict = verify_report(signed_report, [signer.ca_certificate_pem])

    assert verdict.intact
    assert verdict.trusted
    assert verdict.covers_document
    assert verdict.signer == signer.signer_subject
    assert verdict.problems == ()


def test_empty_item_report_verifies(signed_empty_report: bytes, signer: ReportSigner) -> None:
    verdict = verify_report(signed_empty_report, [signer.ca_certificate_pem])

    assert verdict.intact
    assert verdict.trusted
    assert verdict.covers_document


def test_pdfsig_accepts_signed_report(signed_report: bytes, nss_db: str, write_pdf: Callable[..., Path]) -> None:
    path = write_pdf(signed_report)

    output = run(["pdfsig", "-nssdir", nss_db, str(path)]).stdout

    assert "Signature Validation: Signature is Valid." in output
    assert "Certificate Validation: Certificate is Trusted." in output
    assert "Total document signed" in output
    assert "Signature Type: ETSI.CAdES.detached" in output


def test_untrusted_root_is_not_trusted(signed_report: bytes, tmp_path: Path) -> None:
    other_signer, _ = ReportSigner.load_or_create_local(tmp_path)

    verdict = verify_report(signed_report, [other_signer.ca_certificate_pem])

    assert verdict.intact
    assert not verdict.trusted
    assert verdict.covers_document
    assert any("not trusted" in problem for problem in verdict.problems)


def test_flipped_byte_breaks_digest(
    signed_report: bytes, signer: ReportSigner, nss_db: str, write_pdf: Callable[..., Path]
) -> None:
    start, first_length, _, _ = _byte_range(signed_report)
    offset = signed_report.index(b"Evidence Vault")
    assert start <= offset < start + first_length, "the flipped byte must lie inside the signed range"
    tampered = bytearray(signed_report)
    tampered[offset] ^= 0x01

    verdict = verify_report(bytes(tampered), [signer.ca_certificate_pem])
    pdfsig = run(["pdfsig", "-nssdir", nss_db, str(write_pdf(bytes(tampered)))], check=False).stdout

    assert not verdict.intact
    assert any("altered after signing" in problem for problem in verdict.problems)
    assert "Digest Mismatch" in pdfsig


def test_stamp_added_after_signing_is_caught(signed_report: bytes, signer: ReportSigner) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_report))
    stamp = TextStamp(writer, TextStampStyle(stamp_text="Release approved by counsel"))
    stamp.apply(dest_page=0, x=60, y=60)
    output = io.BytesIO()
    writer.write(output)

    verdict = verify_report(output.getvalue(), [signer.ca_certificate_pem])

    assert verdict.intact
    assert verdict.trusted
    assert not verdict.covers_document
    assert any("changed after signing" in problem for problem in verdict.problems)


def test_unsigned_report_is_rejected(ewf_report_data: ReportData, signer: ReportSigner) -> None:
    verdict = verify_report(render_report(ewf_report_data), [signer.ca_certificate_pem])

    assert not verdict.intact
    assert not verdict.trusted
    assert not verdict.covers_document
    assert verdict.problems == ("the PDF has no signature",)


def test_garbage_is_rejected(signer: ReportSigner) -> None:
    verdict = verify_report(b"%PDF-1.7\nnot really a PDF", [signer.ca_certificate_pem])

    assert not verdict.intact
    assert len(verdict.problems) == 1
