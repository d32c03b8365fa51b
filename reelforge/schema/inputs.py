"""GraphQL input types; resolvers turn them into the service's plain parameters."""

from __future__ import annotations

import strawberry

from reelforge.jobs.params import DEFAULT_VOICE, ExportTarget, JobParams, SceneParams
from reelforge.schema.types import (
    AspectRatio,
    CaptionStyle,
    Container,
    Fit,
    MusicMood,
    Platform,
    Resolution,
)


@strawberry.input(description="A scene given explicitly instead of planned from the brief")
class SceneInput:
    description: str
    image_prompt: str | None = None
    motion_prompt: str | None = None
    duration: float | None = strawberry.field(default=None, description="Seconds, 1–15")
    asset_id: strawberry.ID | None = strawberry.field(
        default=None, description="An uploaded image (the still) or clip (the scene) to use"
    )
    narration: str | None = strawberry.field(
        default=None,
        description="The line spoken over the scene (≤ 500 characters); default: the description",
    )
    headline: str | None = strawberry.field(
        default=None, description="On-screen text at the top of the scene (≤ 60 characters)"
    )


@strawberry.input
class CreateJobInput:
    brief: str = strawberry.field(description="What the ad is about, 3–2000 characters")
    campaign_id: str | None = None
    platform: Platform | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Where the ad runs: its rules are checked (BAD_USER_INPUT naming the field "
        "and the rule), its safe zone kept clear; see the `platforms` query",
    )
    aspect_ratio: AspectRatio | None = strawberry.field(
        default=None, description="Default: the platform's, else LANDSCAPE_16_9"
    )
    resolution: Resolution = Resolution.R720P
    scene_count: int | None = strawberry.field(default=None, description="1–12 (default 4)")
    target_duration: float | None = strawberry.field(
        default=None,
        description="Seconds, 2–120 and within the platform's range; default: "
        "the platform's, else 15",
    )
    style: str | None = None
    scenes: list[SceneInput] | None = None
    asset_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Uploaded assets used by the first scenes, in order"
    )
    voice: str | None = strawberry.field(
        default=DEFAULT_VOICE,
        description='A voice id from the `voices` query; null for no voice-over; "default": '
        "the provider's voice for the language",
    )
    language: str | None = strawberry.field(
        default=None,
        description="Language of the voice-over (en, fr, pt-BR…); default: the brief's",
    )
    captions: CaptionStyle = CaptionStyle.WORD
    music: MusicMood = strawberry.field(
        default=MusicMood.UPBEAT, description="Mood of a generated music bed, or NONE"
    )
    music_asset_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An uploaded track (mp3, wav, m4a) used instead of a generated bed",
    )
    brand_kit_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A brand kit (`brandKits`): its logo, colours, font and call to action",
    )
    call_to_action: str | None = strawberry.field(
        default=None,
        description="The end card's call to action (≤ 60 characters), over the brand kit's; "
        '"" for no end card',
    )
    headlines: bool = strawberry.field(
        default=False, description="The planner writes a headline for each scene"
    )

    def to_params(self) -> JobParams:
        return JobParams(
            brief=self.brief,
            campaign_id=self.campaign_id,
            platform=self.platform.value if self.platform else None,
            brand_kit_id=str(self.brand_kit_id) if self.brand_kit_id else None,
            call_to_action=self.call_to_action,
            headlines=self.headlines,
            aspect_ratio=self.aspect_ratio.value if self.aspect_ratio else None,
            resolution=self.resolution.value,
            scene_count=self.scene_count,
            target_duration=self.target_duration,
            style=self.style,
            scenes=[
                SceneParams(
                    description=s.description,
                    image_prompt=s.image_prompt,
                    motion_prompt=s.motion_prompt,
                    duration=s.duration,
                    asset_id=str(s.asset_id) if s.asset_id else None,
                    narration=s.narration,
                    headline=s.headline,
                )
                for s in self.scenes or []
            ],
            asset_ids=[str(a) for a in self.asset_ids or []],
            voice=self.voice,
            language=self.language,
            captions=self.captions.value,
            music=None if self.music is MusicMood.NONE else self.music.value,
            music_asset_id=str(self.music_asset_id) if self.music_asset_id else None,
        )


@strawberry.input(
    description="What to change in one scene; a new prompt or asset makes its still again, "
    "new narration only its voice-over and captions"
)
class RefineSceneInput:
    image_prompt: str | None = None
    motion_prompt: str | None = None
    asset_id: strawberry.ID | None = None
    narration: str | None = strawberry.field(
        default=None, description='The new line spoken over the scene ("" for silence)'
    )


@strawberry.input
class ExportTargetInput:
    aspect_ratio: AspectRatio | None = strawberry.field(
        default=None, description="Required without a platform; default: the platform's"
    )
    resolution: Resolution = Resolution.R720P
    container: Container = Container.MP4
    fit: Fit = Fit.CROP
    platform: Platform | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Checked against the platform's rules, before (BAD_USER_INPUT) and on "
        "the file made (Export.platformChecks)",
    )

    def to_target(self) -> ExportTarget:
        return ExportTarget(
            platform=self.platform.value if self.platform else None,
            aspect_ratio=self.aspect_ratio.value if self.aspect_ratio else None,
            resolution=self.resolution.value,
            container=self.container.value,
            fit=self.fit.value,
        )


@strawberry.input
class ExportVideoInput:
    targets: list[ExportTargetInput]
