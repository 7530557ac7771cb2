"""The acquisition record of a digital item: who imaged what, when, where, how and with which tool.

The record follows what ISO/IEC 27037 and ACPO principle 3 ask an examiner to
note, as one JSON object:

    {"examiner": "…", "acquired_at": "2026-03-01T14:05:00+01:00", "time_zone": "Europe/Berlin",
     "place": "…", "source_device": {"make": "…", "model": "…", "serial": "…", "hostname": "…",
     "employee_owned": false}, "tool": {"name": "…", "version": "…"}, "method": "physical",
     "write_blocker": {"model": "…", "serial": "…"} | null, "no_write_blocker_reason": "…",
     "hashes": ["md5:…"], "read_errors": 0, "read_error_details": "…", "completed": true, "notes": "…"}
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from vault.errors import Conflict, InvalidInput
from vault.hashing.digest import Digest
from vault.services.records._common import iso, load_item, parse_time, refuse
from vault.services.access import Permission, Principal
from vault.services.records._common import check_item

METHODS = ("physical", "logical", "memory")
_KNOWN_FIELDS = {
    "examiner", "acquired_at", "time_zone", "place", "source_device", "tool", "method", "write_blocker",
    "no_write_blocker_reason", "hashes", "read_errors", "read_error_details", "completed", "notes",
}


def _text(document: dict, key: str, where: str = "acquisition") -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"invalid {where}: missing {key!r}; give it as text")
    return value.strip()


def _optional_text(document: dict, key: str, where: str = "acquisition") -> str | None:
    value = document.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"invalid {where}: {key!r} must be text, got {value!r}")
    return value.strip()


def validate_acquisition(document: object) -> dict:
    """Check an acquisition record and return it normalized (times in UTC, hashes as ALGORITHM:HEX).

    Raises InvalidInput naming the first missing or malformed field.
    """
    if not isinstance(document, dict):
        raise InvalidInput("invalid acquisition: expected a JSON object")
    unknown = sorted(set(document) - _KNOWN_FIELDS)
    if unknown:
        raise InvalidInput(f"invalid acquisition: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KNOWN_FIELDS))}")

    examiner = _text(document, "examiner")
    acquired_at_text = _text(document, "acquired_at")
    acquired_at = parse_time(acquired_at_text, "acquisition 'acquired_at'")
    time_zone = _text(document, "time_zone")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"invalid acquisition: time_zone {time_zone!r} is not an IANA time zone name, for example Europe/Berlin or UTC") from None
    place = _text(document, "place")

    device = document.get("source_device")
    if not isinstance(device, dict):
        raise InvalidInput("invalid acquisition: missing 'source_device' object with make, model, serial and hostname")
    source_device = {
        "make": _text(device, "make", "source_device"),
        "model": _text(device, "model", "source_device"),
        "serial": _text(device, "serial", "source_device"),
        "hostname": _optional_text(device, "hostname", "source_device"),
        "employee_owned": device.get("employee_owned", False),
    }
    if not isinstance(source_device["employee_owned"], bool):
        raise InvalidInput("invalid source_device: 'employee_owned' must be true or false")

    tool = document.get("tool")
    if not isinstance(tool, dict):
        raise InvalidInput("invalid acquisition: missing 'tool' object with name and version")
    tool_record = {"name": _text(tool, "name", "tool"), "version": _text(tool, "version", "tool")}

    method = document.get("method")
    if method not in METHODS:
        raise InvalidInput(f"invalid acquisition: method {method!r}; choose one of {', '.join(METHODS)}")

    blocker = document.get("write_blocker")
    reason = _optional_text(document, "no_write_blocker_reason")
    if blocker is not None:
        if not isinstance(blocker, dict):
            raise InvalidInput("invalid acquisition: 'write_blocker' must be an object with model and serial, or null")
        blocker = {"model": _text(blocker, "model", "write_blocker"), "serial": _text(blocker, "serial", "write_blocker")}
        if reason:
            raise InvalidInput("invalid acquisition: give either 'write_blocker' or 'no_write_blocker_reason', not both")
    elif not reason:
        raise InvalidInput(
            "invalid acquisition: no write blocker recorded; give 'write_blocker' {model, serial} "
            "or 'no_write_blocker_reason' (for example: live memory acquisition)"
        )

    hashes = document.get("hashes") or []
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise InvalidInput("invalid acquisition: 'hashes' must be a list of ALGORITHM:HEX strings")
    digests = [str(Digest.parse(h)) for h in hashes]

    read_errors = document.get("read_errors", 0)
    if not isinstance(read_errors, int) or isinstance(read_errors, bool) or read_errors < 0:
        raise InvalidInput(f"invalid acquisition: 'read_errors' must be a whole number >= 0, got {read_errors!r}")
    completed = document.get("completed")
    if not isinstance(completed, bool):
        raise InvalidInput("invalid acquisition: missing 'completed' (true or false): did the acquisition finish?")

    return {
        "examiner": examiner,
        "acquired_at": iso(acquired_at),
        "acquired_at_local": acquired_at_text,
        "time_zone": time_zone,
        "place": place,
        "source_device": source_device,
        "tool": tool_record,
        "method": method,
        "write_blocker": blocker,
        "no_write_blocker_reason": reason if blocker is None else None,
        "hashes": digests,
        "read_errors": read_errors,
        "read_error_details": _optional_text(document, "read_error_details"),
        "completed": completed,
        "notes": _optional_text(document, "notes"),
    }


def record_acquisition(vault, item_id: str, document: object, principal: Principal) -> dict:
    """Attach an acquisition record to an item that has none; append `acquisition.recorded`.

    An existing record is never replaced: a second one raises Conflict.
    """
    actor = check_item(vault, principal, item_id, Permission.ITEM_UPLOAD)
    with Session(vault.engine) as session:
        item = load_item(session, item_id)
        case_id, existing = item.case_id, item.acquisition
    try:
        if existing is not None:
            raise Conflict(f"item {item_id} already has an acquisition record; it cannot be replaced, only read with: evidence-vault show {item_id}")
        record = validate_acquisition(document)
    except (Conflict, InvalidInput) as error:
        raise refuse(vault, actor, "acquisition", error, case_id=case_id, item_id=item_id) from None
    with vault.ledger.transaction() as txn:
        item = load_item(txn.session, item_id)
        item.acquisition = record
        item.employee_device = bool(record["source_device"]["employee_owned"])
        txn.session.flush()
        txn.append(actor, "acquisition.recorded", case_id=case_id, item_id=item_id, details={"acquisition": record})
    return record
