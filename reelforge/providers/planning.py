"""Planning a storyboard with a language model, whatever the provider: the instructions the
model must follow, the prompt, the values a catalog template may use, and a forgiving parser for
what comes back (streamed tokens, fenced or bare JSON, prose around it).

Where the instructions go is the catalog's decision, per model: a model with a system input gets
them there (`{instructions}`), one without gets them at the top of its prompt
(`{prompt_with_instructions}`). Replicate ignores inputs a model does not declare, so guessing
would silently drop them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import structlog

from reelforge.providers.base import PlannedScene, PlanRequest, ProviderError

log = structlog.get_logger(__name__)

MIN_SCENE_SECONDS = 1.0
MAX_SCENE_SECONDS = 15.0

PLAN_INSTRUCTIONS = (
    "You are a creative director writing storyboards for short video ads. Answer with JSON "
    "only, no prose, in this shape: "
    '{"scenes": [{"description": "what the viewer sees and why it sells", '
    '"image_prompt": "a detailed prompt for a text-to-image model, one still frame", '
    '"motion_prompt": "camera and subject motion for an image-to-video model", '
    '"narration": "the line the voice-over says over this scene", '
    '"headline": "on-screen text, only when asked for", '
    '"duration": 4}]}. '
    "Durations are whole seconds between 1 and 15. Never put text, letters or logos in image "
    "prompts: words and the logo are drawn over the video afterwards. "
    "Narration is spoken and shown as captions: short, natural sentences in the brief's "
    "language that together tell the ad's story and end on the call to action."
)

# The values a plan model's input template may use (see providers/catalog.py).
PLAN_TEMPLATE_VARIABLES = frozenset(
    {
        "prompt",
        "instructions",
        "prompt_with_instructions",
        "brief",
        "scene_count",
        "target_duration",
        "style",
        "aspect_ratio",
        "platform",
    }
)
# At least one of these must appear in a plan model's input, or the instructions never reach it.
INSTRUCTION_VARIABLES = frozenset({"instructions", "prompt_with_instructions"})


def plan_prompt(request: PlanRequest) -> str:
    """The user prompt asking the LLM for a storyboard of `scene_count` scenes."""
    per_scene = request.target_duration / max(request.scene_count, 1)
    lines = [
        f"Brief: {request.brief.strip()}",
        f"Write exactly {request.scene_count} scenes for a {request.target_duration:g}-second "
        f"video ad (about {per_scene:.0f} s each; durations add up to the total).",
        f"Frame: {request.aspect_ratio}.",
    ]
    if request.platform:
        lines.append(f"It runs as a {request.platform} ad. {request.pacing or ''}".strip())
    if request.brand_colors:
        lines.append(
            f"Brand colours: {', '.join(request.brand_colors)}: let them lead the palette and "
            "the lighting of every image prompt (the logo is added later: never draw it)."
        )
    if request.call_to_action:
        lines.append(
            f'The last scene leads to the call to action "{request.call_to_action}", shown on '
            "an end card after it."
        )
    if request.headlines:
        lines.append(
            'Give each scene a "headline": at most 6 words of on-screen text that sells it.'
        )
    words = request.words_per_second
    lines.append(
        f"The voice-over speaks about {words:g} words a second: each scene's narration must "
        f"fit its duration with a half-second pause (at most {words:g} x (duration - 1) words)."
    )
    if request.style:
        lines.append(f"Visual style: {request.style}.")
    lines.append('Answer with the JSON object {"scenes": [...]} only.')
    return "\n".join(lines)


def plan_values(request: PlanRequest) -> dict[str, Any]:
    """Every value a plan model's input template may use, for `request`."""
    prompt = plan_prompt(request)
    return {
        "prompt": prompt,
        "instructions": PLAN_INSTRUCTIONS,
        "prompt_with_instructions": f"{PLAN_INSTRUCTIONS}\n\n{prompt}",
        "brief": request.brief,
        "scene_count": request.scene_count,
        "target_duration": request.target_duration,
        "style": request.style,
        "aspect_ratio": request.aspect_ratio,
        "platform": request.platform,
    }


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

_FIELD_NAMES = {
    "description": ("description", "scene", "summary", "title", "text"),
    "narration": ("narration", "voiceover", "vo", "script", "line", "spokentext", "dialogue"),
    "image_prompt": (
        "imageprompt",
        "image",
        "imagedescription",
        "visual",
        "visualprompt",
        "prompt",
    ),
    "motion_prompt": ("motionprompt", "motion", "cameramotion", "camera", "videoprompt", "action"),
    "duration": ("duration", "durationseconds", "seconds", "length", "durations"),
    "headline": ("headline", "onscreentext", "overlaytext", "textoverlay", "supertitle"),
}
_DEFAULT_MOTION = "slow cinematic camera push-in"


def parse_storyboard(
    output: Any, *, scene_count: int, target_duration: float
) -> list[PlannedScene]:
    """Scenes from an LLM's answer: streamed tokens or text, JSON fenced or bare, wrapped in
    prose, an object with "scenes" or a bare list. Fields are coerced, durations clamped to
    1–15 s, and extra scenes trimmed to `scene_count`. Raises ProviderError (not retryable)
    when no usable scene can be found."""
    if isinstance(output, str):
        text = output
    elif isinstance(output, list) and all(isinstance(t, str) or t is None for t in output):
        text = "".join(t for t in output if t)
    else:
        raise ProviderError(
            f"the storyboard model answered {type(output).__name__}, not text", retryable=False
        )
    count = max(1, scene_count)
    default_duration = _clamp(target_duration / count if target_duration > 0 else 5.0)
    for candidate in _json_candidates(text):
        raw_scenes = _raw_scenes(candidate)
        if raw_scenes is None:
            continue
        scenes = [s for s in (_coerce_scene(raw, default_duration) for raw in raw_scenes) if s]
        if scenes:
            if len(scenes) < count:
                log.warning("planning.storyboard.short", wanted=count, got=len(scenes))
            return scenes[:count]
    snippet = " ".join(text.split())[:200]
    raise ProviderError(
        f"the storyboard model's answer holds no usable scenes: {snippet!r}", retryable=False
    )


def _json_candidates(text: str) -> Iterator[Any]:
    """JSON values found in `text`: fenced blocks first, then the whole text, then every
    top-level value embedded in prose."""
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    for block in [*blocks, text]:
        for variant in (block, _TRAILING_COMMA.sub(r"\1", block)):
            try:
                yield json.loads(variant.strip())
                break
            except ValueError:
                continue
    decoder = json.JSONDecoder()
    for source in (text, _TRAILING_COMMA.sub(r"\1", text)):
        index = 0
        while index < len(source):
            if source[index] in "{[":
                try:
                    value, end = decoder.raw_decode(source, index)
                except ValueError:
                    index += 1
                    continue
                yield value
                index = end
            else:
                index += 1


def _raw_scenes(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if _normalise(key) in ("scenes", "storyboard", "shots") and isinstance(item, list):
                return item
        for item in value.values():  # {"storyboard": {"scenes": [...]}}
            if isinstance(item, dict):
                nested = _raw_scenes(item)
                if nested is not None:
                    return nested
    return None


def _coerce_scene(raw: Any, default_duration: float) -> PlannedScene | None:
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        return PlannedScene(text, text, _DEFAULT_MOTION, default_duration)
    if not isinstance(raw, dict):
        return None
    fields = {_normalise(str(k)): v for k, v in raw.items()}

    def text_field(name: str) -> str:
        for key in _FIELD_NAMES[name]:
            value = fields.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    description = text_field("description")
    image_prompt = text_field("image_prompt")
    if not description and not image_prompt:
        return None
    duration = default_duration
    for key in _FIELD_NAMES["duration"]:
        seconds = _seconds(fields.get(key))
        if seconds is not None:
            duration = _clamp(seconds)
            break
    return PlannedScene(
        description=description or image_prompt,
        image_prompt=image_prompt or description,
        motion_prompt=text_field("motion_prompt") or _DEFAULT_MOTION,
        duration=duration,
        # A model that wrote no line for the scene: its description is spoken instead.
        narration=text_field("narration") or description or image_prompt,
        headline=text_field("headline"),
    )


def _normalise(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := _NUMBER.search(value)):
        number = float(match.group(0))
    else:
        return None
    return number if math.isfinite(number) and number > 0 else None


def _clamp(seconds: float) -> float:
    return min(MAX_SCENE_SECONDS, max(MIN_SCENE_SECONDS, seconds))
