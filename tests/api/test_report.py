"""The signed custody report as served by the API, checked by independent tools."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from pathlib import Path

import httpx

from vault.reports import verify_report
from vault.services.manifest import MANIFEST_HEADER, FileSpec, UploadManifest



def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _report_for(running_vault, image_path: Path, tmp_path: Path) -> tuple[bytes, dict]:
    with httpx.Client(base_url=running_vault.url, headers=running_vault.headers(), timeout=120) as client:
        reference = f"IR-{uuid.uuid4().hex[:8]}"
        client.post("/v1/cases", json={"reference": reference, "title": "Report test"}).raise_for_status()
        manifest = UploadManifest((FileSpec(image_path.name, image_path.stat().st_size),))
        item = client.post(f"/v1/cases/{reference}/items", content=image_path.read_bytes(),
                           headers={MANIFEST_HEADER: manifest.encode()}).json()
        response = client.get(f"/v1/items/{item['id']}/report")
        response.raise_for_status()
    return response.content, item


def _nss(running_vault, tmp_path: Path) -> str:
    ca = running_vault.vault.report_signer().ca_certificate_pem
    directory = tmp_path / "nss"
    directory.mkdir()
    (directory / "ca.pem").write_bytes(ca)
    assert _run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"]).returncode == 0
    assert _run(["certutil", "-A", "-d", f"sql:{directory}", "-n", "vault-ca", "-t", "CT,C,C", "-i", str(directory / "ca.pem")]).returncode == 0
    return f"sql:{directory}"


def test_report_valid_for_pyhanko_pdfsig_qpdf(running_vault, manifest, tmp_path):
    pdf, item = _report_for(running_vault, manifest["dfvfs/ímynd.dd"].path, tmp_path)
    path = tmp_path / "custody.pdf"
    path.write_bytes(pdf)
    ca = running_vault.vault.report_signer().ca_certificate_pem

    verdict = verify_report(pdf, [ca])
    pdfsig = _run(["pdfsig", "-nssdir", _nss(running_vault, tmp_path), str(path)])
    qpdf = _run(["qpdf", "--check", str(path)])
    text = _run(["pdftotext", str(path), "-"]).stdout

    assert verdict.intact
    assert verdict.trusted
    assert verdict.covers_document
    assert "Signature is Valid" in pdfsig.stdout
    assert "Certificate is Trusted" in pdfsig.stdout
    assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr
    assert "ímynd.dd" in text
    assert item["id"] in text.replace("\n", "")


def test_report_attachment_matches_ledger(running_vault, manifest, tmp_path):
    pdf, item = _report_for(running_vault, manifest["dfvfs/image.dd"].path, tmp_path)
    path = tmp_path / "custody.pdf"
    path.write_bytes(pdf)

    saved = _run(["pdfdetach", "-savefile", "custody.json", "-o", str(tmp_path / "custody.json"), str(path)])
    custody = json.loads((tmp_path / "custody.json").read_text(encoding="utf-8"))

    assert saved.returncode == 0, saved.stderr
    assert custody["item"]["id"] == item["id"]
    assert custody["item"]["sha256"] == item["sha256"]
    assert custody["verifier_key"] == running_vault.vault.ledger.verifier_key
    assert [json.loads(base64.b64decode(e["raw"]))["action"] for e in custody["entries"]][-1] == "report.generated"


def test_flipped_byte_rejected_by_both(running_vault, manifest, tmp_path):
    pdf, _ = _report_for(running_vault, manifest["dfvfs/image.dd"].path, tmp_path)
    ca = running_vault.vault.report_signer().ca_certificate_pem
    position = pdf.index(b"/Type /Page") + 2  # inside the signed byte range, in page content
    flipped = bytearray(pdf)
    flipped[position] ^= 0x01
    path = tmp_path / "flipped.pdf"
    path.write_bytes(bytes(flipped))

    verdict = verify_report(bytes(flipped), [ca])
    pdfsig = _run(["pdfsig", "-nssdir", _nss(running_vault, tmp_path), str(path)])

    assert not verdict.intact
    assert "Signature is Valid" not in pdfsig.stdout
