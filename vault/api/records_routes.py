"""Routes for chain-of-custody records: cases, acquisition, physical items, transfers, authority, holds,
retention, disposal, privilege, expert grants, lineage, custody state and the CASE/UCO export.

Handlers parse, call `vault.services.records`, and return JSON; the rules live in the services.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from vault.api import auth
from vault.api.auth import principal_of
from vault.errors import InvalidInput
from vault.services.access import Permission
from vault.services.records import (
    acquisition, authority, caseuco, cases_extra, holds, physical, privilege, retention, timeline, transfers,
)

# Route permissions of the records routes, registered into `vault.api.auth.ROUTE_POLICIES` by `router()`.
# Each service checks the caller against the case or item it touches as well.
ROUTE_POLICIES: dict[tuple[str, str], Permission] = {
    ("PATCH", "/v1/cases/{reference}"): Permission.ITEM_UPLOAD,
    ("GET", "/v1/case-classifications"): Permission.SESSION_READ,
    ("GET", "/v1/cases/{reference}/records"): Permission.CASE_READ,
    ("GET", "/v1/cases/{reference}/export"): Permission.CASE_READ,
    ("POST", "/v1/cases/{reference}/authorities"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/cases/{reference}/not-collected"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/cases/{reference}/physical-items"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/items/{item_id}/location"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/items/{item_id}/derivation"): Permission.ITEM_UPLOAD,
    ("GET", "/v1/items/{item_id}/lineage"): Permission.ITEM_READ,
    ("GET", "/v1/items/{item_id}/custody"): Permission.ITEM_READ,
    ("POST", "/v1/items/{item_id}/acquisition"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/items/{item_id}/transfers"): Permission.ITEM_READ,
    ("GET", "/v1/items/{item_id}/transfers"): Permission.ITEM_READ,
    ("POST", "/v1/transfers/{transfer_id}/accept"): Permission.ITEM_READ,
    ("POST", "/v1/transfers/{transfer_id}/withdraw"): Permission.ITEM_READ,
    ("POST", "/v1/transfers/{transfer_id}/discrepancies"): Permission.ITEM_READ,
    ("PUT", "/v1/retention-policies"): Permission.USERS_MANAGE,
    ("GET", "/v1/retention-policies"): Permission.CASE_LIST,
    ("POST", "/v1/items/{item_id}/retention"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/items/{item_id}/hold"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/items/{item_id}/hold/release"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/items/{item_id}/disposal-approvals"): Permission.ITEM_REPORT,
    ("POST", "/v1/items/{item_id}/disposal"): Permission.ITEM_UPLOAD,
    ("PUT", "/v1/items/{item_id}/privilege"): Permission.ITEM_REPORT,
    ("PUT", "/v1/cases/{reference}/privilege"): Permission.ITEM_REPORT,
    ("POST", "/v1/cases/{reference}/expert-grants"): Permission.ITEM_UPLOAD,
    ("POST", "/v1/expert-grants/{grant_id}/uses"): Permission.ITEM_READ,
    ("POST", "/v1/expert-grants/{grant_id}/revoke"): Permission.ITEM_UPLOAD,
}


class CaseUpdate(BaseModel):
    title: str | None = None
    classification: str | None = None
    jurisdiction: str | None = None
    status: str | None = None
    counsel: str | None = None
    reason: str | None = None


class PhysicalCreate(BaseModel):
    description: str
    location: str
    identifiers: dict[str, str] = Field(default_factory=dict)
    seal: str | None = None
    employee_owned: bool = False


class PhysicalMove(BaseModel):
    location: str
    reason: str
    seal: str | None = None


class Derivation(BaseModel):
    parent: str
    how: str


class Release(BaseModel):
    to: str
    reason: str
    method: str
    reference: str | None = None


class Accept(BaseModel):
    note: str | None = None


class Reason(BaseModel):
    reason: str


class Discrepancy(BaseModel):
    kind: str
    description: str


class AuthorityCreate(BaseModel):
    kind: str
    reference: str
    item_id: str | None = None
    issued_by: str | None = None
    description: str | None = None
    covers_employee_devices: bool = False


class NonCollectionCreate(BaseModel):
    subject: str
    constraint: str
    reason: str


class PolicySet(BaseModel):
    jurisdiction: str
    classification: str
    retain_seconds: int
    basis: str


class RetentionExtend(BaseModel):
    until: str
    reason: str


class DisposalApproval(BaseModel):
    reference: str
    reason: str


class PrivilegeSet(BaseModel):
    privilege: str | None
    basis: str


class GrantCreate(BaseModel):
    grantee: str
    item_ids: list[str]
    expires_at: str
    purpose: str
    organisation: str | None = None


class GrantUse(BaseModel):
    item_id: str
    purpose: str


def router() -> APIRouter:
    """Build the records router; the app includes it with `app.include_router(records_routes.router())`."""
    auth.ROUTE_POLICIES.update(ROUTE_POLICIES)
    api = APIRouter(prefix="/v1")

    def v(request: Request) -> Any:
        return request.app.state.vault

    async def call(function, *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(lambda: function(*args, **kwargs))

    # Cases.
    @api.patch("/cases/{reference}")
    async def update_case(reference: str, body: CaseUpdate, request: Request) -> dict:
        return await call(cases_extra.update_case, v(request), reference, principal_of(request), **body.model_dump())

    @api.get("/case-classifications")
    async def list_classifications(request: Request) -> list[str]:
        return list(cases_extra.classifications(v(request)))

    @api.get("/cases/{reference}/records")
    async def case_records(reference: str, request: Request) -> dict:
        return await call(timeline.case_records, v(request), reference, principal_of(request))

    @api.get("/cases/{reference}/export")
    async def export_case(reference: str, request: Request, format: str = "case-uco") -> dict:
        if format != "case-uco":
            raise InvalidInput(f"invalid export format {format!r}: the only format is case-uco")
        return await call(caseuco.export_case, v(request), reference, principal_of(request))

    # Legal authority and non-collection.
    @api.post("/cases/{reference}/authorities", status_code=201)
    async def add_authority(reference: str, body: AuthorityCreate, request: Request) -> dict:
        return await call(authority.add_authority, v(request), reference, body.kind, body.reference, principal_of(request),
                          item_id=body.item_id, issued_by=body.issued_by, description=body.description,
                          covers_employee_devices=body.covers_employee_devices)

    @api.post("/cases/{reference}/not-collected", status_code=201)
    async def not_collected(reference: str, body: NonCollectionCreate, request: Request) -> dict:
        return await call(authority.record_non_collection, v(request), reference, body.subject, body.constraint, body.reason,
                          principal_of(request))

    # Physical items and lineage.
    @api.post("/cases/{reference}/physical-items", status_code=201)
    async def register_physical(reference: str, body: PhysicalCreate, request: Request) -> dict:
        return await call(physical.register_physical, v(request), reference, body.description, principal_of(request),
                          identifiers=body.identifiers, location=body.location, seal=body.seal, employee_owned=body.employee_owned)

    @api.post("/items/{item_id}/location")
    async def move_physical(item_id: str, body: PhysicalMove, request: Request) -> dict:
        return await call(physical.move_physical, v(request), item_id, body.location, body.reason, principal_of(request), body.seal)

    @api.post("/items/{item_id}/derivation")
    async def derive(item_id: str, body: Derivation, request: Request) -> dict:
        return await call(physical.derive, v(request), item_id, body.parent, body.how, principal_of(request))

    @api.get("/items/{item_id}/lineage")
    async def lineage(item_id: str, request: Request) -> dict:
        return await call(physical.lineage, v(request), item_id, principal_of(request))

    @api.get("/items/{item_id}/custody")
    async def custody(item_id: str, request: Request) -> dict:
        return await call(timeline.item_custody, v(request), item_id, principal_of(request))

    @api.post("/items/{item_id}/acquisition", status_code=201)
    async def record_acquisition(item_id: str, body: dict[str, Any], request: Request) -> dict:
        return await call(acquisition.record_acquisition, v(request), item_id, body, principal_of(request))

    # Transfers.
    @api.post("/items/{item_id}/transfers", status_code=201)
    async def release(item_id: str, body: Release, request: Request) -> dict:
        return await call(transfers.release, v(request), item_id, body.to, body.reason, body.method, principal_of(request), body.reference)

    @api.get("/items/{item_id}/transfers")
    async def item_transfers(item_id: str, request: Request, open_only: bool = False) -> list[dict]:
        return await call(transfers.item_transfers, v(request), principal_of(request), item_id, open_only)

    @api.post("/transfers/{transfer_id}/accept")
    async def accept(transfer_id: str, body: Accept, request: Request) -> dict:
        return await call(transfers.accept, v(request), transfer_id, principal_of(request), body.note)

    @api.post("/transfers/{transfer_id}/withdraw")
    async def withdraw(transfer_id: str, body: Reason, request: Request) -> dict:
        return await call(transfers.withdraw, v(request), transfer_id, body.reason, principal_of(request))

    @api.post("/transfers/{transfer_id}/discrepancies", status_code=201)
    async def discrepancy(transfer_id: str, body: Discrepancy, request: Request) -> dict:
        return await call(transfers.record_discrepancy, v(request), transfer_id, body.kind, body.description, principal_of(request))

    # Retention, holds and disposal.
    @api.put("/retention-policies")
    async def set_policy(body: PolicySet, request: Request) -> dict:
        return await call(retention.set_policy, v(request), body.jurisdiction, body.classification, body.retain_seconds,
                          body.basis, principal_of(request))

    @api.get("/retention-policies")
    async def list_policies(request: Request) -> list[dict]:
        return await call(retention.list_policies, v(request), principal_of(request))

    @api.post("/items/{item_id}/retention")
    async def extend_retention(item_id: str, body: RetentionExtend, request: Request) -> dict:
        return await call(retention.extend_retention, v(request), item_id, body.until, body.reason, principal_of(request))

    @api.post("/items/{item_id}/hold")
    async def place_hold(item_id: str, body: Reason, request: Request) -> dict:
        return await call(holds.place_hold, v(request), item_id, body.reason, principal_of(request))

    @api.post("/items/{item_id}/hold/release")
    async def release_hold(item_id: str, body: Reason, request: Request) -> dict:
        return await call(holds.release_hold, v(request), item_id, body.reason, principal_of(request))

    @api.post("/items/{item_id}/disposal-approvals", status_code=201)
    async def approve_disposal(item_id: str, body: DisposalApproval, request: Request) -> dict:
        return await call(holds.approve_disposal, v(request), item_id, body.reference, body.reason, principal_of(request))

    @api.post("/items/{item_id}/disposal")
    async def dispose(item_id: str, body: Reason, request: Request) -> dict:
        return await call(holds.dispose, v(request), item_id, body.reason, principal_of(request))

    # Privilege and outside experts.
    @api.put("/items/{item_id}/privilege")
    async def item_privilege(item_id: str, body: PrivilegeSet, request: Request) -> dict:
        return await call(privilege.set_privilege, v(request), principal_of(request), body.privilege, body.basis, item_id=item_id)

    @api.put("/cases/{reference}/privilege")
    async def case_privilege(reference: str, body: PrivilegeSet, request: Request) -> dict:
        return await call(privilege.set_privilege, v(request), principal_of(request), body.privilege, body.basis, case_reference=reference)

    @api.post("/cases/{reference}/expert-grants", status_code=201)
    async def grant(reference: str, body: GrantCreate, request: Request) -> dict:
        return await call(privilege.grant_expert, v(request), reference, body.grantee, body.item_ids, body.expires_at,
                          body.purpose, principal_of(request), body.organisation)

    @api.post("/expert-grants/{grant_id}/uses", status_code=201)
    async def use_grant(grant_id: str, body: GrantUse, request: Request) -> dict:
        return await call(privilege.record_use, v(request), grant_id, body.item_id, body.purpose, principal_of(request))

    @api.post("/expert-grants/{grant_id}/revoke")
    async def revoke_grant(grant_id: str, body: Reason, request: Request) -> dict:
        return await call(privilege.revoke_grant, v(request), grant_id, body.reason, principal_of(request))

    return api
