"""Export a case as CASE/UCO JSON-LD: the investigation, its items with hashes, provenance and custody actions.

Every node's IRI ends in a UUID, as `case_validate` (case-utils) requires. The
UUIDs of people, hashes, facets and actions are derived (UUID version 5) from
the vault's own ids and entry hashes, so exporting twice yields the same graph.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.custody.models import Item, ItemFile
from vault.services.records._common import load_case
from vault.services.access import Permission, Principal
from vault.services.records._common import check_case

KB = "https://evidence-vault.local/kb/"
NAMESPACE = uuid.UUID("3f5d8f38-6b5e-4a52-9d6b-3a3c1f0f2b7e")
CONTEXT = {
    "kb": KB,
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "uco-vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_HASH_NAMES = {"sha256": "SHA256", "md5": "MD5", "sha1": "SHA1"}


def _iri(kind: str, key: str) -> str:
    return f"kb:{kind}-{uuid.uuid5(NAMESPACE, f'{kind}:{key}')}"


def _ref(iri: str) -> dict:
    return {"@id": iri}


def _time(value: str) -> dict:
    return {"@type": "xsd:dateTime", "@value": value}


def _hashes(owner: str, digests: list[str]) -> list[dict]:
    nodes = []
    for digest in digests:
        algorithm, _, hex_value = digest.partition(":")
        if algorithm not in _HASH_NAMES:
            continue
        nodes.append({
            "@id": _iri("hash", f"{owner}:{digest}"),
            "@type": "uco-types:Hash",
            "uco-types:hashMethod": _HASH_NAMES[algorithm],
            "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": hex_value.upper()},
        })
    return nodes


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}

    def add(self, node: dict) -> str:
        self.nodes.setdefault(node["@id"], node)
        return node["@id"]

    def person(self, name: str) -> str:
        return self.add({"@id": _iri("person", name), "@type": "uco-identity:Person", "uco-core:name": name})


def _item_node(item: Item, files: list[ItemFile]) -> dict:
    iri = f"kb:item-{item.id}"
    facets: list[dict] = []
    if item.kind == "physical":
        details = item.physical_details or {}
        identifiers = details.get("identifiers") or {}
        facet = {"@id": _iri("device-facet", item.id), "@type": "uco-observable:DeviceFacet"}
        if identifiers.get("model"):
            facet["uco-observable:model"] = identifiers["model"]
        if identifiers.get("serial"):
            facet["uco-observable:serialNumber"] = identifiers["serial"]
        facets.append(facet)
        node_type = "uco-observable:Device"
    else:
        digests = [d for d in (item.sha256, item.md5, item.sha1) if d]
        facets.append({
            "@id": _iri("content-data-facet", item.id),
            "@type": "uco-observable:ContentDataFacet",
            "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(item.size or 0)},
            "uco-observable:hash": _hashes(item.id, digests),
        })
        if len(files) == 1:
            facets.append({
                "@id": _iri("file-facet", item.id),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": files[0].original_name,
                "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(files[0].size)},
            })
        node_type = "uco-observable:File" if len(files) == 1 else "uco-observable:ObservableObject"
    node = {"@id": iri, "@type": node_type, "uco-core:hasFacet": facets}
    if item.description:
        node["uco-core:description"] = item.description
    return node


def _describe(entry) -> str:
    details = entry.details
    parts = [f"ledger entry {entry.index} ({entry.entry_hash})"]
    for key in ("reason", "to", "from", "method", "reference", "kind", "description", "location", "status", "privilege", "finding"):
        value = details.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            parts.append(f"{key}: {value}")
    return "; ".join(parts)


def export_case(vault, reference: str, principal: Principal) -> dict:
    """Return the case as CASE/UCO JSON-LD and append `case.exported` with the format and the ledger size covered."""
    actor = check_case(vault, principal, reference, Permission.CASE_READ)
    with Session(vault.engine) as session:
        case = load_case(session, reference)
        case_id, title, classification = case.id, case.title, case.classification
        items = list(session.scalars(select(Item).where(Item.case_id == case_id).order_by(Item.created_at)))
        files = {
            item.id: list(session.scalars(select(ItemFile).where(ItemFile.item_id == item.id).order_by(ItemFile.file_no)))
            for item in items
        }
    entries = vault.ledger.entries(case_id=case_id)
    graph = _Graph()
    investigation = f"kb:investigation-{case_id}"
    members: list[str] = []

    # Items and their provenance records.
    for item in items:
        item_iri = graph.add(_item_node(item, files[item.id]))
        members.append(item_iri)
        provenance = graph.add({
            "@id": _iri("provenance-record", item.id),
            "@type": "case-investigation:ProvenanceRecord",
            "case-investigation:exhibitNumber": item.id,
            "uco-core:description": f"custody record of item {item.id}; custodian {item.custodian or item.created_by}",
            "uco-core:object": [_ref(item_iri)],
        })
        members.append(provenance)
        if item.derived_from:
            members.append(graph.add({
                "@id": _iri("derivation", item.id),
                "@type": "case-investigation:InvestigativeAction",
                "uco-core:name": "derivation",
                "uco-action:object": [_ref(f"kb:item-{item.derived_from}")],
                "uco-action:result": [_ref(item_iri)],
            }))

    # Custody actions, one per ledger entry of the case.
    for entry in entries:
        action = {
            "@id": _iri("investigative-action", entry.entry_hash),
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": entry.action,
            "uco-core:description": _describe(entry),
            "uco-action:startTime": _time(entry.time),
            "uco-action:endTime": _time(entry.time),
            "uco-action:performer": _ref(graph.person(entry.actor)),
        }
        if entry.item_id:
            action["uco-action:object"] = [_ref(f"kb:item-{entry.item_id}")]
            if entry.action == "intake":
                action["uco-action:result"] = [_ref(_iri("provenance-record", entry.item_id))]
        members.append(graph.add(action))

    graph.add({
        "@id": investigation,
        "@type": "case-investigation:Investigation",
        "uco-core:name": reference,
        "uco-core:description": title,
        "case-investigation:focus": classification,
        "uco-core:object": [_ref(m) for m in members],
    })
    vault.ledger.append(actor, "case.exported", case_id=case_id, details={"format": "case-uco", "entries": len(entries)})
    return {"@context": CONTEXT, "@graph": list(graph.nodes.values())}
