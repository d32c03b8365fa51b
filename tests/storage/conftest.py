"""Upload and asset-route fixtures: a small Starlette app made of the storage routes and
middleware, over the real Runtime (migrated SQLite, or PostgreSQL under CI; Redis for the
rate limits); real tiny media made with FFmpeg."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reelforge.auth import mint_token
from reelforge.config import Settings
from reelforge.media.ffmpeg import ffmpeg_exe
from reelforge.ratelimit import RateLimiter
from reelforge.runtime import Runtime
from reelforge.storage.limits import CsrfMultipartMiddleware, UploadSizeLimitMiddleware
from reelforge.storage.routes import routes

BOUNDARY = "reelforge-test-boundary-7MA4YWxk"
JWT_SECRET = "test-secret-" + "x" * 40
CLIENT = "acme"
OTHER_CLIENT = "globex"


@dataclass(frozen=True)
class Media:
    jpg: bytes
    png: bytes
    mp4: bytes
    mov: bytes


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    out = tmp_path_factory.mktemp("media")
    still = ("-f", "lavfi", "-i", "testsrc=s=64x48:d=1", "-frames:v", "1")
    clip = ("-f", "lavfi", "-i", "testsrc=s=64x48:r=10:d=1", "-pix_fmt", "yuv420p")
    _ffmpeg(*still, str(out / "a.jpg"))
    _ffmpeg(*still, str(out / "a.png"))
    _ffmpeg(*clip, str(out / "a.mp4"))
    _ffmpeg(*clip, str(out / "a.mov"))
    return Media(*((out / f"a.{ext}").read_bytes() for ext in ("jpg", "png", "mp4", "mov")))


def make_settings(storage: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "video_storage_path": storage,
        "jwt_secret": JWT_SECRET,
        "max_upload_bytes": 1024 * 1024,
        "upload_rate_limit": "10/minute",
        "signed_url_ttl": timedelta(hours=1),
        "clamav_url": None,
        "public_base_url": None,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    path = tmp_path / "storage"
    path.mkdir()
    return path


@pytest.fixture
async def make_runtime(
    storage: Path, database_url: str, redis_url: str, flushed_redis: Any
) -> AsyncIterator[Callable[..., Awaitable[Runtime]]]:
    """Start real Runtimes with these settings overridden; all closed after the test."""
    started: list[Runtime] = []

    async def make(*, limiter: RateLimiter | None = None, **overrides: Any) -> Runtime:
        settings = make_settings(
            storage, database_url=database_url, redis_url=redis_url, **overrides
        )
        runtime = await Runtime.start(settings, redis_url=redis_url)
        started.append(runtime)
        if limiter is not None:
            await runtime.limiter.aclose()
            runtime.limiter = limiter
        return runtime

    yield make
    for runtime in started:
        await runtime.aclose()


@pytest.fixture
async def runtime(make_runtime: Callable[..., Awaitable[Runtime]]) -> Runtime:
    return await make_runtime()


async def fake_graphql(request: Request) -> Response:
    """Stands in for the GraphQL view: parses the multipart form as Strawberry does, and
    notes each call in `app.state.graphql_calls`."""
    calls: list[dict[str, Any]] = request.app.state.graphql_calls
    if request.headers.get("content-type", "").startswith("application/json"):
        calls.append({"json": await request.json()})
        return JSONResponse({"data": {}})
    form = await request.form()
    calls.append({"fields": len(form)})
    return JSONResponse({"data": {"fields": len(form)}})


def build_app(runtime: Runtime, graphql_calls: list[dict[str, Any]] | None = None) -> Starlette:
    app = Starlette(
        routes=[*routes, Route("/graphql", fake_graphql, methods=["POST"])],
        middleware=[
            Middleware(CsrfMultipartMiddleware),
            Middleware(UploadSizeLimitMiddleware, max_bytes=runtime.settings.max_upload_bytes),
        ],
    )
    app.state.runtime = runtime
    app.state.graphql_calls = [] if graphql_calls is None else graphql_calls
    return app


@asynccontextmanager
async def client_for(
    runtime: Runtime, graphql_calls: list[dict[str, Any]] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(runtime, graphql_calls))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def graphql_calls() -> list[dict[str, Any]]:
    """What reached the stand-in GraphQL endpoint of `client`."""
    return []


@pytest.fixture
async def client(
    runtime: Runtime, graphql_calls: list[dict[str, Any]]
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(runtime, graphql_calls) as client:
        yield client


def bearer(settings: Settings, client_id: str = CLIENT, user_id: str = "user-1") -> dict[str, str]:
    token = mint_token(settings, client_id=client_id, user_id=user_id, ttl=timedelta(hours=1))
    return {"authorization": f"Bearer {token}"}


def multipart_body(
    data: bytes | None,
    *,
    filename: str = "upload.bin",
    content_type: str = "application/octet-stream",
    fields: int = 0,
    fields_after: int = 0,
) -> bytes:
    """A multipart/form-data body: `fields` small text fields, the file (if any), then
    `fields_after` more fields."""

    def text_fields(count: int, start: int) -> bytes:
        return b"".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv{i}\r\n'.encode()
            for i in range(start, start + count)
        )

    out = text_fields(fields, 0)
    if data is not None:
        out += file_part_head(filename, content_type) + data + b"\r\n"
    out += text_fields(fields_after, fields)
    return out + f"--{BOUNDARY}--\r\n".encode()


def file_part_head(filename: str, content_type: str = "application/octet-stream") -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


async def upload(
    client: httpx.AsyncClient,
    settings: Settings,
    data: bytes,
    *,
    filename: str = "upload.bin",
    content_type: str = "application/octet-stream",
    client_id: str = CLIENT,
    user_id: str = "user-1",
) -> httpx.Response:
    return await client.post(
        "/api/v2/upload-asset",
        content=multipart_body(data, filename=filename, content_type=content_type),
        headers={"content-type": MULTIPART, **bearer(settings, client_id, user_id)},
    )


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
