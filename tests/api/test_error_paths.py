"""One error path for every transport: the reproducers of issue 16, with variables as real
clients send them, over HTTP, graphql-transport-ws and the legacy graphql-ws."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from reelforge.config import Settings
from tests.api.wsclient import PROTOCOLS, ws_operation
from tests.conftest import make_token
from tests.live import live_server

CREATE = "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }"
GOOD = {"brief": "Fresh lemonade for hot days", "sceneCount": 2}

# (name, query, variables, expected extensions.field)
BAD_VARIABLES: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "aspect ratio as text",
        CREATE,
        {"input": {**GOOD, "aspectRatio": "9:16"}},
        "input.aspectRatio",
    ),
    ("unknown enum value", CREATE, {"input": {**GOOD, "aspectRatio": "WIDE"}}, "input.aspectRatio"),
    ("enum in lower case", CREATE, {"input": {**GOOD, "resolution": "r720p"}}, "input.resolution"),
    ("Int given text", CREATE, {"input": {**GOOD, "sceneCount": "x"}}, "input.sceneCount"),
    ("Int given a fraction", CREATE, {"input": {**GOOD, "sceneCount": 1.5}}, "input.sceneCount"),
    ("Int given true", CREATE, {"input": {**GOOD, "sceneCount": True}}, "input.sceneCount"),
    ("Int of 2^31", CREATE, {"input": {**GOOD, "sceneCount": 2**31}}, "input.sceneCount"),
    (
        "Int below -2^31",
        CREATE,
        {"input": {**GOOD, "sceneCount": -(2**31) - 1}},
        "input.sceneCount",
    ),
    ("Int of 40 digits", CREATE, {"input": {**GOOD, "sceneCount": 10**40}}, "input.sceneCount"),
    (
        "Float given text",
        CREATE,
        {"input": {**GOOD, "targetDuration": "long"}},
        "input.targetDuration",
    ),
    (
        "Float given a list",
        CREATE,
        {"input": {**GOOD, "targetDuration": [1]}},
        "input.targetDuration",
    ),
    ("String given a number", CREATE, {"input": {**GOOD, "brief": 12345}}, "input.brief"),
    ("String given an object", CREATE, {"input": {**GOOD, "style": {"a": 1}}}, "input.style"),
    ("null for a non-null field", CREATE, {"input": {**GOOD, "brief": None}}, "input.brief"),
    ("missing required field", CREATE, {"input": {"sceneCount": 2}}, "input.brief"),
    ("unknown input field", CREATE, {"input": {**GOOD, "colour": "red"}}, "input.colour"),
    ("null input", CREATE, {"input": None}, "input"),
    ("missing variable", CREATE, {}, "input"),
    ("input given a list", CREATE, {"input": [GOOD]}, "input"),
    ("input given text", CREATE, {"input": "brief"}, "input"),
    ("scene given text", CREATE, {"input": {**GOOD, "scenes": ["x"]}}, "input.scenes.0"),
    (
        "scene field of a wrong type",
        CREATE,
        {"input": {**GOOD, "scenes": [{"description": "a", "duration": "5s"}]}},
        "input.scenes.0.duration",
    ),
    (
        "scene missing its description",
        CREATE,
        {"input": {**GOOD, "scenes": [{"duration": 5}]}},
        "input.scenes.0.description",
    ),
    ("ID given an object", CREATE, {"input": {**GOOD, "assetIds": [{}]}}, "input.assetIds.0"),
    ("ID given a float", CREATE, {"input": {**GOOD, "assetIds": [1.5]}}, "input.assetIds.0"),
    ("ID given true", "query($id: ID!) { job(id: $id) { id } }", {"id": True}, "id"),
    ("null ID", "query($id: ID!) { job(id: $id) { id } }", {"id": None}, "id"),
    ("missing ID", "query($id: ID!) { job(id: $id) { id } }", {}, "id"),
    (
        "bad JobStatus",
        "query($s: JobStatus) { jobs(status: $s) { totalCount } }",
        {"s": "DONE"},
        "s",
    ),
    (
        "first given text",
        "query($n: Int!) { jobs(first: $n) { totalCount } }",
        {"n": "ten"},
        "n",
    ),
    (
        "Upload given a string",
        "mutation($f: Upload!) { uploadAsset(file: $f) { id } }",
        {"f": "not a file"},
        "f",
    ),
]


@pytest.fixture
async def host(app: Any) -> AsyncIterator[str]:
    async with live_server(app) as h:
        yield h


@pytest.fixture
def token(settings: Settings) -> str:
    return make_token(settings)


def assert_bad_input(body: dict[str, Any], field: str) -> None:
    assert body.get("data") is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    assert error["extensions"]["field"] == field, body
    assert "Unexpected error" not in error["message"]


@pytest.mark.parametrize(("name", "query", "variables", "field"), BAD_VARIABLES)
async def test_bad_variables_are_bad_user_input_over_http(
    client: httpx.AsyncClient, name: str, query: str, variables: dict[str, Any], field: str
) -> None:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    assert_bad_input(response.json(), field)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_bad_variables_are_bad_user_input_over_websockets(
    host: str, token: str, protocol: str
) -> None:
    for name, query, variables, field in BAD_VARIABLES:
        body = await ws_operation(host, token, query, variables, protocol=protocol)
        try:
            assert_bad_input(body, field)
        except AssertionError as exc:
            raise AssertionError(f"{name} over {protocol}: {exc}") from None


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_bad_subscription_variables_over_websockets(
    host: str, token: str, protocol: str
) -> None:
    query = "subscription($id: ID!) { jobProgress(jobId: $id) { status } }"
    for variables in ({}, {"id": None}, {"id": {"a": 1}}, {"id": [1]}):
        body = await ws_operation(host, token, query, variables, protocol=protocol)
        assert_bad_input(body, "id")


# -- request errors: parse and validation -------------------------------------------------

REQUEST_ERRORS = [
    ("{ viewer { clientId }", None, "GRAPHQL_PARSE_FAILED"),
    ("{ viewer { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
    (
        'mutation { createJob(input: {brief: "x y z", aspectRatio: WIDE}) { id } }',
        None,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    ("{ jobs(first: 1" + "0" * 5001 + ") { totalCount } }", None, "GRAPHQL_VALIDATION_FAILED"),
    (
        "query A { viewer { clientId } } query B { viewer { userId } }",
        None,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    ("query A { viewer { clientId } }", "B", "GRAPHQL_VALIDATION_FAILED"),
    ('{ job(id: "\\ud800") { id } }', None, "GRAPHQL_PARSE_FAILED"),
]


@pytest.mark.parametrize(("query", "operation_name", "code"), REQUEST_ERRORS)
async def test_request_errors_have_their_code_on_every_transport(
    client: httpx.AsyncClient,
    host: str,
    token: str,
    query: str,
    operation_name: str | None,
    code: str,
) -> None:
    payload: dict[str, Any] = {"query": query}
    if operation_name:
        payload["operationName"] = operation_name
    http = (await client.post("/graphql", json=payload)).json()
    assert http["errors"][0]["extensions"]["code"] == code, http
    assert http.get("data") is None
    for protocol in PROTOCOLS:
        if operation_name:
            continue  # the websocket helper sends no operationName
        body = await ws_operation(host, token, query, protocol=protocol)
        assert body["errors"][0]["extensions"]["code"] == code, (protocol, body)
        assert body["errors"][0]["message"] == http["errors"][0]["message"]


# -- masking -------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def error(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))


async def test_an_internal_error_is_masked_with_a_logged_id_on_every_transport(
    client: httpx.AsyncClient, host: str, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*_: Any, **__: Any) -> float:
        raise RuntimeError("secret internals: db password is hunter2")

    recorder = Recorder()
    monkeypatch.setattr("reelforge.jobs.service.JobService.spend_today", boom)
    monkeypatch.setattr("reelforge.schema.extensions.log", recorder)
    query = "{ viewer { spendToday } }"
    answers = [(await client.post("/graphql", json={"query": query})).json()]
    for protocol in PROTOCOLS:
        answers.append(await ws_operation(host, token, query, protocol=protocol))
    logged = [fields["error_id"] for event, fields in recorder.events]
    assert len(logged) == 3
    for body, error_id in zip(answers, logged, strict=True):
        error = body["errors"][0]
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
        assert "hunter2" not in json.dumps(body)
        assert error_id in error["message"]


# -- transports and their refusals ----------------------------------------------------------


async def test_a_subscription_over_http_says_to_use_a_websocket(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": "subscription($id: ID!) { jobProgress(jobId: $id) { status } }",
            "variables": {"id": "x"},
        },
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "websocket" in error["message"]


async def test_a_mutation_over_get_is_method_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql", params={"query": 'mutation { cancelJob(jobId: "x") { id } }'}
    )
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_apollo_persisted_query_hashes_are_not_supported(client: httpx.AsyncClient) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}
    post = await client.post("/graphql", json={"extensions": extensions, "variables": {}})
    get = await client.get("/graphql", params={"extensions": json.dumps(extensions)})
    for response in (post, get):
        assert response.status_code == 200, response.text
        error = response.json()["errors"][0]
        assert error == {
            "message": "PersistedQueryNotSupported",
            "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
        }


async def test_a_query_with_a_persisted_query_extension_still_runs(
    client: httpx.AsyncClient,
) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}
    response = await client.post(
        "/graphql", json={"query": "{ viewer { clientId } }", "extensions": extensions}
    )
    assert response.json()["data"] == {"viewer": {"clientId": "acme"}}


# -- malformed bodies: 400 in GraphQL's shape, before any work --------------------------------

DEEP = "[" * 5000 + "]" * 5000
HUGE_INT = "1" * 4400

MALFORMED: list[tuple[str, bytes, dict[str, str], int]] = [
    ("a number", b"5", {}, 400),
    ("a string", b'"x"', {}, 400),
    ("null", b"null", {}, 400),
    ("true", b"true", {}, 400),
    ("a batch", b'[{"query": "{ viewer { clientId } }"}]', {}, 400),
    ("not JSON", b"{query", {}, 400),
    ("invalid UTF-8", b'{"query": "\xff\xfe"}', {}, 400),
    ("UTF-16", '{"query": "{ viewer { clientId } }"}'.encode("utf-16"), {}, 400),
    (
        "gzip",
        gzip.compress(b'{"query": "{ viewer { clientId } }"}', mtime=0),
        {"content-encoding": "gzip"},
        415,
    ),
    ("gzip bomb", gzip.compress(b" " * 10_000_000, mtime=0), {"content-encoding": "gzip"}, 415),
    (
        "latin-1",
        b'{"query": "{ viewer { clientId } }"}',
        {"content-type": "application/json; charset=latin-1"},
        415,
    ),
    ("deep top level", DEEP.encode(), {}, 400),
    (
        "deep variables",
        b'{"query": "{ viewer { clientId } }", "variables": {"v": ' + DEEP.encode() + b"}}",
        {},
        400,
    ),
    (
        "deep extensions",
        b'{"query": "{ viewer { clientId } }", "extensions": {"e": ' + DEEP.encode() + b"}}",
        {},
        400,
    ),
    (
        "4,400-digit integer",
        b'{"query": "{ viewer { clientId } }", "variables": {"n": ' + HUGE_INT.encode() + b"}}",
        {},
        400,
    ),
    (
        "NaN",
        b'{"query": "query($d: Float) { viewer { clientId } }", "variables": {"d": NaN}}',
        {},
        400,
    ),
    (
        "Infinity",
        b'{"query": "query($d: Float) { viewer { clientId } }", "variables": {"d": -Infinity}}',
        {},
        400,
    ),
    (
        "1e400",
        b'{"query": "query($d: Float) { viewer { clientId } }", "variables": {"d": 1e400}}',
        {},
        400,
    ),
    (
        "lone surrogate in an ID",
        b'{"query": "query($id: ID!) { job(id: $id) { id } }", "variables": {"id": "\\ud800"}}',
        {},
        400,
    ),
    (
        "lone surrogate in a brief",
        b'{"query": "' + CREATE.encode() + b'", "variables": {"input": {"brief": "ab\\udfffcd"}}}',
        {},
        400,
    ),
    ("variables not an object", b'{"query": "{ viewer { clientId } }", "variables": [1]}', {}, 400),
    ("query not a string", b'{"query": 5}', {}, 400),
    ("no query", b"{}", {}, 400),
    ("text/plain", b'{"query": "{ viewer { clientId } }"}', {"content-type": "text/plain"}, 400),
]


@pytest.mark.parametrize(("name", "body", "headers", "status"), MALFORMED)
async def test_malformed_bodies_are_client_errors_in_graphql_shape(
    client: httpx.AsyncClient, name: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    sent = {"content-type": "application/json", "apollo-require-preflight": "1", **headers}
    response = await client.post("/graphql", content=body, headers=sent)
    assert response.status_code == status, (name, response.text)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] in {"BAD_REQUEST", "UNSUPPORTED_MEDIA_TYPE"}, error
    assert error["message"]


@pytest.mark.parametrize(
    "variables", ["1" * 4400, "[" * 5000 + "]" * 5000, '{"n": NaN}', "{bad", '"\\ud800"']
)
async def test_malformed_get_variables_are_client_errors(
    client: httpx.AsyncClient, variables: str
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ viewer { clientId } }", "variables": variables}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


PREFLIGHT = {"apollo-require-preflight": "1"}


def multipart(operations: str, map_: str, *, file: bytes = b"\x89PNG") -> tuple[bytes, str]:
    boundary = "b0undary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{map_}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n",
    ]
    body = "".join(parts).encode() + file + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


UPLOAD = "mutation($f: Upload!) { uploadAsset(file: $f) { id } }"


@pytest.mark.parametrize(
    ("operations", "map_"),
    [
        ("5", '{"0": ["variables.f"]}'),
        (json.dumps({"query": UPLOAD, "variables": {"f": None}}), "[1]"),
        (json.dumps({"query": UPLOAD, "variables": {"f": None}}), '{"0": ["query.0"]}'),
        (json.dumps({"query": UPLOAD, "variables": {"f": None}}), '{"0": ["variables.g.h"]}'),
        (json.dumps({"query": UPLOAD, "variables": {"f": None}}), '{"0": "variables.f"}'),
        (json.dumps({"query": UPLOAD, "variables": {"f": None}}), '{"1": ["variables.f"]}'),
        ('{"query": ' + "[" * 5000 + "]" * 5000 + "}", '{"0": ["variables.f"]}'),
        ("{bad", '{"0": ["variables.f"]}'),
    ],
)
async def test_multipart_spec_abuse_is_a_client_error(
    client: httpx.AsyncClient, operations: str, map_: str
) -> None:
    body, content_type = multipart(operations, map_)
    response = await client.post(
        "/graphql", content=body, headers={"content-type": content_type, **PREFLIGHT}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
