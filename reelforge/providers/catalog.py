"""Which model does each kind of work, with which inputs, at what price: data, not code.

The defaults below are real Replicate models with their documented input names and public
prices. `MODELS_FILE` points to a JSON file replacing any of them, for example::

    {"video": {"ref": "kwaivgi/kling-v2.1",
               "input": {"start_image": "{image}", "prompt": "{prompt}",
                         "duration": "{duration}", "mode": "pro"},
               "durations": [5, 10], "price_per_output_second": 0.09}}

A spec in the file replaces the default spec of that kind as a whole (a new model rarely
shares the old one's inputs). Input values are templates: `"{prompt}"` alone gives the value
with its type (`"{duration}"` gives the number 5, not "5"; a missing value drops the field so
the model's default applies), `"A {style} shot"` interpolates text, and anything else (numbers,
booleans, text without a known placeholder) is sent as written.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reelforge.config import ConfigError
from reelforge.providers.base import PredictionKind

# Placeholders a template may use, by kind. Unknown `{words}` are left as written, so a system
# prompt may show JSON examples without escaping.
TEMPLATE_VARIABLES: dict[PredictionKind, frozenset[str]] = {
    PredictionKind.PLAN: frozenset(
        {"prompt", "brief", "scene_count", "target_duration", "style", "aspect_ratio"}
    ),
    PredictionKind.IMAGE: frozenset({"prompt", "width", "height", "aspect_ratio", "seed", "title"}),
    PredictionKind.VIDEO: frozenset(
        {"image", "prompt", "duration", "width", "height", "aspect_ratio", "seed"}
    ),
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_REF = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(:[0-9a-f]{8,})?$")


class CatalogError(ConfigError):
    """The model table cannot be used: the message names the file and the bad field."""


class ModelSpec(BaseModel):
    """One model: how to call it and what it costs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PredictionKind
    ref: str  # "owner/name" (official model) or "owner/name:versionhash"
    input: dict[str, Any]
    # Prices in US dollars; a model may combine several (most use exactly one).
    price_per_second: float = Field(default=0.0, ge=0)  # of metrics.predict_time (hardware)
    price_per_output: float = Field(default=0.0, ge=0)  # per prediction (one image, one clip)
    price_per_output_second: float = Field(default=0.0, ge=0)  # per second of output video
    price_per_million_input_tokens: float = Field(default=0.0, ge=0)
    price_per_million_output_tokens: float = Field(default=0.0, ge=0)
    # Output durations the model accepts (video); a request is rounded up to the next one.
    durations: tuple[int, ...] | None = None
    # What one prediction typically uses, for estimates before it runs.
    expected_predict_time: float = Field(default=0.0, ge=0)
    expected_input_tokens: int = Field(default=0, ge=0)
    expected_output_tokens: int = Field(default=0, ge=0)
    description: str = ""

    @field_validator("ref")
    @classmethod
    def _check_ref(cls, value: str) -> str:
        if not _REF.match(value):
            raise ValueError("must be 'owner/name' or 'owner/name:versionhash'")
        return value

    @field_validator("durations")
    @classmethod
    def _check_durations(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None:
            if not value or any(d < 1 for d in value):
                raise ValueError("must list positive whole seconds")
            return tuple(sorted(set(value)))
        return value

    @model_validator(mode="after")
    def _check_placeholders(self) -> ModelSpec:
        allowed = TEMPLATE_VARIABLES[self.kind]
        for name in _exact_placeholders(self.input):
            if name not in allowed:
                raise ValueError(
                    f"input template '{{{name}}}' is unknown for {self.kind.value} models; "
                    f"use one of {sorted(allowed)}"
                )
        return self

    @property
    def model(self) -> str:
        """'owner/name' without the version."""
        return self.ref.split(":", 1)[0]

    @property
    def version(self) -> str | None:
        return self.ref.split(":", 1)[1] if ":" in self.ref else None

    def output_duration(self, requested: float) -> int:
        """The whole seconds of video the model will make (and bill) for `requested`."""
        if self.durations:
            for allowed in self.durations:
                if allowed >= requested - 1e-6:
                    return allowed
            return self.durations[-1]
        return max(1, math.ceil(requested - 1e-6))

    def render_input(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The model's input with templates filled in from `values` (typed, see module doc)."""
        rendered = _render(self.input, values)
        assert isinstance(rendered, dict)
        return rendered

    def cost(
        self,
        *,
        predict_time: float | None = None,
        duration: float = 0.0,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> float:
        """Dollars a finished prediction cost, from what Replicate reported in `metrics`."""
        total = self.price_per_output
        total += self.price_per_second * (predict_time or 0.0)
        if self.price_per_output_second and duration > 0:
            total += self.price_per_output_second * self.output_duration(duration)
        total += self.price_per_million_input_tokens * (input_tokens or 0) / 1e6
        total += self.price_per_million_output_tokens * (output_tokens or 0) / 1e6
        return round(total, 6)

    def estimate(self, duration: float = 0.0) -> float:
        """Dollars one prediction is expected to cost before it runs."""
        return self.cost(
            predict_time=self.expected_predict_time,
            duration=duration,
            input_tokens=self.expected_input_tokens,
            output_tokens=self.expected_output_tokens,
        )


class Catalog(BaseModel):
    """The model used for each kind of prediction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: ModelSpec
    image: ModelSpec
    video: ModelSpec

    @model_validator(mode="after")
    def _check_kinds(self) -> Catalog:
        for kind in PredictionKind:
            spec = self.spec(kind)
            if spec.kind is not kind:
                raise ValueError(f"the '{kind.value}' entry has kind '{spec.kind.value}'")
        return self

    def spec(self, kind: PredictionKind) -> ModelSpec:
        spec: ModelSpec = getattr(self, kind.value)
        return spec

    def cost(
        self,
        kind: PredictionKind,
        predict_time: float | None = None,
        duration: float = 0.0,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> float:
        return self.spec(kind).cost(
            predict_time=predict_time,
            duration=duration,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )

    def estimate(self, kind: PredictionKind, duration: float = 0.0) -> float:
        return self.spec(kind).estimate(duration)


def _exact_placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        match = _PLACEHOLDER.fullmatch(value)
        return {match.group(1)} if match else set()
    if isinstance(value, dict):
        return set().union(*(_exact_placeholders(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_exact_placeholders(v) for v in value))
    return set()


_DROP = object()


def _render(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        exact = _PLACEHOLDER.fullmatch(template)
        if exact:
            name = exact.group(1)
            if name not in values:
                return template
            return _DROP if values[name] is None else values[name]

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                return match.group(0)
            value = values[name]
            return "" if value is None else str(value)

        return _PLACEHOLDER.sub(substitute, template)
    if isinstance(template, dict):
        out = {key: _render(value, values) for key, value in template.items()}
        return {key: value for key, value in out.items() if value is not _DROP}
    if isinstance(template, list):
        return [v for v in (_render(item, values) for item in template) if v is not _DROP]
    return template


PLAN_SYSTEM_PROMPT = (
    "You are a creative director writing storyboards for short video ads. Answer with JSON "
    "only, no prose, in this shape: "
    '{"scenes": [{"description": "what the viewer sees and why it sells", '
    '"image_prompt": "a detailed prompt for a text-to-image model, one still frame", '
    '"motion_prompt": "camera and subject motion for an image-to-video model", '
    '"duration": 4}]}. '
    "Durations are whole seconds between 1 and 15. Never put text or logos in image prompts."
)

DEFAULT_CATALOG = Catalog(
    plan=ModelSpec(
        kind=PredictionKind.PLAN,
        ref="meta/meta-llama-3-70b-instruct",
        input={
            "prompt": "{prompt}",
            "system_prompt": PLAN_SYSTEM_PROMPT,
            "max_tokens": 2048,
            "temperature": 0.6,
        },
        price_per_million_input_tokens=0.65,
        price_per_million_output_tokens=2.75,
        expected_input_tokens=600,
        expected_output_tokens=1200,
        description="Llama 3 70B Instruct writes the storyboard as JSON",
    ),
    image=ModelSpec(
        kind=PredictionKind.IMAGE,
        ref="black-forest-labs/flux-schnell",
        input={
            "prompt": "{prompt}",
            "aspect_ratio": "{aspect_ratio}",
            "seed": "{seed}",
            "num_outputs": 1,
            "output_format": "png",
            "go_fast": True,
            "megapixels": "1",
        },
        price_per_output=0.003,
        description="FLUX.1 [schnell]: one still per scene",
    ),
    video=ModelSpec(
        kind=PredictionKind.VIDEO,
        ref="kwaivgi/kling-v2.1",
        input={
            "start_image": "{image}",
            "prompt": "{prompt}",
            "duration": "{duration}",
            "mode": "standard",
            "negative_prompt": "text, watermark, logo, blurry, distorted",
        },
        durations=(5, 10),
        price_per_output_second=0.05,
        description="Kling v2.1 standard (720p, 24 fps): animates the still; 5 or 10 s",
    ),
)


def load_catalog(path: Path | None) -> Catalog:
    """The default catalog with the specs found in the JSON file at `path` (if any) replacing
    those of their kind. Raises CatalogError with the file and field on a bad file."""
    if path is None:
        return DEFAULT_CATALOG
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogError(f"MODELS_FILE {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"MODELS_FILE {path} is not readable JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"MODELS_FILE {path} must hold a JSON object keyed by plan/image/video")
    unknown = set(raw) - {k.value for k in PredictionKind}
    if unknown:
        raise CatalogError(
            f"MODELS_FILE {path}: unknown keys {sorted(unknown)}; expected plan, image, video"
        )
    merged: dict[str, Any] = DEFAULT_CATALOG.model_dump()
    for key, spec in raw.items():
        if not isinstance(spec, dict):
            raise CatalogError(f"MODELS_FILE {path}: '{key}' must be an object")
        merged[key] = {"kind": key, **spec}
    try:
        return Catalog.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise CatalogError(f"MODELS_FILE {path} is invalid: {problems}") from exc
