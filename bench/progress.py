"""Benchmark: 1,000 GraphQL subscribers of `jobProgress` on one API process, fed by progress
events published from another process, vs a raw Redis pub/sub round trip.

Four processes on loopback, plus an embedded Valkey:

- this one (orchestrator and publisher): makes the temp dir, the Valkey and the jobs
  (``createJob`` over HTTP), reads the server's memory from /proc, and publishes the events:
  the JSON of ``reelforge.jobs.repository.progress_payload`` for the real job row, on ``job:{id}``,
  with ``message = "t=<time.time()>"`` taken just before the PUBLISH;
- the API (``--serve``): the app as ``reelforge serve`` runs it (same uvicorn options:
  websockets-sansio, lifespan on, no access log), without the in-process worker, logging at
  WARNING, on a SQLite file;
- the clients (``--client``): one asyncio process holding every websocket
  (``graphql-transport-ws``, token in ``connection_init``, ``websockets`` with its default
  permessage-deflate offer, as a browser makes), and a plain redis-py subscriber for the
  baseline. Latency = the client's ``time.time()`` at ``recv()`` minus the ``t=`` in the
  message (one machine, one clock).

Steps: 10 warm-up subscribers come and go; the API's RSS is read; ``--subscribers`` (1,000)
connect and receive their snapshot, spread round-robin over ``--jobs`` jobs (10); after
``--idle`` seconds the RSS is read again: (after - before) / subscribers is the memory per
idle subscriber. Then ``--events`` (100) raw messages are published on a plain channel every
``--interval`` seconds (0.1) for the baseline, and then the 100 progress events, round-robin
over the jobs at the same pace (each event reaches subscribers / jobs websockets), each
followed by one raw message (the raw round trip under the same load, to tell client-side
delay from server-side delay).

Printed: p50 and p99 delivery latency in ms and their ratio to the raw round trip's p50 and
p99 (targets: p99 <= 250 ms), and KB per idle subscriber (target <= 50 KB).

    python bench/progress.py [--subscribers 1000] [--jobs 10] [--events 100] [--interval 0.1]
                             [--no-compression] [--diagnose] [--connect-only] [--try ...]

Also printed, to tell where the time and memory go: the API's CPU per delivery, how long one
event takes to fan out, the slowest events, the API's garbage-collector pauses during the
events (recorded with ``gc.callbacks`` in the API process), and its GC-tracked objects and
the cost of one full collection before and after the subscribers connected.

Diagnostics (separate runs; their figures are not the benchmark's):

- ``--diagnose``: the API runs under tracemalloc and cProfile and prints what the idle
  subscribers hold (by line, file, object type, live task) and where its CPU goes;
- ``--connect-only``: the memory of acknowledged websockets without a subscription;
- ``--try gc-default,deflate``: undo what `reelforge serve` ships with (its GC tuning,
  ``reelforge.startup.tune_gc``; no per-message deflate) to see what each is worth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

SECRET = "bench-progress-secret-" + "p" * 40
RAW_CHANNEL = "bench:raw"
QUERY = (
    "subscription($id: ID!) { jobProgress(jobId: $id) "
    "{ jobId event status stage progress sceneIndex message } }"
)


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# --- the API process ------------------------------------------------------------------------


TWEAKS = ("gc-default", "deflate")


def serve(port: int, diagnose: bool, tweaks: list[str]) -> None:
    """`reelforge serve` without the embedded worker, plus a few /__bench routes served in
    front of the app (GC census; with --diagnose tracemalloc and cProfile). `tweaks` are
    experiments with the server changes this benchmark's findings suggest (--try)."""
    if diagnose:
        import tracemalloc

        tracemalloc.start(1)

    import uvicorn

    from reelforge import app as app_module
    from reelforge.config import Settings
    from reelforge.observability.logging import configure_logging
    from reelforge.startup import server_config, tune_gc

    raise_open_files()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    configure_logging(settings)
    app = DiagnoseRoutes(
        app_module.create_app(settings, redis_url=settings.redis_url, embedded_worker=False),
        diagnose,
    )
    config = server_config(app, "127.0.0.1", port)  # exactly as `reelforge serve` runs it
    if "gc-default" not in tweaks:
        tune_gc()
    if "deflate" in tweaks:
        config.ws_per_message_deflate = True
    uvicorn.Server(config).run()


class DiagnoseRoutes:
    """/__bench/gc (garbage collector pauses since the last call); with --diagnose also
    /__bench/snapshot, /__bench/compare (tracemalloc) and /__bench/profile/start|stop."""

    def __init__(self, app: Any, diagnose: bool) -> None:
        import gc

        self.app = app
        self.diagnose = diagnose
        self.snapshot: Any = None
        self.profile: Any = None
        self.types: Counter[str] = Counter()
        self.gc_pauses: list[tuple[int, float]] = []
        self.gc_started = 0.0

        def on_gc(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                self.gc_started = time.perf_counter()
            else:
                self.gc_pauses.append((info["generation"], time.perf_counter() - self.gc_started))

        gc.callbacks.append(on_gc)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/__bench/"):
            await self.app(scope, receive, send)
            return
        body = self.handle(path[len("/__bench/") :]).encode()
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def handle(self, action: str) -> str:
        import cProfile
        import gc
        import io
        import pstats
        import tracemalloc

        if action == "gc":
            pauses, self.gc_pauses = self.gc_pauses, []
            return json.dumps(pauses)
        if action == "census":  # tracked objects, and what a full collection costs now
            started = time.perf_counter()
            gc.collect()
            seconds = time.perf_counter() - started
            self.gc_pauses.clear()
            return json.dumps({"objects": len(gc.get_objects()), "full_gc": seconds})
        if not self.diagnose:
            return "run with --diagnose"
        if action == "snapshot":
            gc.collect()
            self.snapshot = tracemalloc.take_snapshot()
            self.types = Counter(type(o).__qualname__ for o in gc.get_objects())
            return "ok"
        if action == "compare":
            gc.collect()
            now = tracemalloc.take_snapshot()
            types = Counter(type(o).__qualname__ for o in gc.get_objects())
            types.subtract(self.types)
            stats = now.compare_to(self.snapshot, "lineno")
            total = sum(s.size_diff for s in stats)
            lines = [f"traced Python memory growth: {total / 1024:.0f} KB"]
            lines += [
                f"{s.size_diff / 1024:9.0f} KB {s.count_diff:8d} blocks  {s.traceback[0]}"
                for s in stats[:25]
            ]
            by_file = now.compare_to(self.snapshot, "filename")
            lines.append("by file:")
            lines += [
                f"{s.size_diff / 1024:9.0f} KB  {s.traceback[0].filename}" for s in by_file[:20]
            ]
            lines.append("GC-tracked objects by type (growth):")
            lines += [f"{n:9d}  {name}" for name, n in types.most_common(30)]
            held = Counter(
                f"{type(o).__name__} in {o.tb_frame.f_code.co_name}"
                f" ({Path(o.tb_frame.f_code.co_filename).name}:{o.tb_lineno})"
                for o in gc.get_objects()
                if type(o).__name__ == "traceback"
            )
            tasks = Counter(
                getattr(o.get_coro(), "__qualname__", "?")
                for o in gc.get_objects()
                if isinstance(o, asyncio.Task)
            )
            lines.append("tracebacks held (where raised):")
            lines += [f"{n:9d}  {name}" for name, n in held.most_common(8)]
            lines.append("asyncio tasks alive, by coroutine:")
            lines += [f"{n:9d}  {name}" for name, n in tasks.most_common(8)]
            return "\n".join(lines)
        if action == "profile/start":
            self.profile = cProfile.Profile()
            self.profile.enable()
            return "ok"
        if action == "profile/stop":
            self.profile.disable()
            out = io.StringIO()
            profile = pstats.Stats(self.profile, stream=out)
            profile.sort_stats("tottime").print_stats(25)
            profile.sort_stats("cumulative").print_stats(40)
            return out.getvalue()
        return "unknown"


# --- the client process ---------------------------------------------------------------------


async def client_main(config: dict[str, Any]) -> None:
    """Commands on stdin, JSON answers on stdout, one a line."""
    import websockets
    from redis import asyncio as aioredis
    from websockets.typing import Subprotocol

    raise_open_files()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    url = f"ws://{config['host']}/graphql"
    init = json.dumps(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {config['token']}"}}
    )
    compression = "deflate" if config["compression"] else None
    latencies: list[tuple[int, float]] = []  # (event number, seconds)
    sockets: list[Any] = []
    handshake_slots = asyncio.Semaphore(50)

    def say(**data: Any) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    async def open_subscriber(job_id: str) -> Any:
        async with handshake_slots:
            ws = await websockets.connect(
                url,
                subprotocols=[Subprotocol("graphql-transport-ws")],
                compression=compression,
                open_timeout=120,
                ping_interval=None,
                close_timeout=2,
                max_queue=None,
            )
            await ws.send(init)
            ack = json.loads(await ws.recv())
            if ack["type"] != "connection_ack":
                raise RuntimeError(f"no ack: {ack}")
            if config["connect_only"]:
                return ws
            payload = {"query": QUERY, "variables": {"id": job_id}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            first = json.loads(await ws.recv())
            if first["type"] != "next" or first["payload"].get("errors"):
                raise RuntimeError(f"no snapshot: {first}")
            return ws

    async def listen(ws: Any, expected: int) -> int:
        got = 0
        while got < expected:
            raw = await ws.recv()
            now = time.time()
            message = json.loads(raw)
            if message["type"] == "next":
                text = message["payload"]["data"]["jobProgress"]["message"] or ""
                if text.startswith("t="):
                    sent, number = text.split()
                    latencies.append((int(number[2:]), now - float(sent[2:])))
                    got += 1
            elif message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif message["type"] in ("complete", "error"):
                break
        return got

    redis = aioredis.Redis.from_url(config["redis_url"])
    pubsub = redis.pubsub()
    await pubsub.subscribe(RAW_CHANNEL)
    raw_latencies: list[float] = []

    async def raw_listener() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                now = time.time()
                raw_latencies.append(now - float(message["data"].decode()[2:]))

    raw_task = asyncio.create_task(raw_listener())
    listeners: list[asyncio.Task[int]] = []
    while line := (await reader.readline()).decode().strip():
        command, *args = line.split()
        if command == "warm":
            warm = [await open_subscriber(config["jobs"][0]) for _ in range(10)]
            await asyncio.gather(*(ws.close() for ws in warm))
            say(done="warm")
        elif command == "connect":
            started = time.perf_counter()
            jobs = config["jobs"]
            sockets = await asyncio.gather(
                *(open_subscriber(jobs[i % len(jobs)]) for i in range(config["subscribers"]))
            )
            say(done="connect", seconds=time.perf_counter() - started)
        elif command == "listen":
            per_job = [int(n) for n in args]
            listeners = [
                asyncio.create_task(listen(ws, per_job[i % len(per_job)]))
                for i, ws in enumerate(sockets)
            ]
            raw_latencies.clear()
            say(done="listen")
        elif command == "raw-reset":
            raw_latencies.clear()
            say(done="raw-reset")
        elif command == "raw-collect":
            await asyncio.sleep(0.5)
            say(done="raw", latencies=raw_latencies[:])
            raw_latencies.clear()
        elif command == "collect":
            timeout = float(args[0])
            done, pending = await asyncio.wait(listeners, timeout=timeout)
            for task in pending:
                task.cancel()
            received = sum(t.result() for t in done)
            say(
                done="collect",
                latencies=latencies,
                received=received,
                raw=raw_latencies[:],
                unfinished=len(pending),
            )
        elif command == "close":
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            say(done="close")
            break
    raw_task.cancel()
    await pubsub.aclose()
    await redis.aclose()


# --- the orchestrator -----------------------------------------------------------------------


def rss_kb(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Client:
    def __init__(self, config: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--client", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    async def ask(self, command: str, timeout: float = 300) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        stdout = self.proc.stdout
        line = await asyncio.wait_for(asyncio.to_thread(stdout.readline), timeout)
        if not line:
            raise RuntimeError(f"the client process died (exit {self.proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


async def http_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the API exited with {proc.returncode}")
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the API did not start")


async def create_jobs(base: str, token: str, count: int) -> list[str]:
    import httpx

    mutation = "mutation($input: CreateJobInput!) { createJob(input: $input) { id status } }"
    ids = []
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        for i in range(count):
            body = {
                "query": mutation,
                "variables": {"input": {"brief": f"Benchmark job {i}: sparkling water."}},
            }
            answer = (await http.post("/graphql", json=body)).json()
            if answer.get("errors"):
                raise RuntimeError(answer["errors"])
            ids.append(answer["data"]["createJob"]["id"])
    return ids


async def orchestrate(opts: argparse.Namespace, tmp: Path) -> None:
    import httpx
    from pydantic import SecretStr
    from redis import asyncio as aioredis

    from reelforge.auth import mint_token
    from reelforge.config import Settings
    from reelforge.db import create_engine, create_sessionmaker, unit_of_work
    from reelforge.embedded import EmbeddedValkey
    from reelforge.events import job_channel, publish
    from reelforge.jobs.repository import JobChange, JobRepository, progress_payload
    from reelforge.models import Job
    from reelforge.startup import free_port, migrate

    valkey = EmbeddedValkey(tmp / "valkey")
    redis_url = valkey.start()
    database_url = f"sqlite+aiosqlite:///{tmp / 'storage' / 'reelforge.db'}"
    env = {
        **os.environ,
        "ENV": "development",
        "LOG_LEVEL": "WARNING",
        "VIDEO_STORAGE_PATH": str(tmp / "storage"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PROVIDER": "preview",
        "JWT_SECRET": SECRET,
        "EMBEDDED_WORKER": "false",
        # One user opens 1,000 subscriptions in seconds: far above OPERATION_RATE_LIMIT.
        "OPERATION_RATE_LIMIT": "1000000/minute",
    }
    settings = Settings(
        video_storage_path=tmp / "storage",
        database_url=database_url,
        redis_url=redis_url,
        jwt_secret=SecretStr(SECRET),
        _env_file=None,  # type: ignore[call-arg]
    )
    await asyncio.to_thread(migrate, settings)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = (tmp / "server.log").open("wb")
    command = [sys.executable, __file__, "--serve", str(port), "--try", opts.tweaks]
    if opts.diagnose:
        command.append("--diagnose")
    server = subprocess.Popen(command, env=env, stderr=server_log, stdout=server_log)
    client: Client | None = None
    redis = aioredis.Redis.from_url(redis_url)
    engine = create_engine(database_url)
    try:
        await http_ready(base, server)
        token = mint_token(settings, client_id="bench", user_id="bench", ttl=timedelta(hours=1))
        job_ids = await create_jobs(base, token, opts.jobs)
        async with unit_of_work(create_sessionmaker(engine)) as unit:
            jobs: list[Job] = [
                await JobRepository(unit).get(job_id, client_id=None) for job_id in job_ids
            ]
        client = Client(
            {
                "host": f"127.0.0.1:{port}",
                "token": token,
                "jobs": job_ids,
                "subscribers": opts.subscribers,
                "redis_url": redis_url,
                "compression": not opts.no_compression,
                "connect_only": opts.connect_only,
            }
        )
        await client.ask("warm")
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            census_before = (await http.get("/__bench/census")).json()
        await asyncio.sleep(1.0)
        before, _ = rss_kb(server.pid)
        if opts.diagnose:
            async with httpx.AsyncClient(base_url=base) as http:
                await http.get("/__bench/snapshot")
        connected = await client.ask("connect")
        await asyncio.sleep(opts.idle)
        after, _ = rss_kb(server.pid)
        per_subscriber = (after - before) / opts.subscribers
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            census_after = (await http.get("/__bench/census")).json()
        diagnosis = ""
        if opts.diagnose:
            async with httpx.AsyncClient(base_url=base, timeout=120) as http:
                diagnosis = (await http.get("/__bench/compare")).text
        if opts.connect_only:
            print(
                f"{opts.subscribers} websockets acknowledged, no subscription: "
                f"{per_subscriber:.1f} KB each (server tweaks: {opts.tweaks or 'none'};"
                f" clients {'offer no' if opts.no_compression else 'offer'} compression);"
                f" {(census_after['objects'] - census_before['objects']) / opts.subscribers:.0f}"
                " GC-tracked objects each"
            )
            print(diagnosis)
            await client.ask("close")
            return

        async def paced(send: Any) -> None:
            started = time.perf_counter()
            for k in range(opts.events):
                await asyncio.sleep(max(0.0, started + k * opts.interval - time.perf_counter()))
                await send(k)

        # The baseline: plain redis-py PUBLISH to a plain redis-py subscriber.
        await client.ask("raw-reset")

        async def raw(_: int) -> None:
            await redis.publish(RAW_CHANNEL, f"t={time.time()!r}")

        await paced(raw)
        raw_latencies = (await client.ask("raw-collect"))["latencies"]

        # The real thing: the repository's JSON on job:{id}, then one raw message.
        per_job = [len(range(j, opts.events, opts.jobs)) for j in range(opts.jobs)]
        await client.ask("listen " + " ".join(map(str, per_job)))
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            if opts.diagnose:
                await http.get("/__bench/profile/start")

            async def event(k: int) -> None:
                job = jobs[k % len(jobs)]
                change = JobChange(event="bench_progress", message=f"t={time.time()!r} k={k}")
                payload = {**progress_payload(job, change), "progress": k % 100}
                await publish(redis, job_channel(job.id), payload)
                await redis.publish(RAW_CHANNEL, f"t={time.time()!r}")

            await http.get("/__bench/gc")
            server_cpu, client_cpu = cpu_seconds(server.pid), cpu_seconds(client.proc.pid)
            published = time.perf_counter()
            await paced(event)
            result = await client.ask(f"collect {opts.interval * opts.events + 60}", timeout=600)
            drained = time.perf_counter() - published
            server_cpu = cpu_seconds(server.pid) - server_cpu
            client_cpu = cpu_seconds(client.proc.pid) - client_cpu
            gc_pauses = json.loads((await http.get("/__bench/gc")).text)
            profile = (await http.get("/__bench/profile/stop")).text if opts.diagnose else ""
        _, peak = rss_kb(server.pid)
        await client.ask("close")

        expected = sum(
            n * len(range(j, opts.subscribers, opts.jobs)) for j, n in enumerate(per_job)
        )
        lat = [x * 1000 for _, x in result["latencies"]]
        by_event: dict[int, list[float]] = {}
        for k, x in result["latencies"]:
            by_event.setdefault(k, []).append(x * 1000)
        spreads = [max(v) - min(v) for v in by_event.values()]
        worst = sorted(by_event.items(), key=lambda kv: -max(kv[1]))[:5]
        full = [(g, p * 1000) for g, p in gc_pauses if g == 2]
        raw_ms = [x * 1000 for x in raw_latencies]
        loaded_ms = [x * 1000 for x in result["raw"]]
        p50, p99 = percentile(lat, 50), percentile(lat, 99)
        unfinished = f", {result['unfinished']} unfinished" if result["unfinished"] else ""
        r50, r99 = percentile(raw_ms, 50), percentile(raw_ms, 99)
        print(
            f"{opts.subscribers} subscribers over {opts.jobs} job(s) on one API process, "
            f"{opts.events} events every {opts.interval:g} s from another process "
            f"({expected} deliveries expected, {result['received']} received"
            f"{unfinished});"
            f" clients {'offer no' if opts.no_compression else 'offer'} websocket compression;"
            f" server tweaks: {opts.tweaks or 'none (as shipped)'}"
        )
        print(
            f"connect: {connected['seconds']:.1f} s for {opts.subscribers} "
            f"(handshake, connection_init, subscribe, snapshot; 50 at a time);"
            f" events drained {drained:.1f} s after the first publish"
        )
        print(
            f"raw redis pub/sub round trip: p50 {r50:.2f} ms, p99 {r99:.2f} ms"
            f" (during the events: p50 {percentile(loaded_ms, 50):.2f} ms,"
            f" p99 {percentile(loaded_ms, 99):.2f} ms)"
        )
        print(
            f"delivery latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms (target p99 <= 250 ms);"
            f" max {max(lat):.1f} ms, mean {statistics.fmean(lat):.1f} ms"
        )
        print(f"delivery / raw: p50 {p50 / r50:.1f}x, p99 {p99 / r99:.1f}x")
        deliveries = max(1, result["received"])
        print(
            f"API CPU during the events: {server_cpu:.2f} s"
            f" = {server_cpu / deliveries * 1000:.2f} ms a delivery;"
            f" clients' CPU {client_cpu:.2f} s; {os.cpu_count()} cores"
        )
        print(
            f"fan-out of one event to its {opts.subscribers // opts.jobs} subscribers "
            f"(last minus first delivery): median {statistics.median(spreads):.1f} ms,"
            f" max {max(spreads):.1f} ms"
        )
        print(
            "slowest events (number: first/last delivery ms): "
            + ", ".join(f"#{k}: {min(v):.0f}/{max(v):.0f}" for k, v in worst)
        )
        print(
            f"API garbage collections during the events: {len(gc_pauses)}, "
            f"{sum(p for _, p in gc_pauses) * 1000:.0f} ms in all; full (gen 2): {len(full)}"
            + (f", longest {max(p for _, p in full):.0f} ms" if full else "")
        )
        print(
            f"memory per idle subscriber: {per_subscriber:.1f} KB (target <= 50 KB)"
            f"  [server RSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB;"
            f" peak {peak / 1024:.1f} MB]"
        )
        objects = (census_after["objects"] - census_before["objects"]) / opts.subscribers
        print(
            f"GC-tracked objects in the API: {census_before['objects']} -> "
            f"{census_after['objects']} ({objects:.0f} per subscriber); a full collection takes"
            f" {census_before['full_gc'] * 1000:.0f} ms before the subscribers,"
            f" {census_after['full_gc'] * 1000:.0f} ms with them"
        )
        if opts.diagnose:
            print("--- diagnose: tracemalloc, idle subscribers (after - before) ---")
            print(diagnosis)
            print("--- diagnose: cProfile of the API during the events ---")
            print(profile)
    finally:
        if client is not None:
            client.stop()
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
        server_log.close()
        await redis.aclose()
        await engine.dispose()
        valkey.stop()
        errors = (tmp / "server.log").read_text(errors="replace")
        if "Traceback" in errors:
            print("--- API log (tail) ---\n" + errors[-3000:], file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=10, help="subscribers spread over N jobs")
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between events")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds idle before the RSS")
    parser.add_argument("--no-compression", action="store_true", help="clients offer no deflate")
    parser.add_argument("--diagnose", action="store_true", help="tracemalloc + cProfile run")
    parser.add_argument(
        "--connect-only", action="store_true", help="memory of acked websockets, no subscription"
    )
    parser.add_argument(
        "--try",
        dest="tweaks",
        default="",
        help=f"server experiments, comma-separated: {', '.join(TWEAKS)}",
    )
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--client", metavar="JSON", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    tweaks = [t for t in opts.tweaks.split(",") if t]
    if unknown := set(tweaks) - set(TWEAKS):
        parser.error(f"unknown --try {sorted(unknown)}; choose from {TWEAKS}")
    if opts.serve:
        serve(opts.serve, opts.diagnose, tweaks)
    elif opts.client:
        asyncio.run(client_main(json.loads(opts.client)))
    else:
        import logging

        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        raise_open_files()
        with tempfile.TemporaryDirectory(prefix="reelforge-bench-progress-") as tmp:
            asyncio.run(orchestrate(opts, Path(tmp)))


if __name__ == "__main__":
    main()
