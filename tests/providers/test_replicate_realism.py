"""Replicate as it really behaves, against the fake that learned it: the planner's
instructions, body-only 429s and one throttle gate per process, deadlines (Cancel-After,
aborted), `Prefer: wait`, removed data, undeclared inputs, and models by aspect ratio."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from reelforge.config import ConfigError, Settings
from reelforge.media.ffmpeg import probe
from reelforge.media.stills import draw_still
from reelforge.providers.base import (
    ClipRequest,
    OutputRemoved,
    PlanRequest,
    PredictionKind,
    PredictionTimeout,
    ProviderError,
    StillRequest,
)
from reelforge.providers.catalog import DEFAULT_CATALOG, ModelSpec
from reelforge.providers.planning import PLAN_INSTRUCTIONS
from reelforge.providers.replicate import Throttle
from reelforge.providers.replicate.http import duration_header
from reelforge.providers.replicate.throttle import throttle_delay
from tests.fakes.replicate import FakeReplicate, parse_go_duration
from tests.providers.conftest import MakeProvider, RecordingSleep

PLAN = PlanRequest(
    brief="Trail running shoes that grip wet rock.",
    scene_count=3,
    target_duration=15,
    style=None,
    aspect_ratio="16:9",
)
STILL = StillRequest(prompt="a trail shoe", width=320, height=180, aspect_ratio="16:9", seed=7)


async def clip_request(width: int, height: int, ratio: str, duration: float = 5) -> ClipRequest:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "still.png"
        await draw_still(out, width=width, height=height, text="scene", seed=1)
        image = out.read_bytes()
    return ClipRequest(
        image=image,
        image_content_type="image/png",
        prompt="slow push-in",
        duration=duration,
        width=width,
        height=height,
        aspect_ratio=ratio,
        seed=1,
    )


# -- the planner's instructions ---------------------------------------------------------------


async def test_the_plan_request_of_a_model_without_a_system_input_carries_the_instructions(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    result = await make_provider().plan(PLAN)

    _, sent = fake.create_calls[0]
    assert "system_prompt" not in sent
    assert "prompt_template" not in sent
    assert sent["prompt"].startswith(PLAN_INSTRUCTIONS)
    assert "Never put text, letters or logos in image prompts" in sent["prompt"]
    assert "exactly 3 scenes" in sent["prompt"]
    assert fake.refused_inputs == []
    assert len(result.scenes) == 3  # parsed from the token stream


async def test_a_model_with_a_system_input_gets_the_instructions_there(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    spec = ModelSpec(
        kind=PredictionKind.PLAN,
        ref="meta/meta-llama-3.1-405b-instruct",
        input={"prompt": "{prompt}", "system_prompt": "{instructions}", "max_tokens": 2048},
        price_per_million_output_tokens=9.5,
    )
    fake.models[spec.ref] = PredictionKind.PLAN
    catalog = DEFAULT_CATALOG.model_copy(update={"plan": spec})

    await make_provider(catalog=catalog).plan(PLAN)

    _, sent = fake.create_calls[0]
    assert sent["system_prompt"] == PLAN_INSTRUCTIONS
    assert PLAN_INSTRUCTIONS not in sent["prompt"]


async def test_the_fake_refuses_an_input_the_model_does_not_declare(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    # The catalog refuses this spec at start-up; built unchecked, the fake still catches it.
    bad = ModelSpec.model_construct(
        **{
            **DEFAULT_CATALOG.plan.model_dump(),
            "input": {"prompt": "{prompt}", "system_prompt": "{instructions}"},
        }
    )
    catalog = DEFAULT_CATALOG.model_copy(update={"plan": bad})

    with pytest.raises(ProviderError) as caught:
        await make_provider(catalog=catalog).plan(PLAN)

    assert caught.value.retryable is False
    assert "422" in str(caught.value) and "system_prompt" in str(caught.value)
    assert fake.refused_inputs == [("meta/meta-llama-3-70b-instruct", ["system_prompt"])]


# -- throttling -------------------------------------------------------------------------------


def test_the_wait_comes_from_retry_after_else_from_replicates_body() -> None:
    import httpx

    body_only = httpx.Response(
        429, json={"detail": "Request was throttled. Your rate limit resets in ~30s."}
    )
    header = httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "~30s"})
    neither = httpx.Response(429, json={"detail": "Request was throttled."})
    assert throttle_delay(body_only) == 30.0
    assert throttle_delay(header) == 7.0
    assert throttle_delay(neither) is None


async def test_a_storm_of_throttled_creates_without_retry_after_still_completes(
    fake: FakeReplicate, make_provider: MakeProvider, sleep: RecordingSleep
) -> None:
    fake.rate_limit_next(12, retry_after=None, method="POST", resets_in=3)
    provider = make_provider()

    results = await asyncio.gather(*(provider.still(STILL) for _ in range(3)))

    assert all(r.data.startswith(b"\x89PNG") for r in results)
    assert len(fake.create_calls) == 3  # a 429 creates nothing, so retrying it is safe
    assert provider.client.throttle.throttled_total == 12
    assert 3.0 in [round(d, 1) for d in sleep.delays]  # waited as the body asked


async def test_concurrent_calls_share_one_gate_and_do_not_stampede(
    fake: FakeReplicate, make_provider: MakeProvider, sleep: RecordingSleep
) -> None:
    fake.rate_limit_next(1, retry_after=None, method="POST", resets_in=30)
    provider = make_provider()

    await asyncio.gather(*(provider.still(STILL) for _ in range(4)))

    # One 429 closed the gate for everyone: the four creates waited ~30 s together, not
    # 4 × 30 s, and only one more request was throttled (none: the gate held them back).
    assert provider.client.throttle.throttled_total == 1
    assert sum(sleep.delays) < 45
    assert len(fake.create_calls) == 4


async def test_a_create_throttled_past_its_budget_fails_retryably_and_clearly(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.rate_limit_next(50, retry_after=None, method="POST", resets_in=30)

    with pytest.raises(ProviderError) as caught:
        await make_provider(throttle_budget=100).still(STILL)

    assert caught.value.retryable is True
    assert "REPLICATE_THROTTLE_BUDGET" in str(caught.value)
    assert "resets in ~30s" in str(caught.value)
    assert fake.create_calls == []


async def test_a_429_on_a_poll_never_fails_the_prediction(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.latency = 0.3
    fake.rate_limit_next(12, retry_after=None, method="GET", resets_in=10)

    result = await make_provider(throttle_budget=15).still(STILL)

    assert result.data.startswith(b"\x89PNG")


async def test_polls_back_off(fake: FakeReplicate, make_provider: MakeProvider) -> None:
    fake.latency = 1.0

    await make_provider(poll_interval=0.02, poll_max_interval=0.5).still(STILL)

    # Every 20 ms would be ~50 polls; backing off 1.5× each time, about a dozen.
    assert len(fake.get_calls) <= 15


async def test_the_shared_gate_is_one_per_account_per_process() -> None:
    from reelforge.providers.replicate.throttle import shared_throttle

    a = shared_throttle("https://api.replicate.com", "r8_a")
    assert shared_throttle("https://api.replicate.com", "r8_a") is a
    assert shared_throttle("https://api.replicate.com", "r8_b") is not a


async def test_the_token_bucket_paces_requests() -> None:
    slept = RecordingSleep()
    gate = Throttle(rate=2.0, burst=2, sleep=slept)
    for _ in range(6):
        await gate.acquire()
    assert sum(slept.delays) == pytest.approx(2.0, abs=0.05)  # 2 at once, then 2 a second


# -- deadlines --------------------------------------------------------------------------------


def test_cancel_after_is_written_the_way_replicate_reads_it() -> None:
    assert duration_header(600) == "10m"
    assert duration_header(120) == "2m"
    assert duration_header(90) == "90s"
    assert duration_header(0.2) == "1s"
    assert parse_go_duration("1h30m") == 5400
    assert parse_go_duration("10m") == 600
    assert parse_go_duration("ten") is None


async def test_every_create_carries_its_deadline(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    provider = make_provider(image_timeout=120, video_timeout=600, plan_timeout=120)
    await provider.still(STILL)
    await provider.clip(await clip_request(160, 90, "16:9"))

    assert [h["cancel-after"] for h in fake.create_headers] == ["2m", "10m"]


async def test_a_queued_video_past_its_deadline_ends_aborted_and_is_not_billed(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.queue_next("video", seconds=60)

    with pytest.raises(PredictionTimeout) as caught:
        await make_provider(video_timeout=1).clip(await clip_request(160, 90, "16:9"))

    pid = caught.value.external_id
    assert pid is not None
    assert fake.predictions[pid].status == "aborted"
    assert fake.billed() == []
    assert fake.cancel_calls == []  # Replicate's own deadline ended it
    assert caught.value.billed is False
    assert caught.value.cost == 0.0
    assert caught.value.retryable is True  # free to try again
    assert "not billed" in str(caught.value)


async def test_a_running_video_past_its_deadline_is_billed_and_not_retried_blindly(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.stick_next("video")

    with pytest.raises(PredictionTimeout) as caught:
        await make_provider(video_timeout=1).clip(await clip_request(160, 90, "16:9"))

    pid = caught.value.external_id
    assert pid is not None
    assert fake.predictions[pid].status == "canceled"
    assert [p.id for p in fake.billed("video")] == [pid]
    assert caught.value.billed is True
    assert caught.value.cost == pytest.approx(0.35)  # what it may have cost: a 5 s clip
    assert caught.value.retryable is False


# -- Prefer: wait -----------------------------------------------------------------------------


async def test_with_prefer_wait_a_still_needs_no_poll(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    result = await make_provider(prefer_wait=60).still(STILL)

    assert result.data.startswith(b"\x89PNG")
    assert fake.get_calls == []
    assert fake.create_headers[0]["prefer"] == "wait=60"


async def test_prefer_wait_is_for_plans_and_stills_not_videos(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    provider = make_provider(prefer_wait=60)
    await provider.plan(PLAN)
    await provider.clip(await clip_request(160, 90, "16:9"))

    assert "prefer" in fake.create_headers[0]
    assert "prefer" not in fake.create_headers[1]
    assert len(fake.get_calls) >= 1  # the video was polled


async def test_a_slow_still_falls_back_to_polling_after_the_wait(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.latency = 1.5
    result = await make_provider(prefer_wait=1).still(STILL)

    assert result.data.startswith(b"\x89PNG")
    assert fake.get_calls  # the create answered "processing" after 1 s; polling finished it


# -- removed data -----------------------------------------------------------------------------


async def test_a_resumed_still_whose_data_was_removed_is_reported_not_silently_repaid(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    first = await make_provider().still(STILL)
    fake.remove_data()

    with pytest.raises(OutputRemoved) as caught:
        await make_provider().still(STILL, existing_id=first.meta.external_id)

    assert caught.value.external_id == first.meta.external_id
    assert caught.value.retryable is False
    assert caught.value.cost == pytest.approx(0.003)  # it was paid: the ledger records it
    assert "data_removed" in str(caught.value)
    assert len(fake.create_calls) == 1


async def test_a_resumed_plan_whose_output_was_removed_says_so(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    first = await make_provider().plan(PLAN)
    fake.data_ttl = 0
    fake.remove_data()
    listed = fake.predictions[first.meta.external_id].to_json()
    assert listed["data_removed"] is True and listed["output"] is None

    with pytest.raises(OutputRemoved):
        await make_provider().plan(PLAN, existing_id=first.meta.external_id)
    assert fake.kind_count("plan") == 1


async def test_data_is_removed_after_the_configured_age(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.data_ttl = 0.2
    result = await make_provider().still(STILL)
    pid = result.meta.external_id
    assert fake.predictions[pid].to_json()["data_removed"] is False
    await asyncio.sleep(0.3)
    removed = fake.predictions[pid].to_json()
    assert removed["data_removed"] is True
    assert removed["output"] is None and removed["input"] == {}


# -- recent predictions (for adopting an unconfirmed create) ------------------------------------


async def test_recent_predictions_are_listed_newest_first(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    provider = make_provider()
    first = await provider.still(STILL)
    second = await provider.still(STILL)

    listed = [p["id"] async for p in provider.client.list_predictions()]

    assert listed[:2] == [second.meta.external_id, first.meta.external_id]


# -- models by aspect ratio -------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height", "ratio"), [(144, 180, "4:5"), (160, 160, "1:1")])
async def test_square_and_4_5_scenes_animate_in_the_stills_own_ratio(
    fake: FakeReplicate, make_provider: MakeProvider, width: int, height: int, ratio: str
) -> None:
    result = await make_provider().clip(await clip_request(width, height, ratio, duration=5))

    ref, sent = fake.create_calls[0]
    assert ref == "minimax/hailuo-02"
    assert sent["first_frame_image"].startswith("data:image/png;base64,")
    assert sent["duration"] == 6  # Hailuo makes 6 or 10 s
    assert fake.refused_inputs == []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        path.write_bytes(result.data)
        info = await probe(path)
    assert (info.width, info.height) == (width, height)
    assert result.meta.model == "minimax/hailuo-02"
    assert result.meta.cost == pytest.approx(6 * 0.045)


# -- webhooks need https in production ---------------------------------------------------------


def test_production_refuses_a_public_base_url_that_is_not_https() -> None:
    secret = "x" * 8 + "Q7v!mZ2#pL9@wR4$kT6^nB1&"
    with pytest.raises(ConfigError, match="https"):
        Settings(
            _env_file=None,
            env="production",
            jwt_secret=secret,
            public_base_url="http://reelforge.example",
        )
    ok = Settings(
        _env_file=None, env="production", jwt_secret=secret, public_base_url="https://r.example"
    )
    assert ok.public_base_url == "https://r.example"


async def test_an_output_removed_before_it_was_copied_is_reported_with_its_cost(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.remove_data_next("video")

    with pytest.raises(OutputRemoved) as caught:
        await make_provider().clip(await clip_request(160, 90, "16:9"))

    assert caught.value.cost == pytest.approx(0.35)
    assert len(fake.billed("video")) == 1
