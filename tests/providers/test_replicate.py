"""ReplicateProvider against the fake Replicate: the happy paths, failures, retries, money
safety (no duplicate creates), resuming, expiring outputs and secrecy of the token."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from reelforge.config import ConfigError, Settings
from reelforge.media.ffmpeg import MediaInfo, probe
from reelforge.media.stills import draw_still
from reelforge.observability.metrics import REPLICATE_API_ERRORS
from reelforge.providers import build_provider
from reelforge.providers.base import (
    ClipRequest,
    OutputRemoved,
    PlannedScene,
    PlanRequest,
    PredictionKind,
    PredictionTimeout,
    ProviderError,
    StillRequest,
    UnknownPrediction,
)
from reelforge.providers.catalog import DEFAULT_CATALOG
from reelforge.providers.preview import PreviewProvider
from reelforge.providers.replicate import ReplicateProvider, parse_storyboard
from tests.fakes.replicate import DEFAULT_TOKEN, FakeReplicate
from tests.providers.conftest import FAKE_URL, MakeProvider, RecordingSleep

PLAN = PlanRequest(
    brief="Trail running shoes that grip wet rock. Light, fast, waterproof.",
    scene_count=3,
    target_duration=15,
    style="moody dawn light",
    aspect_ratio="16:9",
)
STILL = StillRequest(
    prompt="a trail shoe on wet rock", width=1280, height=720, aspect_ratio="16:9", seed=7
)


async def png(width: int = 160, height: int = 90, seed: int = 1) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "still.png"
        await draw_still(out, width=width, height=height, text="scene", seed=seed)
        return out.read_bytes()


async def probe_bytes(data: bytes, suffix: str) -> MediaInfo:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"media{suffix}"
        path.write_bytes(data)
        return await probe(path)


def errors(status: str) -> float:
    return float(REPLICATE_API_ERRORS.labels(status=status)._value.get())


class Recorder:
    def __init__(self) -> None:
        self.ids: list[str] = []

    async def __call__(self, external_id: str) -> None:
        self.ids.append(external_id)


class FlakyTransport(httpx.AsyncBaseTransport):
    """Wraps the fake's transport; raises scripted network errors on matching requests,
    either before the request reaches the server or after it was processed."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.before: list[tuple[Callable[[httpx.Request], bool], Exception]] = []
        self.after: list[tuple[Callable[[httpx.Request], bool], Exception]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for script in self.before:
            if script[0](request):
                self.before.remove(script)
                raise script[1]
        response = await self.inner.handle_async_request(request)
        for script in self.after:
            if script[0](request):
                self.after.remove(script)
                await response.aread()
                raise script[1]
        return response


def is_create(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/predictions")


@pytest.fixture
async def flaky(fake: FakeReplicate) -> FlakyTransport:
    return FlakyTransport(httpx.ASGITransport(app=fake.app))


@pytest.fixture
async def flaky_http(flaky: FlakyTransport):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=flaky, base_url=FAKE_URL) as client:
        yield client


# -- success per operation --------------------------------------------------------------------


async def test_plan_returns_the_llm_storyboard_and_its_token_cost(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    created = Recorder()
    result = await make_provider().plan(PLAN, on_created=created)

    assert len(result.scenes) == 3
    assert all(scene.description and scene.image_prompt for scene in result.scenes)
    assert all(1 <= scene.duration <= 15 for scene in result.scenes)
    assert created.ids == [result.meta.external_id]
    assert result.meta.model == "meta/meta-llama-3-70b-instruct"
    assert result.meta.cost > 0  # priced by input and output tokens
    assert fake.kind_count("plan") == 1
    _, sent = fake.create_calls[0]
    assert "exactly 3 scenes" in sent["prompt"]
    assert sent["max_tokens"] == 2048


async def test_still_is_copied_as_a_real_png(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    result = await make_provider().still(STILL)

    assert result.content_type == "image/png"
    info = await probe_bytes(result.data, ".png")
    assert (info.width, info.height) == (320, 180)  # the fake's 16:9 at a 180 px short side
    assert result.meta.cost == pytest.approx(0.003)
    _, sent = fake.create_calls[0]
    assert sent["aspect_ratio"] == "16:9"
    assert sent["seed"] == 7  # typed, not "7"


async def test_clip_sends_a_small_still_inline_and_returns_an_mp4(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    image = await png()
    request = ClipRequest(
        image=image,
        image_content_type="image/png",
        prompt="slow push-in",
        duration=4.0,
        width=1280,
        height=720,
        aspect_ratio="16:9",
        seed=3,
    )
    result = await make_provider().clip(request)

    assert result.content_type == "video/mp4"
    info = await probe_bytes(result.data, ".mp4")
    assert info.duration_seconds == pytest.approx(5.0, abs=0.1)  # Kling makes 5 or 10 s
    assert (info.width, info.height) == (160, 90)
    _, sent = fake.create_calls[0]
    assert sent["start_image"] == "data:image/png;base64," + base64.b64encode(image).decode()
    assert sent["duration"] == 5
    assert result.meta.cost == pytest.approx(0.35)  # 5 s at $0.07
    assert fake.file_uploads == []


async def test_a_large_still_goes_through_the_files_api(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    image = await png()
    request = ClipRequest(
        image=image,
        image_content_type="image/png",
        prompt="pan",
        duration=2.0,
        width=160,
        height=90,
        aspect_ratio="16:9",
        seed=3,
    )
    result = await make_provider(inline_image_limit=100).clip(request)

    assert len(fake.file_uploads) == 1
    assert fake.file_uploads[0].data == image
    _, sent = fake.create_calls[0]
    assert sent["start_image"] == f"{FAKE_URL}/v1/files/{fake.file_uploads[0].id}"
    assert (await probe_bytes(result.data, ".mp4")).duration_seconds == pytest.approx(5, abs=0.1)


async def test_a_large_still_in_object_storage_is_sent_as_its_presigned_url(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    """No second upload of what the bucket already holds; the input hash ignores the URL
    (it changes with every signature), so a resumed render still reuses the prediction."""
    from reelforge.providers.base import PredictionKind, input_hash

    image = await png()
    presigned = "https://bucket.example.com/jobs/j/image/s.png?X-Amz-Signature=abc"
    fake.public_urls[presigned] = image
    request = ClipRequest(
        image=image,
        image_content_type="image/png",
        prompt="pan",
        duration=2.0,
        width=160,
        height=90,
        aspect_ratio="16:9",
        seed=3,
        image_url=presigned,
    )
    await make_provider(inline_image_limit=100).clip(request)

    assert fake.file_uploads == []
    _, sent = fake.create_calls[0]
    assert sent["start_image"] == presigned
    resigned = dataclasses.replace(request, image_url=presigned + "def")
    assert input_hash(PredictionKind.VIDEO, "m", request) == input_hash(
        PredictionKind.VIDEO, "m", resigned
    )


async def test_a_versioned_model_is_created_through_v1_predictions(
    http: httpx.AsyncClient,
) -> None:
    ref = "acme/flux-custom:" + "ab12" * 16
    fake = FakeReplicate(models={ref: PredictionKind.IMAGE}, latency=0.02)
    catalog = DEFAULT_CATALOG.model_copy(
        update={"image": DEFAULT_CATALOG.image.model_copy(update={"ref": ref})}
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), base_url=FAKE_URL
    ) as client:
        provider = ReplicateProvider(
            token=DEFAULT_TOKEN, http=client, base_url=FAKE_URL, catalog=catalog, poll_interval=0.02
        )
        result = await provider.still(STILL)
    await fake.aclose()
    assert fake.create_calls[0][0] == ref
    assert result.meta.model == ref
    assert ("POST", "/v1/predictions") in fake.requests


# -- failures ---------------------------------------------------------------------------------


async def test_a_failed_prediction_surfaces_replicates_error(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.fail_next("image", error="NSFW content detected in the output")

    with pytest.raises(ProviderError) as caught:
        await make_provider().still(STILL)

    assert "NSFW content detected in the output" in str(caught.value)
    assert caught.value.retryable is True
    assert caught.value.external_id in fake.predictions


async def test_a_canceled_prediction_is_not_retryable(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.stick_next("image")
    provider = make_provider()
    created = Recorder()
    task = asyncio.create_task(provider.still(STILL, on_created=created))
    while not created.ids:
        await asyncio.sleep(0.01)
    await provider.cancel(created.ids[0])

    with pytest.raises(ProviderError) as caught:
        await task
    assert caught.value.retryable is False
    assert "canceled" in str(caught.value)


async def test_a_deadline_replicate_missed_is_enforced_by_canceling_it_ourselves(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.stick_next("video")
    fake.schemas = {}  # this fake ignores Cancel-After, as an older API would
    request = ClipRequest(
        image=await png(),
        image_content_type="image/png",
        prompt="pan",
        duration=5,
        width=160,
        height=90,
        aspect_ratio="16:9",
        seed=1,
    )

    provider = make_provider(video_timeout=0.2)
    with pytest.raises(PredictionTimeout) as caught:
        await provider.clip(request)

    external_id = caught.value.external_id
    assert external_id is not None
    assert fake.cancel_calls == [external_id]
    assert fake.predictions[external_id].status == "canceled"
    # It ran, so it is billed: trying again would pay twice, so it is not retried blindly.
    assert caught.value.billed is True
    assert caught.value.retryable is False


async def test_an_unknown_model_is_refused_without_retrying(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    catalog = DEFAULT_CATALOG.model_copy(
        update={"image": DEFAULT_CATALOG.image.model_copy(update={"ref": "nobody/nothing"})}
    )
    with pytest.raises(ProviderError) as caught:
        await make_provider(catalog=catalog).still(STILL)

    assert caught.value.retryable is False
    assert "422" in str(caught.value)
    assert "nobody/nothing" in str(caught.value)
    assert fake.create_calls == []


async def test_an_output_gone_before_the_copy_is_reported_as_removed_not_retried(
    make_provider: MakeProvider, fake: FakeReplicate
) -> None:
    fake.output_ttl = 0.0

    with pytest.raises(OutputRemoved) as caught:
        await make_provider().still(STILL)

    assert caught.value.retryable is False  # paying again is the caller's visible decision
    assert caught.value.external_id is not None
    assert "one hour" in str(caught.value)


# -- retries, and never paying twice ----------------------------------------------------------


async def test_a_429_waits_retry_after_then_succeeds(
    fake: FakeReplicate, make_provider: MakeProvider, sleep: RecordingSleep
) -> None:
    fake.rate_limit_next(1, retry_after=2, method="POST")
    before = errors("429")

    result = await make_provider().still(STILL)

    assert result.data.startswith(b"\x89PNG")
    # Retry-After, less the moments already gone; then the gate paces the polls, slower.
    assert sleep.delays[0] == pytest.approx(2.0, abs=0.5)
    assert sum(sleep.delays[1:]) < 2.0
    assert len(fake.create_calls) == 1
    assert errors("429") == before + 1


async def test_a_429_really_waits_when_sleep_is_not_injected(
    fake: FakeReplicate, http: httpx.AsyncClient
) -> None:
    fake.rate_limit_next(1, retry_after=1, method="POST")
    provider = ReplicateProvider(
        token=DEFAULT_TOKEN, http=http, base_url=FAKE_URL, poll_interval=0.02
    )
    started = asyncio.get_running_loop().time()

    await provider.still(STILL)

    assert asyncio.get_running_loop().time() - started >= 1.0


async def test_server_errors_while_polling_are_retried(
    fake: FakeReplicate, make_provider: MakeProvider, sleep: RecordingSleep
) -> None:
    fake.server_error_next(2, method="GET", status=503)
    before = errors("503")

    result = await make_provider().still(STILL)

    assert result.content_type == "image/png"
    assert len(sleep.delays) == 2  # backoff with jitter, between 0 and the cap
    assert all(0 <= delay <= 1.0 for delay in sleep.delays)
    assert errors("503") == before + 2


async def test_an_ambiguous_create_is_looked_up_not_repeated(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.ambiguous_create_next(1)
    created = Recorder()

    result = await make_provider().still(STILL, on_created=created)

    assert len(fake.create_calls) == 1
    assert fake.list_calls == 1
    assert created.ids == [result.meta.external_id]
    assert result.data.startswith(b"\x89PNG")


async def test_a_read_timeout_after_the_create_is_looked_up_not_repeated(
    fake: FakeReplicate, flaky: FlakyTransport, flaky_http: httpx.AsyncClient
) -> None:
    flaky.after.append((is_create, httpx.ReadTimeout("timed out")))
    provider = ReplicateProvider(
        token=DEFAULT_TOKEN, http=flaky_http, base_url=FAKE_URL, poll_interval=0.02
    )
    request = ClipRequest(
        image=await png(),
        image_content_type="image/png",
        prompt="pan",
        duration=2,
        width=160,
        height=90,
        aspect_ratio="16:9",
        seed=1,
    )

    result = await provider.clip(request)  # a data-URI input still matches in the listing

    assert len(fake.create_calls) == 1
    assert result.content_type == "video/mp4"


async def test_a_lost_create_that_never_arrived_fails_retryably_without_a_second_create(
    fake: FakeReplicate, flaky: FlakyTransport, flaky_http: httpx.AsyncClient
) -> None:
    flaky.before.append((is_create, httpx.ReadTimeout("timed out")))
    provider = ReplicateProvider(
        token=DEFAULT_TOKEN, http=flaky_http, base_url=FAKE_URL, poll_interval=0.02
    )

    with pytest.raises(ProviderError) as caught:
        await provider.still(STILL)

    assert caught.value.retryable is True
    assert fake.create_calls == []  # not blindly repeated: the pipeline's retry decides
    assert fake.list_calls == 1


async def test_a_create_refused_at_connect_is_retried(
    fake: FakeReplicate, flaky: FlakyTransport, flaky_http: httpx.AsyncClient
) -> None:
    flaky.before.append((is_create, httpx.ConnectError("connection refused")))
    sleep = RecordingSleep()
    provider = ReplicateProvider(
        token=DEFAULT_TOKEN, http=flaky_http, base_url=FAKE_URL, poll_interval=0.02, sleep=sleep
    )
    before = errors("network")

    await provider.still(STILL)

    assert len(fake.create_calls) == 1
    assert len(sleep.delays) == 1
    assert errors("network") == before + 1


async def test_an_earlier_failed_attempt_is_never_adopted_after_an_ambiguous_create(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    provider = make_provider()
    fake.fail_next("image", error="flaky GPU")
    with pytest.raises(ProviderError):
        await provider.still(STILL)
    fake.ambiguous_create_next(1)

    result = await provider.still(STILL)  # the same input, retried by the pipeline

    assert len(fake.create_calls) == 2
    assert fake.predictions[result.meta.external_id].status == "succeeded"


# -- resuming, outputs, webhooks --------------------------------------------------------------


async def test_existing_id_resumes_after_a_crash_without_creating(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    fake.latency = 0.3
    created = Recorder()
    crashed = asyncio.create_task(make_provider().still(STILL, on_created=created))
    while not created.ids:
        await asyncio.sleep(0.01)
    crashed.cancel()  # the worker dies while waiting
    with pytest.raises(asyncio.CancelledError):
        await crashed

    result = await make_provider().still(STILL, existing_id=created.ids[0])

    assert result.meta.external_id == created.ids[0]
    assert len(fake.create_calls) == 1
    assert fake.cancel_calls == []
    assert result.data.startswith(b"\x89PNG")


async def test_an_unknown_existing_id_raises_unknown_prediction(
    make_provider: MakeProvider,
) -> None:
    with pytest.raises(UnknownPrediction):
        await make_provider().still(STILL, existing_id="doesnotexist")


async def test_an_output_expiring_after_the_copy_does_not_matter(
    fake: FakeReplicate, make_provider: MakeProvider, http: httpx.AsyncClient
) -> None:
    result = await make_provider().still(STILL)
    fake.expire_outputs()

    url = fake.predictions[result.meta.external_id].output[0]
    assert (await http.get(url)).status_code == 404
    info = await probe_bytes(result.data, ".png")
    assert info.width == 320


async def test_a_webhook_url_is_sent_for_completed_events_only(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    result = await make_provider(webhook_url="https://reelforge.example/webhooks/replicate").still(
        STILL
    )

    prediction = fake.predictions[result.meta.external_id]
    assert prediction.webhook == "https://reelforge.example/webhooks/replicate"
    assert prediction.webhook_events_filter == ["completed"]


async def test_cancelling_an_unknown_or_finished_prediction_is_quiet(
    fake: FakeReplicate, make_provider: MakeProvider
) -> None:
    provider = make_provider()
    result = await provider.still(STILL)

    await provider.cancel(result.meta.external_id)
    await provider.cancel("doesnotexist")

    assert fake.predictions[result.meta.external_id].status == "succeeded"


# -- secrecy ------------------------------------------------------------------------------------


async def test_the_token_never_appears_in_logs_or_errors(
    fake: FakeReplicate, flaky: FlakyTransport, flaky_http: httpx.AsyncClient
) -> None:
    messages: list[str] = []
    with capture_logs() as logs:
        provider = ReplicateProvider(
            token=DEFAULT_TOKEN,
            http=flaky_http,
            base_url=FAKE_URL,
            poll_interval=0.02,
            sleep=RecordingSleep(),
            rng=random.Random(1),
        )
        flaky.before.append((is_create, httpx.ConnectError("refused")))
        fake.server_error_next(1, method="GET")
        fake.fail_next("image", error="boom")
        with pytest.raises(ProviderError) as failed:
            await provider.still(STILL)
        messages.append(str(failed.value))
        fake.ambiguous_create_next(1)
        await provider.still(STILL)

        wrong = ReplicateProvider(token="r8_wrong_token_abc", http=flaky_http, base_url=FAKE_URL)
        with pytest.raises(ProviderError) as refused:
            await wrong.still(STILL)
        messages.append(str(refused.value))

    assert "401" in messages[1]
    assert len(logs) > 5
    text = repr(logs) + repr(messages)
    assert DEFAULT_TOKEN not in text
    assert "r8_wrong_token_abc" not in text


# -- build_provider ---------------------------------------------------------------------------


def test_build_provider_defaults_to_preview_without_a_token() -> None:
    provider = build_provider(Settings(_env_file=None, replicate_api_token=None))
    assert isinstance(provider, PreviewProvider)
    assert provider.estimate_cost(PredictionKind.VIDEO, duration=5) == 0.0


async def test_build_provider_chooses_replicate_with_a_token_and_a_webhook_url(
    fake: FakeReplicate, http: httpx.AsyncClient
) -> None:
    settings = Settings(
        _env_file=None,
        REPLICATE_API_TOKEN=DEFAULT_TOKEN,
        replicate_base_url=FAKE_URL,
        replicate_poll_interval=0.02,
        public_base_url="https://ads.example/",
    )
    provider = build_provider(settings, http=http)

    assert isinstance(provider, ReplicateProvider)
    result = await provider.still(STILL)
    assert fake.predictions[result.meta.external_id].webhook == (
        "https://ads.example/webhooks/replicate"
    )


def test_build_provider_refuses_replicate_without_a_token() -> None:
    with pytest.raises(ConfigError):
        build_provider(Settings(_env_file=None, provider="replicate", replicate_api_token=None))


# -- parsing the LLM's storyboard ---------------------------------------------------------------

SCENES_JSON = json.dumps(
    {
        "scenes": [
            {
                "description": "Dawn on the trail",
                "image_prompt": "misty trail at dawn",
                "motion_prompt": "slow push-in",
                "duration": 4,
            },
            {
                "description": "Shoe grips wet rock",
                "image_prompt": "macro of a sole on wet rock",
                "motion_prompt": "pan right",
                "duration": "6 seconds",
            },
            {
                "description": "Runner crests the hill",
                "image_prompt": "runner on a ridge",
                "motion_prompt": "crane up",
                "duration": 40,
            },
        ]
    }
)


def parse(output: object, scenes: int = 3, total: float = 15) -> list[PlannedScene]:
    return parse_storyboard(output, scene_count=scenes, target_duration=total)


def test_fenced_json_with_prose_around_it_is_parsed() -> None:
    text = f"Sure! Here's your storyboard:\n```json\n{SCENES_JSON}\n```\nHope this helps."
    scenes = parse(text)
    assert [s.description for s in scenes] == [
        "Dawn on the trail",
        "Shoe grips wet rock",
        "Runner crests the hill",
    ]
    assert [s.duration for s in scenes] == [4, 6, 15]  # "6 seconds" read, 40 clamped


def test_tokens_split_mid_word_are_joined() -> None:
    text = "Here you go:\n```\n" + SCENES_JSON + "\n```"
    tokens = [text[i : i + 3] for i in range(0, len(text), 3)]
    assert len(parse(tokens)) == 3


def test_bare_json_after_prose_without_a_fence_is_found() -> None:
    scenes = parse("The storyboard is " + SCENES_JSON + " - enjoy")
    assert scenes[0].image_prompt == "misty trail at dawn"


def test_a_bare_list_with_loose_field_names_is_coerced() -> None:
    raw = (
        '[{"Scene": "A kitchen", "Visual": "bright kitchen", "Camera": "dolly",},'
        ' {"description": "Close on the mug"}, {"duration": 3}, "Logo reveal"]'
    )
    scenes = parse(raw, scenes=5, total=10)
    assert [s.description for s in scenes] == ["A kitchen", "Close on the mug", "Logo reveal"]
    assert scenes[0].image_prompt == "bright kitchen"
    assert scenes[0].motion_prompt == "dolly"
    assert scenes[1].image_prompt == "Close on the mug"  # falls back to the description
    assert scenes[1].duration == 2  # no duration: the target spread over the scenes


def test_extra_scenes_are_trimmed_to_the_scene_count() -> None:
    assert len(parse(SCENES_JSON, scenes=2)) == 2


@pytest.mark.parametrize(
    "output",
    [
        "I'm sorry, I can't help with that.",
        '{"scenes": []}',
        '{"scenes": [{"duration": 5}]}',
        '```json\n{"scenes": [{"description": "cut off',
        {"unexpected": "object"},
    ],
)
def test_an_unusable_answer_is_a_clear_non_retryable_error(output: object) -> None:
    with pytest.raises(ProviderError) as caught:
        parse(output)
    assert caught.value.retryable is False
    assert "storyboard" in str(caught.value)


async def test_an_unparseable_plan_fails_cleanly_with_its_prediction_id(
    fake: FakeReplicate, make_provider: MakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "tests.fakes.replicate._llm_answer", lambda _input: (["no", " json", " here"], 3)
    )
    with pytest.raises(ProviderError) as caught:
        await make_provider().plan(PLAN)
    assert caught.value.retryable is False
    assert caught.value.external_id in fake.predictions
