"""The GraphQL schema: Query, Mutation, Subscription and the extensions that guard them."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from graphql.validation import NoSchemaIntrospectionCustomRule

from reelforge.config import Settings
from reelforge.resolvers import assets, jobs, progress
from reelforge.schema.extensions import ErrorCodes, OperationMetrics, SessionExtension
from reelforge.schema.types import Asset, Export, Job, JobConnection, JobProgress, ModelInfo, Viewer


@strawberry.type
class Query:
    job: Job = strawberry.field(resolver=jobs.job, description="A job of the caller's client")
    jobs: JobConnection = strawberry.field(
        resolver=jobs.jobs, description="The client's jobs, newest first (first ≤ 100)"
    )
    asset: Asset = strawberry.field(resolver=assets.asset)
    viewer: Viewer = strawberry.field(resolver=jobs.viewer)
    models: list[ModelInfo] = strawberry.field(resolver=jobs.models)


@strawberry.type
class Mutation:
    create_job: Job = strawberry.mutation(
        resolver=jobs.create_job, description="Start a job: the storyboard is generated next"
    )
    upload_asset: Asset = strawberry.mutation(
        resolver=assets.upload_asset, description="Upload a jpg, png, mp4 or mov (≤ 50 MB)"
    )
    refine_scene: Job = strawberry.mutation(
        resolver=jobs.refine_scene, description="Change one scene; clears the approval"
    )
    approve_storyboard: Job = strawberry.mutation(resolver=jobs.approve_storyboard)
    render_video: Job = strawberry.mutation(
        resolver=jobs.render_video, description="Render an approved storyboard into a video"
    )
    export_video: list[Export] = strawberry.mutation(
        resolver=jobs.export_video, description="Other sizes and formats of a completed video"
    )
    cancel_job: Job = strawberry.mutation(resolver=jobs.cancel_job)
    retry_job: Job = strawberry.mutation(resolver=jobs.retry_job)


@strawberry.type
class Subscription:
    job_progress: JobProgress = strawberry.subscription(
        resolver=progress.job_progress,
        description="The job's current state, then every change, until it ends",
    )


def build_schema(settings: Settings) -> strawberry.Schema:
    error_codes = type("ErrorCodesConfigured", (ErrorCodes,), {"production": settings.is_production})
    extensions: list[type[SchemaExtension] | SchemaExtension] = [
        SessionExtension,
        OperationMetrics,
        error_codes,
        QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
    ]
    if not settings.introspection_enabled:
        extensions.append(AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
