"""Authentication, error codes, abuse limits and the schema file, through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from reelforge.cli import export_schema
from reelforge.config import Settings
from tests.conftest import make_token
from tests.helpers import JOB_FIELDS, create_job, error_code, gql, mutate


def _claims(**overrides: Any) -> dict[str, Any]:
    claims = {"sub": "alice", "client_id": "acme", "exp": datetime.now(UTC) + timedelta(hours=1)}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def bad_tokens(settings: Settings) -> dict[str, str | None]:
    secret = settings.jwt_secret.get_secret_value()
    unsigned = jwt.encode(_claims(), key="", algorithm="none")
    return {
        "alg none": unsigned,
        "wrong secret": jwt.encode(_claims(), "another-secret-entirely-" + "w" * 64, "HS256"),
        "expired": jwt.encode(
            _claims(exp=datetime.now(UTC) - timedelta(minutes=1)), secret, "HS256"
        ),
        "no client_id": jwt.encode(_claims(client_id=None), secret, "HS256"),
        "no exp": jwt.encode({"sub": "alice", "client_id": "acme"}, secret, "HS256"),
        "HS512 when HS256 is configured": jwt.encode(_claims(), secret, "HS512"),
        "garbage": "not.a.jwt",
        "missing": None,
    }


BAD_TOKEN_CASES = [
    "alg none",
    "wrong secret",
    "expired",
    "no client_id",
    "no exp",
    "HS512 when HS256 is configured",
    "garbage",
    "missing",
]


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
async def test_bad_or_missing_tokens_are_unauthenticated(
    client: httpx.AsyncClient, settings: Settings, case: str
) -> None:
    token = bad_tokens(settings)[case]  # every case by its exact name: none is skipped
    if case.startswith("HS512"):
        assert jwt.get_unverified_header(token or "")["alg"] == "HS512"
    headers = {"Authorization": f"Bearer {token}"} if token else {"Authorization": ""}
    body = await gql(client, "{ viewer { clientId } }", headers=headers)
    assert error_code(body) == "UNAUTHENTICATED"
    assert body["data"] is None


async def test_viewer_reports_client_and_spend(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ viewer { clientId userId spendToday dailyBudget } }")
    assert body["data"]["viewer"] == {
        "clientId": "acme",
        "userId": "alice",
        "spendToday": 0.0,
        "dailyBudget": None,
    }


async def test_models_lists_each_kind_with_a_price(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ models { kind provider model estimatedCost } }")
    models = body["data"]["models"]
    assert {m["kind"] for m in models} == {"plan", "image", "video", "speech", "music"}
    assert all(m["provider"] == "preview" and m["estimatedCost"] == 0 for m in models)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sceneCount", 0),
        ("sceneCount", 13),
        ("targetDuration", 500.0),
        ("brief", "ab"),
        ("campaignId", "../etc"),
        ("assetIds", ["00000000-0000-0000-0000-000000000000"]),
    ],
)
async def test_out_of_range_input_is_bad_user_input(
    client: httpx.AsyncClient, field: str, value: Any
) -> None:
    variables = {"brief": "A good brief", "sceneCount": 2, field: value}
    body = await gql(
        client, "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }", i=variables
    )
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == field


async def test_an_unknown_enum_value_is_a_validation_error(client: httpx.AsyncClient) -> None:
    body = await gql(
        client, 'mutation { createJob(input: {brief: "x y z", aspectRatio: WIDE}) { id } }'
    )
    assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"


async def test_another_clients_job_is_not_found_for_reads_and_writes(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    job = await create_job(client)
    other = {"Authorization": f"Bearer {make_token(settings, client_id='globex', user_id='eve')}"}
    body = await gql(client, "query($id: ID!) { job(id: $id) { id } }", headers=other, id=job["id"])
    assert error_code(body) == "NOT_FOUND"
    for name in ("approveStoryboard", "renderVideo", "cancelJob", "retryJob"):
        body = await gql(
            client,
            f"mutation($id: ID!) {{ {name}(jobId: $id) {{ id }} }}",
            headers=other,
            id=job["id"],
        )
        assert error_code(body) == "NOT_FOUND", name
    listing = await gql(client, "{ jobs { totalCount } }", headers=other)
    assert listing["data"]["jobs"]["totalCount"] == 0


async def test_unknown_asset_is_not_found(client: httpx.AsyncClient) -> None:
    body = await gql(client, 'query { asset(id: "nope") { id } }')
    assert error_code(body) == "NOT_FOUND"


async def test_approve_before_storyboard_is_conflict(client: httpx.AsyncClient) -> None:
    job = await create_job(client)  # no worker runs: it stays pending
    body = await mutate(client, "approveStoryboard", job["id"])
    assert error_code(body) == "CONFLICT"
    assert body["errors"][0]["extensions"]["status"] == "PENDING"


async def test_deep_query_is_refused_with_a_clear_message(client: httpx.AsyncClient) -> None:
    inner = "id"
    for _ in range(20):
        inner = f"node {{ {inner} }}"
    query = "{ jobs { edges { " + inner + " } } }"
    body = await gql(client, query)
    assert body["errors"] and "depth" in body["errors"][0]["message"]
    assert error_code(body) in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")


async def test_fifty_aliases_are_refused(client: httpx.AsyncClient) -> None:
    query = "{ " + " ".join(f"a{i}: viewer {{ clientId }}" for i in range(50)) + " }"
    body = await gql(client, query)
    assert body["errors"] and "aliases" in body["errors"][0]["message"].lower()
    assert body.get("data") is None


async def test_oversized_json_body_is_payload_too_large(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    query = "{ viewer { clientId } }" + " " * settings.max_request_bytes
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 413
    assert error_code(response.json()) == "PAYLOAD_TOO_LARGE"


async def test_unexpected_errors_are_masked_with_an_id(
    client: httpx.AsyncClient, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*_: Any, **__: Any) -> float:
        raise RuntimeError("secret internals: db password is hunter2")

    monkeypatch.setattr("reelforge.jobs.service.JobService.spend_today", boom)
    body = await gql(client, "{ viewer { spendToday } }")
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in error["message"] and error["extensions"]["errorId"] in error["message"]


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_introspection_is_off_in_production(settings: Settings, runtime: Any) -> None:
    from reelforge.app import create_app

    prod = settings.model_copy(update={"graphql_introspection": False})
    app = create_app(prod, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        body = await gql(
            c,
            "{ __schema { types { name } } }",
            headers={"Authorization": f"Bearer {make_token(settings)}"},
        )
    assert body["errors"] and "introspection" in body["errors"][0]["message"].lower()


def test_committed_schema_is_current(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    export_schema(out)  # what `reelforge export-schema` runs, without a second interpreter
    committed = Path(__file__).resolve().parents[2] / "schema.graphql"
    assert committed.read_text() == out.read_text(), (
        "schema.graphql is stale: run `reelforge export-schema`"
    )


async def test_jobs_are_paginated_with_first_capped(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await create_job(client)
    body = await gql(
        client,
        "{ jobs(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }",
    )
    page = body["data"]["jobs"]
    assert page["totalCount"] == 3 and len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"]
    rest = await gql(
        client,
        "query($a: String) { jobs(first: 2, after: $a) { edges { node { id } } pageInfo { hasNextPage } } }",
        a=page["pageInfo"]["endCursor"],
    )
    assert (
        len(rest["data"]["jobs"]["edges"]) == 1
        and not rest["data"]["jobs"]["pageInfo"]["hasNextPage"]
    )
    capped = await gql(client, "{ jobs(first: 500) { totalCount } }")
    assert error_code(capped) == "BAD_USER_INPUT"


__all__ = ["JOB_FIELDS"]


def test_graphql_enums_offer_exactly_what_the_media_layer_renders() -> None:
    from typing import get_args

    from reelforge.media.captions import CaptionStyle as MediaCaptionStyle
    from reelforge.media.clips import Fit as MediaFit
    from reelforge.media.formats import ASPECT_RATIOS, CONTAINERS, RESOLUTIONS
    from reelforge.media.music import MOODS
    from reelforge.schema.types import (
        AspectRatio,
        CaptionStyle,
        Container,
        Fit,
        MusicMood,
        Resolution,
    )

    assert [e.value for e in CaptionStyle] == [s.value for s in MediaCaptionStyle]
    assert [e.value for e in MusicMood] == ["none", *MOODS]
    assert [e.value for e in AspectRatio] == list(ASPECT_RATIOS)
    assert [e.value for e in Resolution] == list(RESOLUTIONS)
    assert [e.value for e in Container] == list(CONTAINERS)
    assert [e.value for e in Fit] == list(get_args(MediaFit))
