"""Routes for users, API tokens and case memberships (administrators), and `whoami` for everyone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from vault.api.auth import principal_of
from vault.services import access


class UserCreate(BaseModel):
    name: str
    role: str
    display_name: str | None = None


class TokenCreate(BaseModel):
    days: int = access.DEFAULT_TOKEN_DAYS
    label: str | None = None


def router() -> APIRouter:
    routes = APIRouter()

    @routes.get("/v1/whoami")
    async def whoami(request: Request) -> dict:
        principal = principal_of(request)
        return {"user": principal.name, "role": principal.role.value, "token_id": principal.token_id}

    @routes.post("/v1/admin/users", status_code=201)
    async def create_user(body: UserCreate, request: Request) -> dict:
        return await run_in_threadpool(access.create_user, request.app.state.vault, principal_of(request), body.name,
                                       body.role, body.display_name)

    @routes.get("/v1/admin/users")
    async def list_users(request: Request) -> list[dict]:
        return await run_in_threadpool(access.list_users, request.app.state.vault, principal_of(request))

    @routes.post("/v1/admin/users/{name}/tokens", status_code=201)
    async def create_token(name: str, body: TokenCreate, request: Request) -> dict:
        token, record = await run_in_threadpool(access.create_token, request.app.state.vault, principal_of(request), name,
                                                body.days, body.label)
        return {**record, "token": token}

    @routes.get("/v1/admin/tokens")
    async def list_tokens(request: Request, user: str | None = None) -> list[dict]:
        return await run_in_threadpool(access.list_tokens, request.app.state.vault, principal_of(request), user)

    @routes.post("/v1/admin/tokens/{token_id}/revoke")
    async def revoke_token(token_id: str, request: Request) -> dict:
        return await run_in_threadpool(access.revoke_token, request.app.state.vault, principal_of(request), token_id)

    @routes.put("/v1/cases/{reference}/members/{name}")
    async def add_member(reference: str, name: str, request: Request) -> dict:
        return await run_in_threadpool(access.add_member, request.app.state.vault, principal_of(request), reference, name)

    @routes.delete("/v1/cases/{reference}/members/{name}")
    async def remove_member(reference: str, name: str, request: Request) -> dict:
        return await run_in_threadpool(access.remove_member, request.app.state.vault, principal_of(request), reference, name)

    return routes
