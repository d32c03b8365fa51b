"""Benchmark: a ~48 MB video through the real upload route vs a bare streaming endpoint,
for each storage backend (the local folder, and S3 on a SeaweedFS started here).

Each side runs in its own uvicorn process on a loopback port, with the same 50 MB limit:

- ``real``: ``POST /api/v2/upload-asset`` (size-limit middleware, streaming multipart
  parser, rate limit, sniff, scratch file + sha256, FFmpeg probe and first-frame decode,
  then a rename into place (folder) or a multipart upload (S3), SQLite row) over a
  Runtime-like object (SQLite file, blob store, in-memory rate limiter);
- ``bare``: an endpoint that only writes ``request.stream()`` to the same backend: a file,
  or an S3 multipart upload streamed from the request with the same part size and
  concurrency.

The same multipart bytes are sent to both (with sendfile, Content-Length set). Prints the
throughput ratio bare/real (target >= 0.5) and the server's peak memory growth during the
upload (VmHWM after minus VmRSS before, from /proc/<pid>/status; target <= 20 MB). The
FFmpeg child processes are not part of the server's memory.

    python bench/upload.py [--runs 3] [--backend both|file|s3] [--fresh]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

MB = 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "reelforge-bench-boundary"
CACHE = Path(tempfile.gettempdir()) / "reelforge-bench-upload-v1"
SECRET = "bench-secret-" + "z" * 40
MAX_UPLOAD = 50 * MB


# --- the servers (run as `python bench/upload.py --serve real|bare ...`) ----------------


def serve(kind: str, port: int, storage: Path, storage_url: str | None) -> None:
    import uvicorn
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from reelforge.config import Settings
    from reelforge.db import Base, UnitOfWork, create_engine, create_sessionmaker, unit_of_work
    from reelforge.observability.logging import configure_logging
    from reelforge.ratelimit import RateLimiter
    from reelforge.storage.blobs import BlobStore, open_blob_store
    from reelforge.storage.limits import UploadSizeLimitMiddleware
    from reelforge.storage.routes import routes

    async def ready(_: Request) -> Response:
        return JSONResponse({"pid": os.getpid()})

    settings = Settings(
        _env_file=None,
        video_storage_path=storage,
        storage_url=storage_url,
        jwt_secret=SECRET,
        max_upload_bytes=MAX_UPLOAD,
        upload_rate_limit="1000/minute",
        signed_url_ttl=timedelta(hours=1),
        clamav_url=None,
        log_level="WARNING",
    )
    if kind == "bare" and storage_url:
        import obstore

        from reelforge.storage.s3 import PART_BYTES, PART_CONCURRENCY, S3BlobStore

        s3 = open_blob_store(settings)
        assert isinstance(s3, S3BlobStore)

        async def bare_s3(request: Request) -> Response:
            key = f"bare/{time.monotonic_ns()}.bin"
            await obstore.put_async(
                s3.store,
                key,
                request.stream(),
                chunk_size=PART_BYTES,
                max_concurrency=PART_CONCURRENCY,
            )
            return JSONResponse({"key": key}, status_code=201)

        app = Starlette(
            routes=[Route("/ready", ready), Route("/upload", bare_s3, methods=["POST"])]
        )
    elif kind == "bare":

        async def bare(request: Request) -> Response:
            path = storage / f"bare-{time.monotonic_ns()}.bin"
            size = 0
            with path.open("wb") as f:
                async for chunk in request.stream():
                    f.write(chunk)
                    size += len(chunk)
            return JSONResponse({"size": size}, status_code=201)

        app = Starlette(routes=[Route("/ready", ready), Route("/upload", bare, methods=["POST"])])
    else:

        @dataclass
        class BenchRuntime:
            settings: Settings
            blobs: BlobStore
            sessions: async_sessionmaker[AsyncSession]
            limiter: RateLimiter = field(default_factory=RateLimiter.memory)
            redis_url: str = "redis://127.0.0.1:1/0"

            @asynccontextmanager
            async def unit(self) -> AsyncIterator[UnitOfWork]:
                async with unit_of_work(self.sessions) as unit:
                    yield unit

        configure_logging(settings)
        engine = create_engine(settings.resolved_database_url)

        async def create_tables() -> None:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)

        asyncio.run(create_tables())
        app = Starlette(
            routes=[Route("/ready", ready), *routes],
            middleware=[Middleware(UploadSizeLimitMiddleware, max_bytes=MAX_UPLOAD)],
        )
        app.state.runtime = BenchRuntime(
            settings=settings,
            blobs=open_blob_store(settings),
            sessions=create_sessionmaker(engine),
        )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the client --------------------------------------------------------------------------


def make_video(fresh: bool) -> Path:
    """A real ~48 MB mp4 (720p MJPEG, 27 s), cached between runs."""
    from reelforge.media.ffmpeg import ffmpeg_exe

    video = CACHE / "video.mp4"
    if fresh or not video.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *(ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y"),
                *("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=27"),
                *("-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj420p", str(video)),
            ],
            check=True,
        )
    size = video.stat().st_size
    if size > MAX_UPLOAD:
        raise SystemExit(f"{video} is {size} bytes, over the 50 MB limit; rerun with --fresh")
    return video


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@contextmanager
def server(
    kind: str, storage: Path, storage_url: str | None, env: dict[str, str]
) -> Iterator[tuple[str, int]]:
    port = free_port()
    args = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
    args += ["--storage", str(storage)]
    if storage_url:
        args += ["--storage-url", storage_url]
    proc = subprocess.Popen(args, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                pid = int(httpx.get(f"{base}/ready", timeout=1).json()["pid"])
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the {kind} server did not start") from None
                time.sleep(0.1)
        yield base, pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def body(video: Path) -> tuple[bytes, bytes, int]:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="bench.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail, len(head) + video.stat().st_size + len(tail)


def post(base: str, path: str, video: Path, token: str) -> tuple[int, bytes]:
    """POST the multipart body with sendfile(2): the client takes little CPU, so what is
    measured is the server (both sides share the machine)."""
    head, tail, length = body(video)
    host, port = base.removeprefix("http://").split(":")
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(request + head)
        with video.open("rb") as f:
            sock.sendfile(f)
        sock.sendall(tail)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


@dataclass
class Run:
    seconds: float
    growth_mb: float


def upload_once(base: str, pid: int, path: str, video: Path, token: str) -> Run:
    os.sync()  # start from no dirty pages: the other side's writeback must not land here
    before = memory_kb(pid)
    exact = reset_peak(pid)
    started = time.perf_counter()
    status, content = post(base, path, video, token)
    seconds = time.perf_counter() - started
    after = memory_kb(pid)
    if status != 201:
        raise SystemExit(f"{path}: {status} {content.decode(errors='replace')}")
    peak_before = before["VmRSS"] if exact else before["VmHWM"]
    return Run(seconds=seconds, growth_mb=max(0, after["VmHWM"] - peak_before) / 1024)


def measure(
    video: Path, runs: int, token: str, storage_url: str | None, env: dict[str, str]
) -> tuple[list[Run], list[Run]]:
    """Both servers up at once, runs interleaved (bare, real, bare, real...) so that load
    from anything else on the machine hits both sides alike; each run starts after a
    sync, so neither pays for the other's writeback."""
    with (
        tempfile.TemporaryDirectory(prefix="reelforge-bench-bare-") as bare_tmp,
        tempfile.TemporaryDirectory(prefix="reelforge-bench-real-") as real_tmp,
        server("bare", Path(bare_tmp), storage_url, env) as (bare_base, bare_pid),
        server("real", Path(real_tmp), storage_url, env) as (real_base, real_pid),
    ):
        sides = [(bare_base, bare_pid, "/upload"), (real_base, real_pid, "/api/v2/upload-asset")]
        for base, pid, path in sides:  # warm-up: imports, first connection, first FFmpeg
            upload_once(base, pid, path, video, token)
        bare: list[Run] = []
        real: list[Run] = []
        for _ in range(runs):
            bare.append(upload_once(*sides[0], video, token))
            real.append(upload_once(*sides[1], video, token))
        return bare, real


def report(label: str, size_mb: float, bare: list[Run], real: list[Run]) -> None:
    bare_s = statistics.median(r.seconds for r in bare)
    real_s = statistics.median(r.seconds for r in real)
    ratio = bare_s / real_s
    growth = max(r.growth_mb for r in real)
    print(f"[{label}] video: {size_mb:.1f} MB, {len(real)} runs each (median)")
    print(
        f"[{label}] bare streaming endpoint: {bare_s:.3f} s  ({size_mb / bare_s:.0f} MB/s), "
        f"peak memory growth {max(r.growth_mb for r in bare):.1f} MB"
    )
    print(
        f"[{label}] upload route:            {real_s:.3f} s  ({size_mb / real_s:.0f} MB/s), "
        f"peak memory growth {growth:.1f} MB"
    )
    print(
        f"[{label}] throughput ratio (bare time / upload time): {ratio:.2f}  (target >= 0.5) "
        f"{'OK' if ratio >= 0.5 else 'MISSED'}"
    )
    print(
        f"[{label}] server peak memory growth: {growth:.1f} MB  (target <= 20 MB) "
        f"{'OK' if growth <= 20 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=["both", "file", "s3"], default="both")
    parser.add_argument("--fresh", action="store_true", help="regenerate the video")
    parser.add_argument("--serve", choices=["real", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--storage", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--storage-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.storage, args.storage_url)
        return

    from reelforge.auth import mint_token
    from reelforge.config import Settings
    from reelforge.storage.seaweed import EmbeddedSeaweed, wait_for_bucket

    video = make_video(args.fresh)
    settings = Settings(_env_file=None, jwt_secret=SECRET)
    token = mint_token(settings, client_id="bench", user_id="bench", ttl=timedelta(hours=1))
    size_mb = video.stat().st_size / MB
    if args.backend in ("both", "file"):
        report("file", size_mb, *measure(video, args.runs, token, None, {}))
    if args.backend in ("both", "s3"):
        with (
            tempfile.TemporaryDirectory(prefix="reelforge-bench-s3-") as weed_dir,
            EmbeddedSeaweed(Path(weed_dir), buckets=("bench",)) as weed,
        ):
            wait_for_bucket(weed, "bench")
            env = {
                "S3_ENDPOINT_URL": weed.endpoint_url,
                "AWS_ACCESS_KEY_ID": weed.access_key,
                "AWS_SECRET_ACCESS_KEY": weed.secret_key,
            }
            report("s3", size_mb, *measure(video, args.runs, token, "s3://bench/uploads", env))


if __name__ == "__main__":
    main()
