"""Verify a signed custody report: signature, trust and coverage, as separate verdicts."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from vault.errors import InvalidInput

# Changes after signing that add nothing to the content: validation data and document timestamps (PAdES B-LT/B-LTA).
_HARMLESS_LEVELS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)


@dataclass(frozen=True)
class ReportVerdict:
    """The outcome of checking a signed report, one verdict per question."""

    intact: bool  # the signed bytes hash to the signed digest, and the signature over it is valid
    trusted: bool  # the signer's certificate chains to one of the given trust roots
    covers_document: bool  # nothing but validation data or timestamps was changed after signing
    signer: str  # subject of the signing certificate, RFC 4514, or "" when none was found
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.covers_document


def verify_report(pdf: bytes, trust_roots_pem: Sequence[bytes]) -> ReportVerdict:
    """Check the report's signature against the given trust roots, offline.

    Steps:
      1. Load the trust roots (InvalidInput when one is not a PEM certificate).
      2. Read the PDF and find its signatures.
      3. Validate the first signature: digest, signature value, certificate
         path to a trust root, with no network fetching (revocation is not
         checked because B-B reports carry no revocation data).
      4. Run pyHanko's difference analysis on everything appended after it.

    A report that fails any check is an expected input, so its problems are
    returned in the verdict. Only an invalid trust root raises.
    """
    # 1. Load the trust roots.
    roots = [_load_root(pem) for pem in trust_roots_pem]

    # 2. Read the PDF and find its signatures.
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except (PdfError, ValueError) as error:
        return _failed(f"not a readable PDF: {error}")
    if not signatures:
        return _failed("the PDF has no signature")
    problems: list[str] = []
    if len(signatures) > 1:
        problems.append(f"the PDF has {len(signatures)} signatures, and only the first (the vault's) was checked")
    signature = signatures[0]

    # 3. Validate the signature and its certificate path.
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(signature, signer_validation_context=context)
    except (SignatureValidationError, PdfError, ValueError) as error:
        return _failed(f"signature could not be validated: {error}")
    signer = _subject(status.signing_cert)

    intact = bool(status.intact and status.valid)
    if not status.intact:
        problems.append("the signed bytes do not match the signed digest: the report was altered after signing")
    elif not status.valid:
        problems.append("the signature value does not verify against the signer's certificate")
    trusted = bool(status.trusted)
    if not trusted:
        reason = status.trust_problem_indic.name if status.trust_problem_indic else "no path to a trust root"
        problems.append(f"signer certificate {signer} is not trusted: {reason}")

    # 4. Check what was changed after signing.
    level = status.modification_level
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        covers_document = True
    elif status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and level in _HARMLESS_LEVELS:
        covers_document = True
    else:
        covers_document = False
        coverage = status.coverage.name if status.coverage else "unknown"
        problems.append(
            f"the document was changed after signing (coverage {coverage}, "
            f"modification level {level.name if level else 'unknown'}): {_diff_detail(status.diff_result)}"
        )

    return ReportVerdict(intact, trusted, covers_document, signer, tuple(problems))


def _load_root(pem: bytes) -> asn1_x509.Certificate:
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as error:
        raise InvalidInput(f"trust root is not a PEM certificate: {error}") from error
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _subject(certificate: asn1_x509.Certificate) -> str:
    return x509.load_der_x509_certificate(certificate.dump()).subject.rfc4514_string()


def _diff_detail(diff_result: object) -> str:
    if diff_result is None:
        return "difference analysis gave no result"
    if isinstance(diff_result, Exception):
        return str(diff_result)
    return "changes beyond validation data and timestamps"


def _failed(problem: str) -> ReportVerdict:
    return ReportVerdict(False, False, False, "", (problem,))
