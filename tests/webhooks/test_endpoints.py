"""Webhook endpoints through the API: created with a secret shown once, isolated per
client like jobs, and refused when they point where webhooks must not go."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from reelforge.config import Environment, Settings
from reelforge.runtime import Runtime
from tests.conftest import make_token
from tests.helpers import error_code, gql
from tests.webhooks.conftest import CREATE_ENDPOINT, create_endpoint

LIST = "query { webhookEndpoints { id url events description secret enabled } }"
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { id secret } }"
DELIVERIES = "query($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount } }"


async def test_an_endpoint_is_created_with_its_secret_shown_once(
    client: httpx.AsyncClient,
) -> None:
    endpoint = await create_endpoint(
        client,
        "http://127.0.0.1:9/hooks",
        ["JOB_COMPLETED", "JOB_FAILED", "JOB_COMPLETED"],
        description="n8n flow",
    )
    assert endpoint["secret"].startswith("whsec_") and len(endpoint["secret"]) > 40
    assert endpoint["events"] == ["JOB_COMPLETED", "JOB_FAILED"]
    assert endpoint["enabled"] and endpoint["description"] == "n8n flow"

    listed = (await gql(client, LIST))["data"]["webhookEndpoints"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert listed[0]["secret"] is None  # never shown again

    rotated = (await gql(client, ROTATE, id=endpoint["id"]))["data"]["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]

    assert (await gql(client, DELETE, id=endpoint["id"]))["data"]["deleteWebhookEndpoint"]
    assert (await gql(client, LIST))["data"]["webhookEndpoints"] == []


async def test_another_client_cannot_see_or_delete_the_endpoint(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    endpoint = await create_endpoint(client, "http://127.0.0.1:9/hooks", ["JOB_COMPLETED"])
    other = {"Authorization": f"Bearer {make_token(settings, client_id='globex')}"}

    assert (await gql(client, LIST, headers=other))["data"]["webhookEndpoints"] == []
    for query in (DELETE, ROTATE, DELIVERIES):
        body = await gql(client, query, headers=other, id=endpoint["id"])
        assert error_code(body) == "NOT_FOUND", body
    redeliver = await gql(
        client,
        "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }",
        headers=other,
        id="00000000-0000-0000-0000-000000000000",
    )
    assert error_code(redeliver) == "NOT_FOUND"
    # Still there for its owner.
    assert [e["id"] for e in (await gql(client, LIST))["data"]["webhookEndpoints"]] == [
        endpoint["id"]
    ]


async def test_webhooks_need_a_token(client: httpx.AsyncClient) -> None:
    body = await gql(client, LIST, headers={"Authorization": ""})
    assert error_code(body) == "UNAUTHENTICATED"


@pytest.fixture
def production(settings: Settings, runtime: Runtime) -> Settings:
    prod = settings.model_copy(
        update={"env": Environment.PRODUCTION, "jwt_secret": SecretStr("p" * 48)}
    )
    runtime.settings = prod
    return prod


@pytest.fixture
async def prod_client(production: Settings, runtime: Runtime) -> Any:
    from reelforge.app import create_app

    app = create_app(production, runtime=runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {make_token(production)}"},
    ) as c:
        yield c


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:169.254.169.254]/",
        "https://[fd00:ec2::254]/",
        "https://100.100.100.200/",
        "https://0x7f.1/hooks",
        "https://user:pw@93.184.216.34/hooks",
        "ftp://93.184.216.34/hooks",
    ],
)
async def test_production_refuses_urls_that_reach_inside(prod_client: Any, url: str) -> None:
    body = await gql(prod_client, CREATE_ENDPOINT, input={"url": url, "events": ["JOB_COMPLETED"]})
    assert error_code(body) == "BAD_USER_INPUT", body
    assert body["errors"][0]["extensions"]["field"] == "url"


async def test_production_accepts_a_public_https_url(prod_client: Any) -> None:
    endpoint = await create_endpoint(prod_client, "https://93.184.216.34/hooks", ["JOB_FAILED"])
    assert endpoint["url"] == "https://93.184.216.34/hooks"


async def test_development_allows_loopback_but_not_the_private_network(
    client: httpx.AsyncClient,
) -> None:
    await create_endpoint(client, "http://localhost:8080/hooks", ["JOB_COMPLETED"])
    for url in ("http://169.254.169.254/latest/meta-data/", "http://192.168.1.10/hooks"):
        body = await gql(client, CREATE_ENDPOINT, input={"url": url, "events": ["JOB_FAILED"]})
        assert error_code(body) == "BAD_USER_INPUT", url


async def test_an_endpoint_needs_events(client: httpx.AsyncClient) -> None:
    body = await gql(client, CREATE_ENDPOINT, input={"url": "http://127.0.0.1:9/h", "events": []})
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "events"
