"""Job queries and mutations: parse input, call the job service, return a type."""

from __future__ import annotations

import strawberry

from reelforge.jobs.repository import DEFAULT_PAGE_SIZE, encode_cursor
from reelforge.models import JobStatus
from reelforge.providers.base import MusicProvider, PredictionKind, SpeechProvider
from reelforge.ratelimit import CREATE_JOB_LIMIT_KEY, OPERATION_LIMIT_KEY
from reelforge.schema.context import Info
from reelforge.schema.inputs import CreateJobInput, ExportVideoInput, RefineSceneInput
from reelforge.schema.types import (
    Export,
    Job,
    JobConnection,
    JobEdge,
    ModelInfo,
    PageInfo,
    RateLimitStatus,
    Viewer,
    Voice,
)


async def job(info: Info, id: strawberry.ID) -> Job:
    async with info.context.jobs() as jobs:
        return Job.from_row(await jobs.get(str(id)))


async def jobs(
    info: Info,
    first: int = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    status: JobStatus | None = None,
    campaign_id: str | None = None,
) -> JobConnection:
    async with info.context.jobs() as service:
        page = await service.list_jobs(
            first=first, after=after, status=status, campaign_id=campaign_id
        )
    return JobConnection(
        edges=[JobEdge(cursor=encode_cursor(row), node=Job.from_row(row)) for row in page.jobs],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        total_count=page.total_count,
    )


async def viewer(info: Info) -> Viewer:
    principal = info.context.principal
    async with info.context.jobs() as jobs:
        remaining = await jobs.budget_remaining()
        spend_today = await jobs.spend_today()
    settings = info.context.runtime.settings
    return Viewer(
        client_id=principal.client_id,
        user_id=principal.user_id,
        spend_today=round(spend_today, 6),
        daily_budget=info.context.runtime.settings.daily_budget_dollars,
        budget_remaining=None if remaining is None else round(remaining, 6),
        operation_rate_limit=await _limit(info, settings.operation_rate_limit, OPERATION_LIMIT_KEY),
        create_job_rate_limit=await _limit(
            info, settings.create_job_rate_limit, CREATE_JOB_LIMIT_KEY
        ),
    )


async def _limit(info: Info, limit: str, name: str) -> RateLimitStatus:
    principal = info.context.principal
    status = await info.context.runtime.limiter.status(
        limit, name, principal.client_id, principal.user_id
    )
    return RateLimitStatus(
        limit=status.limit, remaining=status.remaining, reset_in_seconds=status.reset_in_seconds
    )


def models(info: Info) -> list[ModelInfo]:
    info.context.principal  # noqa: B018  (authenticated like everything else)
    provider = info.context.runtime.provider
    return [
        ModelInfo(
            kind=kind.value,
            provider=provider.name,
            model=provider.model_for(kind),
            estimated_cost=provider.estimate_cost(kind, duration=5.0),
        )
        for kind in PredictionKind
        if kind not in (PredictionKind.SPEECH, PredictionKind.MUSIC)
        or isinstance(provider, SpeechProvider if kind is PredictionKind.SPEECH else MusicProvider)
    ]


async def voices(info: Info, language: str | None = None) -> list[Voice]:
    provider = info.context.runtime.provider
    async with info.context.jobs() as jobs:
        voices = jobs.voices(language)
    return [
        Voice(
            id=strawberry.ID(v.id),
            name=v.name,
            language=v.language,
            gender=v.gender,
            provider=provider.name,
        )
        for v in voices
    ]


async def create_job(info: Info, input: CreateJobInput) -> Job:
    async with info.context.jobs() as jobs:
        return Job.from_row(await jobs.create(input.to_params()))


async def approve_storyboard(info: Info, job_id: strawberry.ID) -> Job:
    async with info.context.jobs() as jobs:
        return Job.from_row(await jobs.approve(str(job_id)))


async def render_video(info: Info, job_id: strawberry.ID) -> Job:
    async with info.context.jobs() as jobs:
        return Job.from_row(await jobs.render(str(job_id)))


async def refine_scene(
    info: Info, job_id: strawberry.ID, scene_index: int, input: RefineSceneInput
) -> Job:
    async with info.context.jobs() as jobs:
        row = await jobs.refine_scene(
            str(job_id),
            scene_index,
            image_prompt=input.image_prompt,
            motion_prompt=input.motion_prompt,
            asset_id=str(input.asset_id) if input.asset_id else None,
            narration=input.narration,
        )
    return Job.from_row(row)


async def cancel_job(info: Info, job_id: strawberry.ID) -> Job:
    async with info.context.jobs() as jobs:
        return Job.from_row(await jobs.cancel(str(job_id)))


async def delete_job(info: Info, job_id: strawberry.ID) -> strawberry.ID:
    async with info.context.jobs() as jobs:
        return strawberry.ID(await jobs.delete(str(job_id)))


async def delete_asset(info: Info, id: strawberry.ID) -> strawberry.ID:
    async with info.context.jobs() as jobs:
        return strawberry.ID(await jobs.delete_asset(str(id)))


async def retry_job(info: Info, job_id: strawberry.ID) -> Job:
    async with info.context.jobs() as jobs:
        return Job.from_row(await jobs.retry(str(job_id)))


async def export_video(info: Info, job_id: strawberry.ID, input: ExportVideoInput) -> list[Export]:
    targets = [t.to_target() for t in input.targets]
    async with info.context.jobs() as jobs:
        rows = await jobs.export(str(job_id), targets)
    return [Export.from_row(r) for r in rows]
