"""Slow and idle clients are timed out (HTTP_HEADER_TIMEOUT, HTTP_BODY_TIMEOUT with
HTTP_MIN_BODY_RATE, HTTP_KEEP_ALIVE_TIMEOUT), on the server exactly as `serve` runs it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from reelforge.app import create_app
from reelforge.config import Settings
from reelforge.runtime import Runtime
from reelforge.startup import free_port, server_config
from tests.conftest import make_token


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "http_header_timeout": timedelta(seconds=1),
            "http_body_timeout": timedelta(seconds=1),
            "http_min_body_rate": 1000,
            "http_keep_alive_timeout": timedelta(seconds=1),
        }
    )


@pytest.fixture
async def server(settings: Settings, runtime: Runtime) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    config = server_config(create_app(settings, runtime=runtime), "127.0.0.1", port, settings)
    config.lifespan = "off"
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:
        await asyncio.sleep(0.02)
    try:
        yield "127.0.0.1", port
    finally:
        instance.should_exit = True
        await asyncio.wait_for(task, 10)


async def _read_all(reader: asyncio.StreamReader, timeout: float) -> bytes:
    return await asyncio.wait_for(reader.read(), timeout)


async def test_slow_headers_are_cut_off(server: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*server)
    started = time.monotonic()
    writer.write(b"POST /graphql HTTP/1.1\r\nHost: x\r\n")  # and the rest never comes
    await writer.drain()
    answer = await _read_all(reader, 10)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - started < 5
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(server: tuple[str, int]) -> None:
    reader, writer = await asyncio.open_connection(*server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    first = await asyncio.wait_for(reader.readuntil(b'"ok"}'), 10)
    assert b"200 OK" in first
    started = time.monotonic()
    assert await _read_all(reader, 10) == b""  # closed by the server
    assert time.monotonic() - started < 5
    writer.close()


async def test_a_body_trickling_in_is_refused_with_408(app: Any, settings: Settings) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"query": "{ viewer { clientId } }", "x": "'
        for _ in range(100):
            await asyncio.sleep(0.1)
            yield b"aaaaa"  # 50 bytes/s: far under the 1,000 bytes/s minimum

    started = time.monotonic()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post(
            "/graphql",
            content=trickle(),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {make_token(settings)}",
            },
        )
    assert response.status_code == 408
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert response.headers["connection"] == "close"
    assert time.monotonic() - started < 5


async def test_a_steady_body_is_not_cut(app: Any, settings: Settings) -> None:
    async def steady() -> AsyncIterator[bytes]:
        yield b'{"query": "{ viewer { clientId } }", "x": "'
        for _ in range(15):
            await asyncio.sleep(0.1)
            yield b"a" * 2000  # 20,000 bytes/s
        yield b'"}'

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post(
            "/graphql",
            content=steady(),
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {make_token(settings)}",
            },
        )
    assert response.json()["data"]["viewer"]["clientId"] == "acme"
