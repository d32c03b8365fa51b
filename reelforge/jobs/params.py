"""What a client may ask for, validated once. Everything out of range is BAD_USER_INPUT
naming the field, before anything is stored or queued."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, get_args

from reelforge.auth import ID_PATTERN
from reelforge.brands.kit import Brand, call_to_action
from reelforge.errors import BadUserInput
from reelforge.jobs.language import detect_language
from reelforge.media.captions import CaptionStyle
from reelforge.media.clips import Fit
from reelforge.media.formats import ASPECT_RATIOS, CONTAINERS, RESOLUTIONS, frame_size
from reelforge.media.music import MOODS
from reelforge.media.platforms import Platform, Preset, duration_problem, preset, size_problem
from reelforge.providers.planning import MAX_SCENE_SECONDS, MIN_SCENE_SECONDS

# The choices are the media layer's: it is what can actually render them.
RESOLUTION_NAMES = tuple(RESOLUTIONS)
FITS: tuple[str, ...] = get_args(Fit)
MAX_SCENES = 12
DEFAULT_MOTION_PROMPT = "slow cinematic push-in"  # a scene planned or given without one
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_NARRATION_CHARS = 500
# `voice` left at this: the provider's voice for the job's language (the default voice-over).
DEFAULT_VOICE = "default"
CAPTION_STYLES: tuple[str, ...] = tuple(s.value for s in CaptionStyle)
MUSIC_MOODS: tuple[str, ...] = tuple(MOODS)
DEFAULT_MUSIC = "upbeat"
PLATFORMS: tuple[str, ...] = tuple(p.value for p in Platform)
DEFAULT_ASPECT_RATIO = "16:9"  # without a platform
DEFAULT_DURATION = 15.0  # seconds, without a platform
MAX_HEADLINE_CHARS = 60


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
    headline: str | None = None  # drawn at the top of the scene


@dataclass(frozen=True)
class JobParams:
    brief: str
    campaign_id: str | None = None
    # None: the platform's (DEFAULT_ASPECT_RATIO without one); set once validated.
    aspect_ratio: str | None = None
    resolution: str = "720p"
    scene_count: int | None = None
    target_duration: float | None = None  # None: the platform's default, or DEFAULT_DURATION
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
    # Where the ad runs (a Platform value): its rules are checked here, its safe zone used
    # by everything drawn, its pacing told to the planner.
    platform: str | None = None
    # The brand kit asked for (createJob's brandKitId); `brand` is the copy of it the job
    # keeps, filled in by the service. call_to_action overrides the kit's.
    brand_kit_id: str | None = None
    brand: Brand | None = None
    call_to_action: str | None = None
    headlines: bool = False  # the planner writes a headline for each scene

    @property
    def aspect(self) -> str:
        """The frame's aspect ratio (of validated parameters)."""
        assert self.aspect_ratio is not None, "validate the parameters first"
        return self.aspect_ratio

    @property
    def duration(self) -> float:
        """The target duration in seconds (of validated parameters)."""
        assert self.target_duration is not None, "validate the parameters first"
        return self.target_duration

    @property
    def preset(self) -> Preset | None:
        return preset(self.platform) if self.platform else None

    @property
    def cta(self) -> str | None:
        """The call to action on the end card: the job's own, else its brand kit's."""
        if self.call_to_action is not None:
            return self.call_to_action or None
        return self.brand.call_to_action if self.brand else None

    def validated(self) -> JobParams:
        brief = _text(self.brief, "brief", min_len=3, max_len=2000)
        assert brief is not None
        if self.campaign_id is not None and not ID_PATTERN.fullmatch(self.campaign_id):
            raise BadUserInput(
                "campaignId must be 1–128 letters, digits, . _ -", field="campaignId"
            )
        if self.platform is not None:
            _choice(self.platform, "platform", PLATFORMS)
        rules = preset(self.platform) if self.platform else None
        aspect, target = _platform_rules(
            rules, self.aspect_ratio, self.resolution, self.target_duration
        )
        if len(self.scenes) > MAX_SCENES:
            raise BadUserInput(f"at most {MAX_SCENES} scenes", field="scenes")
        count = self.scene_count if self.scene_count is not None else (len(self.scenes) or 4)
        if not 1 <= count <= MAX_SCENES:
            raise BadUserInput(f"sceneCount must be between 1 and {MAX_SCENES}", field="sceneCount")
        if self.scenes and count != len(self.scenes):
            raise BadUserInput(
                "sceneCount must equal the number of scenes given", field="sceneCount"
            )
        if target / count < MIN_SCENE_SECONDS:
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
                headline=validated_headline(s.headline, f"scenes[{i}].headline"),
            )
            for i, s in enumerate(self.scenes)
        ]
        if rules is not None and scenes and all(s.duration for s in scenes):
            problem = duration_problem(rules, sum(s.duration or 0 for s in scenes))
            if problem:
                raise _broken(rules, "scenes", problem[0], f"the scenes add up to: {problem[1]}")
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
            aspect_ratio=aspect,
            resolution=self.resolution,
            scene_count=count,
            target_duration=target,
            style=_text(self.style, "style", max_len=200),
            scenes=scenes,
            asset_ids=list(self.asset_ids),
            voice=voice,
            language=language,
            captions=self.captions,
            music=self.music,
            music_asset_id=self.music_asset_id,
            platform=self.platform,
            brand_kit_id=self.brand_kit_id,
            brand=self.brand,
            # "" (no end card) stays "": None would fall back to the kit's.
            call_to_action=None
            if self.call_to_action is None
            else call_to_action(self.call_to_action, "callToAction") or "",
            headlines=self.headlines,
        )

    @property
    def referenced_asset_ids(self) -> list[str]:
        return [*self.asset_ids, *(s.asset_id for s in self.scenes if s.asset_id)]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("brief")
        data.pop("campaign_id")
        return data

    @classmethod
    def from_json(cls, brief: str, campaign_id: str | None, data: dict[str, Any]) -> JobParams:
        """The parameters as stored on a job (`to_json`), with its brief and campaign."""
        values = dict(data)
        values["scenes"] = [SceneParams(**s) for s in values.get("scenes", [])]
        if values.get("brand") is not None:
            values["brand"] = Brand.from_json(values["brand"])
        return cls(brief=brief, campaign_id=campaign_id, **values)


def validated_narration(value: str | None, name: str) -> str | None:
    """A narration line: trimmed, at most MAX_NARRATION_CHARS; empty means none."""
    if value is None:
        return None
    text = " ".join(value.split())
    if len(text) > MAX_NARRATION_CHARS:
        raise BadUserInput(f"{name} must be at most {MAX_NARRATION_CHARS} characters", field=name)
    return text


def validated_headline(value: str | None, name: str) -> str | None:
    """A headline: one line, at most MAX_HEADLINE_CHARS; empty means none."""
    if value is None:
        return None
    text = " ".join(value.split())
    if len(text) > MAX_HEADLINE_CHARS:
        raise BadUserInput(f"{name} must be at most {MAX_HEADLINE_CHARS} characters", field=name)
    return text or None


def _platform_rules(
    rules: Preset | None, aspect: str | None, resolution: str, target: float | None
) -> tuple[str, float]:
    """The aspect ratio and target duration, checked against the platform's row."""
    if aspect is None:
        aspect = rules.aspect_ratio if rules else DEFAULT_ASPECT_RATIO
    _choice(aspect, "aspectRatio", ASPECT_RATIOS)
    _choice(resolution, "resolution", RESOLUTION_NAMES)
    if target is None:
        target = rules.default_seconds if rules else DEFAULT_DURATION
    if not 2 <= target <= 120:
        raise BadUserInput("targetDuration must be 2–120 seconds", field="targetDuration")
    if rules is not None:
        if aspect != rules.aspect_ratio:
            raise _broken(
                rules,
                "aspectRatio",
                "aspect_ratio",
                f"{rules.label} is {rules.aspect_ratio}, not {aspect}",
            )
        problem = size_problem(rules, *frame_size(aspect, resolution))
        if problem:
            raise _broken(rules, "resolution", problem[0], f"resolution {resolution}: {problem[1]}")
        problem = duration_problem(rules, target)
        if problem:
            raise _broken(rules, "targetDuration", problem[0], problem[1])
    return aspect, float(target)


def _broken(rules: Preset, field: str, rule: str, message: str) -> BadUserInput:
    """A platform rule broken: BAD_USER_INPUT naming the field, the platform and the rule."""
    return BadUserInput(
        f"{field}: {message} ({rules.platform.name} {rule} rule)",
        field=field,
        platform=rules.platform.name,
        rule=rule,
    )


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
    aspect_ratio: str | None = None  # None: the platform's (required without one)
    resolution: str = "720p"
    container: str = "mp4"
    fit: str = "crop"
    platform: str | None = None  # checked against its row, here and on the file made

    def validated(self) -> ExportTarget:
        rules = None
        if self.platform is not None:
            _choice(self.platform, "platform", PLATFORMS)
            rules = preset(self.platform)
        aspect = self.aspect_ratio or (rules.aspect_ratio if rules else None)
        if aspect is None:
            raise BadUserInput("give an aspectRatio or a platform", field="aspectRatio")
        _choice(aspect, "aspectRatio", ASPECT_RATIOS)
        _choice(self.resolution, "resolution", RESOLUTION_NAMES)
        _choice(self.container, "container", CONTAINERS)
        _choice(self.fit, "fit", FITS)
        if rules is not None:
            if aspect != rules.aspect_ratio:
                raise _broken(
                    rules, "aspectRatio", "aspect_ratio", f"{rules.label} is {rules.aspect_ratio}"
                )
            if self.container != "mp4":
                raise _broken(rules, "container", "container", f"{rules.label} takes mp4")
            problem = size_problem(rules, *frame_size(aspect, self.resolution))
            if problem:
                raise _broken(
                    rules, "resolution", problem[0], f"resolution {self.resolution}: {problem[1]}"
                )
        return replace(self, aspect_ratio=aspect)

    @property
    def aspect(self) -> str:
        assert self.aspect_ratio is not None, "validate the target first"
        return self.aspect_ratio

    @property
    def preset(self) -> Preset | None:
        return preset(self.platform) if self.platform else None

    @property
    def key(self) -> str:
        key = f"{self.aspect_ratio}/{self.resolution}/{self.container}/{self.fit}"
        return f"{key}/{self.platform}" if self.platform else key
