"""Dashboard load while jobs render: does one busy dashboard slow the service for everyone?

In one run, against the same SQLite database and the same rows:

1. **baseline**: a bare Starlette endpoint that reads a dashboard's rows (a page of jobs,
   their stills, thumbnails, exports and events) with plain SQLAlchemy, and answers JSON;
2. **idle**: `--jobs` jobs (brief → storyboard → approve → render) on the fake Replicate
   against an idle `reelforge serve`, timed;
3. **load**: the same number of new jobs while `--concurrency` clients send
   `jobs(first: 20) { … scenes { image { url } } exports events … }` for `--duration`.

Printed: dashboard p50 / p99 latency, errors and throughput under load, the throughput
ratio to the bare endpoint (goal ≥ 0.3), and the jobs' wall time under load against idle
(goal ≤ 1.2×). The API is `reelforge serve` in its own process (embedded Valkey settings;
its embedded worker, or with `--standalone-worker` a `reelforge worker` process as in the
Compose and Fly deployments), the fake Replicate another process.

    python bench/load.py                                  # short: 50 clients for 5 s
    python bench/load.py --concurrency 200 --duration 30  # the issue's figure
    python bench/load.py --standalone-worker              # the worker in its own process
    python bench/load.py --pin                            # and on cores of its own
    python bench/load.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

`--pin` splits the machine's cores in two: this load generator, the bare endpoint and the API
on one half, the worker (with its FFmpeg) and the fake Replicate on the other, as when the
API and the workers run on separate machines (Fly's process groups). On a 2-core machine the
unpinned run measures mostly CPU sharing: the load generator and the API keep both cores
busy, so FFmpeg runs at a third of its idle speed whatever the service does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-load-secret-" + "x" * 40
DASHBOARD = """
{ jobs(first: 20) { totalCount edges { node {
  id status progress
  scenes { index image { id url } }
  thumbnail { id url }
  exports { id status }
  events { type }
} } } }
"""
CREATE = (
    'mutation { createJob(input: {brief: "Cold brew in a can. Smooth. Bold.", sceneCount: 2, '
    "targetDuration: 2.0, resolution: R480P}) { id } }"
)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    problems: Counter[str] = field(default_factory=Counter)  # error code → count
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def bare_app(database_url: str) -> Any:
    """The baseline: the dashboard's rows, read with plain SQLAlchemy in one session."""
    from sqlalchemy import select
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from reelforge.db import create_engine, create_sessionmaker
    from reelforge.models import Asset, Export, Job, JobEvent

    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)

    async def dashboard(_: Request) -> JSONResponse:
        async with sessions() as session:
            jobs = list(
                (
                    await session.execute(
                        select(Job)
                        .where(Job.client_id == "bench")
                        .order_by(Job.created_at.desc())
                        .limit(20)
                    )
                ).scalars()
            )
            ids = [j.id for j in jobs]
            assets = {
                a.id: a
                for a in (
                    await session.execute(select(Asset).where(Asset.job_id.in_(ids)))
                ).scalars()
            }
            exports = list(
                (await session.execute(select(Export).where(Export.job_id.in_(ids)))).scalars()
            )
            events = list(
                (await session.execute(select(JobEvent).where(JobEvent.job_id.in_(ids)))).scalars()
            )
        body = [
            {
                "id": j.id,
                "status": j.status,
                "scenes": [
                    {"image": s.get("image_asset_id") in assets}
                    for s in (j.storyboard_data or {}).get("scenes", [])
                ],
                "exports": [e.id for e in exports if e.job_id == j.id],
                "events": [e.type for e in events if e.job_id == j.id],
            }
            for j in jobs
        ]
        return JSONResponse({"jobs": body})

    return Starlette(routes=[Route("/dashboard", dashboard)])


def serve_bare(port: int, database_url: str) -> None:
    import uvicorn

    uvicorn.run(bare_app(database_url), host="127.0.0.1", port=port, log_level="warning")


async def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            try:
                await client.get(url, timeout=2)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


async def hammer(client: httpx.AsyncClient, send: Any, concurrency: int, duration: float) -> Load:
    load = Load()
    stop = time.monotonic() + duration

    async def one_client() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                response = await send(client)
                body = response.json()
                errors = body.get("errors") if isinstance(body, dict) else None
                problem = (
                    None
                    if response.status_code == 200 and not errors
                    else (errors[0].get("extensions", {}).get("code") if errors else None)
                    or f"HTTP {response.status_code}"
                )
            except (httpx.HTTPError, ValueError) as exc:
                problem = type(exc).__name__
            if problem is None:
                load.latencies.append(time.perf_counter() - started)
            else:
                load.errors += 1
                load.problems[problem] += 1

    started = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    load.seconds = time.monotonic() - started
    return load


@dataclass
class JobTimes:
    wall: float  # createJob sent → COMPLETED seen, as the client lives it (API round trips too)
    worker: float  # created → storyboard_complete + render_started → completed, from its events


async def run_job(client: httpx.AsyncClient) -> JobTimes:
    """One job from brief to video through the API, timed by the client and by its events."""

    async def call(query: str) -> dict[str, Any]:
        while True:  # as a client should: SERVICE_UNAVAILABLE is retried after `retryAfter`
            body: dict[str, Any] = (await client.post("/graphql", json={"query": query})).json()
            extensions = (body.get("errors") or [{}])[0].get("extensions", {})
            if extensions.get("code") != "SERVICE_UNAVAILABLE":
                break
            await asyncio.sleep(extensions.get("retryAfter", 1))
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body

    async def wait(job_id: str, status: str) -> None:
        while True:
            body = await call(f'{{ job(id: "{job_id}") {{ status errorMessage }} }}')
            job = body["data"]["job"]
            if job["status"] == status:
                return
            if job["status"] in ("FAILED", "CANCELED"):
                raise RuntimeError(f"job {job['status']}: {job['errorMessage']}")
            await asyncio.sleep(0.2)

    started = time.monotonic()
    job_id = (await call(CREATE))["data"]["createJob"]["id"]
    await wait(job_id, "STORYBOARD_COMPLETE")
    await call(f'mutation {{ approveStoryboard(jobId: "{job_id}") {{ id }} }}')
    await call(f'mutation {{ renderVideo(jobId: "{job_id}") {{ id }} }}')
    await wait(job_id, "COMPLETED")
    wall = time.monotonic() - started
    body = await call(f'{{ job(id: "{job_id}") {{ events {{ type createdAt }} }} }}')
    at = {e["type"]: datetime.fromisoformat(e["createdAt"]) for e in body["data"]["job"]["events"]}
    worker = (at["storyboard_complete"] - at["created"]) + (at["completed"] - at["render_started"])
    return JobTimes(wall, worker.total_seconds())


def pinned(cpus: set[int] | None) -> Any:
    """A `preexec_fn` that keeps a child (and everything it starts) on `cpus`."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


async def bench(opts: argparse.Namespace, tmp: Path) -> None:
    from pydantic import SecretStr

    from reelforge.auth import mint_token
    from reelforge.config import Settings
    from reelforge.embedded import EmbeddedValkey
    from reelforge.startup import free_port, migrate

    storage = tmp / "storage"
    database_url = opts.database_url or f"sqlite+aiosqlite:///{storage / 'reelforge.db'}"
    front: set[int] | None = None
    back: set[int] | None = None
    if opts.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("--pin needs at least 2 cores")
        front, back = set(cpus[: len(cpus) // 2]), set(cpus[len(cpus) // 2 :])
        os.sched_setaffinity(0, front)
        print(
            f"pinned: client, bare endpoint and API on cores {sorted(front)}, "
            f"worker and fake Replicate on {sorted(back)}"
        )
    valkey = EmbeddedValkey(tmp / "valkey")
    redis_url = valkey.start()
    settings = Settings(
        video_storage_path=storage,
        database_url=database_url,
        redis_url=redis_url,
        jwt_secret=SecretStr(SECRET),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(migrate, settings)
    # The dashboards are one user's; the jobs another's, as in the issue (or the same with
    # --same-user, whose jobs then take turns with their own dashboards).
    tokens = {
        role: mint_token(settings, client_id="bench", user_id=user, ttl=timedelta(hours=2))
        for role, user in (("dashboards", "a"), ("jobs", "a" if opts.same_user else "b"))
    }
    ports = {name: free_port() for name in ("fake", "api", "bare")}
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENV": "development",
        "LOG_LEVEL": "WARNING",
        "VIDEO_STORAGE_PATH": str(storage),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": SECRET,
        "PROVIDER": "replicate",
        "REPLICATE_API_TOKEN": "r8_bench_token_for_the_fake",
        "REPLICATE_BASE_URL": f"http://127.0.0.1:{ports['fake']}",
        "REPLICATE_POLL_INTERVAL": "0.1",
        "OPERATION_RATE_LIMIT": "1000000/minute",
        "EMBEDDED_WORKER": "false" if opts.standalone_worker else "true",
        "WORKER_METRICS_PORT": str(free_port()),
    }
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fakes.replicate",
                "--port",
                str(ports["fake"]),
                "--latency",
                str(opts.latency),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=pinned(back),
        ),
        subprocess.Popen(
            [sys.executable, "-m", "reelforge.cli", "serve", "--port", str(ports["api"])],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "serve.log").open("wb"),
        ),
        subprocess.Popen(
            [sys.executable, __file__, "--bare", str(ports["bare"]), database_url],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    if opts.standalone_worker:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "reelforge.cli", "worker"],
                env=env,
                cwd=ROOT,
                preexec_fn=pinned(back),
                stdout=subprocess.DEVNULL,
                stderr=(tmp / "worker.log").open("wb"),
            )
        )
    api = f"http://127.0.0.1:{ports['api']}"
    bare = f"http://127.0.0.1:{ports['bare']}"
    limits = httpx.Limits(max_connections=opts.concurrency + 8)
    try:
        await wait_http(f"{api}/healthz", processes[1])
        await wait_http(f"{bare}/dashboard", processes[2])
        async with (
            httpx.AsyncClient(
                base_url=api,
                headers={"Authorization": f"Bearer {tokens['dashboards']}"},
                timeout=120,
                limits=limits,
            ) as client,
            httpx.AsyncClient(
                base_url=api,
                headers={"Authorization": f"Bearer {tokens['jobs']}"},
                timeout=120,
            ) as jobs_client,
            httpx.AsyncClient(base_url=bare, timeout=120, limits=limits) as bare_client,
        ):
            print(f"idle: {opts.jobs} jobs on the fake Replicate (latency {opts.latency} s)")
            idle = await asyncio.gather(*(run_job(jobs_client) for _ in range(opts.jobs)))
            baseline = await hammer(
                bare_client, lambda c: c.get("/dashboard"), opts.concurrency, opts.duration
            )
            print(
                f"load: {opts.concurrency} dashboards for {opts.duration:g} s while "
                f"{opts.jobs} more jobs render"
            )
            jobs_task = asyncio.gather(*(run_job(jobs_client) for _ in range(opts.jobs)))
            loaded = await hammer(
                client,
                lambda c: c.post("/graphql", json={"query": DASHBOARD}),
                opts.concurrency,
                opts.duration,
            )
            busy = await jobs_task
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        valkey.stop()

    ratio = loaded.throughput / baseline.throughput if baseline.throughput else 0.0
    idle_wall, busy_wall = (statistics.mean(t.wall for t in ts) for ts in (idle, busy))
    idle_work, busy_work = (statistics.mean(t.worker for t in ts) for ts in (idle, busy))
    print()
    print(f"{'':24}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, load in (("bare Starlette", baseline), ("reelforge dashboard", loaded)):
        print(
            f"{name:24}{load.throughput:>12.1f}{load.percentile(0.5) * 1000:>10.1f}"
            f"{load.percentile(0.99) * 1000:>10.1f}{load.errors:>8}"
        )
    problems = ", ".join(f"{k} {v}" for k, v in loaded.problems.most_common()) or "none"
    print(f"\nthroughput vs bare: {ratio:.2f}× (goal ≥ 0.3), errors: {loaded.errors} (goal 0)")
    print(f"errors by code: {problems}")
    print(
        f"job wall time: idle {idle_wall:.1f} s, under load {busy_wall:.1f} s: "
        f"{busy_wall / idle_wall:.2f}× (goal ≤ 1.2)"
    )
    print(
        f"  of which the worker's (from the job's events, without the client's round trips "
        f"through the loaded API): idle {idle_work:.1f} s, under load {busy_work:.1f} s: "
        f"{busy_work / idle_work:.2f}×"
    )


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--latency", type=float, default=1.0, help="fake Replicate, seconds")
    parser.add_argument(
        "--standalone-worker", action="store_true", help="jobs run in a `reelforge worker`"
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the worker and the fake on cores of their own (implies --standalone-worker)",
    )
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database instead of a new SQLite file"
    )
    parser.add_argument(
        "--same-user", action="store_true", help="the jobs are the dashboards' user's own"
    )
    opts = parser.parse_args()
    opts.standalone_worker = opts.standalone_worker or opts.pin
    tmp = Path(tempfile.mkdtemp(prefix="reelforge-bench-load-"))
    try:
        asyncio.run(bench(opts, tmp))
    except BaseException:
        # A failed job names only a reference: its traceback is in the logs kept here.
        print(f"failed: serve.log and worker.log are kept in {tmp}", file=sys.stderr)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
