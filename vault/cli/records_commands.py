"""Custody record commands: physical items, lineage, transfers, authority, retention, holds, disposal,
privilege, expert grants and the CASE/UCO export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from vault.cli.client import VaultClient
from vault.cli.output import emit
from vault.errors import InvalidInput

JSON_OPTION = typer.Option(False, "--json", help="Print JSON.")


def _call(method: str, path: str, body: dict | None = None, params: dict | None = None):
    with VaultClient() as client:
        return client.json(method, path, json=body, params=params)


def _lines(data) -> None:
    if isinstance(data, list):
        for row in data:
            _lines(row)
            typer.echo("")
        return
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        elif value is None:
            value = "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        typer.echo(f"{key}: {value}")


def _identifiers(values: list[str]) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"invalid --identifier {value!r}: use NAME=VALUE, for example serial=5CG1234XYZ")
        result[key.strip()] = text.strip()
    return result


def _register_case_extras(app: typer.Typer) -> None:
    case_group = next((g.typer_instance for g in app.registered_groups if g.name == "case"), None)
    if case_group is None:
        return

    @case_group.command("update")
    def update(
        reference: str = typer.Argument(..., help="Case reference."),
        title: Optional[str] = typer.Option(None, help="New title."),
        classification: Optional[str] = typer.Option(None, help="One of the configured classifications."),
        jurisdiction: Optional[str] = typer.Option(None, help="Legal jurisdiction, for example DE or US-CA."),
        status: Optional[str] = typer.Option(None, help="open, suspended, closed or archived."),
        counsel: Optional[str] = typer.Option(None, help="Legal counsel assigned to the case."),
        reason: Optional[str] = typer.Option(None, help="Why the case changes, for the record."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Change a case's title, classification, jurisdiction, status or counsel (recorded with old and new values)."""
        body = {"title": title, "classification": classification, "jurisdiction": jurisdiction, "status": status,
                "counsel": counsel, "reason": reason}
        emit(_call("PATCH", f"/v1/cases/{reference}", body), as_json, _lines)

    @case_group.command("records")
    def records(reference: str = typer.Argument(..., help="Case reference."), as_json: bool = JSON_OPTION) -> None:
        """Show a case's legal authorities, non-collection decisions, transfers and expert grants (the view is recorded)."""
        emit(_call("GET", f"/v1/cases/{reference}/records"), as_json, _lines)

    @case_group.command("classifications")
    def classifications(as_json: bool = JSON_OPTION) -> None:
        """List the classifications a case may have (VAULT_CASE_CLASSIFICATIONS on the server)."""
        emit(_call("GET", "/v1/case-classifications"), as_json, lambda names: [typer.echo(n) for n in names])


def register(app: typer.Typer) -> None:
    _register_case_extras(app)

    @app.command("export-case")
    def export_case(
        reference: str = typer.Argument(..., help="Case reference."),
        format: str = typer.Option("case-uco", "--format", help="Export format; only case-uco (CASE/UCO JSON-LD)."),
        output: Path = typer.Option(Path("case.jsonld"), "-o", "--output", help="Where to write the JSON-LD."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Write a case as CASE/UCO JSON-LD: items, hashes, provenance and every custody action (the export is recorded)."""
        document = _call("GET", f"/v1/cases/{reference}/export", params={"format": format})
        output.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
        result = {"path": str(output), "nodes": len(document.get("@graph", []))}
        emit(result, as_json, lambda r: typer.echo(f"wrote {r['path']} ({r['nodes']} nodes)"))

    @app.command()
    def custody(item_id: str = typer.Argument(..., help="Item id."), as_json: bool = JSON_OPTION) -> None:
        """Show who holds an item now, its open transfer, transfers, authorities and expert grants (the view is recorded)."""
        emit(_call("GET", f"/v1/items/{item_id}/custody"), as_json, _render_custody)

    @app.command()
    def acquisition(
        item_id: str = typer.Argument(..., help="Item id."),
        record: Path = typer.Argument(..., help="Acquisition record, a JSON file.", exists=True, dir_okay=False),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Attach an acquisition record to an item that has none (one record per item, never replaced)."""
        emit(_call("POST", f"/v1/items/{item_id}/acquisition", _read_json(record)), as_json, _lines)

    @app.command()
    def derive(
        item_id: str = typer.Argument(..., help="The derived item (an image, a working copy)."),
        parent: str = typer.Option(..., "--from", help="The item it was derived from."),
        how: str = typer.Option(..., "--how", help="How it was made, for example the imaging tool and write blocker."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Record that an item was derived from another (recorded on both items)."""
        emit(_call("POST", f"/v1/items/{item_id}/derivation", {"parent": parent, "how": how}), as_json, _render_lineage)

    @app.command()
    def lineage(item_id: str = typer.Argument(..., help="Item id."), as_json: bool = JSON_OPTION) -> None:
        """Show what an item was derived from and what was derived from it."""
        emit(_call("GET", f"/v1/items/{item_id}/lineage"), as_json, _render_lineage)

    @app.command("not-collected")
    def not_collected(
        reference: str = typer.Argument(..., help="Case reference."),
        subject: str = typer.Option(..., "--subject", help="What was not collected."),
        constraint: str = typer.Option(..., "--constraint", help="operational or legal."),
        reason: str = typer.Option(..., "--reason", help="Why it was not collected."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Record a decision not to collect something, and the constraint behind it."""
        body = {"subject": subject, "constraint": constraint, "reason": reason}
        emit(_call("POST", f"/v1/cases/{reference}/not-collected", body), as_json, _lines)

    _register_physical(app)
    _register_transfers(app)
    _register_authority(app)
    _register_retention(app)
    _register_privilege(app)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise InvalidInput(f"invalid JSON in {path}: {error}") from None


def _register_physical(app: typer.Typer) -> None:
    group = typer.Typer(help="Register physical items and record their storage locations.", no_args_is_help=True)
    app.add_typer(group, name="physical")

    @group.command("add")
    def add(
        reference: str = typer.Argument(..., help="Case reference."),
        description: str = typer.Option(..., "--description", help="What the item is, for example 'Dell Latitude 7420 laptop'."),
        location: str = typer.Option(..., "--location", help="Where it is stored."),
        identifier: list[str] = typer.Option([], "--identifier", help="NAME=VALUE, repeatable: make, model, serial, asset tag."),
        seal: Optional[str] = typer.Option(None, "--seal", help="Number of the evidence bag seal."),
        employee_owned: bool = typer.Option(False, "--employee-owned", help="The item is an employee's own device."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Register a physical item; you become its custodian."""
        body = {"description": description, "location": location, "identifiers": _identifiers(identifier), "seal": seal,
                "employee_owned": employee_owned}
        emit(_call("POST", f"/v1/cases/{reference}/physical-items", body), as_json, _lines)

    @group.command("move")
    def move(
        item_id: str = typer.Argument(..., help="Item id."),
        to: str = typer.Option(..., "--to", help="New storage location."),
        reason: str = typer.Option(..., "--reason", help="Why it was moved."),
        seal: Optional[str] = typer.Option(None, "--seal", help="New seal number, if the item was resealed."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Record a physical item's new storage location."""
        emit(_call("POST", f"/v1/items/{item_id}/location", {"location": to, "reason": reason, "seal": seal}), as_json, _lines)


def _register_transfers(app: typer.Typer) -> None:
    group = typer.Typer(help="Two-party custody transfers: release, accept, withdraw, discrepancies.", no_args_is_help=True)
    app.add_typer(group, name="transfer")

    @group.command("release")
    def release(
        item_id: str = typer.Argument(..., help="Item id."),
        to: str = typer.Option(..., "--to", help="Name of the receiving person."),
        reason: str = typer.Option(..., "--reason", help="Why the item changes hands."),
        method: str = typer.Option(..., "--method", help="How it travels: hand delivery, courier, secure transfer."),
        reference: Optional[str] = typer.Option(None, "--reference", help="Shipping tracking number or seal number."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Release an item you hold; custody changes when the receiver accepts."""
        body = {"to": to, "reason": reason, "method": method, "reference": reference}
        emit(_call("POST", f"/v1/items/{item_id}/transfers", body), as_json, _lines)

    @group.command("accept")
    def accept(
        transfer_id: str = typer.Argument(..., help="Transfer id."),
        note: Optional[str] = typer.Option(None, "--note", help="Condition on receipt, for the record."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Accept a transfer addressed to you; you become the item's custodian."""
        emit(_call("POST", f"/v1/transfers/{transfer_id}/accept", {"note": note}), as_json, _lines)

    @group.command("withdraw")
    def withdraw(
        transfer_id: str = typer.Argument(..., help="Transfer id."),
        reason: str = typer.Option(..., "--reason", help="Why the transfer is withdrawn."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Withdraw an open transfer you released."""
        emit(_call("POST", f"/v1/transfers/{transfer_id}/withdraw", {"reason": reason}), as_json, _lines)

    @group.command("discrepancy")
    def discrepancy(
        transfer_id: str = typer.Argument(..., help="Transfer id."),
        kind: str = typer.Option(..., "--kind", help="seal-broken, hash-mismatch, damaged, missing-part, wrong-item or other."),
        description: str = typer.Option(..., "--description", help="What was found."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Record a discrepancy on a transfer (either side may)."""
        emit(_call("POST", f"/v1/transfers/{transfer_id}/discrepancies", {"kind": kind, "description": description}), as_json, _lines)

    @group.command("list")
    def list_(
        item_id: str = typer.Argument(..., help="Item id."),
        open_only: bool = typer.Option(False, "--open", help="Only transfers not yet accepted or withdrawn."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """List an item's transfers with their discrepancies."""
        emit(_call("GET", f"/v1/items/{item_id}/transfers", params={"open_only": open_only}), as_json, _lines)


def _register_authority(app: typer.Typer) -> None:
    group = typer.Typer(help="Legal authority for a case or item: warrant, consent, contract, policy, legal approval.",
                        no_args_is_help=True)
    app.add_typer(group, name="authority")

    @group.command("add")
    def add(
        reference: str = typer.Argument(..., help="Case reference."),
        kind: str = typer.Option(..., "--kind", help="warrant, consent, contract, policy or legal-approval."),
        number: str = typer.Option(..., "--reference", help="Warrant number, consent form or policy id."),
        item_id: Optional[str] = typer.Option(None, "--item", help="Attach to this item instead of the whole case."),
        issued_by: Optional[str] = typer.Option(None, "--issued-by", help="Court, person or body that issued it."),
        description: Optional[str] = typer.Option(None, "--description", help="Scope and conditions."),
        employee_devices: bool = typer.Option(False, "--employee-devices", help="The legal approval covers employee-owned devices."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Record the legal authority for collecting evidence."""
        body = {"kind": kind, "reference": number, "item_id": item_id, "issued_by": issued_by, "description": description,
                "covers_employee_devices": employee_devices}
        emit(_call("POST", f"/v1/cases/{reference}/authorities", body), as_json, _lines)


def _register_retention(app: typer.Typer) -> None:
    retention = typer.Typer(help="Retention policies and extension of an item's retain-until date.", no_args_is_help=True)
    app.add_typer(retention, name="retention")

    @retention.command("policy-set")
    def policy_set(
        jurisdiction: str = typer.Option(..., "--jurisdiction", help="Jurisdiction code, or '*' for any."),
        classification: str = typer.Option(..., "--classification", help="Case classification, or '*' for any."),
        days: Optional[int] = typer.Option(None, "--days", help="Retention period in days."),
        seconds: Optional[int] = typer.Option(None, "--seconds", help="Retention period in seconds (for tests and drills)."),
        basis: str = typer.Option(..., "--basis", help="Law or policy that sets the period."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Set how long new evidence of a jurisdiction and classification is kept under Object Lock."""
        if (days is None) == (seconds is None):
            raise InvalidInput("give exactly one of --days or --seconds")
        total = days * 86400 if days is not None else seconds
        body = {"jurisdiction": jurisdiction, "classification": classification, "retain_seconds": total, "basis": basis}
        emit(_call("PUT", "/v1/retention-policies", body), as_json, _lines)

    @retention.command("policies")
    def policies(as_json: bool = JSON_OPTION) -> None:
        """List retention policies."""
        emit(_call("GET", "/v1/retention-policies"), as_json, _lines)

    @retention.command("extend")
    def extend(
        item_id: str = typer.Argument(..., help="Item id."),
        until: str = typer.Option(..., "--until", help="New retain-until time, RFC 3339 with offset, e.g. 2040-01-01T00:00:00Z."),
        reason: str = typer.Option(..., "--reason", help="Why the evidence must be kept longer."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Extend an item's retention on every stored object; shortening is refused."""
        emit(_call("POST", f"/v1/items/{item_id}/retention", {"until": until, "reason": reason}), as_json, _lines)

    hold = typer.Typer(help="Place or release a legal hold on an item.", no_args_is_help=True)
    app.add_typer(hold, name="hold")

    @hold.command("place")
    def place(item_id: str = typer.Argument(..., help="Item id."),
              reason: str = typer.Option(..., "--reason", help="Matter or order that requires the hold."),
              as_json: bool = JSON_OPTION) -> None:
        """Place a legal hold: no stored version can be deleted while it is on."""
        emit(_call("POST", f"/v1/items/{item_id}/hold", {"reason": reason}), as_json, _lines)

    @hold.command("release")
    def release(item_id: str = typer.Argument(..., help="Item id."),
                reason: str = typer.Option(..., "--reason", help="Why the hold ends."),
                as_json: bool = JSON_OPTION) -> None:
        """Release a legal hold."""
        emit(_call("POST", f"/v1/items/{item_id}/hold/release", {"reason": reason}), as_json, _lines)

    dispose = typer.Typer(help="Approve and record the disposal of an item.", no_args_is_help=True)
    app.add_typer(dispose, name="dispose")

    @dispose.command("approve")
    def approve(item_id: str = typer.Argument(..., help="Item id."),
                reference: str = typer.Option(..., "--reference", help="Approval document or ticket."),
                reason: str = typer.Option(..., "--reason", help="Why the item may be disposed of."),
                as_json: bool = JSON_OPTION) -> None:
        """Record an approval to dispose of an item (the person disposing must be someone else)."""
        emit(_call("POST", f"/v1/items/{item_id}/disposal-approvals", {"reference": reference, "reason": reason}), as_json, _lines)

    @dispose.command("execute")
    def execute(item_id: str = typer.Argument(..., help="Item id."),
                reason: str = typer.Option(..., "--reason", help="Why, for the record."),
                as_json: bool = JSON_OPTION) -> None:
        """Dispose of an item: only after retention has passed, with no hold and an approval on record."""
        emit(_call("POST", f"/v1/items/{item_id}/disposal", {"reason": reason}), as_json, _lines)


def _register_privilege(app: typer.Typer) -> None:
    group = typer.Typer(help="Mark items or cases privileged.", no_args_is_help=True)
    app.add_typer(group, name="privilege")

    def _target(item_id: Optional[str], case: Optional[str]) -> str:
        if (item_id is None) == (case is None):
            raise InvalidInput("give an item id or --case CASE, not both")
        return f"/v1/items/{item_id}/privilege" if item_id else f"/v1/cases/{case}/privilege"

    @group.command("set")
    def set_(item_id: Optional[str] = typer.Argument(None, help="Item id (or use --case)."),
             case: Optional[str] = typer.Option(None, "--case", help="Mark the whole case."),
             kind: str = typer.Option(..., "--kind", help="attorney-client or work-product."),
             basis: str = typer.Option(..., "--basis", help="Why the privilege applies."),
             as_json: bool = JSON_OPTION) -> None:
        """Mark an item or case privileged."""
        emit(_call("PUT", _target(item_id, case), {"privilege": kind, "basis": basis}), as_json, _lines)

    @group.command("clear")
    def clear(item_id: Optional[str] = typer.Argument(None, help="Item id (or use --case)."),
              case: Optional[str] = typer.Option(None, "--case", help="Clear the whole case's mark."),
              basis: str = typer.Option(..., "--basis", help="Why the privilege no longer applies."),
              as_json: bool = JSON_OPTION) -> None:
        """Clear a privilege mark."""
        emit(_call("PUT", _target(item_id, case), {"privilege": None, "basis": basis}), as_json, _lines)

    expert = typer.Typer(help="Outside-expert access grants to named items until a date.", no_args_is_help=True)
    app.add_typer(expert, name="expert")

    @expert.command("grant")
    def grant(reference: str = typer.Argument(..., help="Case reference."),
              to: str = typer.Option(..., "--to", help="The outside examiner's user name."),
              item: list[str] = typer.Option(..., "--item", help="Item id, repeatable."),
              until: str = typer.Option(..., "--until", help="Expiry, RFC 3339 with offset."),
              purpose: str = typer.Option(..., "--purpose", help="What the examiner is engaged for."),
              organisation: Optional[str] = typer.Option(None, "--organisation", help="The examiner's firm."),
              as_json: bool = JSON_OPTION) -> None:
        """Grant an outside examiner access to named items until a date."""
        body = {"grantee": to, "item_ids": item, "expires_at": until, "purpose": purpose, "organisation": organisation}
        emit(_call("POST", f"/v1/cases/{reference}/expert-grants", body), as_json, _lines)

    @expert.command("use")
    def use(grant_id: str = typer.Argument(..., help="Grant id."),
            item: str = typer.Option(..., "--item", help="Item id."),
            purpose: str = typer.Option(..., "--purpose", help="What you are doing with the item."),
            as_json: bool = JSON_OPTION) -> None:
        """Record a use of your grant on one item."""
        emit(_call("POST", f"/v1/expert-grants/{grant_id}/uses", {"item_id": item, "purpose": purpose}), as_json, _lines)

    @expert.command("revoke")
    def revoke(grant_id: str = typer.Argument(..., help="Grant id."),
               reason: str = typer.Option(..., "--reason", help="Why access ends early."),
               as_json: bool = JSON_OPTION) -> None:
        """Revoke a grant before it expires."""
        emit(_call("POST", f"/v1/expert-grants/{grant_id}/revoke", {"reason": reason}), as_json, _lines)


def _render_custody(data: dict) -> None:
    item = data["item"]
    typer.echo(f"item {item['id']} ({item['kind']}), case {item['case']}")
    typer.echo(f"  custodian: {data['custodian']}")
    open_transfer = data.get("open_transfer")
    if open_transfer:
        typer.echo(f"  OPEN TRANSFER {open_transfer['id']}: released by {open_transfer['released_by']} to "
                   f"{open_transfer['to']} at {open_transfer['released_at']}, not yet accepted")
    acq = item.get("acquisition")
    # acquired_at is UTC; acquired_at_local is the same time with the offset the examiner wrote.
    typer.echo("  acquisition: " + (f"{acq['method']} by {acq['examiner']} at {acq['acquired_at']} "
                                     f"(local {acq.get('acquired_at_local') or 'time not recorded'}, {acq['time_zone']}), "
                                     f"{acq['place']}; tool {acq['tool']['name']} {acq['tool']['version']}" if acq else "NOT RECORDED"))
    for t in data["transfers"]:
        typer.echo(f"  transfer {t['id']}: {t['released_by']} -> {t['to']} ({t['status']}), {t['reason']}")
        for d in t["discrepancies"]:
            typer.secho(f"    discrepancy ({d['kind']}) by {d['recorded_by']}: {d['description']}", fg="red")
    for a in data["authorities"]:
        typer.echo(f"  authority: {a['kind']} {a['reference']}" + (f" issued by {a['issued_by']}" if a["issued_by"] else ""))
    for g in data["expert_grants"]:
        typer.echo(f"  expert grant {g['id']}: {g['grantee']} until {g['expires_at']} ({g['state']})")


def _render_lineage(data: dict) -> None:
    item = data["item"]
    typer.echo(f"item {item['id']} ({item['kind']}): {item.get('description') or ''}")
    for depth, ancestor in enumerate(data["ancestors"], start=1):
        typer.echo(f"{'  ' * depth}derived from {ancestor['id']} ({ancestor['kind']}): {ancestor.get('description') or ''}")

    def show(children: list[dict], depth: int) -> None:
        for child in children:
            typer.echo(f"{'  ' * depth}derivative {child['id']} ({child['kind']}): {child.get('description') or ''}")
            show(child.get("derivatives", []), depth + 1)

    show(data["derivatives"], 1)
