"""Custody reports: a signed PDF/A-3b with the machine-readable record attached."""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timezone

from vault.reports.pdf import ReportData, render_report
from vault.services.cases import get_case
from vault.services.access import Permission, Principal
from vault.services.summary import summarize_entry
from vault.services.items import visible_item

log = logging.getLogger(__name__)


def build_report(vault, item_id: str, principal: Principal) -> tuple[bytes, dict]:
    """Record the report, then render and sign it; return the PDF and where it was stored.

    The `report.generated` entry is appended first, so the report's own timeline
    and checkpoint include it. The signed PDF is also written to the WORM bucket
    under `reports/<item-id>/<entry-index>.pdf`, so the exact document issued can be produced later.
    """
    record = visible_item(vault, principal, item_id, Permission.ITEM_REPORT)
    actor = principal.name
    signer = vault.report_signer()
    entry = vault.ledger.append(actor, "report.generated", case_id=record["case_id"], item_id=item_id,
                                details={"format": "PDF/A-3b", "signature": "PAdES B-B", "signer": signer.signer_subject})
    checkpoint = vault.ledger.checkpoint()
    entries = vault.ledger.entries(item_id=item_id)
    case_entries = [e for e in vault.ledger.entries(case_id=record["case_id"]) if e.item_id is None]
    timeline = sorted(entries + case_entries, key=lambda e: e.index)

    custody = {
        "format": "evidence-vault-custody/1",
        "item": record,
        "entries": [
            {
                "index": e.index,
                "entry_hash": e.entry_hash,
                "raw": base64.b64encode(e.raw).decode("ascii"),
                "inclusion_proof": [base64.b64encode(p).decode("ascii") for p in vault.ledger.inclusion_proof(e.index, checkpoint.size)],
            }
            for e in timeline
            if e.index < checkpoint.size
        ],
        "checkpoint": checkpoint.note.decode("utf-8"),
        "verifier_key": vault.ledger.verifier_key,
    }
    case = get_case(vault, record["case"])
    data = ReportData(
        case={k: case[k] for k in ("reference", "title", "classification", "jurisdiction", "status")},
        item=record,
        files=record["files"],
        timeline=[
            {"index": e.index, "time": e.time, "actor": e.actor, "action": e.action, "details": e.details,
             "summary": summarize_entry(e.action, e.details), "entry_hash": e.entry_hash}
            for e in timeline
        ],
        checkpoint={"origin": checkpoint.origin, "size": checkpoint.size,
                    "root": "sha256:" + checkpoint.root.hex(), "note": checkpoint.note.decode("utf-8")},
        custody_json=json.dumps(custody, indent=2, ensure_ascii=False).encode("utf-8"),
        generated_at=datetime.now(timezone.utc),
        generated_by=actor,
        signer=signer.describe(),
    )
    pdf = signer.sign(render_report(data))
    stored = vault.store.put_locked(f"reports/{item_id}/{entry.index}.pdf", pdf, vault.retain_until(), content_type="application/pdf")
    log.info("report.generated item=%s entry=%d bytes=%d", item_id, entry.index, len(pdf))
    return pdf, {"key": stored.key, "version_id": stored.version_id, "entry": entry.index}
