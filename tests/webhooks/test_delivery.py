"""Delivering job events: signed (checked with the `standardwebhooks` reference library),
retried with the same webhook-id, shown attempt by attempt, and never sent inside."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from standardwebhooks import Webhook

from reelforge.config import Environment, Settings
from reelforge.runtime import Runtime
from reelforge.webhooks import urls
from tests.helpers import create_job, gql, mutate, wait_for_status
from tests.webhooks.conftest import Receiver, create_endpoint, deliveries, wait_for_delivery


def verified(secret: str, received: Any) -> dict[str, Any]:
    """The body, once the reference library accepts its signature."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


def selection(value: dict[str, Any]) -> str:
    """A GraphQL selection of every key of `value` (nested for lists of objects)."""
    parts = []
    for key, item in value.items():
        if isinstance(item, list) and item and isinstance(item[0], dict):
            parts.append(f"{key} {{ {selection(item[0])} }}")
        else:
            parts.append(key)
    return " ".join(parts)


async def canceled_job(client: httpx.AsyncClient) -> str:
    job = await create_job(client)
    canceled = await mutate(client, "cancelJob", job["id"])
    assert canceled["data"]["cancelJob"]["status"] == "CANCELED"
    return str(job["id"])


@pytest.mark.slow
async def test_a_local_receiver_gets_job_completed_signed(
    client: httpx.AsyncClient, worker: Any, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(
        client,
        receiver.url,
        ["JOB_STORYBOARD_COMPLETE", "JOB_COMPLETED", "EXPORT_COMPLETED"],
    )
    job = await create_job(client, sceneCount=1)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    await mutate(client, "approveStoryboard", job["id"])
    await mutate(client, "renderVideo", job["id"])
    await wait_for_status(client, job["id"], "COMPLETED")
    first, second = await receiver.wait_for(2)

    storyboard = verified(endpoint["secret"], first)
    assert storyboard["type"] == "job.storyboard_complete"
    assert storyboard["data"]["job"]["status"] == "STORYBOARD_COMPLETE"
    completed = verified(endpoint["secret"], second)
    assert completed["type"] == "job.completed"
    assert completed["timestamp"].endswith("+00:00")
    sent = completed["data"]["job"]
    assert sent["id"] == job["id"] and sent["status"] == "COMPLETED" and sent["progress"] == 100

    # The job as the API shows it: every field the body carries, with the same value.
    shown = (
        await gql(
            client, f"query($id: ID!) {{ job(id: $id) {{ {selection(sent)} }} }}", id=job["id"]
        )
    )["data"]["job"]
    assert urlsplit(sent.pop("videoUrl")).path == urlsplit(shown.pop("videoUrl")).path
    assert sent == shown
    assert {"status", "brief", "aspectRatio", "actualCost", "scenes", "updatedAt"} <= set(sent)

    export = await gql(
        client,
        "mutation($id: ID!, $input: ExportVideoInput!) { exportVideo(jobId: $id, input: $input) { id } }",
        id=job["id"],
        input={
            "targets": [{"aspectRatio": "SQUARE_1_1", "resolution": "R480P", "container": "GIF"}]
        },
    )
    assert not export.get("errors"), export
    (_, _, third) = await receiver.wait_for(3, timeout=60)
    exported = verified(endpoint["secret"], third)
    assert exported["type"] == "export.completed"
    assert exported["data"]["export"]["id"] == export["data"]["exportVideo"][0]["id"]
    assert exported["data"]["export"]["status"] == "COMPLETED"
    assert urlsplit(exported["data"]["export"]["url"]).path.startswith("/api/v2/assets/")
    assert len({r.webhook_id for r in receiver.received}) == 3  # one id per event


async def test_a_receiver_answering_500_twice_gets_the_event_on_the_third_try(
    client: httpx.AsyncClient, worker: Any, receiver: Receiver
) -> None:
    receiver.answers = [500, 500]
    endpoint = await create_endpoint(client, receiver.url, ["JOB_CANCELED"])
    job_id = await canceled_job(client)

    tries = await receiver.wait_for(3)
    assert len({t.webhook_id for t in tries}) == 1  # the same webhook-id on every retry
    bodies = [verified(endpoint["secret"], t) for t in tries]
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["type"] == "job.canceled" and bodies[0]["data"]["job"]["id"] == job_id

    delivery = await wait_for_delivery(client, endpoint["id"], "SUCCEEDED")
    assert delivery["id"] == tries[0].webhook_id
    assert delivery["attemptCount"] == 3 and delivery["nextAttemptAt"] is None
    assert [(a["number"], a["outcome"], a["responseCode"]) for a in delivery["attempts"]] == [
        (1, "http_error", 500),
        (2, "http_error", 500),
        (3, "delivered", 200),
    ]
    assert all(a["durationMs"] >= 0 for a in delivery["attempts"])


async def test_timeouts_and_redirects_are_retried_not_followed(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, receiver: Receiver
) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"webhook_timeout": timedelta(seconds=1.5)}
    )
    receiver.answers = ["hang", 302]
    endpoint = await create_endpoint(client, receiver.url, ["JOB_CANCELED"])
    await canceled_job(client)

    delivery = await wait_for_delivery(client, endpoint["id"], "SUCCEEDED")
    assert [(a["outcome"], a["responseCode"]) for a in delivery["attempts"]] == [
        ("timeout", None),
        ("http_error", 302),
        ("delivered", 200),
    ]
    assert len(receiver.received) == 3  # the redirect's target was never asked


async def test_an_endless_answer_is_cut_off_not_waited_for(
    client: httpx.AsyncClient, worker: Any, receiver: Receiver
) -> None:
    receiver.answers = ["endless"]
    endpoint = await create_endpoint(client, receiver.url, ["JOB_CANCELED"])
    await canceled_job(client)
    delivery = await wait_for_delivery(client, endpoint["id"], "SUCCEEDED")
    assert [a["outcome"] for a in delivery["attempts"]] == ["delivered"]  # not a timeout


async def test_a_delivery_pending_shows_its_next_try(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, receiver: Receiver
) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"webhook_retry_schedule": [timedelta(minutes=10)]}
    )
    receiver.answers = [503]
    endpoint = await create_endpoint(client, receiver.url, ["JOB_CANCELED"])
    await canceled_job(client)
    await receiver.wait_for(1)
    delivery = await wait_for_delivery(client, endpoint["id"], "PENDING")
    # A query's loads are separate reads (its connection goes back between them), so the
    # attempt can be seen a moment before the delivery row that records its answer.
    while not delivery["attempts"] or delivery["lastResponseCode"] is None:
        delivery = await wait_for_delivery(client, endpoint["id"], "PENDING")
    assert delivery["lastResponseCode"] == 503 and delivery["lastError"] == "answered HTTP 503"
    assert delivery["nextAttemptAt"] is not None

    again = await gql(
        client,
        "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status } }",
        id=delivery["id"],
    )
    assert again["data"]["redeliverWebhook"]["status"] == "PENDING"
    second = (await receiver.wait_for(2))[1]
    assert second.webhook_id == delivery["id"]
    done = await wait_for_delivery(client, endpoint["id"], "SUCCEEDED")
    assert done["attemptCount"] == 2


async def test_retries_run_out_and_an_endpoint_failing_too_long_is_disabled(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, receiver: Receiver
) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"webhook_retry_schedule": [timedelta(milliseconds=50)]}
    )
    receiver.answers = [500] * 10
    endpoint = await create_endpoint(client, receiver.url, ["JOB_CANCELED"])
    await canceled_job(client)
    failed = await wait_for_delivery(client, endpoint["id"], "FAILED")
    assert failed["attemptCount"] == 2 and failed["nextAttemptAt"] is None, failed

    # Failing for longer than allowed (shortened from days): the next failure disables it.
    runtime.settings = runtime.settings.model_copy(update={"webhook_disable_after": timedelta(0)})
    await canceled_job(client)
    await receiver.wait_for(3)
    listed: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while not listed or listed[0]["enabled"]:
            listed = (
                await gql(client, "query { webhookEndpoints { id enabled disabledReason } }")
            )["data"]["webhookEndpoints"]
            await asyncio.sleep(0.05)
    assert "HTTP 500" in listed[0]["disabledReason"]
    latest = await wait_for_delivery(client, endpoint["id"], "FAILED")
    assert "disabled" in (latest["lastError"] or "")
    assert len(receiver.received) == 3  # nothing more is sent to a disabled endpoint

    # A disabled endpoint receives no new events until it is enabled again.
    await canceled_job(client)
    page = await deliveries(client, endpoint["id"])
    assert page["totalCount"] == 2
    enabled = await gql(
        client,
        "mutation($id: ID!) { enableWebhookEndpoint(id: $id) { enabled disabledReason } }",
        id=endpoint["id"],
    )
    assert enabled["data"]["enableWebhookEndpoint"] == {"enabled": True, "disabledReason": None}


async def test_a_name_that_rebinds_to_loopback_is_refused_at_delivery(
    client: httpx.AsyncClient,
    runtime: Runtime,
    worker: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"env": Environment.PRODUCTION})
    answers = {"hooks.example.test": ["93.184.216.34"]}

    async def fake_resolve(host: str, port: int) -> list[Any]:
        import ipaddress

        return [ipaddress.ip_address(a) for a in answers.get(host, [host])]

    monkeypatch.setattr(urls, "resolve", fake_resolve)
    endpoint = await create_endpoint(client, "https://hooks.example.test/in", ["JOB_CANCELED"])
    answers["hooks.example.test"] = ["127.0.0.1"]  # the DNS answer changes after the check
    await canceled_job(client)
    delivery = await wait_for_delivery(client, endpoint["id"], "FAILED")
    assert {a["outcome"] for a in delivery["attempts"]} == {"blocked"}
    assert "127.0.0.1" in delivery["lastError"]
    assert receiver.received == []


async def test_after_a_rotation_both_secrets_verify_for_a_day(
    client: httpx.AsyncClient, worker: Any, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, receiver.url, ["JOB_CANCELED"])
    rotated = await gql(
        client, "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", id=endpoint["id"]
    )
    new_secret = rotated["data"]["rotateWebhookSecret"]["secret"]
    await canceled_job(client)
    (received,) = await receiver.wait_for(1)
    assert len(received.headers["webhook-signature"].split()) == 2
    assert verified(new_secret, received) == verified(endpoint["secret"], received)


def test_our_verifier_accepts_what_the_reference_library_signs() -> None:
    import base64
    import time
    from datetime import UTC, datetime

    from reelforge.webhooks.signing import generate_secret, verify_webhook

    secret = generate_secret()
    body = b'{"type":"job.completed"}'
    now = int(time.time())
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(now, UTC), body.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": signature}
    assert verify_webhook(headers, body, secret) == {"type": "job.completed"}
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_settings_default_schedule_tries_three_times_within_a_minute_for_about_a_day() -> None:
    schedule = Settings(_env_file=None).webhook_retry_schedule  # type: ignore[call-arg]
    assert sum(schedule[:2], timedelta()) < timedelta(minutes=1)
    assert timedelta(hours=20) < sum(schedule, timedelta()) < timedelta(hours=28)
