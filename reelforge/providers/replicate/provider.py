"""ReplicateProvider: the Provider interface on Replicate. An LLM plans (instructions placed as
the catalog says for that model), an image model draws, a video model animates (chosen by the
scene's aspect ratio). The HTTP details live in `http`, a prediction's life in `lifecycle`,
outputs in `outputs`."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from reelforge.media.music import MOODS
from reelforge.providers.base import (
    ANY_LANGUAGE,
    AnyRequest,
    ClipRequest,
    MediaResult,
    MusicRequest,
    OnCreated,
    OutputRemoved,
    PlanRequest,
    PlanResult,
    PredictionKind,
    PredictionMeta,
    ProviderError,
    SpeechRequest,
    SpeechResult,
    StillRequest,
    Voice,
    estimate_word_timings,
    language_name,
)
from reelforge.providers.catalog import DEFAULT_CATALOG, Catalog, ModelSpec
from reelforge.providers.planning import parse_storyboard, plan_values
from reelforge.providers.replicate.http import ReplicateClient
from reelforge.providers.replicate.lifecycle import Lifecycle, Timing
from reelforge.providers.replicate.outputs import (
    INLINE_IMAGE_LIMIT,
    MAX_OUTPUT_BYTES,
    audio_seconds,
    check_not_removed,
    copy_media,
    image_input,
    inline_image,
)
from reelforge.providers.replicate.throttle import Sleep, Throttle
from reelforge.providers.webhooks import PredictionWakeups

DEFAULT_PREFER_WAIT = 60  # seconds, for plans and stills


class ReplicateProvider:
    """Generation on Replicate."""

    name = "replicate"

    def __init__(
        self,
        *,
        token: str,
        catalog: Catalog | None = None,
        base_url: str = "https://api.replicate.com",
        http: httpx.AsyncClient | None = None,
        poll_interval: float = 2.0,
        poll_max_interval: float | None = None,
        webhook_poll_interval: float = 30.0,
        image_timeout: float = 120.0,
        video_timeout: float = 600.0,
        plan_timeout: float = 120.0,
        prefer_wait: Mapping[PredictionKind, int] | int | None = None,
        webhook_url: str | None = None,
        wakeups: PredictionWakeups | None = None,
        throttle: Throttle | None = None,
        throttle_budget: float = 120.0,
        sleep: Sleep | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        lookup_skew: float = 120.0,
        inline_image_limit: int = INLINE_IMAGE_LIMIT,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
        rng: random.Random | None = None,
    ) -> None:
        self.catalog = catalog or DEFAULT_CATALOG
        self.client = ReplicateClient(
            token=token,
            base_url=base_url,
            http=http,
            throttle=throttle,
            throttle_budget=throttle_budget,
            sleep=sleep,
            max_attempts=max_attempts,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            lookup_skew=lookup_skew,
            rng=rng,
        )
        if prefer_wait is None:
            prefer_wait = DEFAULT_PREFER_WAIT
        if isinstance(prefer_wait, int):
            prefer_wait = {PredictionKind.PLAN: prefer_wait, PredictionKind.IMAGE: prefer_wait}
        self.lifecycle = Lifecycle(
            self.client,
            timing=Timing(
                timeouts={
                    PredictionKind.PLAN: plan_timeout,
                    PredictionKind.IMAGE: image_timeout,
                    PredictionKind.VIDEO: video_timeout,
                    PredictionKind.SPEECH: image_timeout,  # seconds of audio: quick
                    PredictionKind.MUSIC: video_timeout,  # a minute of GPU or more
                },
                poll_interval=poll_interval,
                poll_max_interval=poll_max_interval or poll_interval * 5,
                webhook_poll_interval=webhook_poll_interval,
                prefer_wait=dict(prefer_wait),
            ),
            webhook_url=webhook_url,
            wakeups=wakeups,
        )
        self._inline_image_limit = inline_image_limit
        self._max_output_bytes = max_output_bytes

    # -- Provider protocol -------------------------------------------------------------------

    def model_for(self, kind: PredictionKind, aspect_ratio: str | None = None) -> str:
        return self.catalog.spec(kind, aspect_ratio).ref

    def estimate_cost(
        self, kind: PredictionKind, *, duration: float = 0.0, aspect_ratio: str | None = None
    ) -> float:
        return self.catalog.estimate(kind, duration, aspect_ratio=aspect_ratio)

    async def plan(
        self,
        request: PlanRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> PlanResult:
        values = plan_values(request)

        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            return spec.render_input(values)

        spec = self.catalog.spec(PredictionKind.PLAN)
        prediction, meta = await self.lifecycle.run(
            PredictionKind.PLAN, spec, make_input, existing_id=existing_id, on_created=on_created
        )
        try:
            check_not_removed(prediction)
            scenes = parse_storyboard(
                prediction.get("output"),
                scene_count=request.scene_count,
                target_duration=request.target_duration,
            )
        except ProviderError as exc:
            exc.external_id = meta.external_id
            if isinstance(exc, OutputRemoved):
                exc.cost = meta.cost
            raise
        return PlanResult(scenes=scenes, meta=meta)

    async def still(
        self,
        request: StillRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        values = still_values(request)

        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            return spec.render_input(values)

        spec = self.catalog.spec(PredictionKind.IMAGE, request.aspect_ratio)
        prediction, meta = await self.lifecycle.run(
            PredictionKind.IMAGE, spec, make_input, existing_id=existing_id, on_created=on_created
        )
        return await copy_media(
            self.client, PredictionKind.IMAGE, prediction, meta, max_bytes=self._max_output_bytes
        )

    async def clip(
        self,
        request: ClipRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            image = await image_input(
                self.client,
                request.image,
                request.image_content_type,
                inline_limit=self._inline_image_limit,
                url=request.image_url,
            )
            return spec.render_input(clip_values(spec, request, image))

        spec = self.catalog.spec(PredictionKind.VIDEO, request.aspect_ratio)
        prediction, meta = await self.lifecycle.run(
            PredictionKind.VIDEO,
            spec,
            make_input,
            existing_id=existing_id,
            on_created=on_created,
            duration=request.duration,
        )
        return await copy_media(
            self.client, PredictionKind.VIDEO, prediction, meta, max_bytes=self._max_output_bytes
        )

    # -- speech and music ---------------------------------------------------------------------

    def voices(self) -> list[Voice]:
        """The speech model's voices; each speaks every language (the model is told which)."""
        spec = self.catalog.spec(PredictionKind.SPEECH)
        return [Voice(id=v, name=v.replace("_", " "), language=ANY_LANGUAGE) for v in spec.voices]

    def default_voice(self, language: str) -> str | None:
        voices = self.catalog.spec(PredictionKind.SPEECH).voices
        return voices[0] if voices else None

    def estimate_speech(self, text: str) -> float:
        spec = self.catalog.spec(PredictionKind.SPEECH)
        return spec.cost(predict_time=spec.expected_predict_time, input_tokens=len(text))

    def estimate_music(self, duration: float) -> float:
        return self.catalog.estimate(PredictionKind.MUSIC)

    async def speak(
        self,
        request: SpeechRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> SpeechResult:
        """The line from the catalog's TTS model. It reports no word timings, so they are
        estimated from the length of the audio it returned (`estimate_word_timings`)."""
        values = speech_values(request)

        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            return spec.render_input(values)

        spec = self.catalog.spec(PredictionKind.SPEECH)
        prediction, meta = await self.lifecycle.run(
            PredictionKind.SPEECH, spec, make_input, existing_id=existing_id, on_created=on_created
        )
        if not meta.cost:  # billed by characters, whether or not the metrics say so
            meta.cost = spec.cost(input_tokens=len(request.text))
        media = await copy_media(
            self.client, PredictionKind.SPEECH, prediction, meta, max_bytes=self._max_output_bytes
        )
        seconds = await audio_seconds(media.data, media.content_type)
        return SpeechResult(
            data=media.data,
            content_type=media.content_type,
            words=estimate_word_timings(request.text, seconds),
            meta=meta,
        )

    async def compose(
        self,
        request: MusicRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        """A bed from the catalog's music model, asked for its longest take at most (the mix
        loops a shorter bed under a longer ad)."""
        spec = self.catalog.spec(PredictionKind.MUSIC)
        values = music_values(spec, request)

        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            return spec.render_input(values)

        prediction, meta = await self.lifecycle.run(
            PredictionKind.MUSIC, spec, make_input, existing_id=existing_id, on_created=on_created
        )
        return await copy_media(
            self.client, PredictionKind.MUSIC, prediction, meta, max_bytes=self._max_output_bytes
        )

    async def find(self, request: AnyRequest, *, since: datetime) -> list[str]:
        """Predictions made at Replicate for `request` since `since`, newest first: where a
        create whose answer never reached us went. Matched on model and input (Replicate
        keeps no marker of ours); a still sent to a video model may have been inlined or
        uploaded, so any file value there matches. Raises ProviderError when Replicate's
        list cannot be read, so "unknown" is never taken for "not there"."""
        spec, model_input = self._lookup_input(request)
        found = await self.client.matching(spec, model_input, since=since)
        return [str(p["id"]) for p in found]

    async def final(self, external_id: str) -> PredictionMeta | None:
        """The cost of an ended prediction as Replicate reports it; None while it runs."""
        prediction = await self.client.get(external_id)
        kinds = {spec.model: spec for spec in self.catalog.specs()}
        spec = kinds.get(str(prediction.get("model", "")))
        if spec is None:
            return None
        duration = _number((prediction.get("input") or {}).get("duration")) or 0.0
        return self.lifecycle.final_meta(spec.kind, spec, prediction, duration)

    def _lookup_input(self, request: AnyRequest) -> tuple[ModelSpec, dict[str, Any]]:
        if isinstance(request, PlanRequest):
            spec = self.catalog.spec(PredictionKind.PLAN)
            return spec, spec.render_input(plan_values(request))
        if isinstance(request, StillRequest):
            spec = self.catalog.spec(PredictionKind.IMAGE, request.aspect_ratio)
            return spec, spec.render_input(still_values(request))
        if isinstance(request, ClipRequest):
            # The still as it was sent: inline (compared exactly where Replicate lists it as
            # sent), our presigned URL, or, for a file uploaded through the files API, any.
            image = ANY_FILE
            if len(request.image) <= self._inline_image_limit:
                image = inline_image(request.image, request.image_content_type)
            elif request.image_url:
                image = request.image_url
            spec = self.catalog.spec(PredictionKind.VIDEO, request.aspect_ratio)
            return spec, spec.render_input(clip_values(spec, request, image))
        if isinstance(request, SpeechRequest):
            spec = self.catalog.spec(PredictionKind.SPEECH)
            return spec, spec.render_input(speech_values(request))
        spec = self.catalog.spec(PredictionKind.MUSIC)
        return spec, spec.render_input(music_values(spec, request))

    async def cancel(self, external_id: str) -> None:
        self.lifecycle.note_cancel(external_id)
        await self.client.cancel(external_id)

    async def aclose(self) -> None:
        await self.client.aclose()


# A file input in a lookup: matches whatever Replicate lists for it (see `same_input`).
ANY_FILE = "data:"


def still_values(request: StillRequest) -> dict[str, Any]:
    return {
        "prompt": request.prompt,
        "width": request.width,
        "height": request.height,
        "aspect_ratio": request.aspect_ratio,
        "seed": request.seed,
        "title": request.title,
    }


def clip_values(spec: ModelSpec, request: ClipRequest, image: str) -> dict[str, Any]:
    return {
        "image": image,
        "prompt": request.prompt,
        "duration": spec.output_duration(request.duration),
        "width": request.width,
        "height": request.height,
        "aspect_ratio": request.aspect_ratio,
        "seed": request.seed,
    }


def speech_values(request: SpeechRequest) -> dict[str, Any]:
    return {
        "text": request.text,
        "voice": request.voice,
        "language": request.language,
        "language_name": language_name(request.language),
        "speed": request.speed,
    }


def music_values(spec: ModelSpec, request: MusicRequest) -> dict[str, Any]:
    seconds = request.duration
    if spec.max_duration:
        seconds = min(seconds, spec.max_duration)
    return {
        "prompt": MOODS[request.mood].prompt,
        "mood": request.mood,
        "duration": math.ceil(seconds),
        "seed": request.seed,
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
