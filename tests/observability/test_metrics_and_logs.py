"""Operators' view: /metrics moves as a job runs, and every log line is JSON with job context."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from reelforge.runtime import Runtime
from reelforge.startup import free_port
from tests.helpers import create_job, gql, job_run, mutate, wait_for_status
from tests.processes import env, graphql, http, minted_token, wait_ready, wait_status


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_job_moves_the_metrics_operators_watch(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any
) -> None:
    before = await scrape(client)
    job = await create_job(client)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    await mutate(client, "approveStoryboard", job["id"])
    await mutate(client, "renderVideo", job["id"])
    await wait_for_status(client, job["id"], "COMPLETED")
    await gql(client, "query($id: ID!) { job(id: $id) { id } }", id=job["id"])  # a cached read
    from reelforge.jobs.tasks import sweep_stuck_jobs

    await sweep_stuck_jobs({"runtime": runtime})
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("jobs_created_total") == 1
    assert moved("storyboards_approved_total") == 1
    assert moved("jobs_finished_total", status="completed") == 1
    assert moved("video_gen_duration_seconds_count", stage="storyboard") == 1
    assert moved("video_gen_duration_seconds_count", stage="render") == 1
    assert moved("predictions_total", kind="video", outcome="succeeded") == 2
    # Preview is free, but every model that ran has its cost series (at $0).
    assert ("cost_actual_dollars_total", (("model", "preview/ken-burns"),)) in after
    assert moved("cache_requests_total", result="hit") >= 1
    assert (
        moved("http_request_duration_seconds_count", route="/graphql", method="POST", status="2xx")
        >= 6
    )
    assert (
        moved("graphql_operation_duration_seconds_count", operation_type="mutation", outcome="ok")
        == 3
    )
    assert value(after, "jobs_by_status", status="completed") >= 1
    assert ("stuck_jobs", ()) in after and ("queue_depth", ()) in after
    labels = {dict(k[1]).get("job_id") for k in after}
    assert labels == {None}, "no job ids in labels"


async def test_failures_and_replicate_errors_are_counted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    before = await scrape(client)
    job = await create_job(client)
    await job_run(runtime, job["id"]).fail("render", RuntimeError("disk on fire"))
    after = await scrape(client)
    assert (
        value(after, "job_failures_total", stage="render", reason="RuntimeError")
        - value(before, "job_failures_total", stage="render", reason="RuntimeError")
        == 1
    )
    failed = await wait_for_status(client, job["id"], "FAILED")
    # The exception's own text stays in the log; the client reads a sentence and a reference.
    assert failed["errorMessage"].startswith(
        "render failed: an internal error occurred (reference "
    )
    assert "disk on fire" not in failed["errorMessage"]


def test_serve_logs_are_json_with_job_context_and_no_secrets(tmp_path: Path) -> None:
    port = free_port()
    serve_env = env(tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO")
    process = subprocess.Popen(
        [sys.executable, "-m", "reelforge.cli", "serve", "--port", str(port)],
        env=serve_env,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    token = minted_token(serve_env)
    try:
        wait_ready(base, process)
        query = 'mutation { createJob(input: {brief: "Sparkling water, zero sugar.", sceneCount: 1, targetDuration: 2, resolution: R480P}) { id } }'
        job_id = graphql(base, token, query)["createJob"]["id"]
        wait_status(base, token, job_id, "STORYBOARD_COMPLETE")
        http().get(f"{base}/api/v2/assets/nope?sig=secret-signature&expires=1")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    text = stderr.decode()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert all({"timestamp", "level", "event"} <= line.keys() for line in lines)
    job_lines = [line for line in lines if line.get("stage") == "storyboard"]
    assert job_lines and all(
        line["job_id"] == job_id and line["client_id"] == "acme" and "campaign_id" in line
        for line in job_lines
    )
    assert any(line["event"] == "http.request" and "request_id" in line for line in lines)
    assert token not in text and "secret-signature" not in text
