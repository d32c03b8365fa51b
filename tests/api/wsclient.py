"""One GraphQL operation over a websocket, as graphql-ws (graphql-transport-ws) and the
legacy subscriptions-transport-ws (graphql-ws) clients send it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import websockets

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)


async def ws_operation(
    host: str,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    protocol: str = TRANSPORT_WS,
    timeout: float = 10,
) -> dict[str, Any]:
    """The operation's first answer in GraphQL's shape: `{"errors": [...]}` for an `error`
    message, the `next`/`data` payload otherwise."""
    async with websockets.connect(f"ws://{host}/graphql", subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        assert ack["type"] == "connection_ack", ack
        start = "subscribe" if protocol == TRANSPORT_WS else "start"
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await ws.send(json.dumps({"id": "1", "type": start, "payload": payload}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if message["type"] in ("ka", "ping", "pong"):
                continue
            if message["type"] == "error":
                errors = message["payload"]
                return {"errors": errors if isinstance(errors, list) else [errors]}
            if message["type"] in ("next", "data"):
                result: dict[str, Any] = message["payload"]
                return result
            raise AssertionError(f"unexpected message {message}")


async def read_until_closed(
    ws: Any,
    on_message: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    *,
    timeout: float = 10,
) -> tuple[list[dict[str, Any]], Any]:
    """Every message until the server closes the socket, and its close frame."""
    received: list[dict[str, Any]] = []
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            received.append(message)
            if on_message is not None:
                await on_message(message)
    except websockets.ConnectionClosed as exc:
        return received, exc.rcvd
