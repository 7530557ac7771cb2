"""One readable line per custody entry, shared by the CLI timeline and the PDF report."""

from __future__ import annotations


_READS = {
    "item.viewed": "item metadata viewed",
    "case.viewed": "case viewed",
    "log.viewed": "custody timeline viewed",
}


def summarize_entry(action: str, details: dict) -> str:
    """Return one line a lawyer can read for a custody entry, for timelines and reports."""
    if action == "intake":
        names = ", ".join(f.get("name", "") for f in details.get("files", []))
        line = f"{details.get('status')}: {names}; {details.get('size')} bytes; {', '.join(details.get('digests', []))}"
        return line + f"; retained ({details.get('retention_mode')}) until {details.get('retain_until')}"
    if action == "item.downloaded":
        return f"file {details.get('file_no')} bytes {details.get('offset')}+{details.get('length')}"
    if action == "item.verified" and details.get("kind") == "physical":
        if details.get("records_intact") and details.get("chain_intact"):
            return (f"physical item: ledger record intact (at {details.get('location')}, seal {_text(details.get('seal'))}); "
                    "no stored bytes to re-hash")
        return "FAILED: " + "; ".join(details.get("problems", []))
    if action == "item.verified":
        return "intact" if details.get("bytes_intact") and details.get("chain_intact") else "FAILED: " + "; ".join(details.get("problems", []))
    if action == "finding":
        return details.get("finding", "")
    if action in _READS:
        return _READS[action]
    if action == "item.range_proof":
        return f"range proof for file {details.get('file_no')} bytes {details.get('offset')}+{details.get('length')}"
    if action in ("intake.aborted", "intake.abandoned"):
        return f"upload not accepted, nothing became evidence: {details.get('reason')}"
    if action == "access.denied":
        return (f"ACCESS DENIED ({details.get('role')}) for {details.get('permission')} on {details.get('object_id')}: "
                f"{details.get('reason')}")
    if action == "case.created":
        return (f"case {details.get('reference')} created: {details.get('title')}; "
                f"classification: {details.get('classification')}, counsel: {_text(details.get('counsel'))}")
    if action == "case.updated":
        changes = details.get("changes") or {}
        changed = "; ".join(f"{field} from {_text(change.get('from'))} to {_text(change.get('to'))}"
                            for field, change in changes.items() if isinstance(change, dict))
        return f"case changed: {changed or 'no fields'}" + (f" ({details['reason']})" if details.get("reason") else "")
    summary = records_summary(action, details)
    if summary is not None:
        return summary
    return ", ".join(f"{k}={_text(v)}" for k, v in details.items() if not isinstance(v, (dict, list)))


def _text(value) -> str:
    """Write None and booleans as words, so no Python spelling reaches a timeline or report."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def records_summary(action: str, details: dict) -> str | None:
    """Return a lawyer-readable line for the custody record actions, or None for other actions."""
    if action.endswith(".refused"):
        return "REFUSED: " + details.get("reason", "")
    if action == "transfer.released":
        line = f"released to {details.get('to')} for {details.get('reason')} by {details.get('method')}"
        return line + (f", reference {details['reference']}" if details.get("reference") else "") + " (open until accepted)"
    if action == "transfer.accepted":
        return f"custody passed from {details.get('from')} to {details.get('to')}" + (f"; {details['note']}" if details.get("note") else "")
    if action == "transfer.withdrawn":
        return f"transfer withdrawn: {details.get('reason')}"
    if action == "transfer.discrepancy":
        return f"DISCREPANCY ({details.get('kind')}, {details.get('side')} side): {details.get('description')}"

    if action == "physical.registered":
        return f"{details.get('description')} registered at {details.get('location')}, seal {details.get('seal')}"
    if action == "physical.moved":
        return f"moved from {details.get('from')} to {details.get('to')}: {details.get('reason')}"
    if action == "item.derived":
        return f"derived from item {details.get('parent')}: {details.get('how')}"
    if action == "item.derivative":
        return f"item {details.get('child')} derived from this item: {details.get('how')}"

    if action == "acquisition.recorded":
        acquisition = details.get("acquisition") or {}
        return f"acquisition by {acquisition.get('examiner')} at {acquisition.get('acquired_at')} ({acquisition.get('method')})"
    if action == "authority.recorded":
        return f"{details.get('kind')} {details.get('reference')}" + (f" issued by {details['issued_by']}" if details.get("issued_by") else "")
    if action == "collection.declined":
        return f"NOT COLLECTED: {details.get('subject')} ({details.get('constraint')} constraint: {details.get('reason')})"

    if action in ("hold.placed", "hold.released"):
        return f"legal hold {'placed' if action == 'hold.placed' else 'released'}: {details.get('reason')}"
    if action == "retention.extended":
        return f"retention extended from {details.get('from')} to {details.get('to')}: {details.get('reason')}"
    if action == "disposal.approved":
        return f"disposal approved ({details.get('reference')}): {details.get('reason')}"
    if action == "item.disposed":
        approval = details.get("approval") or {}
        return f"DISPOSED: {details.get('reason')}; approved by {approval.get('approved_by')} ({approval.get('reference')})"

    if action in ("privilege.marked", "privilege.cleared"):
        return f"{details.get('scope')} {'marked ' + str(details.get('privilege')) if action == 'privilege.marked' else 'privilege cleared'}: {details.get('basis')}"
    if action == "expert.granted":
        return f"expert access for {details.get('grantee')} until {details.get('expires_at')}: {details.get('purpose')}"
    if action == "expert.used":
        return f"expert grant {details.get('grant_id')} used: {details.get('purpose')}"
    if action == "expert.revoked":
        return f"expert grant {details.get('grant_id')} revoked: {details.get('reason')}"
    if action == "expert.grant-expired":
        return f"EXPIRED: expert access of {details.get('grantee')} ended at {details.get('expired_at')}"
    return None
