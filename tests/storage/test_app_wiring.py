"""Uploads through the real app (reelforge.app.create_app) and a real Runtime: the routes
and guards as mounted, the rate limiter made on the runtime's Redis, the GraphQL mutation
on the same service."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from limits.aio.storage import RedisStorage

from reelforge.config import Settings
from reelforge.ratelimit import RateLimiter
from reelforge.runtime import Runtime
from reelforge.storage.limits import ENVELOPE_ALLOWANCE
from tests.storage.conftest import MULTIPART, Media, bearer, multipart_body

UPLOAD_MUTATION = "mutation ($file: Upload!) { uploadAsset(file: $file) { id contentType url } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings with a 1 MB upload cap, so the size tests stay small."""
    return settings.model_copy(update={"max_upload_bytes": 1024 * 1024})


@pytest.fixture
async def app_runtime(
    settings: Settings, redis_url: str, flushed_redis: Any
) -> AsyncIterator[Runtime]:
    """A Runtime on the shared test settings (1 MB upload cap), for the whole app."""
    settings.video_storage_path.mkdir(parents=True, exist_ok=True)
    runtime = await Runtime.start(settings, redis_url=redis_url)
    yield runtime
    await runtime.aclose()


@pytest.fixture
async def app_client(app_runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from reelforge.app import create_app

    app = create_app(app_runtime.settings, runtime=app_runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def graphql_multipart(data: bytes, filename: str = "a.png", *, close: bool = True) -> bytes:
    """A GraphQL multipart request (operations, map, then the file as part "0"); without
    `close`, only its start, for a test to stream more file bytes after."""
    boundary = MULTIPART.split("boundary=")[1]
    operations = json.dumps({"query": UPLOAD_MUTATION, "variables": {"file": None}})
    fields = {"operations": operations, "map": json.dumps({"0": ["variables.file"]})}
    out = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return out + data + (f"\r\n--{boundary}--\r\n".encode() if close else b"")


async def test_rest_upload_and_signed_download_through_the_app(
    app_client: httpx.AsyncClient, app_runtime: Runtime, media: Media
) -> None:
    settings = app_runtime.settings
    response = await app_client.post(
        "/api/v2/upload-asset",
        content=multipart_body(media.mp4, filename="clip.mp4"),
        headers={"content-type": MULTIPART, **bearer(settings)},
    )
    assert response.status_code == 201, response.text
    asset = response.json()
    served = await app_client.get(asset["url"], headers={"range": "bytes=0-99"})
    assert served.status_code == 206
    assert served.content == media.mp4[:100]
    # The limiter was made on the runtime's Redis.
    limiter = getattr(app_runtime, "limiter", None)
    assert isinstance(limiter, RateLimiter)
    assert isinstance(limiter.storage, RedisStorage)


async def test_cross_site_graphql_multipart_is_refused_by_the_app(
    app_client: httpx.AsyncClient, app_runtime: Runtime, media: Media
) -> None:
    response = await app_client.post(
        "/graphql",
        content=graphql_multipart(media.png),
        headers={"content-type": MULTIPART, **bearer(app_runtime.settings)},
    )
    assert response.status_code == 400
    assert "preflight" in response.text
    assert list((app_runtime.settings.video_storage_path / "uploads").rglob("*.png")) == []


async def test_graphql_upload_mutation_uses_the_same_service(
    app_client: httpx.AsyncClient, app_runtime: Runtime, media: Media
) -> None:
    headers = {
        "content-type": MULTIPART,
        "apollo-require-preflight": "true",
        **bearer(app_runtime.settings),
    }
    response = await app_client.post(
        "/graphql", content=graphql_multipart(media.png), headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    uploaded = body["data"]["uploadAsset"]
    assert uploaded["contentType"] == "image/png"
    served = await app_client.get(uploaded["url"])
    assert served.content == media.png

    html = await app_client.post(
        "/graphql",
        content=graphql_multipart(b"<html><script>alert(1)</script></html>", "a.png"),
        headers=headers,
    )
    assert html.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_oversized_graphql_multipart_is_cut_off_by_the_app(
    app_client: httpx.AsyncClient, app_runtime: Runtime, media: Media
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        head = graphql_multipart(media.png, close=False)
        sent += len(head)
        yield head
        for _ in range(64):
            sent += 64 * 1024
            yield bytes(64 * 1024)

    response = await app_client.post(
        "/graphql",
        content=body(),
        headers={
            "content-type": MULTIPART,
            "apollo-require-preflight": "true",
            **bearer(app_runtime.settings),
        },
    )
    assert response.status_code == 413
    assert sent <= app_runtime.settings.max_upload_bytes + ENVELOPE_ALLOWANCE + 64 * 1024
