"""The one interface every generation backend implements: plan a storyboard, make a still,
animate a still into a clip, speak a line (with word timings) and compose a music bed.
Providers know nothing of the database: the pipeline records each prediction before and
after, and hands back `existing_id` to resume one instead of paying for it again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class PredictionKind(StrEnum):
    PLAN = "plan"
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True)
class PlanRequest:
    brief: str
    scene_count: int
    target_duration: float  # seconds, the whole ad
    style: str | None
    aspect_ratio: str


@dataclass(frozen=True)
class StillRequest:
    prompt: str
    width: int
    height: int
    aspect_ratio: str
    seed: int
    title: str = ""  # short text a preview card may draw


@dataclass(frozen=True)
class ClipRequest:
    image: bytes  # the still, sent from our storage (never a provider URL that may expire)
    image_content_type: str
    prompt: str
    duration: float
    width: int
    height: int
    aspect_ratio: str
    seed: int


@dataclass(frozen=True)
class SpeechRequest:
    """One line of narration to speak. `voice` is an id from the provider's `voices()`."""

    text: str
    voice: str
    language: str  # BCP 47-ish tag, e.g. "en", "fr", "pt-BR"
    speed: float = 1.0  # 1.0 = the voice's normal rate


@dataclass(frozen=True)
class MusicRequest:
    """A music bed of about `duration` seconds in a mood (see `MUSIC_MOODS`)."""

    mood: str
    duration: float
    seed: int


@dataclass(frozen=True)
class WordTiming:
    """Where one word of the text is heard, in seconds from the start of the audio."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    language: str
    gender: str | None = None


# Moods a generated music bed may have; every provider maps each of them to something.
MUSIC_MOODS = ("upbeat", "calm", "corporate", "dramatic", "playful")

# Words per second a voice speaks at speed 1.0: planners size narration with it and the
# render checks each scene is long enough for its line. (Neural TTS voices speak at about
# 150 words a minute; eSpeak NG is set to the same rate.)
SPEAKING_RATE_WPS = 2.5


@dataclass(frozen=True)
class PlannedScene:
    description: str
    image_prompt: str
    motion_prompt: str
    duration: float


@dataclass
class PredictionMeta:
    """What the provider reports of one finished prediction."""

    external_id: str
    model: str
    predict_time: float | None = None
    cost: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlanResult:
    scenes: list[PlannedScene]
    meta: PredictionMeta


@dataclass
class MediaResult:
    data: bytes  # already copied from the provider: its URLs expire
    content_type: str
    meta: PredictionMeta


@dataclass
class SpeechResult:
    data: bytes  # the spoken line (audio/wav or audio/mpeg), already copied
    content_type: str
    words: list[WordTiming]  # one per word of the text, in order
    meta: PredictionMeta


OnCreated = Callable[[str], Awaitable[None]]


class ProviderError(Exception):
    """A prediction failed. `retryable` says whether trying again may help; `cost` is what the
    failed prediction was billed, when the provider bills failures (0 when unknown or free)."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        external_id: str | None = None,
        cost: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.external_id = external_id
        self.cost = cost


class PredictionTimeout(ProviderError):
    """The prediction missed its deadline. `billed`: it had started running (and was canceled,
    which costs money); unbilled when it was still queued (Replicate's `aborted`). Retrying a
    billed one pays again, so it is retryable only when `billed` is False; the caller decides
    whether a paid retry still fits the job's budget."""

    def __init__(
        self,
        message: str,
        *,
        external_id: str | None = None,
        billed: bool = True,
        cost: float = 0.0,
    ) -> None:
        super().__init__(message, retryable=not billed, external_id=external_id, cost=cost)
        self.billed = billed


class OutputRemoved(ProviderError):
    """The prediction succeeded (and was paid) but its output is gone before we copied it:
    Replicate removes API predictions' inputs, outputs and logs after an hour
    (`data_removed: true`). Trying again means paying again: the caller decides, visibly."""

    def __init__(self, message: str, *, external_id: str | None = None) -> None:
        super().__init__(message, retryable=False, external_id=external_id)


class UnknownPrediction(ProviderError):
    """`existing_id` is not known to the provider (lost on restart, or expired)."""

    def __init__(self, external_id: str) -> None:
        super().__init__(
            f"unknown prediction {external_id}", retryable=True, external_id=external_id
        )


class SpeechProvider(Protocol):
    """Text to speech with word timings (from the engine, or derived when it gives none)."""

    def voices(self) -> list[Voice]:
        """The voices this provider can speak with."""
        ...

    def default_voice(self, language: str) -> str | None:
        """The voice used for `language` when the client chose none; None if it has none."""
        ...

    async def speak(
        self,
        request: SpeechRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> SpeechResult: ...


class MusicProvider(Protocol):
    async def compose(
        self,
        request: MusicRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        """A music bed (audio) for the request's mood, about its duration long."""
        ...


class Provider(Protocol):
    name: str

    def model_for(self, kind: PredictionKind, aspect_ratio: str | None = None) -> str:
        """The model identifier used for `kind` (for a scene of `aspect_ratio`, when the
        provider picks its model by ratio); part of the input hash."""
        ...

    def estimate_cost(
        self, kind: PredictionKind, *, duration: float = 0.0, aspect_ratio: str | None = None
    ) -> float:
        """Dollars one prediction of `kind` is expected to cost (video: for `duration` s, in
        `aspect_ratio`)."""
        ...

    async def plan(
        self,
        request: PlanRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> PlanResult: ...

    async def still(
        self,
        request: StillRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult: ...

    async def clip(
        self,
        request: ClipRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult: ...

    async def cancel(self, external_id: str) -> None:
        """Stop a running prediction so it stops costing money. Never raises for a finished one."""
        ...

    async def aclose(self) -> None: ...


AnyRequest = PlanRequest | StillRequest | ClipRequest | SpeechRequest | MusicRequest


def input_hash(kind: PredictionKind, model: str, request: AnyRequest) -> str:
    """Stable identity of a prediction's inputs: equal hash means the same paid work."""
    fields = asdict(request)
    if isinstance(request, ClipRequest):
        fields["image"] = hashlib.sha256(request.image).hexdigest()
    payload = json.dumps({"kind": kind.value, "model": model, "input": fields}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()
