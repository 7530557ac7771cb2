"""The HTTP API: parse, call a service, render. The rules live in `vault.services`.

NOTE: there is no authentication yet. The actor recorded in each custody entry
is the name the client claims in the `Vault-Actor` header (the CLI sends the
OS user name), so the record names who said they acted, not who proved it.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import ClientDisconnect

from vault.errors import InvalidInput, VaultError
from vault.services import cases, items, ledger as ledger_service
from vault.services.intake import IntakeSession
from vault.services.manifest import MANIFEST_HEADER, UploadManifest
from vault.services.runtime import Vault

log = logging.getLogger(__name__)

ACTOR_HEADER = "Vault-Actor"
FEED_SIZE = 1 << 20  # bytes handed to the hashing and upload worker at a time


class CaseCreate(BaseModel):
    reference: str
    title: str
    classification: str | None = None
    jurisdiction: str | None = None


def _actor(request: Request) -> str:
    actor = request.headers.get(ACTOR_HEADER, "").strip()
    if not actor:
        raise InvalidInput(f"missing {ACTOR_HEADER} header: every custody entry names who acted")
    if len(actor) > 200:
        raise InvalidInput(f"{ACTOR_HEADER} header is {len(actor)} characters; at most 200")
    return actor


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

    app = FastAPI(title="Evidence Vault", version="0.1.0", lifespan=lifespan)
    if vault is not None:
        app.state.vault = vault

    @app.exception_handler(VaultError)
    async def vault_error(request: Request, error: VaultError) -> JSONResponse:
        if error.http_status >= 500:
            log.error("api.error path=%s code=%s message=%s", request.url.path, error.code, error.message)
        return JSONResponse(error.to_dict(), status_code=error.http_status)

    def v(request: Request) -> Vault:
        return request.app.state.vault

    @app.get("/v1/health")
    async def health(request: Request) -> dict:
        return {"status": "ok", "bucket": v(request).store.settings.bucket, "ledger_size": await run_in_threadpool(v(request).ledger.size)}

    # Cases.
    @app.post("/v1/cases", status_code=201)
    async def create_case(body: CaseCreate, request: Request) -> dict:
        actor = _actor(request)
        return await run_in_threadpool(cases.create_case, v(request), body.reference, body.title, actor, body.classification, body.jurisdiction)

    @app.get("/v1/cases")
    async def list_cases(request: Request) -> list[dict]:
        return await run_in_threadpool(cases.list_cases, v(request))

    @app.get("/v1/cases/{reference}")
    async def show_case(reference: str, request: Request) -> dict:
        return await run_in_threadpool(cases.show_case, v(request), reference, _actor(request))

    # Intake.
    @app.post("/v1/cases/{reference}/items", status_code=201)
    async def upload(reference: str, request: Request) -> dict:
        actor = _actor(request)
        manifest = UploadManifest.decode(request.headers.get(MANIFEST_HEADER))
        session = await run_in_threadpool(IntakeSession.begin, v(request), reference, manifest, actor)
        buffer = bytearray()
        try:
            async for chunk in request.stream():
                buffer += chunk
                while len(buffer) >= FEED_SIZE:
                    # Whole 1 MiB pieces line up with Merkle leaves and S3 parts, which saves copies downstream.
                    with memoryview(buffer) as view:
                        data = bytes(view[:FEED_SIZE])
                    del buffer[:FEED_SIZE]
                    await run_in_threadpool(session.feed, data)
            if buffer:
                await run_in_threadpool(session.feed, bytes(buffer))
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
        return await run_in_threadpool(items.show_item, v(request), item_id, _actor(request))

    @app.get("/v1/items/{item_id}/files/{file_no}/content")
    async def download(item_id: str, file_no: int, request: Request, offset: int = 0, length: int | None = None) -> StreamingResponse:
        download = await run_in_threadpool(items.open_download, v(request), item_id, file_no, _actor(request), offset, length)
        headers = {
            "Content-Length": str(download.length),
            "Vault-SHA256": download.file["sha256"],
            "Vault-Version-Id": download.file["version_id"],
        }
        return StreamingResponse(iterate_in_threadpool(download.chunks), media_type="application/octet-stream", headers=headers)

    @app.get("/v1/items/{item_id}/files/{file_no}/range-proof")
    async def range_proof(item_id: str, file_no: int, offset: int, length: int, request: Request) -> dict:
        return await run_in_threadpool(items.range_proof, v(request), item_id, file_no, offset, length, _actor(request))

    @app.post("/v1/items/{item_id}/verify")
    async def verify(item_id: str, request: Request) -> dict:
        verdict = await run_in_threadpool(items.verify_item, v(request), item_id, _actor(request))
        return verdict.to_dict()

    @app.get("/v1/items/{item_id}/report")
    async def report(item_id: str, request: Request) -> Response:
        from vault.services import reports  # pyHanko and fpdf2 cost ~40 MB, loaded on the first report

        pdf, stored = await run_in_threadpool(reports.build_report, v(request), item_id, _actor(request))
        headers = {"Vault-Report-Key": stored["key"], "Vault-Report-Version-Id": stored["version_id"]}
        notices = v(request).notices
        if notices:
            headers["Vault-Notice"] = notices[-1]
        return Response(pdf, media_type="application/pdf", headers=headers)

    @app.get("/v1/items/{item_id}/log")
    async def item_log(item_id: str, request: Request) -> dict:
        return await run_in_threadpool(ledger_service.item_timeline, v(request), item_id, _actor(request))

    # Ledger (the auditor's view).
    @app.get("/v1/ledger/entries")
    async def entries(request: Request, start: int = 0, end: int | None = None) -> dict:
        return await run_in_threadpool(ledger_service.raw_entries, v(request), start, end)

    @app.get("/v1/ledger/checkpoint")
    async def checkpoint(request: Request) -> Response:
        note = await run_in_threadpool(ledger_service.latest_checkpoint, v(request))
        return Response(note, media_type="text/plain; charset=utf-8")

    @app.get("/v1/ledger/checkpoints")
    async def checkpoints(request: Request) -> dict:
        return await run_in_threadpool(ledger_service.all_checkpoints, v(request))

    @app.get("/v1/ledger/stored-checkpoints")
    async def stored_checkpoints(request: Request) -> dict:
        return await run_in_threadpool(ledger_service.stored_checkpoints, v(request))

    @app.get("/v1/ledger/key")
    async def key(request: Request) -> Response:
        return Response(v(request).ledger.verifier_key + "\n", media_type="text/plain; charset=utf-8")

    @app.get("/v1/ledger/entries/{index}/proof")
    async def entry_proof(index: int, request: Request) -> Response:
        text = await run_in_threadpool(ledger_service.entry_receipt, v(request), index, _actor(request))
        return Response(text, media_type="text/plain; charset=utf-8")

    @app.get("/v1/ledger/consistency")
    async def consistency(request: Request, old_size: int, new_size: int | None = None) -> dict:
        return await run_in_threadpool(ledger_service.consistency, v(request), old_size, new_size)

    return app
