"""A real HTTP receiver on 127.0.0.1 (uvicorn in the test's event loop) whose answers a
test scripts, and settings with retry waits short enough for tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from reelforge.config import Settings
from reelforge.startup import free_port
from tests.helpers import gql


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class Receiver:
    """Answers the n-th request with `answers[n]`: a status, "hang" (never answers) or
    "endless" (200 with a body that never ends); 200 once the script runs out."""

    url: str = ""
    answers: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    closing: asyncio.Event = field(default_factory=asyncio.Event)  # set when it stops

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        index = len(self.received)
        self.received.append(Received(dict(request.headers), await request.body()))
        self.arrived.set()
        answer = self.answers[index] if index < len(self.answers) else 200
        if answer == "hang":
            # No answer while the test runs; at the end the request is let go, so the
            # server stops at once instead of after its graceful-shutdown timeout.
            await self.closing.wait()
            await Response(b"closing", 503)(scope, receive, send)
            return
        if answer == "endless":

            async def chunks() -> AsyncIterator[bytes]:
                while True:
                    yield b"x" * 65536
                    await asyncio.sleep(0)

            await StreamingResponse(chunks())(scope, receive, send)
            return
        status = int(answer)
        headers = {"location": "http://127.0.0.1:1/elsewhere"} if 300 <= status < 400 else {}
        await Response(b"ok" if status < 300 else b"no", status, headers)(scope, receive, send)

    async def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    hook = Receiver(url=f"http://127.0.0.1:{port}/hooks/reelforge")
    config = uvicorn.Config(
        hook.app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        interface="asgi3",
        ws="none",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield hook
    hook.closing.set()
    server.should_exit = True
    await asyncio.gather(task, return_exceptions=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Retries after 50 ms each (the first of them within 0.2 s), attempts time out in 5 s."""
    return settings.model_copy(
        update={
            "webhook_retry_schedule": [timedelta(milliseconds=50)] * 4,
            "webhook_timeout": timedelta(seconds=5),
        }
    )


CREATE_ENDPOINT = """
mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    id url events description secret enabled disabledReason createdAt
  }
}
"""

DELIVERIES = """
query($endpointId: ID!, $first: Int, $after: String) {
  webhookDeliveries(endpointId: $endpointId, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id eventType status attemptCount nextAttemptAt lastResponseCode lastError body
      attempts { number outcome responseCode durationMs error startedAt }
    } }
  }
}
"""


async def create_endpoint(
    client: httpx.AsyncClient, url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    body = await gql(client, CREATE_ENDPOINT, input={"url": url, "events": events, **extra})
    assert not body.get("errors"), body
    endpoint: dict[str, Any] = body["data"]["createWebhookEndpoint"]
    return endpoint


async def deliveries(client: httpx.AsyncClient, endpoint_id: str, **args: Any) -> dict[str, Any]:
    body = await gql(client, DELIVERIES, endpointId=endpoint_id, **args)
    assert not body.get("errors"), body
    page: dict[str, Any] = body["data"]["webhookDeliveries"]
    return page


async def wait_for_delivery(
    client: httpx.AsyncClient, endpoint_id: str, status: str, timeout: float = 30
) -> dict[str, Any]:
    """The newest delivery of the endpoint once it has `status`."""
    async with asyncio.timeout(timeout):
        while True:
            page = await deliveries(client, endpoint_id)
            if page["edges"] and page["edges"][0]["node"]["status"] == status:
                node: dict[str, Any] = page["edges"][0]["node"]
                return node
            await asyncio.sleep(0.05)
