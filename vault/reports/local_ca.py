"""A local certificate authority for report signing, made on first use.

Without a PKCS#12 file from the organisation's own PKI, the vault creates a
self-signed root and one signing certificate under
`<data_dir>/report-signing/`. Recipients must trust that root explicitly.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from vault.errors import InvalidInput

DIRECTORY_NAME = "report-signing"
CA_KEY = "ca-key.pem"
CA_CERT = "ca.pem"
SIGNING_KEY = "signing-key.pem"
SIGNING_CERT = "signing-cert.pem"

# id-kp-documentSigning, RFC 9336.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

_RSA_BITS = 3072
_CA_LIFETIME = dt.timedelta(days=20 * 365)
_SIGNING_LIFETIME = dt.timedelta(days=10 * 365)


@dataclass(frozen=True)
class LocalCA:
    """The PEM files of a local report-signing CA, as found on disk."""

    directory: Path
    ca_cert_pem: bytes
    signing_key_pem: bytes
    signing_cert_pem: bytes


def load_or_create(data_dir: Path, organisation: str = "Evidence Vault") -> tuple[LocalCA, bool]:
    """Load the local CA under `data_dir`, creating it first if absent, and return it with a created flag.

    Creation writes every file into a temporary directory and renames it into
    place, so a crash leaves either no CA or a whole one, and of two processes
    racing to create it, one wins and the other loads the winner's files.
    Private keys are written with mode 0600 and are not encrypted, so the
    directory's own permissions (0700) protect them.
    """
    directory = data_dir / DIRECTORY_NAME
    if directory.exists():
        return _load(directory), False

    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{DIRECTORY_NAME}-", dir=data_dir))
    try:
        _create(staging, organisation)
        try:
            staging.rename(directory)
        except OSError:
            if not directory.exists():
                raise
            return _load(directory), False
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return _load(directory), True


def _load(directory: Path) -> LocalCA:
    paths = [directory / name for name in (CA_CERT, SIGNING_KEY, SIGNING_CERT)]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise InvalidInput(
            f"report signing directory {directory} is incomplete (missing {', '.join(missing)}). "
            "Restore it from backup, or move it aside to create a new local CA that recipients must trust anew"
        )
    ca_cert, signing_key, signing_cert = (path.read_bytes() for path in paths)
    return LocalCA(directory, ca_cert, signing_key, signing_cert)


def _create(directory: Path, organisation: str) -> None:
    os.chmod(directory, 0o700)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    suffix = secrets.token_hex(4)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    ca_name = _name(organisation, f"{organisation} local report CA {suffix}")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    signing_cert = issue_signing_certificate(ca_key, ca_cert, signing_key, organisation, now)

    _write_private(directory / CA_KEY, ca_key)
    _write_private(directory / SIGNING_KEY, signing_key)
    (directory / CA_CERT).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (directory / SIGNING_CERT).write_bytes(signing_cert.public_bytes(serialization.Encoding.PEM))


def issue_signing_certificate(
    ca_key: CertificateIssuerPrivateKeyTypes,
    ca_cert: x509.Certificate,
    signing_key: rsa.RSAPrivateKey,
    organisation: str,
    now: dt.datetime,
) -> x509.Certificate:
    """Issue an end-entity certificate for signing reports: digitalSignature, nonRepudiation, document signing."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name(organisation, f"{organisation} report signing"))
        .issuer_name(ca_cert.subject)
        .public_key(signing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + _SIGNING_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        # NOTE: emailProtection sits beside documentSigning because NSS, and so
        # poppler's pdfsig, checks a PDF signer's certificate for the e-mail
        # signer usage and rejects an extended key usage list without it.
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signing_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_private(path: Path, key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
