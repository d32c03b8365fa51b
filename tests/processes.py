"""Helpers for tests that run Reelforge as its own processes (`reelforge serve`, `reelforge
worker`, `reelforge token`), the way a user or an operator starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from reelforge.auth import mint_token
from reelforge.config import Settings
from reelforge.startup import free_port
from tests.fakes.replicate import DEFAULT_TOKEN

_client: httpx.Client | None = None


def http() -> httpx.Client:
    """The one client these helpers (and tests/chaos) talk to the processes with: a client
    made per request, as `httpx.get` does, costs ~50 ms of CPU (its TLS context), and
    they poll several times a second. Safe to share between threads."""
    global _client
    if _client is None:
        _client = httpx.Client(timeout=30)
    return _client


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"VIDEO_STORAGE_PATH": str(tmp_path / "data"), "PROVIDER": "preview", **extra})
    return env


def replicate_worker_env(
    tmp_path: Path, settings: Settings, redis_url: str, fake_host: str, **extra: str
) -> dict[str, str]:
    """A `reelforge worker` on the test's database, Redis and storage, calling the fake
    Replicate at `fake_host`; its dead leases lapse in 2 s."""
    return env(
        tmp_path,
        DATABASE_URL=settings.resolved_database_url,
        REDIS_URL=redis_url,
        VIDEO_STORAGE_PATH=str(settings.video_storage_path),
        PROVIDER="replicate",
        REPLICATE_API_TOKEN=DEFAULT_TOKEN,
        REPLICATE_BASE_URL=f"http://{fake_host}",
        REPLICATE_POLL_INTERVAL="0.05",
        WORKER_HEARTBEAT_TTL="2",
        LOG_LEVEL="WARNING",
        **extra,
    )


def valkeys_under(path: Path) -> list[int]:
    """Pids of valkey-server processes running in a folder under `path` (Valkey rewrites
    its command line, but it runs with its data folder as working directory)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            cwd = str((proc / "cwd").resolve())
        except OSError:
            continue
        if "valkey-server" in cmdline and cwd.startswith(str(path)):
            pids.append(int(proc.name))
    return pids


def cli_token(tmp_path: Path, client: str = "acme", user: str = "alice") -> str:
    """A token minted the way a user does it: `reelforge token`."""
    result = subprocess.run(
        [sys.executable, "-m", "reelforge.cli", "token", "--client", client, "--user", user],
        env=env(tmp_path),
        capture_output=True,
        check=True,
    )
    return result.stdout.decode().strip()


def minted_token(env: dict[str, str], client: str = "acme", user: str = "alice") -> str:
    """A token that processes started with `env` accept, minted in this process: what
    `reelforge token` prints, without starting one more interpreter (tests/test_cli.py runs
    the command itself)."""
    secret = {"jwt_secret": env["JWT_SECRET"]} if "JWT_SECRET" in env else {}
    settings = Settings(_env_file=None, **secret)  # type: ignore[call-arg,arg-type]
    return mint_token(settings, client_id=client, user_id=user, ttl=timedelta(hours=24))


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 120) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"serve exited early: {process.stderr.read().decode()[-3000:] if process.stderr else ''}"
            )
        try:
            response = http().get(f"{base}/readyz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("serve did not become ready")


def replicate_env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    return env(
        tmp_path,
        PROVIDER="replicate",
        REPLICATE_API_TOKEN="r8_test_token_for_the_fake",
        REPLICATE_BASE_URL=url,
        REPLICATE_POLL_INTERVAL="0.1",
        **extra,
    )


def graphql(base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    """POST one operation with its variables; fails the test on any error."""
    body: dict[str, Any] = (
        http()
        .post(
            f"{base}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        .json()
    )
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def job_status(base: str, token: str, job_id: str) -> str:
    data = graphql(base, token, "query($id: ID!) { job(id: $id) { status } }", id=job_id)
    return str(data["job"]["status"])


def start_serve(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "reelforge.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, process)
    return process, base


def wait_status(base: str, token: str, job_id: str, wanted: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (status := job_status(base, token, job_id)) != wanted:
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.1)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A standalone `reelforge worker` (it needs REDIS_URL in `env`), its output appended
    to `log` (a pipe nobody reads would block the worker once full)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "reelforge.cli", "worker"],
            env={"WORKER_METRICS_PORT": str(free_port()), **env},
            stdout=out,
            stderr=out,
        )
