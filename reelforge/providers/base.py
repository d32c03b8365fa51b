"""The one interface every generation backend implements: plan a storyboard, make a still,
animate a still into a clip, speak a line (with word timings) and compose a music bed.
Providers know nothing of the database: the pipeline records each prediction before and
after, and hands back `existing_id` to resume one instead of paying for it again."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class PredictionKind(StrEnum):
    PLAN = "plan"
    IMAGE = "image"
    VIDEO = "video"
    SPEECH = "speech"
    MUSIC = "music"


# Words per second a voice speaks at speed 1.0: planners size narration with it and the
# render checks each scene is long enough for its line. (Neural TTS voices speak at about
# 150 words a minute; eSpeak NG is set to the same rate.)
SPEAKING_RATE_WPS = 2.5


def speaking_seconds(text: str, speed: float = 1.0) -> float:
    """About how long `text` takes to say: what planners size scenes with."""
    return len(text.split()) / (SPEAKING_RATE_WPS * speed)


# A request field added later: hashed only when it differs from its default.
_HASHED_WHEN_SET = {"hashed_when_set": True}


@dataclass(frozen=True)
class PlanRequest:
    brief: str
    scene_count: int
    target_duration: float  # seconds, the whole ad
    style: str | None
    aspect_ratio: str
    # Narration is written at this rate (words per second) so each line fits its scene.
    words_per_second: float = SPEAKING_RATE_WPS
    # Where the ad runs and what that asks of it (pacing, a hook in the first 2 s), and the
    # brand: its colours for the image prompts, the call to action the last line leads to,
    # and whether each scene gets an on-screen headline. Added after the first plans were
    # paid for: left out of the input hash while unset (see `input_hash`), so those plans
    # are still found.
    platform: str | None = field(default=None, metadata=_HASHED_WHEN_SET)
    pacing: str | None = field(default=None, metadata=_HASHED_WHEN_SET)
    brand_colors: tuple[str, ...] = field(default=(), metadata=_HASHED_WHEN_SET)
    call_to_action: str | None = field(default=None, metadata=_HASHED_WHEN_SET)
    headlines: bool = field(default=False, metadata=_HASHED_WHEN_SET)


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
    # A presigned URL of the same still in our object store, when the provider can fetch it:
    # sent instead of uploading a large still again. Not part of the input hash.
    image_url: str | None = None


@dataclass(frozen=True)
class SpeechRequest:
    """One line of narration to speak. `voice` is an id from the provider's `voices()`."""

    text: str
    voice: str
    language: str  # BCP 47-ish tag, e.g. "en", "fr", "pt-BR"
    speed: float = 1.0  # 1.0 = the voice's normal rate


@dataclass(frozen=True)
class MusicRequest:
    """A music bed of about `duration` seconds in a mood (`reelforge.media.music.MOODS`)."""

    mood: str
    duration: float
    seed: int


@dataclass(frozen=True)
class WordTiming:
    """Where one word of the text is heard, in seconds from the start of the audio."""

    text: str
    start: float
    end: float


_PAUSE_AFTER = re.compile(r"[.!?;:,…]$")


def estimate_word_timings(text: str, duration: float, *, start: float = 0.0) -> list[WordTiming]:
    """Word timings for speech of known length whose engine reported none.

    A documented estimate, not an alignment: the spoken time is shared out in proportion to
    each word's letters plus one (short words still take a beat), and a word that ends a
    clause or a sentence is followed by a pause worth three letters. Good to within a word
    or so on a line of an ad, which is what captions of one line need.
    """
    words = text.split()
    if not words or duration <= 0:
        return []
    weights = [len(w) + 1 + (3 if _PAUSE_AFTER.search(w) else 0) for w in words]
    unit = duration / sum(weights)
    timings = []
    at = start
    for word, weight in zip(words, weights, strict=True):
        spoken = (len(word) + 1) * unit
        timings.append(WordTiming(text=word, start=round(at, 3), end=round(at + spoken, 3)))
        at += weight * unit
    return timings


# A voice that speaks every language (the model is told which): Voice.language.
ANY_LANGUAGE = "*"
# Language tags by their English names, the hint multilingual TTS models take.
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "tr": "Turkish",
    "ru": "Russian",
    "ja": "Japanese",
    "hi": "Hindi",
    "ko": "Korean",
    "zh": "Chinese",
    "ar": "Arabic",
}


def language_name(tag: str) -> str:
    """The English name of a language tag ("pt-BR" -> "Portuguese"), or "Automatic"."""
    return LANGUAGE_NAMES.get(tag.split("-")[0].lower(), "Automatic")


@dataclass(frozen=True)
class Voice:
    id: str
    name: str
    language: str
    gender: str | None = None


@dataclass(frozen=True)
class PlannedScene:
    description: str
    image_prompt: str
    motion_prompt: str
    duration: float
    narration: str = ""  # the voice-over line; sized at SPEAKING_RATE_WPS to fit `duration`
    headline: str = ""  # on-screen text at the top of the scene, when asked for


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


class WorkAbandoned(Exception):
    """Raised by an `on_created` callback: nobody wants this prediction any more (its job was
    canceled). The provider stops it at once. Any other failure of the callback leaves the
    prediction running: the caller's ledger finds it again at the provider and adopts it."""


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


@runtime_checkable
class SpeechProvider(Protocol):
    """Text to speech with word timings (from the engine, or derived when it gives none)."""

    def voices(self) -> list[Voice]:
        """The voices this provider can speak with."""
        ...

    def default_voice(self, language: str) -> str | None:
        """The voice used for `language` when the client chose none; None if it has none."""
        ...

    def estimate_speech(self, text: str) -> float:
        """Dollars speaking `text` is expected to cost."""
        ...

    async def speak(
        self,
        request: SpeechRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> SpeechResult: ...


@runtime_checkable
class MusicProvider(Protocol):
    def estimate_music(self, duration: float) -> float:
        """Dollars a bed of `duration` seconds is expected to cost."""
        ...

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

    async def find(self, request: AnyRequest, *, since: datetime) -> list[str]:
        """External ids of predictions this provider made for `request` since `since`,
        newest first: where a create went whose answer never reached us (a crash, a lost
        response). ProviderError when the provider cannot say."""
        ...

    async def final(self, external_id: str) -> PredictionMeta | None:
        """What a prediction cost once it ended (None while it is still running): the
        provider's own answer, for work nobody waits for any more (a canceled job)."""
        ...

    async def aclose(self) -> None: ...


AnyRequest = PlanRequest | StillRequest | ClipRequest | SpeechRequest | MusicRequest


def input_hash(kind: PredictionKind, model: str, request: AnyRequest) -> str:
    """Stable identity of a prediction's inputs: equal hash means the same paid work."""
    fields = asdict(request)
    for f in dataclass_fields(request):
        if f.metadata.get("hashed_when_set") and getattr(request, f.name) == f.default:
            fields.pop(f.name)
    if isinstance(request, ClipRequest):
        fields["image"] = hashlib.sha256(request.image).hexdigest()
        fields.pop("image_url", None)
    payload = json.dumps({"kind": kind.value, "model": model, "input": fields}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def paid_work(provider: Provider, kind: PredictionKind, request: AnyRequest) -> tuple[str, str]:
    """The model a request goes to (the catalog may pick it by the scene's aspect ratio:
    stills and clips carry one) and the hash that identifies the paid work."""
    model = provider.model_for(kind, getattr(request, "aspect_ratio", None))
    return model, input_hash(kind, model, request)
