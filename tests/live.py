"""A real server on a loopback port and a minimal GraphQL websocket client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
import websockets
from websockets.typing import Subprotocol

from reelforge.startup import free_port


@asynccontextmanager
async def live_server(app: Any, *, port: int | None = None) -> AsyncIterator[str]:
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="off",
            ws="websockets-sansio",
            # A request left hanging on purpose (a webhook receiver, a slow fake create) is
            # cut off at the end of the test instead of holding the shutdown.
            timeout_graceful_shutdown=1,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def subscribe(
    host: str,
    token: str,
    job_id: str,
    *,
    protocol: str = "graphql-transport-ws",
    fields: str = "status stage progress event sceneIndex",
) -> AsyncIterator[dict[str, Any]]:
    """Yields each `jobProgress` payload until the server completes the subscription."""
    query = f"subscription($id: ID!) {{ jobProgress(jobId: $id) {{ {fields} }} }}"
    async with websockets.connect(
        f"ws://{host}/graphql", subprotocols=[Subprotocol(protocol)]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        start = "subscribe" if protocol == "graphql-transport-ws" else "start"
        await ws.send(
            json.dumps(
                {"id": "1", "type": start, "payload": {"query": query, "variables": {"id": job_id}}}
            )
        )
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["type"] in ("next", "data"):
                payload = message["payload"]
                if payload.get("errors"):
                    raise AssertionError(payload["errors"])
                yield payload["data"]["jobProgress"]
            elif message["type"] == "complete":
                return
            elif message["type"] == "error":
                raise AssertionError(message)
            elif message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
