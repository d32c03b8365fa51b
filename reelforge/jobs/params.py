"""What a client may ask for, validated once. Everything out of range is BAD_USER_INPUT
naming the field, before anything is stored or queued."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from reelforge.errors import BadUserInput
from reelforge.jobs.language import detect_language
from reelforge.media.captions import CaptionStyle
from reelforge.media.clips import Fit
from reelforge.media.formats import ASPECT_RATIOS, CONTAINERS, RESOLUTIONS
from reelforge.media.music import MOODS

# The choices are the media layer's: it is what can actually render them.
RESOLUTION_NAMES = tuple(RESOLUTIONS)
FITS: tuple[str, ...] = get_args(Fit)
MAX_SCENES = 12
MIN_SCENE_SECONDS = 1.0
MAX_SCENE_SECONDS = 15.0
_ID = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_NARRATION_CHARS = 500
# `voice` left at this: the provider's voice for the job's language (the default voice-over).
DEFAULT_VOICE = "default"
CAPTION_STYLES: tuple[str, ...] = tuple(s.value for s in CaptionStyle)
MUSIC_MOODS: tuple[str, ...] = tuple(MOODS)
DEFAULT_MUSIC = "upbeat"


def _text(value: str | None, name: str, *, min_len: int = 0, max_len: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) < min_len or len(value) > max_len:
        raise BadUserInput(f"{name} must be {min_len}–{max_len} characters", field=name)
    return value or None


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadUserInput(f"{name} must be one of {', '.join(allowed)}", field=name)
    return value


@dataclass(frozen=True)
class SceneParams:
    description: str
    image_prompt: str | None = None
    motion_prompt: str | None = None
    duration: float | None = None
    asset_id: str | None = None
    narration: str | None = None  # the line spoken (and captioned) over the scene


@dataclass(frozen=True)
class JobParams:
    brief: str
    campaign_id: str | None = None
    aspect_ratio: str = "16:9"
    resolution: str = "720p"
    scene_count: int | None = None
    target_duration: float = 15.0
    style: str | None = None
    scenes: list[SceneParams] = field(default_factory=list)
    asset_ids: list[str] = field(default_factory=list)
    # Sound and words: a voice id (DEFAULT_VOICE: the language's; None: no voice-over), the
    # language spoken (None: the brief's, detected), caption style, a music mood (None: no
    # generated bed) or an uploaded track (music_asset_id, which wins over the mood).
    voice: str | None = DEFAULT_VOICE
    language: str | None = None
    captions: str = CaptionStyle.WORD.value
    music: str | None = DEFAULT_MUSIC
    music_asset_id: str | None = None

    def validated(self) -> JobParams:
        brief = _text(self.brief, "brief", min_len=3, max_len=2000)
        assert brief is not None
        if self.campaign_id is not None and not _ID.fullmatch(self.campaign_id):
            raise BadUserInput(
                "campaignId must be 1–128 letters, digits, . _ -", field="campaignId"
            )
        _choice(self.aspect_ratio, "aspectRatio", ASPECT_RATIOS)
        _choice(self.resolution, "resolution", RESOLUTION_NAMES)
        if len(self.scenes) > MAX_SCENES:
            raise BadUserInput(f"at most {MAX_SCENES} scenes", field="scenes")
        count = self.scene_count if self.scene_count is not None else (len(self.scenes) or 4)
        if not 1 <= count <= MAX_SCENES:
            raise BadUserInput(f"sceneCount must be between 1 and {MAX_SCENES}", field="sceneCount")
        if self.scenes and count != len(self.scenes):
            raise BadUserInput(
                "sceneCount must equal the number of scenes given", field="sceneCount"
            )
        if not 2 <= self.target_duration <= 120:
            raise BadUserInput("targetDuration must be 2–120 seconds", field="targetDuration")
        if self.target_duration / count < MIN_SCENE_SECONDS:
            raise BadUserInput(
                f"targetDuration gives less than {MIN_SCENE_SECONDS:g} s per scene",
                field="targetDuration",
            )
        if len(self.asset_ids) > count:
            raise BadUserInput("more assetIds than scenes", field="assetIds")
        scenes = [
            SceneParams(
                description=_text(s.description, f"scenes[{i}].description", min_len=1, max_len=500)
                or "",
                image_prompt=_text(s.image_prompt, f"scenes[{i}].imagePrompt", max_len=1000),
                motion_prompt=_text(s.motion_prompt, f"scenes[{i}].motionPrompt", max_len=500),
                duration=_duration(s.duration, f"scenes[{i}].duration"),
                asset_id=s.asset_id,
                narration=validated_narration(s.narration, f"scenes[{i}].narration"),
            )
            for i, s in enumerate(self.scenes)
        ]
        language = self.language.strip() if self.language else detect_language(brief)
        if not _LANGUAGE.match(language):
            raise BadUserInput("language must be a tag like en, fr or pt-BR", field="language")
        _choice(self.captions, "captions", CAPTION_STYLES)
        if self.music is not None:
            _choice(self.music, "music", MUSIC_MOODS)
        voice = self.voice.strip() if self.voice is not None else None
        if voice is not None and not 1 <= len(voice) <= 128:
            raise BadUserInput("voice must be a voice id from the voices query", field="voice")
        return JobParams(
            brief=brief,
            campaign_id=self.campaign_id,
            aspect_ratio=self.aspect_ratio,
            resolution=self.resolution,
            scene_count=count,
            target_duration=float(self.target_duration),
            style=_text(self.style, "style", max_len=200),
            scenes=scenes,
            asset_ids=list(self.asset_ids),
            voice=voice,
            language=language,
            captions=self.captions,
            music=self.music,
            music_asset_id=self.music_asset_id,
        )

    @property
    def referenced_asset_ids(self) -> list[str]:
        return [*self.asset_ids, *(s.asset_id for s in self.scenes if s.asset_id)]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("brief")
        data.pop("campaign_id")
        return data


def validated_narration(value: str | None, name: str) -> str | None:
    """A narration line: trimmed, at most MAX_NARRATION_CHARS; empty means none."""
    if value is None:
        return None
    text = " ".join(value.split())
    if len(text) > MAX_NARRATION_CHARS:
        raise BadUserInput(f"{name} must be at most {MAX_NARRATION_CHARS} characters", field=name)
    return text


def _duration(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if not MIN_SCENE_SECONDS <= value <= MAX_SCENE_SECONDS:
        raise BadUserInput(
            f"{name} must be {MIN_SCENE_SECONDS:g}–{MAX_SCENE_SECONDS:g} seconds", field=name
        )
    return float(value)


@dataclass(frozen=True)
class ExportTarget:
    aspect_ratio: str
    resolution: str = "720p"
    container: str = "mp4"
    fit: str = "crop"

    def validated(self) -> ExportTarget:
        _choice(self.aspect_ratio, "aspectRatio", ASPECT_RATIOS)
        _choice(self.resolution, "resolution", RESOLUTION_NAMES)
        _choice(self.container, "container", CONTAINERS)
        _choice(self.fit, "fit", FITS)
        return self

    @property
    def key(self) -> str:
        return f"{self.aspect_ratio}/{self.resolution}/{self.container}/{self.fit}"
