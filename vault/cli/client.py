"""HTTP client for the vault API, and how the CLI finds the server.

The server URL comes from `VAULT_API_URL`, else from `server.json` that a local
`evidence-vault serve` writes into its data directory (`VAULT_DATA_DIR`,
default `./vault-data`), else `http://127.0.0.1:8750`.

The API token comes from `VAULT_TOKEN`, else from the file named by
`VAULT_TOKEN_FILE` (default `~/.config/evidence-vault/token`), which must be
readable by its owner only. There is deliberately no command-line option for
it, because arguments are visible to other users in `ps`. `VAULT_TLS_CA` names
a CA bundle for a server with a certificate from a private CA.
"""

from __future__ import annotations

import json
import os
import stat
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


def default_token_file() -> Path:
    return Path.home() / ".config" / "evidence-vault" / "token"


def read_token() -> str | None:
    """Return the API token from `VAULT_TOKEN` or the token file, or None when neither is set.

    Raises ApiError when the token file can be read by its group or by others,
    or cannot be read at all.
    """
    token = os.environ.get("VAULT_TOKEN", "").strip()
    if token:
        return token
    named = os.environ.get("VAULT_TOKEN_FILE")
    path = Path(named) if named else default_token_file()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if named:
            raise ApiError(f"token file {path} (VAULT_TOKEN_FILE) does not exist") from None
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ApiError(
            f"token file {path} is accessible to group or others (mode {stat.S_IMODE(mode):04o}); "
            f"restrict it with: chmod 600 {path}"
        )
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError as error:
        raise ApiError(f"cannot read token file {path}: {error.strerror}") from None


class VaultClient:
    def __init__(self, url: str | None = None, timeout: float = 600.0) -> None:
        self.url = url or server_url()
        headers = {}
        token = read_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.has_token = bool(token)
        verify: str | bool = os.environ.get("VAULT_TLS_CA") or True
        self._http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=10.0), headers=headers,
                                  verify=verify)

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
            raise ApiError(f"request to the vault at {self.url} timed out ({method} {path}); retry, or check that the server is running") from None
        self.check(response)
        return response

    def check(self, response: httpx.Response) -> None:
        """Raise ApiError for an error response, naming the missing token when none was sent."""
        if response.status_code == 401 and not self.has_token:
            raise ApiError(
                f"no API token was sent: set VAULT_TOKEN, or VAULT_TOKEN_FILE to an owner-only file holding it "
                f"(default {default_token_file()}); an administrator creates one with: "
                "evidence-vault admin token create USER",
                response.status_code,
            )
        check(response)

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
            self._client.check(response)
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
