"""The Starlette application: GraphQL (HTTP and websockets), asset routes, webhooks, health
and metrics. The lifespan connects the Runtime and, inside `reelforge serve`, runs the
in-process arq worker."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge.admission import FairGate
from reelforge.config import Settings
from reelforge.errors import PayloadTooLarge
from reelforge.events import WEBHOOK_CHANNEL, publish
from reelforge.httperrors import error_response_for
from reelforge.jobs.worker import WorkerSupervisor, build_worker
from reelforge.observability.metrics import HTTP_REQUEST_DURATION
from reelforge.providers import resolve_webhook_secret
from reelforge.providers.webhooks import RedisWebhookDeduplicator, make_webhook_endpoint
from reelforge.runtime import Runtime
from reelforge.schema import build_schema
from reelforge.schema.view import GraphQLView
from reelforge.storage import routes as asset_routes
from reelforge.storage.limits import (
    PREFLIGHT_HEADERS,
    CsrfMultipartMiddleware,
    MultipartAuthMiddleware,
    UploadSizeLimitMiddleware,
)
from reelforge.studio import routes as studio_routes
from reelforge.timeouts import BodyTimeoutMiddleware

log = structlog.get_logger(__name__)

_REQUEST_ID = re.compile(r"[A-Za-z0-9\-_.]{8,64}")
_ROUTE_LABELS = (
    "/graphql",
    "/api/v2/upload-asset",
    "/api/v2/assets",
    "/webhooks/replicate",
    "/healthz",
    "/readyz",
    "/metrics",
    "/assets",
)


# What a browser page on an allowed origin may send (GraphQL clients' CSRF headers included).
CORS_HEADERS = ["authorization", "content-type", "x-request-id", *PREFLIGHT_HEADERS]


def route_label(path: str) -> str:
    """A bounded label for metrics: the route family, never the ids in the path."""
    return next((r for r in _ROUTE_LABELS if path == r or path.startswith(r + "/")), "other")


class RequestContextMiddleware:
    """Request id (bound to every log line), latency metrics, and the JSON body size limit."""

    def __init__(self, app: ASGIApp, *, max_json_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        limited = not headers.get("content-type", "").startswith("multipart/")
        declared = headers.get("content-length", "")
        if limited and declared.isdigit() and int(declared) > self.max_json_bytes:
            await error_response_for(
                scope, PayloadTooLarge(f"request bodies are limited to {self.max_json_bytes} bytes")
            )(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if limited and message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_json_bytes:
                    raise PayloadTooLarge(
                        f"request bodies are limited to {self.max_json_bytes} bytes"
                    )
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, limited_receive, send_with_id)
            except PayloadTooLarge as exc:
                await error_response_for(scope, exc)(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                HTTP_REQUEST_DURATION.labels(
                    route=route_label(scope["path"]),
                    method=scope["method"],
                    status=f"{status // 100}xx",
                ).observe(seconds)
                # Our access log: the path without its query string, which may hold a signature.
                log.info(
                    "http.request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    seconds=round(seconds, 4),
                )


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, str] = {}

    async def check(name: str, probe: Any) -> None:
        try:
            await asyncio.wait_for(probe, timeout=3)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"

    async def database() -> None:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    await check("database", database())
    await check("redis", runtime.redis.ping())
    await check("storage", runtime.blobs.check_writable())
    supervisor: WorkerSupervisor | None = getattr(request.app.state, "worker", None)
    if supervisor is not None:  # the in-process worker of `reelforge serve`
        checks["worker"] = "ok" if supervisor.healthy else "down (restarting)"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )


async def metrics(_: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def webhook_route(runtime_getter: Callable[[], Runtime]) -> Route:
    secret: list[str] = []

    async def get_secret() -> str:
        if not secret:
            runtime = runtime_getter()
            secret.append(await resolve_webhook_secret(runtime.settings, runtime.http))
        return secret[0]

    async def on_prediction(payload: dict[str, Any]) -> None:
        runtime = runtime_getter()
        await publish(runtime.redis, WEBHOOK_CHANNEL, {"id": str(payload.get("id", ""))})

    dedup = RedisWebhookDeduplicator(lambda: runtime_getter().redis)
    return Route(
        "/webhooks/replicate",
        make_webhook_endpoint(get_secret, on_prediction, deduplicator=dedup),
        methods=["POST"],
    )


def webhooks_configured(settings: Settings) -> bool:
    """Replicate is told to call us only with a public URL, and we can verify its calls
    only with a secret (configured, or fetched with the API token)."""
    has_secret = bool(
        settings.replicate_webhook_secret and settings.replicate_webhook_secret.get_secret_value()
    )
    return bool(settings.public_base_url) and (
        has_secret or settings.replicate_api_token is not None
    )


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    redis_url: str | None = None,
    embedded_worker: bool = False,
) -> Starlette:
    """The ASGI app. Pass `runtime` to share one already started (tests); otherwise the
    lifespan starts one on `redis_url` and closes it at shutdown."""
    state: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = runtime is None
        current = runtime or await Runtime.start(
            settings, redis_url=redis_url or settings.redis_url or ""
        )
        app.state.runtime = current
        state["runtime"] = current
        supervisor = None
        if embedded_worker:
            # Restarted whenever it stops by itself; /readyz fails while it is down.
            supervisor = WorkerSupervisor(
                lambda: build_worker(
                    settings, current.redis_url, runtime=current, handle_signals=False
                )
            )
            app.state.worker = supervisor
            supervisor.start()
        try:
            yield
        finally:
            if supervisor is not None:
                await supervisor.stop()
            if owned:
                await current.aclose()

    if runtime is not None:
        state["runtime"] = runtime

    graphql = GraphQLView(
        build_schema(settings),
        # This process's operations: OPERATION_CONCURRENCY at once, the rest take turns.
        admission=FairGate(
            settings.operation_concurrency, settings.operation_queue_timeout.total_seconds()
        ),
        graphql_ide="graphiql" if settings.ide_enabled else None,
        keep_alive=True,
        keep_alive_interval=15,
        multipart_uploads_enabled=True,
        allowed_origins=settings.allowed_origins,
        connection_init_wait_timeout=timedelta(seconds=10),
    )
    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *asset_routes.routes,
        *studio_routes,
    ]
    if webhooks_configured(settings):  # otherwise the route does not exist (404)
        routes.append(webhook_route(lambda: state["runtime"]))
    app = Starlette(routes=routes, lifespan=lifespan)
    if runtime is not None:
        app.state.runtime = runtime
    # Outermost last: CORS (so every answer, refusals included, is readable by an allowed
    # page) → request context → CSRF check for multipart GraphQL → its token, checked
    # before the body is read → upload size cap.
    app.add_middleware(UploadSizeLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(MultipartAuthMiddleware, settings=settings)
    app.add_middleware(CsrfMultipartMiddleware)
    app.add_middleware(
        BodyTimeoutMiddleware,
        grace=settings.http_body_timeout.total_seconds(),
        min_rate=settings.http_min_body_rate,
    )
    app.add_middleware(RequestContextMiddleware, max_json_bytes=settings.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "HEAD"],
        allow_headers=CORS_HEADERS,
        expose_headers=["x-request-id", "retry-after", "location"],
        allow_credentials=settings.cors_allow_credentials,
        max_age=600,
    )
    return app
