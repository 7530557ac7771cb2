"""The custody story of an item or a case, assembled from the ledger and the record rows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from vault.services.records._common import load_case
from vault.services.records.authority import list_authorities, list_non_collections
from vault.services.records.physical import item_record
from vault.services.records.privilege import list_grants, record_expired_grants
from vault.services.records.transfers import list_transfers
from vault.services.access import Permission, Principal
from vault.services.records._common import check_case, check_item

# Case entries without an item that belong in every item's timeline of that case.
CASE_WIDE_ACTIONS = frozenset({
    "case.updated", "authority.recorded", "collection.declined", "privilege.marked", "privilege.cleared",
})


def timeline_entries(vault, item_id: str, case_id: str) -> list:
    """Return the item's entries and the case-wide record entries of its case, in ledger order."""
    record_expired_grants(vault)
    own = vault.ledger.entries(item_id=item_id)
    case_wide = [e for e in vault.ledger.entries(case_id=case_id) if e.item_id is None and e.action in CASE_WIDE_ACTIONS]
    return sorted(own + case_wide, key=lambda e: e.index)


def item_custody(vault, item_id: str, principal: Principal) -> dict:
    """Return an item's custody state (custodian, open transfer, acquisition, holds, grants); append `custody.viewed`."""
    actor = check_item(vault, principal, item_id, Permission.ITEM_READ)
    record_expired_grants(vault)
    record = item_record(vault, item_id)
    transfers = list_transfers(vault, item_id=item_id)
    result = {
        "item": record,
        "custodian": record["custodian"],
        "open_transfer": next((t for t in transfers if t["status"] == "open"), None),
        "transfers": transfers,
        "authorities": [a for a in list_authorities(vault, record["case_id"]) if a["item_id"] in (None, item_id)],
        "expert_grants": [g for g in list_grants(vault, record["case_id"]) if item_id in g["item_ids"]],
    }
    vault.ledger.append(actor, "custody.viewed", case_id=record["case_id"], item_id=item_id, details={})
    return result


def case_records(vault, reference: str, principal: Principal) -> dict:
    """Return a case's legal authorities, non-collection decisions, transfers and expert grants; append `case.records-viewed`."""
    actor = check_case(vault, principal, reference, Permission.CASE_READ)
    with Session(vault.engine) as session:
        case = load_case(session, reference)
        case_id = case.id
    result = {
        "case": reference,
        "case_id": case_id,
        "authorities": list_authorities(vault, case_id),
        "not_collected": list_non_collections(vault, case_id),
        "transfers": list_transfers(vault, case_id=case_id),
        "open_transfers": list_transfers(vault, case_id=case_id, open_only=True),
        "expert_grants": list_grants(vault, case_id),
    }
    vault.ledger.append(actor, "case.records-viewed", case_id=case_id, details={})
    return result
