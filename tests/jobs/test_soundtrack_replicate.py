"""Voice-over and music against the fake Replicate: one speech prediction per scene, one
music prediction, priced in the estimate; a new narration buys exactly one more line."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reelforge.providers.base import PredictionKind
from reelforge.providers.catalog import DEFAULT_CATALOG
from reelforge.providers.replicate import ReplicateProvider
from tests.fakes.replicate import FakeReplicate
from tests.helpers import gql, mutate, wait_for_status

# Short: the fake's planner speaks each scene's description ("<shot>: <brief>"), and every
# second of narration is a second more of each scene to render and master.
BRIEF = "Trail shoes that grip."


@pytest.fixture
def provider(replicate_provider: ReplicateProvider) -> ReplicateProvider:
    return replicate_provider


async def render(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    await wait_for_status(client, job_id, "STORYBOARD_COMPLETE")
    assert not (await mutate(client, "approveStoryboard", job_id)).get("errors")
    assert not (await mutate(client, "renderVideo", job_id)).get("errors")
    return await wait_for_status(client, job_id, "COMPLETED", timeout=120)


async def test_one_speech_prediction_per_scene_one_bed_and_one_more_line_on_refine(
    client: httpx.AsyncClient, worker: Any, fake: FakeReplicate
) -> None:
    body = await gql(
        client,
        """mutation($input: CreateJobInput!) { createJob(input: $input) {
             id voice language captions music } }""",
        input={"brief": BRIEF, "sceneCount": 2, "targetDuration": 4.0, "resolution": "R480P"},
    )
    job = body["data"]["createJob"]
    assert (job["voice"], job["language"], job["captions"], job["music"]) == (
        "Wise_Woman",
        "en",
        "WORD",
        "UPBEAT",
    )
    ready = await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    clips = 2 * DEFAULT_CATALOG.estimate(PredictionKind.VIDEO, 2.0)
    assert ready["estimatedCost"] > clips  # the voice-over and the bed are priced too

    done = await render(client, job["id"])
    assert fake.kind_count("speech") == 2  # one line per scene
    assert fake.kind_count("music") == 1
    assert fake.kind_count("video") == 2
    speech = [inp for ref, inp in fake.create_calls if ref.startswith("minimax/speech")]
    assert {i["voice_id"] for i in speech} == {"Wise_Woman"}
    assert {i["language_boost"] for i in speech} == {"English"}
    assert done["actualCost"] > ready["actualCost"]

    body = await gql(
        client,
        """mutation($id: ID!, $input: RefineSceneInput!) {
             refineScene(jobId: $id, sceneIndex: 0, input: $input) { id } }""",
        id=job["id"],
        input={"narration": "Grip that holds."},
    )
    assert not body.get("errors"), body
    await render(client, job["id"])
    assert fake.kind_count("speech") == 3  # exactly one more: the changed line
    assert fake.kind_count("music") == 1
    assert fake.kind_count("video") == 2


async def test_replicate_voices_speak_every_language(client: httpx.AsyncClient) -> None:
    body = await gql(client, '{ voices(language: "fr") { id language provider } }')
    voices = body["data"]["voices"]
    assert {"id": "Wise_Woman", "language": "*", "provider": "replicate"} in voices
