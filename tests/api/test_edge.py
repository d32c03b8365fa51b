"""The service's edge: CORS and websocket origins from one list, auth before a multipart
body is read, upload names of any script, production's secret rules and GraphiQL switch,
tokens kept out of logs, and expiring tokens on open websockets."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from reelforge.app import create_app
from reelforge.auth import mint_token
from reelforge.config import ConfigError, Environment, Settings
from reelforge.runtime import Runtime
from tests.api.wsclient import LEGACY_WS, PROTOCOLS, TRANSPORT_WS, read_until_closed
from tests.conftest import make_token
from tests.helpers import create_job
from tests.live import live_server

ALLOWED = "https://studio.example.com"
UNLISTED = "https://evil.example"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x9a\xa0\xa0"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allowed_origins": [ALLOWED]})


# -- CORS ----------------------------------------------------------------------------------


async def test_a_listed_origin_passes_the_preflight_for_queries_and_uploads(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(
        "/graphql",
        headers={
            "origin": ALLOWED,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type, apollo-require-preflight",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "apollo-require-preflight" in allowed
    upload = await client.options(
        "/api/v2/upload-asset",
        headers={"origin": ALLOWED, "access-control-request-method": "POST"},
    )
    assert upload.status_code == 200


async def test_answers_and_refusals_are_readable_by_a_listed_origin(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.post(
        "/graphql", json={"query": "{ viewer { clientId } }"}, headers={"origin": ALLOWED}
    )
    assert ok.headers["access-control-allow-origin"] == ALLOWED
    refused = await client.post(
        "/graphql", content=b"5", headers={"origin": ALLOWED, "content-type": "application/json"}
    )
    assert refused.status_code == 400
    assert refused.headers["access-control-allow-origin"] == ALLOWED
    assert "x-request-id" in refused.headers["access-control-expose-headers"].lower()


async def test_an_unlisted_origin_gets_no_cors_grant(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/graphql",
        headers={"origin": UNLISTED, "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    simple = await client.post(
        "/graphql", json={"query": "{ viewer { clientId } }"}, headers={"origin": UNLISTED}
    )
    assert "access-control-allow-origin" not in simple.headers


async def test_the_default_allows_only_the_same_origin(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(settings.model_copy(update={"allowed_origins": []}), runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        preflight = await c.options(
            "/graphql", headers={"origin": ALLOWED, "access-control-request-method": "POST"}
        )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_websockets_follow_the_same_list(app: Any, protocol: str) -> None:
    async with live_server(app) as host:
        async with websockets.connect(
            f"ws://{host}/graphql",
            subprotocols=[Subprotocol(protocol)],
            origin=ALLOWED,  # type: ignore[list-item,arg-type]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                f"ws://{host}/graphql",
                subprotocols=[Subprotocol(protocol)],
                origin=UNLISTED,  # type: ignore[list-item,arg-type]
            ):
                pass
        assert refused.value.response.status_code == 403


def test_production_refuses_any_origin_with_credentials(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="ALLOWED_ORIGINS"):
        Settings(
            env=Environment.PRODUCTION,
            jwt_secret=secrets.token_urlsafe(48),
            allowed_origins=["*"],
            cors_allow_credentials=True,
            _env_file=None,  # type: ignore[call-arg]
        )
    Settings(
        env=Environment.PRODUCTION,
        jwt_secret=secrets.token_urlsafe(48),
        allowed_origins=["*"],
        _env_file=None,  # type: ignore[call-arg]
    )


# -- multipart: auth before the body, names of any script, REST answer shape -------------------


async def test_an_unauthenticated_multipart_body_is_refused_before_it_is_read(
    app: Any,
) -> None:
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(20):
            pulled += 1
            yield b"x" * 1024 * 1024

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post(
            "/graphql",
            content=body(),
            headers={
                "content-type": "multipart/form-data; boundary=b",
                "apollo-require-preflight": "1",
            },
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert pulled <= 1  # the 20 MB were never read (ASGITransport pulls one chunk to start)


@pytest.mark.parametrize(
    "name", ["商品.png", "café.png", "صورة المنتج.png", "\u202egnp.exe", "फ़ोटो.png", "🍋 lemon.png"]
)
async def test_upload_names_of_any_script_are_kept(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/api/v2/upload-asset", files={"file": (name, PNG, "image/png")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {"id", "url"}  # the README's answer
    expected = name.replace("\u202e", "")  # bidi overrides are dropped, nothing else
    assert body["originalFilename"] == expected
    fetched = await client.post(
        "/graphql",
        json={
            "query": "query($id: ID!) { asset(id: $id) { id } }",
            "variables": {"id": body["id"]},
        },
    )
    assert fetched.json()["data"]["asset"]["id"] == body["id"]


async def test_graphql_upload_keeps_a_non_latin_name(client: httpx.AsyncClient) -> None:
    operations = json.dumps(
        {
            "query": "mutation($f: Upload!) { uploadAsset(file: $f) { id originalFilename } }",
            "variables": {"f": None},
        }
    )
    response = await client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("商品.png", PNG, "image/png")},
        headers={"apollo-require-preflight": "1"},
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["uploadAsset"]["originalFilename"] == "商品.png"


# -- secrets -----------------------------------------------------------------------------


def _repository_examples() -> list[str]:
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [root / ".env.example", root / "README.md", *(root / "docs").glob("*.md")]:
        for line in path.read_text().splitlines():
            line = line.strip().lstrip("#").strip()
            if line.startswith("JWT_SECRET=") and "$(" not in line and "..." not in line:
                found.append(line.removeprefix("JWT_SECRET=").strip().strip("\"'"))
    return found


def test_the_examples_in_the_repository_are_found() -> None:
    assert _repository_examples(), "the .env.example example should be found"


@pytest.mark.parametrize(
    "secret",
    [
        " " * 40,
        "a" * 32,
        "a" * 64,
        "abcd" * 12,
        "dev-only-insecure-jwt-secret-change-me ",
        " dev-only-insecure-jwt-secret-change-me",
        "short-but-random-Zx8",
        "  " + "4986668df3faa68d" + "  " * 10,  # 16 random characters padded to look long
        *_repository_examples(),
    ],
)
def test_production_refuses_weak_or_example_jwt_secrets(secret: str) -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        Settings(env=Environment.PRODUCTION, jwt_secret=secret, _env_file=None)  # type: ignore[call-arg]


def test_production_accepts_a_generated_secret() -> None:
    for secret in (secrets.token_urlsafe(48), secrets.token_hex(32), secrets.token_hex(16)):
        Settings(env=Environment.PRODUCTION, jwt_secret=secret, _env_file=None)  # type: ignore[call-arg]


def test_ids_with_a_trailing_newline_are_not_a_tenant_of_their_own(settings: Settings) -> None:
    import jwt

    from reelforge.auth import verify_token
    from reelforge.errors import Unauthenticated

    secret = settings.jwt_secret.get_secret_value()
    token = jwt.encode({"sub": "alice", "client_id": "acme\n", "exp": 2**40}, secret, "HS256")
    with pytest.raises(Unauthenticated):
        verify_token(settings, token)


async def test_a_campaign_id_with_a_trailing_newline_is_bad_input(
    client: httpx.AsyncClient,
) -> None:
    body = (
        await client.post(
            "/graphql",
            json={
                "query": "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }",
                "variables": {"i": {"brief": "A good brief", "campaignId": "spring\n"}},
            },
        )
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# -- GraphiQL ------------------------------------------------------------------------------


async def test_graphiql_is_off_in_production_unless_asked_for(
    settings: Settings, runtime: Runtime
) -> None:
    prod = settings.model_copy(update={"env": Environment.PRODUCTION})
    wanted = prod.model_copy(update={"graphql_ide": True})
    pages = []
    for chosen in (prod, wanted):
        app = create_app(chosen, runtime=runtime)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            pages.append(await c.get("/graphql", headers={"accept": "text/html"}))
    assert pages[0].status_code in (400, 404) and "graphiql" not in pages[0].text.lower()
    assert pages[0].json()["errors"][0]["extensions"]["code"]
    assert pages[1].status_code == 200 and "graphiql" in pages[1].text.lower()


# -- logs ------------------------------------------------------------------------------------

_LOG_SCRIPT = """
import logging, structlog
from reelforge.config import Settings
from reelforge.observability.logging import configure_logging
configure_logging(Settings(log_format="json", _env_file=None))
token = {token!r}
logging.getLogger("uvicorn.error").info(
    '%s - "WebSocket %s" [accepted]', "('127.0.0.1', 5000)", "/graphql?token=" + token
)
try:
    raise ValueError("Value " + token + " does not exist in 'AspectRatio' enum.")
except ValueError as exc:
    structlog.get_logger("t").error("graphql.unexpected_error", error_id="x", exc_info=exc)
structlog.get_logger("t").info("ws.url", url="ws://h/graphql?sig=abc&token=" + token)
"""


def test_tokens_never_reach_a_log_line(settings: Settings) -> None:
    token = make_token(settings)
    result = subprocess.run(
        [sys.executable, "-c", _LOG_SCRIPT.format(token=token)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    text = result.stderr.decode()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len(lines) == 3, text
    assert token not in text and token.split(".")[2] not in text
    assert "ValueError" in lines[1]["exception"]  # the traceback is there, masked


# -- websockets: auth -------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("payload", [{}, {"Authorization": "Bearer nope"}, {"token": 5}])
async def test_websocket_auth_failures_close_4401_with_the_reason(
    app: Any, protocol: str, payload: dict[str, Any]
) -> None:
    async with (
        live_server(app) as host,
        websockets.connect(f"ws://{host}/graphql", subprotocols=[protocol]) as ws,  # type: ignore[list-item]
    ):
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        received, close = await read_until_closed(ws)
    if protocol == LEGACY_WS:
        assert [m["type"] for m in received] == ["connection_error"]
        assert received[0]["payload"]["code"] == "UNAUTHENTICATED"
    else:
        assert received == []
    assert close is not None and close.code == 4401
    assert "token" in close.reason


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_expired_token_ends_the_subscription_with_unauthenticated(
    app: Any, client: httpx.AsyncClient, settings: Settings, protocol: str
) -> None:
    job = await create_job(client)  # no worker: it stays pending, the subscription stays open
    query = "subscription($id: ID!) { jobProgress(jobId: $id) { status } }"
    start = "subscribe" if protocol == TRANSPORT_WS else "start"
    async with (
        live_server(app) as host,
        websockets.connect(f"ws://{host}/graphql", subprotocols=[protocol]) as ws,  # type: ignore[list-item]
    ):

        async def subscribe_once_acked(message: dict[str, Any]) -> None:
            if message["type"] == "connection_ack":
                payload = {"query": query, "variables": {"id": job["id"]}}
                await ws.send(json.dumps({"id": "1", "type": start, "payload": payload}))

        # Minted once connected: its 2 s start then, not while a loaded machine starts the
        # server (the subscription's first answer came after the expiry).
        token = mint_token(settings, client_id="acme", user_id="alice", ttl=timedelta(seconds=2))
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        received, close = await read_until_closed(ws, subscribe_once_acked)
    types = [m["type"] for m in received if m["type"] != "ka"]
    assert types[:2] == ["connection_ack", "next" if protocol == TRANSPORT_WS else "data"]
    error = next(m for m in received if m["type"] == "error")
    errors = error["payload"] if isinstance(error["payload"], list) else [error["payload"]]
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert close is not None and close.code == 4401
