"""Real processes for fault injection: a private Valkey, the fake Replicate, `reelforge
serve` and `reelforge worker`s, all on the same storage folder and database. Used by the
chaos tests (short cases) and by bench/chaos.py (the long run).

The fake Replicate is the independent witness: every create it received is listed by its
own API (`GET /v1/predictions`), so "paid once" is counted there, not in our database."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from reelforge.embedded import EmbeddedValkey
from reelforge.providers.catalog import DEFAULT_CATALOG
from reelforge.startup import free_port
from tests.fakes.replicate import price
from tests.processes import graphql, http, minted_token

ROOT = Path(__file__).resolve().parents[2]
FAKE_TOKEN = "r8_chaos_token_for_the_fake"


def _wait_http(url: str, process: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{url}: the process exited with {process.returncode}")
        try:
            if http().get(url, timeout=2, headers={"Authorization": "Bearer x"}).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout:g} s")


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} (after {timeout:g} s)"
        time.sleep(0.1)


@dataclass
class Cluster:
    """Start what a test needs; `close()` stops everything (also after a failure)."""

    root: Path
    database_url: str | None = None
    fake_latency: float = 0.3
    fake_create_latency: float = 0.0
    heartbeat_ttl: float = 3.0
    sweep_interval: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.valkey_port = free_port()
        self.valkey: EmbeddedValkey | None = None
        self.fake: subprocess.Popen[bytes] | None = None
        self.fake_url = ""
        self.api: subprocess.Popen[bytes] | None = None
        self.api_url = ""
        self.workers: list[subprocess.Popen[bytes] | None] = []
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._token = ""

    # -- pieces ------------------------------------------------------------------------

    def start_valkey(self, *, empty: bool = False) -> None:
        data = self.root / "valkey"
        if empty:
            shutil.rmtree(data, ignore_errors=True)
        self.valkey = EmbeddedValkey(data, port=self.valkey_port)
        self.valkey.start()

    def kill_valkey(self) -> None:
        assert self.valkey is not None and self.valkey.pid is not None
        os.kill(self.valkey.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.valkey.server is not None and self.valkey.server.is_running():
            assert time.monotonic() < deadline, "valkey survived SIGKILL"
            time.sleep(0.05)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.valkey_port}/0"

    def start(self, *, embedded_worker: bool, workers: int = 0) -> None:
        """Valkey, the fake, the API and `workers` workers, their start-ups side by side (the
        API and the workers call the fake only for a job). The workers wait for the API
        only on the SQLite file, which the API migrates (the CI PostgreSQL is migrated)."""
        self.start_valkey()
        self.start_fake(wait=False)
        self.start_api(embedded_worker=embedded_worker, wait=False)
        if not self.database_url:
            self.wait_api()
        for _ in range(workers):
            self.start_worker()
        self.wait_fake()
        self.wait_api()

    def start_fake(self, *, wait: bool = True) -> None:
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "tests.fakes.replicate",
            "--port",
            str(port),
            "--latency",
            str(self.fake_latency),
        ]
        if self.fake_create_latency:
            args += ["--create-latency", str(self.fake_create_latency)]
        self.fake = self._spawn("fake", args)
        self.fake_url = f"http://127.0.0.1:{port}"
        if wait:
            self.wait_fake()

    def wait_fake(self) -> None:
        _wait_http(f"{self.fake_url}/v1/predictions", self.fake)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            {
                "VIDEO_STORAGE_PATH": str(self.root / "data"),
                "REDIS_URL": self.redis_url,
                "PROVIDER": "replicate",
                "REPLICATE_API_TOKEN": FAKE_TOKEN,
                "REPLICATE_BASE_URL": self.fake_url,
                "REPLICATE_POLL_INTERVAL": "0.1",
                "PREDICTION_RETRY_BACKOFF": "0.2",
                "WORKER_HEARTBEAT_TTL": str(self.heartbeat_ttl),
                "SWEEP_INTERVAL": str(self.sweep_interval),
                "PROGRESS_RESYNC_INTERVAL": "2",
                "LOG_FORMAT": "json",
                "PYTHONPATH": str(ROOT),
            }
        )
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        env.update(extra)
        return env

    def start_api(self, *, embedded_worker: bool, wait: bool = True) -> None:
        port = free_port()
        self.api = self._spawn(
            "api",
            [sys.executable, "-m", "reelforge.cli", "serve", "--port", str(port)],
            EMBEDDED_WORKER="true" if embedded_worker else "false",
        )
        self.api_url = f"http://127.0.0.1:{port}"
        if wait:
            self.wait_api()

    def wait_api(self) -> None:
        _wait_http(f"{self.api_url}/healthz", self.api)

    def start_worker(self, index: int | None = None) -> int:
        if index is None:
            index = len(self.workers)
            self.workers.append(None)
        process = self._spawn(
            f"worker{index}",
            [sys.executable, "-m", "reelforge.cli", "worker"],
            WORKER_METRICS_PORT=str(free_port()),
        )
        self.workers[index] = process
        return index

    def kill_worker(self, index: int, sig: int = signal.SIGKILL) -> None:
        process = self.workers[index]
        assert process is not None
        process.send_signal(sig)
        process.wait(60)
        self.workers[index] = None

    def _spawn(self, name: str, args: list[str], **extra: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            return subprocess.Popen(args, env=self.env(**extra), stdout=log, stderr=log, cwd=ROOT)

    def close(self) -> None:
        for process in [self.api, *self.workers, self.fake]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [self.api, *self.workers, self.fake]:
            if process is None:
                continue
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if self.valkey is not None:
            self.valkey.stop()

    def log_text(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logged(self, name: str, *events: str) -> bool:
        """Whether the process logging into `name` logged any of `events` yet."""
        text = self.log_text(name)
        return any(f'"{event}"' in text for event in events)

    # -- talking to the API ------------------------------------------------------------

    @property
    def token(self) -> str:
        if not self._token:
            self._token = minted_token(self.env(), client="chaos", user="c")
        return self._token

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        return graphql(self.api_url, self.token, query, **variables)

    def create_job(self, scenes: int = 2, brief: str = "", **fields: Any) -> str:
        """A job at 480p, two seconds a scene; `fields` adds to or overrides its input
        (`voice=None, captions="NONE", music="NONE"`: a silent one)."""
        data = self.graphql(
            "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }",
            input={
                "brief": f"Trail shoes. Light and tough. Run further. {brief}".strip(),
                "sceneCount": scenes,
                "targetDuration": float(max(2, scenes * 2)),
                "resolution": "R480P",
                **fields,
            },
        )
        return str(data["createJob"]["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        data = self.graphql(
            "query($id: ID!) { job(id: $id) { id status progress actualCost errorMessage } }",
            id=job_id,
        )
        job: dict[str, Any] = data["job"]
        return job

    def mutate(self, name: str, job_id: str) -> dict[str, Any]:
        data = self.graphql(
            f"mutation($id: ID!) {{ {name}(jobId: $id) {{ id status }} }}", id=job_id
        )
        result: dict[str, Any] = data[name]
        return result

    def wait_status(self, job_id: str, *wanted: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        job: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                job = self.job(job_id)
            except (httpx.TransportError, ValueError):
                time.sleep(0.5)  # the API may be restarting
                continue
            if job["status"] in wanted:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {job.get('status')} after {timeout:g} s: {job}")

    def readyz(self) -> int:
        try:
            return http().get(f"{self.api_url}/readyz", timeout=5).status_code
        except httpx.TransportError:
            return 0

    # -- the witness -----------------------------------------------------------------------

    def predictions(self, created_after: datetime | None = None) -> list[dict[str, Any]]:
        """Every prediction the fake Replicate created (since `created_after`), newest first."""
        items: list[dict[str, Any]] = []
        url: str | None = f"{self.fake_url}/v1/predictions"
        params = {"created_after": created_after.isoformat()} if created_after else None
        while url:
            page = http().get(url, params=params, headers={"Authorization": f"Bearer {FAKE_TOKEN}"})
            params = None  # the next page's address keeps the filter
            body = page.json()
            items.extend(body["results"])
            url = body.get("next")
        return items

    def creates(self) -> Counter[str]:
        """Creates received at the fake, by kind (plan, image, video)."""
        kinds = {spec.model: spec.kind.value for spec in DEFAULT_CATALOG.specs()}
        return Counter(kinds.get(p["model"], p["model"]) for p in self.predictions())

    def billed(self) -> float:
        """What the fake would bill: every prediction that ran, priced by the catalog the
        way Replicate prices it (`tests.fakes.replicate.price`)."""
        return round(
            sum(
                price(p["model"], p["status"], p.get("metrics") or {}, p.get("input") or {})
                for p in self.predictions()
            ),
            6,
        )
