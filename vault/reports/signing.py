"""Sign custody reports as PAdES B-B with pyHanko, keeping them PDF/A."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

from vault.errors import InvalidInput
from vault.reports import local_ca

logger = logging.getLogger(__name__)

# Name of the signature field the vault adds to each report.
SIGNATURE_FIELD_NAME = "CustodyReportSignature"


class ReportSigner:
    """A report signing key with its certificate chain.

    Build it with `from_pkcs12` (a key from the organisation's PKI) or
    `load_or_create_local` (a local CA made on first use).
    """

    def __init__(self, key_pem: bytes, certificate_pem: bytes, chain_pem: list[bytes], ca_certificate_pem: bytes) -> None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        chain = [x509.load_pem_x509_certificate(pem) for pem in chain_pem]

        self._certificate = certificate
        self.ca_certificate_pem = ca_certificate_pem
        self.signer_subject = certificate.subject.rfc4514_string()
        self.certificate_fingerprint = _fingerprint(certificate)
        self._signer = signers.SimpleSigner(
            signing_cert=_to_asn1(certificate),
            signing_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            ),
            cert_registry=SimpleCertificateStore.from_certs([_to_asn1(cert) for cert in chain]),
        )

    @classmethod
    def from_pkcs12(cls, path: Path, passphrase: bytes | None) -> "ReportSigner":
        """Load the key, its certificate and chain from a PKCS#12 file.

        The last certificate of the chain in the file is taken as the CA that
        recipients trust (the signing certificate itself when the file holds
        no chain). Raises InvalidInput when the file cannot be read or opened.
        """
        try:
            key, certificate, chain = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
        except OSError as error:
            raise InvalidInput(f"cannot read PKCS#12 file {path}: {error.strerror}") from error
        except ValueError as error:
            raise InvalidInput(f"cannot open PKCS#12 file {path}: wrong passphrase or not PKCS#12 ({error})") from error
        if key is None or certificate is None:
            raise InvalidInput(f"PKCS#12 file {path} holds no private key with its certificate")

        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        chain_pem = [cert.public_bytes(serialization.Encoding.PEM) for cert in chain]
        certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
        return cls(key_pem, certificate_pem, chain_pem, chain_pem[-1] if chain_pem else certificate_pem)

    @classmethod
    def load_or_create_local(cls, data_dir: Path) -> tuple["ReportSigner", bool]:
        """Load the local report CA under `data_dir/report-signing/`, creating it on first use.

        Returns the signer and True when the CA was created by this call, so
        the caller can tell the user that recipients must trust the new CA
        certificate (`ca_certificate_pem`).
        """
        ca, created = local_ca.load_or_create(data_dir)
        signer = cls(ca.signing_key_pem, ca.signing_cert_pem, [ca.ca_cert_pem], ca.ca_cert_pem)
        if created:
            logger.info("reports.local_ca.created directory=%s ca_fingerprint=%s", ca.directory, _fingerprint_pem(ca.ca_cert_pem))
        return signer, created

    def describe(self) -> dict[str, str]:
        """Return the signing certificate's subject, issuer, validity and fingerprints, for the report body."""
        certificate = self._certificate
        return {
            "signer": self.signer_subject,
            "signer_certificate": self.certificate_fingerprint,
            "issuer": certificate.issuer.rfc4514_string(),
            "trusted_ca_certificate": _fingerprint_pem(self.ca_certificate_pem),
            "valid_until": certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def sign(self, pdf: bytes, reason: str = "Chain-of-custody report") -> bytes:
        """Sign the whole report as PAdES B-B and return the signed PDF.

        The signature is added in an incremental update that keeps the
        document PDF/A, and it covers every byte of the result except its own
        value. Raises InvalidInput when `pdf` is not a readable PDF.
        """
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        except (PdfReadError, ValueError) as error:
            raise InvalidInput(f"cannot sign the report: the input is not a readable PDF ({error})") from error

        metadata = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD_NAME,
            reason=reason,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        # NOTE: the signature is invisible, a zero-size widget with the print
        # flag as PDF/A requires. A visible stamp needs an embedded font, and
        # pyHanko 0.38 writes its glyph widths in font units without scaling
        # them to 1/1000 em, which spreads out DejaVu text (2048 units per em).
        # The report body names the signer and its certificate fingerprint
        # instead, inside the signed bytes.
        field_spec = fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD_NAME, on_page=-1)
        pdf_signer = signers.PdfSigner(metadata, self._signer, new_field_spec=field_spec)

        output = io.BytesIO()
        pdf_signer.sign_pdf(writer, output=output)
        return output.getvalue()


def _to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _fingerprint(certificate: x509.Certificate) -> str:
    return "sha256:" + hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _fingerprint_pem(pem: bytes) -> str:
    return _fingerprint(x509.load_pem_x509_certificate(pem))
