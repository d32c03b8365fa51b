"""Per-user limits hold across API processes: two `reelforge serve` processes on one Redis.

One user fires `--requests` GraphQL operations as fast as possible, alternating between
the two processes (`--concurrency` in flight), with OPERATION_RATE_LIMIT=`--limit`/minute;
then `--creates` createJob calls with CREATE_JOB_RATE_LIMIT=`--create-limit`/minute.
Prints what each process accepted and refused: the accepted total must equal the limit
(not twice it, as a per-process counter would allow), every refusal RATE_LIMITED with
retryAfter.

    python bench/ratelimit.py [--requests 300] [--limit 100] [--creates 60] [--create-limit 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reelforge import startup  # noqa: E402
from reelforge.auth import mint_token  # noqa: E402
from reelforge.config import Settings  # noqa: E402
from reelforge.embedded import EmbeddedValkey  # noqa: E402

SECRET = "bench-only-secret-" + "r" * 48
CREATE = "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }"


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/readyz", timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{base} did not become ready")


async def fire(
    bases: list[str], token: str, payloads: list[dict[str, Any]], concurrency: int
) -> dict[str, Counter[str]]:
    outcome: dict[str, Counter[str]] = {base: Counter() for base in bases}
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:

        async def one(i: int, payload: dict[str, Any]) -> None:
            base = bases[i % len(bases)]
            async with semaphore:
                body = (await client.post(f"{base}/graphql", json=payload)).json()
            errors = body.get("errors") or []
            if not errors:
                outcome[base]["accepted"] += 1
            else:
                extensions = errors[0].get("extensions", {})
                code = extensions.get("code", "?")
                if code == "RATE_LIMITED" and not extensions.get("retryAfter"):
                    code = "RATE_LIMITED without retryAfter"
                outcome[base][code] += 1

        await asyncio.gather(*(one(i, p) for i, p in enumerate(payloads)))
    return outcome


def report(title: str, limit: int, outcome: dict[str, Counter[str]]) -> bool:
    accepted = sum(c["accepted"] for c in outcome.values())
    print(f"{title}: limit {limit}/minute for one user over {len(outcome)} API processes")
    for base, counts in outcome.items():
        print(f"  {base}: {dict(counts)}")
    ok = accepted == limit
    print(f"  accepted in total: {accepted} (limit {limit}) -> {'OK' if ok else 'NOT HELD'}")
    return ok


async def run(opts: argparse.Namespace, tmp: Path, redis_url: str) -> bool:
    database_url = f"sqlite+aiosqlite:///{tmp / 'storage' / 'reelforge.db'}"
    settings = Settings(
        video_storage_path=tmp / "storage",
        database_url=database_url,
        redis_url=redis_url,
        jwt_secret=SecretStr(SECRET),
        _env_file=None,  # type: ignore[call-arg]
    )
    (tmp / "storage").mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(startup.migrate, settings)
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
        "OPERATION_RATE_LIMIT": f"{opts.limit}/minute",
        "CREATE_JOB_RATE_LIMIT": f"{opts.create_limit}/minute",
    }
    ports = [startup.free_port(), startup.free_port()]
    logs = [(tmp / f"api-{p}.log").open("wb") for p in ports]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "reelforge.cli", "serve", "--port", str(p)],
            env=env,
            stdout=log,
            stderr=log,
        )
        for p, log in zip(ports, logs, strict=True)
    ]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    try:
        await asyncio.gather(*(wait_ready(b) for b in bases))
        token = mint_token(settings, client_id="bench", user_id="u1", ttl=timedelta(hours=1))
        started = time.perf_counter()
        reads = [{"query": "{ viewer { userId } }"}] * opts.requests
        first = report("operations", opts.limit, await fire(bases, token, reads, opts.concurrency))
        print(f"  {opts.requests} requests in {time.perf_counter() - started:.1f} s")
        token = mint_token(settings, client_id="bench", user_id="u2", ttl=timedelta(hours=1))
        job = {"brief": "Lemonade for hot days", "sceneCount": 1, "resolution": "R480P"}
        creates = [{"query": CREATE, "variables": {"i": job}}] * opts.creates
        second = report(
            "createJob", opts.create_limit, await fire(bases, token, creates, opts.concurrency)
        )
        return first and second
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        for log in logs:
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--creates", type=int, default=60)
    parser.add_argument("--create-limit", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelforge-bench-ratelimit-") as tmp_name:
        tmp = Path(tmp_name)
        valkey = EmbeddedValkey(tmp / "valkey")
        redis_url = valkey.start()
        try:
            ok = asyncio.run(run(opts, tmp, redis_url))
        finally:
            valkey.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
