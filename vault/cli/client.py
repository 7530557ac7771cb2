"""HTTP client for the vault API, and how the CLI finds the server.

The server URL comes from `VAULT_API_URL`, else from `server.json` that a local
`evidence-vault serve` writes into its data directory (`VAULT_DATA_DIR`,
default `./vault-data`), else `http://127.0.0.1:8750`.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import httpx

from vault.errors import VaultError

DEFAULT_URL = "http://127.0.0.1:8750"
SERVER_FILE = "server.json"


class ApiError(VaultError):
    """An error the server returned, or a failure to reach it."""

    def __init__(self, message: str, status: int | None = None, body: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or {}


def data_dir() -> Path:
    return Path(os.environ.get("VAULT_DATA_DIR", "vault-data"))


def server_url() -> str:
    url = os.environ.get("VAULT_API_URL")
    if url:
        return url.rstrip("/")
    record = data_dir() / SERVER_FILE
    if record.is_file():
        try:
            return json.loads(record.read_text(encoding="utf-8"))["url"].rstrip("/")
        except (ValueError, KeyError) as error:
            raise ApiError(f"invalid {record}: {error}; delete it and restart 'evidence-vault serve'") from None
    return DEFAULT_URL


def actor_name() -> str:
    return os.environ.get("VAULT_ACTOR") or getpass.getuser()


class VaultClient:
    def __init__(self, url: str | None = None, timeout: float = 600.0) -> None:
        self.url = url or server_url()
        self._http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=10.0),
                                  headers={"Vault-Actor": actor_name()})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "VaultClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise ApiError(f"cannot reach the vault at {self.url}; start it with 'evidence-vault serve' or set VAULT_API_URL") from None
        except httpx.TimeoutException:
            raise ApiError(f"the vault at {self.url} did not answer in time ({method} {path})") from None
        check(response)
        return response

    def json(self, method: str, path: str, **kwargs):
        return self.request(method, path, **kwargs).json()

    def stream(self, method: str, path: str, **kwargs):
        """Return a context manager over a streamed response; errors are raised on entry."""
        return _Stream(self, method, path, kwargs)


class _Stream:
    def __init__(self, client: VaultClient, method: str, path: str, kwargs: dict) -> None:
        self._client, self._method, self._path, self._kwargs = client, method, path, kwargs
        self._context = None

    def __enter__(self) -> httpx.Response:
        try:
            self._context = self._client._http.stream(self._method, self._path, **self._kwargs)
            response = self._context.__enter__()
        except httpx.ConnectError:
            raise ApiError(f"cannot reach the vault at {self._client.url}; start it with 'evidence-vault serve' or set VAULT_API_URL") from None
        if response.status_code >= 400:
            response.read()
            self._context.__exit__(None, None, None)
            check(response)
        return response

    def __exit__(self, *exc) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)


def check(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("message") if isinstance(body, dict) else None
    if not message:
        detail = body.get("detail") if isinstance(body, dict) else None
        message = f"{response.request.method} {response.request.url.path} failed with HTTP {response.status_code}"
        if detail:
            message += f": {detail}"
    raise ApiError(message, response.status_code, body if isinstance(body, dict) else {})
