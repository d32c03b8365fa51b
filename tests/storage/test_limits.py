"""The ASGI guards in front of /graphql multipart requests: the streamed size limit and the
CSRF preflight-header rule (tested on a stand-in endpoint that parses the form like
Strawberry does)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from reelforge.errors import BadRequest
from reelforge.runtime import Runtime
from reelforge.storage.limits import ENVELOPE_ALLOWANCE, check_multipart_csrf
from tests.storage.conftest import MULTIPART, Media, multipart_body

PREFLIGHT = {"apollo-require-preflight": "true"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"apollo-require-preflight": ""},  # present but empty does not count
        {"origin": "https://evil.example"},
    ],
)
async def test_cross_site_multipart_to_graphql_is_refused_and_not_executed(
    client: httpx.AsyncClient,
    graphql_calls: list[dict[str, Any]],
    media: Media,
    headers: dict[str, str],
) -> None:
    response = await client.post(
        "/graphql",
        content=multipart_body(media.png, fields=2),
        headers={"content-type": MULTIPART, **headers},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "apollo-require-preflight" in error["message"]
    assert graphql_calls == []


@pytest.mark.parametrize(
    "header",
    ["apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight"],
)
async def test_multipart_with_a_preflight_header_is_executed(
    client: httpx.AsyncClient, graphql_calls: list[dict[str, Any]], media: Media, header: str
) -> None:
    response = await client.post(
        "/graphql",
        content=multipart_body(media.png, fields=2),
        headers={"content-type": MULTIPART, header: "UploadAsset"},
    )
    assert response.status_code == 200, response.text
    assert graphql_calls == [{"fields": 3}]


async def test_json_needs_no_preflight_header_but_other_form_types_do(
    client: httpx.AsyncClient, graphql_calls: list[dict[str, Any]]
) -> None:
    urlencoded = await client.post(
        "/graphql",
        content=b"query=%7B__typename%7D",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert urlencoded.status_code == 400
    as_json = await client.post("/graphql", json={"query": "{ __typename }"})
    assert as_json.status_code == 200
    assert graphql_calls == [{"json": {"query": "{ __typename }"}}]


def _request(method: str, headers: dict[str, str]) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": method, "path": "/graphql", "headers": raw})


def test_check_multipart_csrf() -> None:
    with pytest.raises(BadRequest):
        check_multipart_csrf(_request("POST", {"content-type": MULTIPART}))
    with pytest.raises(BadRequest):
        check_multipart_csrf(_request("POST", {"content-type": "text/plain"}))
    check_multipart_csrf(_request("POST", {"content-type": MULTIPART, **PREFLIGHT}))
    check_multipart_csrf(_request("POST", {"content-type": "application/json"}))
    check_multipart_csrf(_request("GET", {}))


async def test_graphql_multipart_over_the_limit_is_cut_off_by_the_middleware(
    client: httpx.AsyncClient, runtime: Runtime, graphql_calls: list[dict[str, Any]]
) -> None:
    limit = runtime.settings.max_upload_bytes + ENVELOPE_ALLOWANCE
    chunk = 64 * 1024
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        head = (
            b"--reelforge-test-boundary-7MA4YWxk\r\n"
            b'Content-Disposition: form-data; name="0"; filename="a.png"\r\n\r\n'
        )
        pulled += len(head)
        yield head
        for _ in range(4 * limit // chunk):
            pulled += chunk
            yield bytes(chunk)

    response = await client.post(
        "/graphql",
        content=body(),
        headers={"content-type": MULTIPART, **PREFLIGHT},  # chunked: no Content-Length
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["connection"] == "close"
    assert pulled <= limit + chunk
    assert graphql_calls == []  # the endpoint never finished parsing the form


async def test_graphql_multipart_with_a_large_declared_length_is_refused_unread(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        pulled += 1
        yield b"x"

    declared = runtime.settings.max_upload_bytes + ENVELOPE_ALLOWANCE + 1
    response = await client.post(
        "/graphql",
        content=body(),
        headers={"content-type": MULTIPART, "content-length": str(declared), **PREFLIGHT},
    )
    assert response.status_code == 413
    assert pulled == 0


async def test_graphql_multipart_under_the_limit_passes(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    response = await client.post(
        "/graphql",
        content=multipart_body(media.png + bytes(runtime.settings.max_upload_bytes - 10_000)),
        headers={"content-type": MULTIPART, **PREFLIGHT},
    )
    assert response.status_code == 200, response.text
