"""The HTTP API: parse, call a service, render. The rules live in `vault.services`.

Every route needs a bearer token (`vault.api.auth`), except `/v1/health`.
The actor recorded in each custody entry is the user the token belongs to.
The OpenAPI pages are turned off, because they would be routes without a policy.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import ClientDisconnect

from vault.api import admin_routes, records_routes
from vault.api.auth import authenticate, principal_of
from vault.errors import InvalidInput, Unauthenticated, VaultError
from vault.services import cases, items, ledger as ledger_service
from vault.services.intake import IntakeSession
from vault.services.manifest import MANIFEST_HEADER, UploadManifest
from vault.services.runtime import Vault

log = logging.getLogger(__name__)

FEED_SIZE = 1 << 20  # about this many bytes go to the hashing and upload worker thread at a time


class CaseCreate(BaseModel):
    reference: str
    title: str
    classification: str | None = None
    jurisdiction: str | None = None


def create_app(vault: Vault | None = None) -> FastAPI:
    """Build the API. Without `vault`, the app opens one from the environment at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        opened = vault is None
        app.state.vault = vault if vault is not None else await run_in_threadpool(Vault.open)
        try:
            yield
        finally:
            if opened:
                await run_in_threadpool(app.state.vault.close)

    app = FastAPI(title="Evidence Vault", version="0.1.0", lifespan=lifespan, dependencies=[Depends(authenticate)],
                  docs_url=None, redoc_url=None, openapi_url=None)
    if vault is not None:
        app.state.vault = vault

    @app.exception_handler(VaultError)
    async def vault_error(request: Request, error: VaultError) -> JSONResponse:
        if error.http_status >= 500:
            log.error("api.error path=%s code=%s message=%s", request.url.path, error.code, error.message)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else None
        return JSONResponse(error.to_dict(), status_code=error.http_status, headers=headers)

    def v(request: Request) -> Vault:
        return request.app.state.vault

    @app.get("/v1/health")
    async def health(request: Request) -> dict:
        # Public: the status and ledger size only, nothing about storage or cases.
        return {"status": "ok", "ledger_size": await run_in_threadpool(v(request).ledger.size)}

    # Cases.
    @app.post("/v1/cases", status_code=201)
    async def create_case(body: CaseCreate, request: Request) -> dict:
        return await run_in_threadpool(cases.create_case, v(request), body.reference, body.title, principal_of(request), body.classification, body.jurisdiction)

    @app.get("/v1/cases")
    async def list_cases(request: Request) -> list[dict]:
        return await run_in_threadpool(cases.list_cases, v(request), principal_of(request))

    @app.get("/v1/cases/{reference}")
    async def show_case(reference: str, request: Request) -> dict:
        return await run_in_threadpool(cases.show_case, v(request), reference, principal_of(request))

    # Intake.
    @app.post("/v1/cases/{reference}/items", status_code=201)
    async def upload(reference: str, request: Request) -> dict:
        manifest = UploadManifest.decode(request.headers.get(MANIFEST_HEADER))
        session = await run_in_threadpool(IntakeSession.begin, v(request), reference, manifest, principal_of(request))
        batch: list[bytes] = []
        batched = 0
        try:
            async for chunk in request.stream():
                batch.append(chunk)
                batched += len(chunk)
                if batched >= FEED_SIZE:
                    # The chunks go on as received: the hashers read them in place and the
                    # upload copies them once, into its part buffer.
                    await run_in_threadpool(session.feed_many, batch)
                    batch, batched = [], 0
            if batch:
                await run_in_threadpool(session.feed_many, batch)
            return await run_in_threadpool(session.finish)
        except ClientDisconnect:
            await run_in_threadpool(session.abort, "client disconnected during upload")
            raise InvalidInput("client disconnected during upload; nothing was stored") from None
        except VaultError as error:
            await run_in_threadpool(session.abort, error.message)
            raise
        except BaseException as error:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(session.abort, f"upload failed: {type(error).__name__}: {error}")
            raise

    # Items.
    @app.get("/v1/items/{item_id}")
    async def show_item(item_id: str, request: Request) -> dict:
        return await run_in_threadpool(items.show_item, v(request), item_id, principal_of(request))

    @app.get("/v1/items/{item_id}/files/{file_no}/content")
    async def download(item_id: str, file_no: int, request: Request, offset: int = 0, length: int | None = None) -> StreamingResponse:
        download = await run_in_threadpool(items.open_download, v(request), item_id, file_no, principal_of(request), offset, length)
        headers = {
            "Content-Length": str(download.length),
            "Vault-SHA256": download.file["sha256"],
            "Vault-Version-Id": download.file["version_id"],
        }
        return StreamingResponse(iterate_in_threadpool(download.chunks), media_type="application/octet-stream", headers=headers)

    @app.get("/v1/items/{item_id}/files/{file_no}/range-proof")
    async def range_proof(item_id: str, file_no: int, offset: int, length: int, request: Request) -> dict:
        return await run_in_threadpool(items.range_proof, v(request), item_id, file_no, offset, length, principal_of(request))

    @app.post("/v1/items/{item_id}/verify")
    async def verify(item_id: str, request: Request) -> dict:
        verdict = await run_in_threadpool(items.verify_item, v(request), item_id, principal_of(request))
        return verdict.to_dict()

    @app.get("/v1/items/{item_id}/report")
    async def report(item_id: str, request: Request) -> Response:
        from vault.services import reports  # pyHanko and fpdf2 cost ~40 MB, loaded on the first report

        pdf, stored = await run_in_threadpool(reports.build_report, v(request), item_id, principal_of(request))
        headers = {"Vault-Report-Key": stored["key"], "Vault-Report-Version-Id": stored["version_id"]}
        notices = v(request).notices
        if notices:
            headers["Vault-Notice"] = notices.pop()  # sent once, to the caller whose request created the CA
        return Response(pdf, media_type="application/pdf", headers=headers)

    @app.get("/v1/items/{item_id}/log")
    async def item_log(item_id: str, request: Request) -> dict:
        return await run_in_threadpool(ledger_service.item_timeline, v(request), item_id, principal_of(request))

    # Ledger (the auditor's view).
    @app.get("/v1/ledger/entries")
    async def entries(request: Request, start: int = 0, end: int | None = None) -> dict:
        return await run_in_threadpool(ledger_service.raw_entries, v(request), principal_of(request), start, end)

    @app.get("/v1/ledger/checkpoint")
    async def checkpoint(request: Request) -> Response:
        note = await run_in_threadpool(ledger_service.latest_checkpoint, v(request), principal_of(request))
        return Response(note, media_type="text/plain; charset=utf-8")

    @app.get("/v1/ledger/checkpoints")
    async def checkpoints(request: Request) -> dict:
        return await run_in_threadpool(ledger_service.all_checkpoints, v(request), principal_of(request))

    @app.get("/v1/ledger/stored-checkpoints")
    async def stored_checkpoints(request: Request) -> dict:
        return await run_in_threadpool(ledger_service.stored_checkpoints, v(request), principal_of(request))

    @app.get("/v1/reports/ca")
    async def report_ca(request: Request) -> Response:
        signer = await run_in_threadpool(v(request).report_signer)
        return Response(signer.ca_certificate_pem, media_type="application/x-pem-file")

    @app.get("/v1/ledger/key")
    async def key(request: Request) -> Response:
        key = await run_in_threadpool(ledger_service.verifier_key, v(request), principal_of(request))
        return Response(key + "\n", media_type="text/plain; charset=utf-8")

    @app.get("/v1/ledger/entries/{index}/proof")
    async def entry_proof(index: int, request: Request) -> Response:
        text = await run_in_threadpool(ledger_service.entry_receipt, v(request), index, principal_of(request))
        return Response(text, media_type="text/plain; charset=utf-8")

    @app.get("/v1/ledger/consistency")
    async def consistency(request: Request, old_size: int, new_size: int | None = None) -> dict:
        return await run_in_threadpool(ledger_service.consistency, v(request), principal_of(request), old_size, new_size)

    app.include_router(admin_routes.router())
    app.include_router(records_routes.router())
    return app
