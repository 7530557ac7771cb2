"""Realistic report inputs built from the real fixture images, and the tools to check the output."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pyewf
import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import EXT2_MEDIA_MD5, FixtureImage
from vault.hashing.merkle import LEAF_SIZE, MerkleTree, hash_leaf
from vault.reports import ReportData, ReportSigner, render_report

ORIGIN = "evidence-vault.test/custody"
GENERATED_AT = dt.datetime(2024, 5, 2, 8, 30, 0, tzinfo=dt.timezone.utc)
SEGMENTS = ("dfvfs/ext2.split.E01", "dfvfs/ext2.split.E02")
SEGMENT_NAMES = ("ímynd.E01", "ímynd.E02")


def _digests(data: bytes) -> dict[str, str]:
    return {
        "sha256": "sha256:" + hashlib.sha256(data).hexdigest(),
        "sha1": "sha1:" + hashlib.sha1(data).hexdigest(),
        "md5": "md5:" + hashlib.md5(data).hexdigest(),
    }


def _merkle_root(data: bytes) -> str:
    leaves = [hash_leaf(data[offset:offset + LEAF_SIZE]) for offset in range(0, len(data), LEAF_SIZE)]
    return "sha256:" + MerkleTree(leaves).root(len(leaves)).hex()


def _media_md5(paths: list[Path]) -> str:
    handle = pyewf.handle()
    handle.open([str(path) for path in paths])
    try:
        md5 = hashlib.md5()
        remaining = handle.get_media_size()
        while remaining > 0:
            chunk = handle.read(min(remaining, LEAF_SIZE))
            if not chunk:
                raise AssertionError("EWF media ended early")
            md5.update(chunk)
            remaining -= len(chunk)
    finally:
        handle.close()
    return "md5:" + md5.hexdigest()


def _ledger(item_id: str, count: int) -> tuple[list[dict], dict, bytes]:
    """Build ledger entries, their RFC 6962 tree and an Ed25519-signed checkpoint, as custody would."""
    actions = ("intake", "verification", "access", "download", "transfer.release", "transfer.receipt", "report")
    entries: list[bytes] = []
    timeline: list[dict] = []
    previous = "sha256:" + "0" * 64
    for index in range(count):
        time = (GENERATED_AT - dt.timedelta(days=count - index, minutes=index)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        action = actions[index % len(actions)]
        details = {"reason": f"step {index} of the examination plan for counsel", "client": "evidence-vault cli 0.1.0"}
        entry = {
            "version": 1, "index": index, "time": time, "actor": "analyst.jónsdóttir", "action": action,
            "case": "CASE-2024-017", "item": item_id, "details": details, "previous": previous,
        }
        entry_bytes = rfc8785.dumps(entry)
        entry_hash = "sha256:" + hash_leaf(entry_bytes).hex()
        entries.append(entry_bytes)
        timeline.append({
            "index": index, "time": time, "actor": entry["actor"], "action": action,
            "details": details, "entry_hash": entry_hash,
        })
        previous = entry_hash

    tree = MerkleTree([hash_leaf(entry) for entry in entries])
    root = tree.root(len(entries))
    body = f"{ORIGIN}\n{len(entries)}\n{base64.b64encode(root).decode()}\n"
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"report tests").digest())
    key_id = hashlib.sha256(f"{ORIGIN}\n\x01".encode() + key.public_key().public_bytes_raw()).digest()[:4]
    signature = base64.b64encode(key_id + key.sign(body.encode())).decode()
    note = f"{body}\n— {ORIGIN} {signature}\n"
    checkpoint = {"origin": ORIGIN, "size": len(entries), "root": base64.b64encode(root).decode(), "note": note}

    custody = {
        "entries": [base64.b64encode(entry).decode() for entry in entries],
        "proofs": [
            {"index": index, "proof": [node.hex() for node in tree.inclusion_proof(index, len(entries))]}
            for index in range(len(entries))
        ],
        "checkpoint": note,
    }
    return timeline, checkpoint, json.dumps(custody, ensure_ascii=False, indent=1).encode()


@pytest.fixture(scope="session")
def signer(tmp_path_factory: pytest.TempPathFactory) -> ReportSigner:
    local_signer, created = ReportSigner.load_or_create_local(tmp_path_factory.mktemp("vault-data"))
    assert created
    return local_signer


@pytest.fixture(scope="session")
def ewf_report_data(manifest: dict[str, FixtureImage], signer: ReportSigner) -> ReportData:
    """An accepted two-segment E01 set with real digests, Unicode names and a 150-entry timeline."""
    images = [manifest[name] for name in SEGMENTS]
    contents = [image.path.read_bytes() for image in images]
    whole = b"".join(contents)
    for image, content in zip(images, contents):
        assert hashlib.sha256(content).hexdigest() == image.sha256, f"fixture {image.name} changed"

    item_id = "itm_01HXR4Z8K2M7"
    timeline, checkpoint, custody_json = _ledger(item_id, 150)
    item_digests = _digests(whole)
    item = {
        "id": item_id,
        "description": "Forensic image of the ext2 test disk, acquired with ewfacquire in two segments",
        "status": "accepted",
        "set_kind": "ewf",
        "size": len(whole),
        **item_digests,
        "merkle_root": _merkle_root(whole),
        "leaf_size": LEAF_SIZE,
        "declared": {"acquisition MD5 (ewfacquire)": f"md5:{EXT2_MEDIA_MD5}"},
        "media": {"md5": _media_md5([image.path for image in images])},
        "container_check": {"format": "EWF-E01, 2 segments", "stored media MD5": f"md5:{EXT2_MEDIA_MD5}", "result": "stored MD5 matches the decoded media"},
        "warnings": ["Segment names were changed by the analyst before upload; the originals were ext2.split.E01 and ext2.split.E02."],
        "empty": False,
        "bucket": "evidence-vault",
        "retention_mode": "COMPLIANCE",
        "retain_until": "2034-05-01T00:00:00.000000Z",
        "legal_hold": True,
    }
    files = [
        {
            "file_no": number,
            "original_name": name,
            "size": len(content),
            "digests": [_digests(content)["sha256"], _digests(content)["md5"]],
            "object_key": f"evidence/{item_id}/{number}",
            "version_id": hashlib.sha256(f"version {number}".encode()).hexdigest()[:32] + ".null-ffffffff",
        }
        for number, (name, content) in enumerate(zip(SEGMENT_NAMES, contents), start=1)
    ]
    return ReportData(
        case={"reference": "CASE-2024-017", "title": "Þjófnaður á gögnum: data exfiltration at the Reykjavík office",
              "classification": "data breach", "jurisdiction": "IS", "status": "open"},
        item=item,
        files=files,
        timeline=timeline,
        checkpoint=checkpoint,
        custody_json=custody_json,
        generated_at=GENERATED_AT,
        generated_by="counsel.sigurdsson",
        signer=signer.describe(),
    )


@pytest.fixture(scope="session")
def empty_report_data(signer: ReportSigner) -> ReportData:
    """An accepted 0-byte item named ímynd.dd."""
    item_id = "itm_01HXR4ZEMPTY"
    timeline, checkpoint, custody_json = _ledger(item_id, 3)
    digests = _digests(b"")
    return ReportData(
        case={"reference": "CASE-2024-018", "title": "Policy violation", "classification": "policy violation",
              "jurisdiction": "IS", "status": "open"},
        item={"id": item_id, "description": "Raw image as delivered by the custodian", "status": "accepted",
              "set_kind": "raw", "size": 0, **digests, "merkle_root": _merkle_root(b""), "leaf_size": LEAF_SIZE,
              "declared": [digests["sha256"]], "warnings": ["The item is empty (0 bytes)."], "empty": True,
              "bucket": "evidence-vault", "retention_mode": "COMPLIANCE",
              "retain_until": "2034-05-01T00:00:00.000000Z", "legal_hold": False},
        files=[{"file_no": 1, "original_name": "ímynd.dd", "size": 0, "digests": [digests["sha256"]],
                "object_key": f"evidence/{item_id}/1", "version_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}],
        timeline=timeline,
        checkpoint=checkpoint,
        custody_json=custody_json,
        generated_at=GENERATED_AT,
        generated_by="counsel.sigurdsson",
        signer=signer.describe(),
    )


@pytest.fixture(scope="session")
def signed_report(ewf_report_data: ReportData, signer: ReportSigner) -> bytes:
    return signer.sign(render_report(ewf_report_data))


@pytest.fixture(scope="session")
def signed_empty_report(empty_report_data: ReportData, signer: ReportSigner) -> bytes:
    return signer.sign(render_report(empty_report_data))


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory: pytest.TempPathFactory, signer: ReportSigner) -> str:
    """An NSS database for pdfsig that trusts only the local report CA."""
    directory = tmp_path_factory.mktemp("nss")
    ca_path = directory / "report-ca.pem"
    ca_path.write_bytes(signer.ca_certificate_pem)
    run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"])
    run(["certutil", "-A", "-d", f"sql:{directory}", "-n", "report-ca", "-t", "CT,C,C", "-i", str(ca_path)])
    return f"sql:{directory}"


def run(command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def write_pdf(tmp_path: Path) -> Callable[[bytes, str], Path]:
    def write(pdf: bytes, name: str = "report.pdf") -> Path:
        path = tmp_path / name
        path.write_bytes(pdf)
        return path

    return write
