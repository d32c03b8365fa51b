"""A real server on a loopback port and a minimal GraphQL websocket client."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import uvicorn
import websockets
from websockets.typing import Subprotocol

from reelforge.startup import free_port


class PromptServer(uvicorn.Server):
    """uvicorn's server, stopping as soon as `should_exit` is set: uvicorn looks at it every
    0.1 s and then sleeps 0.1 s for connections to close, which every test with a server
    waited for at its end."""

    _exit: asyncio.Event | None = None

    @property  # type: ignore[override]
    def should_exit(self) -> bool:
        return self._exit is not None and self._exit.is_set()

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        if self._exit is None:
            self._exit = asyncio.Event()
        if value:
            self._exit.set()
        else:
            self._exit.clear()

    async def main_loop(self) -> None:
        assert self._exit is not None
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000  # on_tick counts ticks of 0.1 s
            with suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self._exit.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's, without its 0.1 s waits when no connection or task is left to wait
        for."""
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def until_started(self) -> None:
        while not self.started:
            await asyncio.sleep(0.005)


@asynccontextmanager
async def live_server(app: Any, *, port: int | None = None) -> AsyncIterator[str]:
    port = port or free_port()
    server = PromptServer(
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
    await server.until_started()
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
