"""The local report CA is made once, kept private and reused; PKCS#12 keys load too."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from vault.errors import InvalidInput
from vault.reports import ReportSigner, render_report, verify_report
from vault.reports.local_ca import CA_CERT, CA_KEY, DIRECTORY_NAME, DOCUMENT_SIGNING, SIGNING_CERT, SIGNING_KEY


def test_local_ca_created_once(tmp_path: Path) -> None:
    first, first_created = ReportSigner.load_or_create_local(tmp_path)
    second, second_created = ReportSigner.load_or_create_local(tmp_path)

    assert first_created
    assert not second_created
    assert second.ca_certificate_pem == first.ca_certificate_pem
    assert second.signer_subject == first.signer_subject
    assert second.certificate_fingerprint == first.certificate_fingerprint


def test_local_ca_private_keys_mode_0600(tmp_path: Path) -> None:
    ReportSigner.load_or_create_local(tmp_path)
    directory = tmp_path / DIRECTORY_NAME

    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / CA_KEY).stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / SIGNING_KEY).stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == [DIRECTORY_NAME]


def test_signing_certificate_profile(tmp_path: Path) -> None:
    ReportSigner.load_or_create_local(tmp_path)
    directory = tmp_path / DIRECTORY_NAME
    ca = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
    leaf = x509.load_pem_x509_certificate((directory / SIGNING_CERT).read_bytes())

    key_usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    extended = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.issuer == ca.subject
    assert leaf.issuer == ca.subject
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert key_usage.digital_signature
    assert key_usage.content_commitment
    assert not key_usage.key_cert_sign
    assert DOCUMENT_SIGNING in extended
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in extended


def test_incomplete_signing_directory_is_rejected(tmp_path: Path) -> None:
    ReportSigner.load_or_create_local(tmp_path)
    (tmp_path / DIRECTORY_NAME / SIGNING_KEY).unlink()

    with pytest.raises(InvalidInput, match="incomplete"):
        ReportSigner.load_or_create_local(tmp_path)


def _pkcs12_from_local_ca(tmp_path: Path, passphrase: bytes) -> tuple[Path, bytes]:
    ReportSigner.load_or_create_local(tmp_path / "source")
    directory = tmp_path / "source" / DIRECTORY_NAME
    key = serialization.load_pem_private_key((directory / SIGNING_KEY).read_bytes(), password=None)
    leaf = x509.load_pem_x509_certificate((directory / SIGNING_CERT).read_bytes())
    ca_pem = (directory / CA_CERT).read_bytes()
    bundle = pkcs12.serialize_key_and_certificates(
        b"report signing", key, leaf, [x509.load_pem_x509_certificate(ca_pem)],  # type: ignore[arg-type]
        serialization.BestAvailableEncryption(passphrase),
    )
    path = tmp_path / "signing.p12"
    path.write_bytes(bundle)
    return path, ca_pem


def test_pkcs12_signer_signs(tmp_path: Path, empty_report_data) -> None:
    path, ca_pem = _pkcs12_from_local_ca(tmp_path, b"correct horse")

    signer = ReportSigner.from_pkcs12(path, b"correct horse")
    verdict = verify_report(signer.sign(render_report(empty_report_data)), [ca_pem])

    assert signer.ca_certificate_pem == ca_pem
    assert verdict.intact
    assert verdict.trusted
    assert verdict.covers_document


def test_pkcs12_wrong_passphrase(tmp_path: Path) -> None:
    path, _ = _pkcs12_from_local_ca(tmp_path, b"correct horse")

    with pytest.raises(InvalidInput, match="wrong passphrase"):
        ReportSigner.from_pkcs12(path, b"battery staple")


def test_sign_rejects_non_pdf(signer: ReportSigner) -> None:
    with pytest.raises(InvalidInput, match="not a readable PDF"):
        signer.sign(b"this is not a PDF")
