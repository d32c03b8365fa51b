"""The preview provider: free, deterministic, real media of the requested size and length."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from reelforge.media.ffmpeg import MediaInfo, probe, probe_audio
from reelforge.providers.base import (
    ClipRequest,
    MusicRequest,
    PlanRequest,
    PredictionKind,
    ProviderError,
    SpeechRequest,
    StillRequest,
)
from reelforge.providers.preview import PreviewProvider, preview_storyboard


async def probe_bytes(data: bytes, suffix: str) -> MediaInfo:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"media{suffix}"
        path.write_bytes(data)
        return await probe(path)


def plan(brief: str, scenes: int = 3, total: float = 15, style: str | None = None) -> PlanRequest:
    return PlanRequest(
        brief=brief, scene_count=scenes, target_duration=total, style=style, aspect_ratio="9:16"
    )


async def test_a_still_has_the_requested_size() -> None:
    result = await PreviewProvider().still(
        StillRequest(
            prompt="a red bike",
            width=240,
            height=426,
            aspect_ratio="9:16",
            seed=4,
            title="Ride further",
        )
    )

    info = await probe_bytes(result.data, ".png")
    assert (info.width, info.height) == (240, 426)
    assert result.content_type == "image/png"
    assert result.meta.cost == 0.0


async def test_a_clip_has_the_requested_duration_and_size() -> None:
    provider = PreviewProvider()
    still = await provider.still(
        StillRequest(prompt="a red bike", width=320, height=180, aspect_ratio="16:9", seed=4)
    )

    result = await provider.clip(
        ClipRequest(
            image=still.data,
            image_content_type="image/png",
            prompt="push in",
            duration=2.5,
            width=320,
            height=180,
            aspect_ratio="16:9",
            seed=4,
        )
    )

    info = await probe_bytes(result.data, ".mp4")
    assert info.duration_seconds == pytest.approx(2.5, abs=0.1)
    assert (info.width, info.height) == (320, 180)
    assert result.content_type == "video/mp4"
    assert result.meta.cost == 0.0


async def test_identical_requests_give_identical_stills() -> None:
    request = StillRequest(prompt="x", width=160, height=90, aspect_ratio="16:9", seed=9)
    first = await PreviewProvider().still(request)
    second = await PreviewProvider().still(request)
    assert first.data == second.data
    assert first.meta.external_id == second.meta.external_id


async def test_plan_cuts_the_brief_into_the_requested_scenes() -> None:
    result = await PreviewProvider().plan(
        plan(
            "Meet the new Aero bottle. It keeps drinks cold for a day. Buy it today.",
            style="bright pastel",
        )
    )

    assert [s.description for s in result.scenes] == [
        "Meet the new Aero bottle.",
        "It keeps drinks cold for a day.",
        "Buy it today.",
    ]
    assert all("bright pastel style" in s.image_prompt for s in result.scenes)
    assert sum(s.duration for s in result.scenes) == pytest.approx(15)


def test_a_short_brief_is_varied_by_shot() -> None:
    scenes = preview_storyboard(plan("Fresh coffee beans", scenes=3, total=10))

    assert [s.description for s in scenes] == [
        "Opening: Fresh coffee beans",
        "Close-up: Fresh coffee beans",
        "Call to action: Fresh coffee beans",
    ]
    assert [s.duration for s in scenes] == [3.4, 3.3, 3.3]


def test_clauses_are_used_when_sentences_are_too_few() -> None:
    scenes = preview_storyboard(plan("Cold brew, smooth taste, no bitterness", scenes=3))
    assert [s.description for s in scenes] == ["Cold brew", "smooth taste", "no bitterness"]


def test_extra_sentences_are_grouped_in_order() -> None:
    scenes = preview_storyboard(plan("One. Two. Three. Four. Five.", scenes=2))
    assert [s.description for s in scenes] == ["One. Two.", "Three. Four. Five."]


def test_every_scene_lasts_at_least_one_second() -> None:
    scenes = preview_storyboard(plan("Tiny.", scenes=4, total=2))
    assert [s.duration for s in scenes] == [1.0, 1.0, 1.0, 1.0]


async def test_plan_reports_its_id_and_resumes_without_raising() -> None:
    provider = PreviewProvider()
    created: list[str] = []

    async def on_created(external_id: str) -> None:
        created.append(external_id)

    request = plan("Sunglasses for the beach. Polarised.")
    first = await provider.plan(request, on_created=on_created)
    resumed = await provider.plan(request, existing_id="preview-lost-on-restart")

    assert created == [first.meta.external_id]
    assert first.meta.external_id.startswith("preview-")
    assert resumed.meta.external_id == "preview-lost-on-restart"
    assert resumed.scenes == first.scenes


async def test_preview_is_free_and_names_its_models() -> None:
    provider = PreviewProvider()
    assert provider.estimate_cost(PredictionKind.VIDEO, duration=10) == 0.0
    assert provider.model_for(PredictionKind.IMAGE) == "preview/title-card"
    await provider.cancel("preview-anything")  # a no-op


async def test_preview_speaks_in_the_requested_language_with_word_timings() -> None:
    provider = PreviewProvider()
    created: list[str] = []

    async def on_created(external_id: str) -> None:
        created.append(external_id)

    voice = provider.default_voice("fr-FR")
    assert voice == "espeak:fr"
    result = await provider.speak(
        SpeechRequest(text="Un café, doux et corsé.", voice=voice, language="fr"),
        on_created=on_created,
    )
    assert result.content_type == "audio/wav"
    assert [w.text for w in result.words] == ["Un", "café,", "doux", "et", "corsé."]
    assert created == [result.meta.external_id]
    assert result.meta.cost == 0.0
    languages = {v.language for v in provider.voices()}
    assert {"en", "fr", "de", "es"} <= languages
    with pytest.raises(ProviderError, match="unknown voice"):
        await provider.speak(SpeechRequest(text="hi", voice="espeak:xx", language="xx"))


async def test_preview_composes_a_music_bed_of_the_requested_length() -> None:
    result = await PreviewProvider().compose(MusicRequest(mood="calm", duration=3.0, seed=2))
    assert result.content_type == "audio/mp4"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bed.m4a"
        path.write_bytes(result.data)
        info = await probe_audio(path)
    assert abs(info.duration_seconds - 3.0) < 0.05
