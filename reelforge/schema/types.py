"""GraphQL types, named for the client. Each wraps a row (or a cached copy of one) and
resolves its relations through the operation's DataLoaders: one batched query per field
whatever the number of objects, and never a repository or a service of its own."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from reelforge.errors import NotFound
from reelforge.jobs.params import ExportTarget, JobParams
from reelforge.jobs.scenes import Scene as SceneData
from reelforge.jobs.scenes import load_scenes
from reelforge.jobs.voiceover import NARRATION_LEAD
from reelforge.media.platforms import Platform as PlatformValue
from reelforge.media.platforms import Preset
from reelforge.models import Asset as AssetRow
from reelforge.models import Export as ExportRow
from reelforge.models import ExportStatus as ExportStatusValue
from reelforge.models import Job as JobRow
from reelforge.models import JobEvent as JobEventRow
from reelforge.models import JobStatus, as_utc
from reelforge.schema.context import Info
from reelforge.storage.signing import signed_asset_url

JobStatusEnum = strawberry.enum(
    JobStatus, name="JobStatus", description="Where a job is in its lifecycle"
)


@strawberry.enum(description="Frame shape of the video")
class AspectRatio(Enum):
    LANDSCAPE_16_9 = "16:9"
    PORTRAIT_9_16 = "9:16"
    SQUARE_1_1 = "1:1"
    PORTRAIT_4_5 = "4:5"


@strawberry.enum(description="Short side of the frame in pixels")
class Resolution(Enum):
    R480P = "480p"
    R720P = "720p"
    R1080P = "1080p"


@strawberry.enum
class Container(Enum):
    MP4 = "mp4"
    WEBM = "webm"
    GIF = "gif"


@strawberry.enum(description="How a video is fitted to another aspect ratio")
class Fit(Enum):
    CROP = "crop"
    PAD = "pad"


@strawberry.enum(description="Captions burned into the video (and written as .srt/.vtt)")
class CaptionStyle(Enum):
    NONE = "none"
    SENTENCE = "sentence"
    WORD = "word"


@strawberry.enum(description="The mood of a generated music bed; NONE for no music")
class MusicMood(Enum):
    NONE = "none"
    UPBEAT = "upbeat"
    CALM = "calm"
    CORPORATE = "corporate"
    DRAMATIC = "dramatic"
    PLAYFUL = "playful"


@strawberry.type(description="A voice the configured provider can speak with")
class Voice:
    id: strawberry.ID
    name: str
    language: str = strawberry.field(description="Language tag, e.g. en, fr, pt-BR")
    gender: str | None
    provider: str


ExportStatus = strawberry.enum(ExportStatusValue, name="ExportStatus")

Platform = strawberry.enum(
    PlatformValue,
    name="Platform",
    description="Where an ad runs: its rules are checked and its safe zone kept clear",
)


@strawberry.type(description="Fractions of the frame a platform's app covers with its UI")
class SafeZone:
    top: float
    bottom: float
    left: float
    right: float


@strawberry.type(description="A placement's published rules, as Reelforge applies them")
class PlatformPreset:
    platform: Platform  # type: ignore[valid-type]
    label: str
    aspect_ratio: AspectRatio
    min_width: int
    min_height: int
    max_side: int | None = strawberry.field(description="Pixels, either side")
    min_seconds: float
    max_seconds: float
    default_seconds: float = strawberry.field(description="A job's targetDuration when not given")
    # Floats: a 4 GB cap is past GraphQL's 32-bit Int.
    min_bytes: float = strawberry.field(description="Bytes")
    max_bytes: float = strawberry.field(description="Bytes")
    min_video_kbps: int | None
    min_audio_kbps: int | None
    max_fps: float | None = strawberry.field(description="The frame rate stays below this")
    safe_zone: SafeZone
    sources: list[str] = strawberry.field(description="Where these figures were published")

    @classmethod
    def from_preset(cls, p: Preset) -> PlatformPreset:
        zone = p.safe_zone
        return cls(
            platform=p.platform,
            label=p.label,
            aspect_ratio=AspectRatio(p.aspect_ratio),
            min_width=p.min_width,
            min_height=p.min_height,
            max_side=p.max_side,
            min_seconds=p.min_seconds,
            max_seconds=p.max_seconds,
            default_seconds=p.default_seconds,
            min_bytes=p.min_bytes,
            max_bytes=p.max_bytes,
            min_video_kbps=p.min_video_kbps,
            min_audio_kbps=p.min_audio_kbps,
            max_fps=p.max_fps,
            safe_zone=SafeZone(top=zone.top, bottom=zone.bottom, left=zone.left, right=zone.right),
            sources=list(p.sources),
        )


@strawberry.type(description="One rule of a platform, checked on the file an export made")
class PlatformCheck:
    rule: str = strawberry.field(description="e.g. max_bytes, min_video_kbps, max_fps")
    passed: bool
    limit: float
    actual: float


async def load_asset(info: Info, asset_id: str | None) -> Asset | None:
    row = await info.context.loaders.assets.load(asset_id) if asset_id else None
    return Asset.from_row(row) if row else None


@strawberry.type(
    description="A stored file: an upload, a generated still or clip, a video or an export"
)
class Asset:
    id: strawberry.ID
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    duration_seconds: float | None
    original_filename: str | None
    created_at: datetime
    loudness_lufs: float | None = strawberry.field(
        description="Integrated loudness of the audio (EBU R128), for videos and exports"
    )
    true_peak_db: float | None = strawberry.field(description="True peak of the audio, dBTP")
    row: strawberry.Private[AssetRow]

    @classmethod
    def from_row(cls, row: AssetRow) -> Asset:
        return cls(
            id=strawberry.ID(row.id),
            kind=row.kind,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            width=row.width,
            height=row.height,
            duration_seconds=row.duration_seconds,
            original_filename=row.original_filename,
            created_at=as_utc(row.created_at),
            loudness_lufs=row.loudness_lufs,
            true_peak_db=row.true_peak_db,
            row=row,
        )

    @strawberry.field(description="A signed URL to download the file; it expires (signedUrlTtl)")
    def url(self, info: Info) -> str:
        return signed_asset_url(info.context.runtime.settings, self.row)


@strawberry.type(description="When one word of a scene's narration is heard")
class WordTiming:
    text: str
    start: float = strawberry.field(description="Seconds from the start of the scene")
    end: float


@strawberry.type(description="One scene of a storyboard")
class Scene:
    index: int
    description: str
    image_prompt: str
    motion_prompt: str
    duration: float
    status: str
    narration: str = strawberry.field(description="The line spoken and captioned over it")
    headline: str | None = strawberry.field(description="Drawn at the top of the scene")
    data: strawberry.Private[SceneData]

    @strawberry.field
    async def image(self, info: Info) -> Asset | None:
        return await load_asset(info, self.data.image_asset_id)

    @strawberry.field(description="The rendered clip of this scene, once rendered")
    async def clip(self, info: Info) -> Asset | None:
        return await load_asset(info, self.data.clip_asset_id)

    @strawberry.field(description="The client's upload this scene uses, if any")
    async def source_asset(self, info: Info) -> Asset | None:
        return await load_asset(info, self.data.source_asset_id)

    @strawberry.field(description="The spoken narration, once rendered")
    async def voice_over(self, info: Info) -> Asset | None:
        return await load_asset(info, self.data.voice_asset_id)

    @strawberry.field(description="Each word of the voice-over and when it is heard, once rendered")
    def words(self) -> list[WordTiming]:
        return [
            WordTiming(
                text=str(text), start=float(start) + NARRATION_LEAD, end=float(end) + NARRATION_LEAD
            )
            for text, start, end in self.data.words or []
        ]


@strawberry.type
class Export:
    id: strawberry.ID
    aspect_ratio: AspectRatio
    resolution: Resolution
    container: Container
    fit: Fit
    status: ExportStatus  # type: ignore[valid-type]
    progress: int
    error: str | None
    created_at: datetime
    platform: Platform | None  # type: ignore[valid-type]
    platform_checks: list[PlatformCheck] | None = strawberry.field(
        description="A platform export's file measured against the platform's rules"
    )
    asset_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: ExportRow) -> Export:
        target = ExportTarget(**row.format)
        return cls(
            id=strawberry.ID(row.id),
            platform=PlatformValue(target.platform) if target.platform else None,
            platform_checks=None
            if row.platform_checks is None
            else [PlatformCheck(**c) for c in row.platform_checks],
            aspect_ratio=AspectRatio(target.aspect),
            resolution=Resolution(target.resolution),
            container=Container(target.container),
            fit=Fit(target.fit),
            status=ExportStatusValue(row.status),
            progress=row.progress,
            error=row.error,
            created_at=as_utc(row.created_at),
            asset_id=row.asset_id,
        )

    @strawberry.field
    async def asset(self, info: Info) -> Asset | None:
        return await load_asset(info, self.asset_id)


@strawberry.type(description="One entry of a job's history")
class JobEvent:
    id: strawberry.ID
    type: str
    message: str | None
    actor: str | None
    scene_index: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: JobEventRow) -> JobEvent:
        scene = (row.data or {}).get("scene")
        return cls(
            id=strawberry.ID(str(row.id)),
            type=row.type,
            message=row.message,
            actor=row.actor,
            scene_index=scene if isinstance(scene, int) else None,
            created_at=as_utc(row.created_at),
        )


@strawberry.type(description="An ad video job: brief, storyboard, approval, render, exports")
class Job:
    id: strawberry.ID
    status: JobStatusEnum  # type: ignore[valid-type]
    stage: str | None
    progress: int
    brief: str
    campaign_id: str | None
    aspect_ratio: AspectRatio
    resolution: Resolution
    scene_count: int
    target_duration: float
    style: str | None
    voice: str | None = strawberry.field(description="The voice-over's voice; null: none")
    language: str
    captions: CaptionStyle
    music: MusicMood
    music_asset_id: strawberry.ID | None
    platform: Platform | None  # type: ignore[valid-type]
    brand_kit_id: strawberry.ID | None = strawberry.field(
        description="The brand kit the job was made with (it keeps a copy of it)"
    )
    call_to_action: str | None = strawberry.field(
        description="On the end card: the job's own, else its brand kit's"
    )
    headlines: bool
    storyboard_version: int
    approved: bool
    approved_at: datetime | None
    approved_by: str | None
    estimated_cost: float | None = strawberry.field(
        description="US dollars; before approval: what rendering will cost"
    )
    actual_cost: float = strawberry.field(description="US dollars paid so far")
    retry_count: int
    error_message: str | None
    cancel_requested: bool
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[JobRow]

    @classmethod
    def from_row(cls, row: JobRow) -> Job:
        params: dict[str, Any] = row.params or {}
        return cls(
            id=strawberry.ID(row.id),
            status=JobStatus(row.status),
            stage=row.stage,
            progress=row.progress or 0,
            brief=row.prompt,
            campaign_id=row.campaign_id,
            aspect_ratio=AspectRatio(params.get("aspect_ratio", "16:9")),
            resolution=Resolution(params.get("resolution", "720p")),
            scene_count=int(params.get("scene_count") or 0),
            target_duration=float(params.get("target_duration") or 0),
            style=params.get("style"),
            voice=params.get("voice"),
            language=params.get("language") or "en",
            captions=CaptionStyle(params.get("captions", "none")),
            music=MusicMood(params.get("music") or "none"),
            music_asset_id=params.get("music_asset_id"),
            platform=PlatformValue(params["platform"]) if params.get("platform") else None,
            brand_kit_id=params.get("brand_kit_id"),
            call_to_action=JobParams.from_json(row.prompt, row.campaign_id, params).cta,
            headlines=bool(params.get("headlines")),
            storyboard_version=row.storyboard_version or 0,
            approved=bool(row.approved),
            approved_at=as_utc(row.approved_at) if row.approved_at else None,
            approved_by=row.approved_by,
            estimated_cost=None if row.estimated_cost is None else float(row.estimated_cost),
            actual_cost=float(row.actual_cost or 0.0),
            retry_count=row.retry_count or 0,
            error_message=row.error_message,
            cancel_requested=bool(row.cancel_requested),
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
            row=row,
        )

    @strawberry.field(description="The storyboard's scenes, in order")
    def scenes(self) -> list[Scene]:
        return [
            Scene(
                index=s.index,
                description=s.description,
                image_prompt=s.image_prompt,
                motion_prompt=s.motion_prompt,
                duration=s.length,
                status=s.status,
                narration=s.narration,
                headline=s.headline or None,
                data=s,
            )
            for s in load_scenes(self.row.storyboard_data)
        ]

    @strawberry.field(description="The raw storyboard document")
    def storyboard(self) -> JSON | None:
        return cast(JSON | None, self.row.storyboard_data)

    @strawberry.field
    async def video(self, info: Info) -> Asset | None:
        return await load_asset(info, self.row.video_asset_id)

    @strawberry.field
    async def thumbnail(self, info: Info) -> Asset | None:
        return await load_asset(info, self.row.thumbnail_asset_id)

    @strawberry.field(description="The captions of the finished video as WebVTT")
    async def captions_vtt(self, info: Info) -> Asset | None:
        return await load_asset(info, self.row.captions_vtt_asset_id)

    @strawberry.field(description="The captions of the finished video as SubRip (.srt)")
    async def captions_srt(self, info: Info) -> Asset | None:
        return await load_asset(info, self.row.captions_srt_asset_id)

    @strawberry.field(description="A signed download URL of the finished video")
    async def video_url(self, info: Info) -> str | None:
        video = await load_asset(info, self.row.video_asset_id)
        return video.url(info) if video else None

    @strawberry.field
    async def exports(self, info: Info) -> list[Export]:
        return [Export.from_row(e) for e in await info.context.loaders.exports.load(self.row.id)]

    @strawberry.field
    async def events(self, info: Info) -> list[JobEvent]:
        return [JobEvent.from_row(e) for e in await info.context.loaders.events.load(self.row.id)]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class JobEdge:
    cursor: str
    node: Job


@strawberry.type
class JobConnection:
    edges: list[JobEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="The caller: client, user, and today's spend against the budget")
class Viewer:
    client_id: str
    user_id: str
    spend_today: float
    daily_budget: float | None
    budget_remaining: float | None
    operation_rate_limit: RateLimitStatus = strawberry.field(
        description="GraphQL operations of this user (this one counted)"
    )
    create_job_rate_limit: RateLimitStatus = strawberry.field(
        description="createJob calls of this user"
    )


@strawberry.type(description="A per-user rate limit and what is left of it")
class RateLimitStatus:
    limit: str = strawberry.field(description='e.g. "600/minute"')
    remaining: int
    reset_in_seconds: int = strawberry.field(
        description="Seconds until the window has room again (0 when it is not full)"
    )


@strawberry.type(description="A configured generation model and what it costs")
class ModelInfo:
    kind: str
    provider: str
    model: str
    estimated_cost: float = strawberry.field(description="US dollars per image, or per 5 s clip")


@strawberry.type(description="One change of a job, as it happens")
class JobProgress:
    job_id: strawberry.ID
    event: str | None
    status: JobStatusEnum  # type: ignore[valid-type]
    stage: str | None
    progress: int
    scene_index: int | None
    message: str | None
    actual_cost: float
    estimated_cost: float | None
    updated_at: datetime | None

    @strawberry.field(description="The whole job as it is now")
    async def job(self, info: Info) -> Job:
        row = await info.context.loaders.jobs.load(str(self.job_id))
        if row is None:
            raise NotFound(f"job {self.job_id} not found", id=str(self.job_id))
        return Job.from_row(row)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> JobProgress:
        updated = payload.get("updatedAt")
        return cls(
            job_id=strawberry.ID(payload["jobId"]),
            event=payload.get("event"),
            status=JobStatus(payload["status"]),
            stage=payload.get("stage"),
            progress=int(payload.get("progress") or 0),
            scene_index=payload.get("sceneIndex"),
            message=payload.get("message"),
            actual_cost=float(payload.get("actualCost") or 0.0),
            estimated_cost=payload.get("estimatedCost"),
            updated_at=datetime.fromisoformat(updated) if updated else None,
        )
