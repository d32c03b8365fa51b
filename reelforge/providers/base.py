"""The one interface every generation backend implements: plan a storyboard, make a still,
animate a still into a clip. Providers know nothing of the database: the pipeline records
each prediction before and after, and hands back `existing_id` to resume one instead of
paying for it again."""

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


OnCreated = Callable[[str], Awaitable[None]]


class ProviderError(Exception):
    """A prediction failed. `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool, external_id: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.external_id = external_id


class PredictionTimeout(ProviderError):
    def __init__(self, message: str, *, external_id: str | None = None) -> None:
        super().__init__(message, retryable=True, external_id=external_id)


class UnknownPrediction(ProviderError):
    """`existing_id` is not known to the provider (lost on restart, or expired)."""

    def __init__(self, external_id: str) -> None:
        super().__init__(
            f"unknown prediction {external_id}", retryable=True, external_id=external_id
        )


class Provider(Protocol):
    name: str

    def model_for(self, kind: PredictionKind) -> str:
        """The model identifier used for `kind`; part of the input hash."""
        ...

    def estimate_cost(self, kind: PredictionKind, *, duration: float = 0.0) -> float:
        """Dollars one prediction of `kind` is expected to cost (video: for `duration` s)."""
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


def input_hash(
    kind: PredictionKind, model: str, request: PlanRequest | StillRequest | ClipRequest
) -> str:
    """Stable identity of a prediction's inputs: equal hash means the same paid work."""
    fields = asdict(request)
    if isinstance(request, ClipRequest):
        fields["image"] = hashlib.sha256(request.image).hexdigest()
    payload = json.dumps({"kind": kind.value, "model": model, "input": fields}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()
