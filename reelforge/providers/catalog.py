"""Which model does each kind of work, with which inputs, at what price: data, not code.

The defaults below are real Replicate models with their published input names, output
durations, aspect ratios and prices (see `notes` on each, and docs/operations.md for where each
fact was checked). `MODELS_FILE` points to a JSON file replacing any of them, for example::

    {"video": {"ref": "kwaivgi/kling-v2.1",
               "input": {"start_image": "{image}", "prompt": "{prompt}",
                         "duration": "{duration}", "mode": "pro"},
               "durations": [5, 10], "price_per_output_second": 0.09}}

A spec in the file replaces the default spec of that kind as a whole (a new model rarely
shares the old one's inputs); `"alternates": [...]` replaces the list of models used for the
aspect ratios the main model of their kind cannot make. Input values are templates: `"{prompt}"`
alone gives the value with its type (`"{duration}"` gives the number 5, not "5"; a missing value
drops the field so the model's default applies), `"A {style} shot"` interpolates text, and
anything else (numbers, booleans, text without a known placeholder) is sent as written.

Start-up refuses a spec that would be silently misused: an input the model does not declare
(Replicate ignores unknown inputs, so such a value would never reach the model) where the
catalog knows the model's inputs (`declared_inputs`, or the table of known schemas below), and
a plan model whose input never carries the planner's instructions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reelforge.config import ConfigError
from reelforge.providers.base import PredictionKind
from reelforge.providers.planning import INSTRUCTION_VARIABLES, PLAN_TEMPLATE_VARIABLES

# Placeholders a template may use, by kind. Unknown `{words}` are left as written, so a prompt
# may show JSON examples without escaping. A new kind of work adds its entry here.
TEMPLATE_VARIABLES: dict[PredictionKind, frozenset[str]] = {
    PredictionKind.PLAN: PLAN_TEMPLATE_VARIABLES,
    PredictionKind.IMAGE: frozenset({"prompt", "width", "height", "aspect_ratio", "seed", "title"}),
    PredictionKind.VIDEO: frozenset(
        {"image", "prompt", "duration", "width", "height", "aspect_ratio", "seed"}
    ),
    # language_name: the language in English ("French"), what TTS models take as a hint.
    PredictionKind.SPEECH: frozenset({"text", "voice", "language", "language_name", "speed"}),
    PredictionKind.MUSIC: frozenset({"prompt", "mood", "duration", "seed"}),
}

# The published input names of models we know, by "owner/name" (from each model's API schema
# on replicate.com). A spec for one of these models that sends anything else is refused.
KNOWN_INPUTS: dict[str, tuple[str, ...]] = {
    "meta/meta-llama-3-70b-instruct": (
        "prompt",
        "prompt_template",
        "max_tokens",
        "min_tokens",
        "temperature",
        "top_p",
        "top_k",
        "presence_penalty",
        "frequency_penalty",
    ),
    "meta/meta-llama-3.1-405b-instruct": (
        "prompt",
        "system_prompt",
        "max_tokens",
        "min_tokens",
        "temperature",
        "top_p",
        "top_k",
        "presence_penalty",
        "frequency_penalty",
        "stop_sequences",
        "prompt_template",
    ),
    "black-forest-labs/flux-schnell": (
        "prompt",
        "aspect_ratio",
        "disable_safety_checker",
        "go_fast",
        "megapixels",
        "num_inference_steps",
        "num_outputs",
        "output_format",
        "output_quality",
        "seed",
    ),
    "black-forest-labs/flux-2-pro": (
        "prompt",
        "input_images",
        "aspect_ratio",
        "resolution",
        "width",
        "height",
        "safety_tolerance",
        "seed",
        "output_format",
        "output_quality",
    ),
    "kwaivgi/kling-v2.5-turbo-pro": (
        "prompt",
        "negative_prompt",
        "start_image",
        "end_image",
        "aspect_ratio",
        "duration",
        "image",
    ),
    "minimax/hailuo-02": (
        "prompt",
        "first_frame_image",
        "last_frame_image",
        "duration",
        "resolution",
        "prompt_optimizer",
    ),
    "minimax/speech-2.6-turbo": (
        "text",
        "voice_id",
        "speed",
        "volume",
        "pitch",
        "emotion",
        "english_normalization",
        "sample_rate",
        "bitrate",
        "audio_format",
        "channel",
        "subtitle_enable",
        "language_boost",
    ),
    "meta/musicgen": (
        "model_version",
        "prompt",
        "input_audio",
        "duration",
        "continuation",
        "continuation_start",
        "continuation_end",
        "multi_band_diffusion",
        "normalization_strategy",
        "top_k",
        "top_p",
        "temperature",
        "classifier_free_guidance",
        "output_format",
        "seed",
    ),
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_REF = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(:[0-9a-f]{8,})?$")
_RATIO = re.compile(r"^\d{1,2}:\d{1,2}$")


class CatalogError(ConfigError):
    """The model table cannot be used: the message names the file and the bad field."""


class ModelSpec(BaseModel):
    """One model: how to call it, what it can make and what it costs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PredictionKind
    ref: str  # "owner/name" (official model) or "owner/name:versionhash"
    input: dict[str, Any]
    # The model's published input names; None: unknown (then KNOWN_INPUTS is consulted).
    declared_inputs: tuple[str, ...] | None = None
    # Prices in US dollars; a model may combine several (most use exactly one).
    price_per_second: float = Field(default=0.0, ge=0)  # of metrics.predict_time (hardware)
    price_per_output: float = Field(default=0.0, ge=0)  # per prediction (one image, one clip)
    price_per_output_second: float = Field(default=0.0, ge=0)  # per second of output video
    price_per_million_input_tokens: float = Field(default=0.0, ge=0)
    price_per_million_output_tokens: float = Field(default=0.0, ge=0)
    # Voice ids the model speaks with (speech models), listed by the `voices` query.
    voices: tuple[str, ...] = ()
    # Longest output the model makes in one prediction (music), in seconds; 0: no limit.
    max_duration: float = Field(default=0.0, ge=0)
    # Output durations the model accepts (video); a request is rounded up to the next one.
    durations: tuple[int, ...] | None = None
    # Aspect ratios the model's output comes in; None: any (or it follows its input image).
    aspect_ratios: tuple[str, ...] | None = None
    # The output takes the input image's aspect ratio (image-to-video from a still).
    follows_input_aspect: bool = False
    # What one prediction typically uses, for estimates before it runs.
    expected_predict_time: float = Field(default=0.0, ge=0)
    expected_input_tokens: int = Field(default=0, ge=0)
    expected_output_tokens: int = Field(default=0, ge=0)
    description: str = ""
    notes: str = ""  # caveats: what was checked, limits, when to pick it

    @model_validator(mode="before")
    @classmethod
    def _known_inputs(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("declared_inputs") is None:
            model = str(data.get("ref", "")).split(":", 1)[0]
            if model in KNOWN_INPUTS:
                data = {**data, "declared_inputs": KNOWN_INPUTS[model]}
        return data

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

    @field_validator("aspect_ratios")
    @classmethod
    def _check_ratios(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            bad = [r for r in value if not _RATIO.match(r)]
            if not value or bad:
                raise ValueError(f"must list ratios like '16:9' (got {bad or 'none'})")
        return value

    @model_validator(mode="after")
    def _check_input(self) -> ModelSpec:
        allowed = TEMPLATE_VARIABLES[self.kind]
        for name in _exact_placeholders(self.input):
            if name not in allowed:
                raise ValueError(
                    f"input template '{{{name}}}' is unknown for {self.kind.value} models; "
                    f"use one of {sorted(allowed)}"
                )
        if self.declared_inputs is not None:
            undeclared = sorted(set(self.input) - set(self.declared_inputs))
            if undeclared:
                raise ValueError(
                    f"sends {undeclared} that {self.model} does not declare (its inputs: "
                    f"{', '.join(self.declared_inputs)}); Replicate would ignore "
                    f"{'it' if len(undeclared) == 1 else 'them'}"
                )
        if self.kind is PredictionKind.PLAN and not (
            _used_placeholders(self.input) & INSTRUCTION_VARIABLES
        ):
            raise ValueError(
                "the planner's instructions never reach this model: put '{instructions}' in "
                "its system input, or '{prompt_with_instructions}' as its prompt"
            )
        return self

    @property
    def model(self) -> str:
        """'owner/name' without the version."""
        return self.ref.split(":", 1)[0]

    @property
    def version(self) -> str | None:
        return self.ref.split(":", 1)[1] if ":" in self.ref else None

    def makes(self, aspect_ratio: str) -> bool:
        """Whether this model's output comes in `aspect_ratio`."""
        return (
            self.follows_input_aspect
            or self.aspect_ratios is None
            or (aspect_ratio in self.aspect_ratios)
        )

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

    def price_text(self) -> str:
        """The price in words, e.g. '$0.07 per output second'."""
        parts = []
        if self.price_per_output:
            parts.append(f"${self.price_per_output:g} per output")
        if self.price_per_output_second:
            parts.append(f"${self.price_per_output_second:g} per output second")
        if self.price_per_second:
            parts.append(f"${self.price_per_second:g} per second of predict time")
        if self.price_per_million_input_tokens or self.price_per_million_output_tokens:
            parts.append(
                f"${self.price_per_million_input_tokens:g} / "
                f"${self.price_per_million_output_tokens:g} per million input / output tokens"
            )
        return " + ".join(parts) or "free"


class Catalog(BaseModel):
    """The model used for each kind of prediction, and alternates for the aspect ratios the
    main model of a kind cannot make."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: ModelSpec
    image: ModelSpec
    video: ModelSpec
    speech: ModelSpec
    music: ModelSpec
    alternates: tuple[ModelSpec, ...] = ()

    @model_validator(mode="after")
    def _check_kinds(self) -> Catalog:
        for kind in PredictionKind:
            spec = self.spec(kind)
            if spec.kind is not kind:
                raise ValueError(f"the '{kind.value}' entry has kind '{spec.kind.value}'")
        return self

    def spec(self, kind: PredictionKind, aspect_ratio: str | None = None) -> ModelSpec:
        """The model for `kind`; for `aspect_ratio`, the first one (main model, then the
        alternates of that kind) whose output comes in that ratio, else the main model."""
        main: ModelSpec = getattr(self, kind.value)
        if aspect_ratio is None or main.makes(aspect_ratio):
            return main
        for alternate in self.alternates:
            if alternate.kind is kind and alternate.makes(aspect_ratio):
                return alternate
        return main

    def specs(self) -> Iterator[ModelSpec]:
        """Every configured model: the main one of each kind, then the alternates."""
        for kind in PredictionKind:
            yield getattr(self, kind.value)
        yield from self.alternates

    def cost(
        self,
        kind: PredictionKind,
        predict_time: float | None = None,
        duration: float = 0.0,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        aspect_ratio: str | None = None,
    ) -> float:
        return self.spec(kind, aspect_ratio).cost(
            predict_time=predict_time,
            duration=duration,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )

    def estimate(
        self, kind: PredictionKind, duration: float = 0.0, *, aspect_ratio: str | None = None
    ) -> float:
        return self.spec(kind, aspect_ratio).estimate(duration)


def _placeholders_in(value: Any, *, exact: bool) -> set[str]:
    if isinstance(value, str):
        if exact:
            match = _PLACEHOLDER.fullmatch(value)
            return {match.group(1)} if match else set()
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(_placeholders_in(v, exact=exact) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_placeholders_in(v, exact=exact) for v in value))
    return set()


def _exact_placeholders(value: Any) -> set[str]:
    return _placeholders_in(value, exact=True)


def _used_placeholders(value: Any) -> set[str]:
    return _placeholders_in(value, exact=False)


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


NEGATIVE_VIDEO_PROMPT = "text, watermark, logo, blurry, distorted"
# MiniMax's system voices (replicate.com/minimax/speech-2.6-turbo, voice_id).
MINIMAX_VOICES = (
    "Wise_Woman",
    "Friendly_Person",
    "Inspirational_girl",
    "Deep_Voice_Man",
    "Calm_Woman",
    "Casual_Guy",
    "Lively_Girl",
    "Patient_Man",
    "Young_Knight",
    "Determined_Man",
    "Lovely_Girl",
    "Decent_Boy",
    "Imposing_Manner",
    "Elegant_Man",
    "Abbess",
    "Sweet_Girl_2",
    "Exuberant_Girl",
)

DEFAULT_CATALOG = Catalog(
    plan=ModelSpec(
        kind=PredictionKind.PLAN,
        ref="meta/meta-llama-3-70b-instruct",
        # No system input: the instructions lead the prompt. prompt_template keeps its default
        # "{prompt}" (Replicate runs .format() on it, so JSON braces there would break it).
        input={
            "prompt": "{prompt_with_instructions}",
            "max_tokens": 2048,
            "temperature": 0.6,
        },
        price_per_million_input_tokens=0.65,
        price_per_million_output_tokens=2.75,
        expected_input_tokens=700,
        expected_output_tokens=1200,
        description="Llama 3 70B Instruct writes the storyboard as JSON",
        notes="no system_prompt input: instructions go at the top of the prompt; priced per token",
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
        aspect_ratios=("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16"),
        price_per_output=0.003,
        description="FLUX.1 [schnell]: one still per scene",
        notes="every ad ratio (16:9, 9:16, 1:1, 4:5); about a second per image",
    ),
    video=ModelSpec(
        kind=PredictionKind.VIDEO,
        ref="kwaivgi/kling-v2.5-turbo-pro",
        input={
            "start_image": "{image}",
            "prompt": "{prompt}",
            "duration": "{duration}",
            "negative_prompt": NEGATIVE_VIDEO_PROMPT,
        },
        durations=(5, 10),
        aspect_ratios=("16:9", "9:16"),
        price_per_output_second=0.07,
        description="Kling 2.5 Turbo Pro: animates the still; 5 or 10 s",
        notes="16:9 and 9:16 scenes (1:1 and 4:5 go to the alternate); aspect_ratio is "
        "ignored when start_image is given",
    ),
    speech=ModelSpec(
        kind=PredictionKind.SPEECH,
        ref="minimax/speech-2.6-turbo",
        input={
            "text": "{text}",
            "voice_id": "{voice}",
            "speed": "{speed}",
            "language_boost": "{language_name}",
            "audio_format": "mp3",
            "sample_rate": 32000,
        },
        voices=MINIMAX_VOICES,
        price_per_million_input_tokens=60.0,  # $0.06 per 1,000 characters (1 token each)
        expected_input_tokens=60,
        description="MiniMax Speech 2.6 Turbo: the voice-over, one line per scene (mp3)",
        notes="no word timings in its output: they are estimated from the audio's length; "
        "voices are multilingual, language_boost names the language",
    ),
    music=ModelSpec(
        kind=PredictionKind.MUSIC,
        ref="meta/musicgen:b05b1dff1d8c6dc63d14b0cdb42135378dcb87f6373b0d3d341ede46e59e2b38",
        input={
            "prompt": "{prompt}",
            "duration": "{duration}",
            "seed": "{seed}",
            "model_version": "stereo-large",
            "output_format": "mp3",
            "normalization_strategy": "loudness",
        },
        max_duration=30,
        price_per_second=0.0014,  # Nvidia A100 (80GB) time
        expected_predict_time=45,
        description="MusicGen (stereo large): the music bed, up to 30 s, looped under longer ads",
        notes="billed by predict time; an instrumental bed from a mood prompt",
    ),
    alternates=(
        ModelSpec(
            kind=PredictionKind.VIDEO,
            ref="minimax/hailuo-02",
            input={
                "first_frame_image": "{image}",
                "prompt": "{prompt}",
                "duration": "{duration}",
                "resolution": "768p",
                "prompt_optimizer": False,
            },
            durations=(6, 10),
            follows_input_aspect=True,
            price_per_output_second=0.045,
            description="Hailuo 02 (768p): animates the still in the still's own ratio; 6 or 10 s",
            notes="for 1:1 and 4:5 scenes: its output has the first frame's aspect ratio; "
            "10 s only at 768p",
        ),
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
    keys = {k.value for k in PredictionKind}
    unknown = set(raw) - keys - {"alternates"}
    if unknown:
        raise CatalogError(
            f"MODELS_FILE {path}: unknown keys {sorted(unknown)}; expected "
            f"{', '.join(k.value for k in PredictionKind)} or alternates"
        )
    merged: dict[str, Any] = DEFAULT_CATALOG.model_dump()
    for key, spec in raw.items():
        if key == "alternates":
            if not isinstance(spec, list) or not all(isinstance(s, dict) for s in spec):
                raise CatalogError(f"MODELS_FILE {path}: 'alternates' must be a list of objects")
            merged[key] = spec
            continue
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
