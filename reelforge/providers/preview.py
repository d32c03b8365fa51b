"""The `preview` provider: local, free and deterministic. The storyboard is cut from the brief
itself, stills are FFmpeg-drawn title cards, clips are Ken-Burns moves over the still. It is
the default without a Replicate token and the way tests and benchmarks run the pipeline."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import tempfile
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import structlog

from reelforge.media.clips import ken_burns_clip
from reelforge.media.ffmpeg import FFmpegError, FFmpegTimeoutError
from reelforge.media.formats import ClipFormat
from reelforge.media.music import synthesize_music_bed
from reelforge.media.stills import draw_still
from reelforge.providers import espeak
from reelforge.providers.base import (
    AnyRequest,
    ClipRequest,
    MediaResult,
    MusicRequest,
    OnCreated,
    PlannedScene,
    PlanRequest,
    PlanResult,
    PredictionKind,
    PredictionMeta,
    ProviderError,
    SpeechRequest,
    SpeechResult,
    StillRequest,
    Voice,
    input_hash,
)

log = structlog.get_logger(__name__)

MODELS = {
    PredictionKind.PLAN: "preview/brief-splitter",
    PredictionKind.IMAGE: "preview/title-card",
    PredictionKind.VIDEO: "preview/ken-burns",
    PredictionKind.SPEECH: "preview/espeak-ng",
    PredictionKind.MUSIC: "preview/synth-bed",
}
SPEECH_MODEL = MODELS[PredictionKind.SPEECH]
MUSIC_MODEL = MODELS[PredictionKind.MUSIC]
# Used when the brief has fewer clauses than the storyboard has scenes.
_SHOTS = ("Opening", "Close-up", "In use", "Detail", "Lifestyle")
_CLOSING_SHOT = "Call to action"
_MOTIONS = ("slow push-in", "gentle pan left", "slow pull-out", "gentle pan right")
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


class PreviewProvider:
    """Generation without a paid model. `existing_id` simply runs the work again: it is free
    and gives the same result, so resuming never fails."""

    name = "preview"

    def __init__(self, *, work_dir: Path | None = None, ffmpeg_timeout: float = 300.0) -> None:
        self._work_dir = work_dir
        self._ffmpeg_timeout = ffmpeg_timeout

    def model_for(self, kind: PredictionKind, aspect_ratio: str | None = None) -> str:
        return MODELS[kind]

    def estimate_cost(
        self, kind: PredictionKind, *, duration: float = 0.0, aspect_ratio: str | None = None
    ) -> float:
        return 0.0

    async def plan(
        self,
        request: PlanRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> PlanResult:
        started = time.perf_counter()
        external_id = await self._start(PredictionKind.PLAN, request, existing_id, on_created)
        scenes = preview_storyboard(request)
        return PlanResult(scenes=scenes, meta=self._meta(PredictionKind.PLAN, external_id, started))

    async def still(
        self,
        request: StillRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        started = time.perf_counter()
        external_id = await self._start(PredictionKind.IMAGE, request, existing_id, on_created)
        with tempfile.TemporaryDirectory(prefix="reelforge-preview-", dir=self._work_dir) as tmp:
            out = Path(tmp) / "still.png"
            try:
                await draw_still(
                    out,
                    width=request.width,
                    height=request.height,
                    text=request.title or request.prompt,
                    seed=request.seed,
                    timeout=self._ffmpeg_timeout,
                )
            except (FFmpegError, ValueError) as exc:
                raise _failure(PredictionKind.IMAGE, external_id, exc) from exc
            data = out.read_bytes()
        return MediaResult(
            data=data,
            content_type="image/png",
            meta=self._meta(PredictionKind.IMAGE, external_id, started),
        )

    async def clip(
        self,
        request: ClipRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        started = time.perf_counter()
        external_id = await self._start(PredictionKind.VIDEO, request, existing_id, on_created)
        with tempfile.TemporaryDirectory(prefix="reelforge-preview-", dir=self._work_dir) as tmp:
            still = Path(tmp) / ("still" + _EXTENSIONS.get(request.image_content_type, ".png"))
            still.write_bytes(request.image)
            out = Path(tmp) / "clip.mp4"
            fmt = ClipFormat(width=_even(request.width), height=_even(request.height))
            try:
                await ken_burns_clip(
                    still,
                    out,
                    fmt=fmt,
                    duration=request.duration,
                    seed=request.seed,
                    timeout=self._ffmpeg_timeout,
                )
            except (FFmpegError, ValueError) as exc:
                raise _failure(PredictionKind.VIDEO, external_id, exc) from exc
            data = out.read_bytes()
        return MediaResult(
            data=data,
            content_type="video/mp4",
            meta=self._meta(PredictionKind.VIDEO, external_id, started),
        )

    def voices(self) -> list[Voice]:
        return espeak.voices()

    def default_voice(self, language: str) -> str | None:
        return espeak.voice_for_language(language)

    def estimate_speech(self, text: str) -> float:
        return 0.0

    def estimate_music(self, duration: float) -> float:
        return 0.0

    async def speak(
        self,
        request: SpeechRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> SpeechResult:
        """eSpeak NG, offline; its word events give the timings (see `providers.espeak`)."""
        started = time.perf_counter()
        external_id = await self._started(SPEECH_MODEL, request, existing_id, on_created)
        try:
            speech = await asyncio.to_thread(
                espeak.synthesize, request.text, request.voice, speed=request.speed
            )
        except espeak.EspeakError as exc:
            raise ProviderError(
                f"preview speech failed: {exc}", retryable=False, external_id=external_id
            ) from exc
        return SpeechResult(
            data=speech.wav,
            content_type="audio/wav",
            words=speech.words,
            meta=self._done(SPEECH_MODEL, external_id, started),
        )

    async def compose(
        self,
        request: MusicRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        """A music bed synthesised by FFmpeg (see `media.music`)."""
        started = time.perf_counter()
        external_id = await self._started(MUSIC_MODEL, request, existing_id, on_created)
        with tempfile.TemporaryDirectory(prefix="reelforge-preview-", dir=self._work_dir) as tmp:
            out = Path(tmp) / "music.m4a"
            try:
                await synthesize_music_bed(
                    out,
                    mood=request.mood,
                    duration=request.duration,
                    seed=request.seed,
                    timeout=self._ffmpeg_timeout,
                )
            except (FFmpegError, ValueError) as exc:
                raise ProviderError(
                    f"preview music failed: {exc}",
                    retryable=isinstance(exc, FFmpegTimeoutError),
                    external_id=external_id,
                ) from exc
            data = out.read_bytes()
        return MediaResult(
            data=data, content_type="audio/mp4", meta=self._done(MUSIC_MODEL, external_id, started)
        )

    async def _started(
        self,
        model: str,
        request: SpeechRequest | MusicRequest,
        existing_id: str | None,
        on_created: OnCreated | None,
    ) -> str:
        if existing_id:
            return existing_id
        payload = json.dumps({"model": model, "input": asdict(request)}, sort_keys=True)
        external_id = "preview-" + hashlib.sha256(payload.encode()).hexdigest()[:20]
        if on_created is not None:
            await on_created(external_id)
        return external_id

    def _done(self, model: str, external_id: str, started: float) -> PredictionMeta:
        elapsed = round(time.perf_counter() - started, 3)
        return PredictionMeta(external_id=external_id, model=model, predict_time=elapsed)

    async def cancel(self, external_id: str) -> None:
        """Nothing runs remotely: there is nothing to stop."""

    async def find(self, request: AnyRequest, *, since: datetime) -> list[str]:
        """Nothing is created remotely: a lost create left nothing to adopt (and cost nothing)."""
        return []

    async def final(self, external_id: str) -> PredictionMeta | None:
        """Local work ends with the call that made it, and is free."""
        return PredictionMeta(external_id=external_id, model="preview", cost=0.0)

    async def aclose(self) -> None:
        """No resources are held between calls."""

    async def _start(
        self,
        kind: PredictionKind,
        request: PlanRequest | StillRequest | ClipRequest,
        existing_id: str | None,
        on_created: OnCreated | None,
    ) -> str:
        if existing_id:
            log.info("preview.prediction.resumed", kind=kind.value, prediction=existing_id)
            return existing_id
        external_id = "preview-" + input_hash(kind, MODELS[kind], request)[:20]
        if on_created is not None:
            await on_created(external_id)
        return external_id

    def _meta(self, kind: PredictionKind, external_id: str, started: float) -> PredictionMeta:
        elapsed = round(time.perf_counter() - started, 3)
        log.debug(
            "preview.prediction.done", kind=kind.value, prediction=external_id, seconds=elapsed
        )
        return PredictionMeta(
            external_id=external_id, model=MODELS[kind], predict_time=elapsed, cost=0.0
        )


def preview_storyboard(request: PlanRequest) -> list[PlannedScene]:
    """`scene_count` scenes cut from the brief's sentences and clauses, in order; durations
    spread evenly over `target_duration` (to 0.1 s, at least 1 s each). Each scene's
    narration is its own words of the brief."""
    count = max(1, request.scene_count)
    pieces = _pieces(request.brief, count)
    if len(pieces) >= count:
        # Contiguous groups of pieces, as even as possible.
        bounds = [round(i * len(pieces) / count) for i in range(count + 1)]
        lines = [" ".join(pieces[bounds[i] : bounds[i + 1]]) for i in range(count)]
        descriptions = lines
    else:
        lines = [pieces[i % len(pieces)] for i in range(count)]
        descriptions = [f"{_shot(i, count)}: {lines[i]}" for i in range(count)]
    durations = _spread(request.target_duration, count)
    style = f", {request.style.strip()} style" if request.style and request.style.strip() else ""
    return [
        PlannedScene(
            description=description,
            image_prompt=f"{description}{style}, {request.aspect_ratio} frame",
            motion_prompt=_MOTIONS[i % len(_MOTIONS)],
            duration=durations[i],
            narration=lines[i],
            headline=_headline(lines[i]) if request.headlines else "",
        )
        for i, description in enumerate(descriptions)
    ]


def _headline(line: str, words: int = 5) -> str:
    """The preview's headline: the first words of the scene's line."""
    head = line.split()[:words]
    return " ".join(head).rstrip(" ,;:.!?")


def _pieces(brief: str, count: int) -> list[str]:
    """Sentences when there are enough of them, else the finer clauses."""
    text = " ".join(brief.split())
    if not text:
        return ["Your product"]
    sentences = [s.strip() for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]
    clauses = [
        c.strip(" ,;:-")
        for sentence in sentences
        for c in re.split(r",\s+|\s+[-–—]\s+|:\s+", sentence)
        if c.strip(" ,;:-")
    ]
    if len(sentences) >= count or len(clauses) <= len(sentences):
        return sentences or [text]
    return clauses


def _shot(index: int, count: int) -> str:
    if count > 1 and index == count - 1:
        return _CLOSING_SHOT
    return _SHOTS[index % len(_SHOTS)]


def _spread(total: float, count: int) -> list[float]:
    tenths = max(round(total * 10), 10 * count)  # at least 1 s per scene
    share, extra = divmod(tenths, count)
    return [(share + (1 if i < extra else 0)) / 10 for i in range(count)]


def _even(value: int) -> int:
    return max(2, value - value % 2)


def _failure(kind: PredictionKind, external_id: str, exc: Exception) -> ProviderError:
    return ProviderError(
        f"preview {kind.value} failed: {exc}",
        retryable=isinstance(exc, FFmpegTimeoutError),
        external_id=external_id,
    )
