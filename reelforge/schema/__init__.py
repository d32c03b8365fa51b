"""The GraphQL schema: Query, Mutation, Subscription and the extensions that guard them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.file_uploads import Upload
from strawberry.types import ExecutionResult
from strawberry.types.scalar import ScalarDefinition

from reelforge.config import Settings
from reelforge.resolvers import assets as asset_resolvers
from reelforge.resolvers import brands as brand_resolvers
from reelforge.resolvers import jobs as job_resolvers
from reelforge.resolvers import progress as progress_resolvers
from reelforge.resolvers import webhooks as webhook_resolvers
from reelforge.schema.brands import BrandKit
from reelforge.schema.context import UnitOfWorkExtension
from reelforge.schema.cost import QueryCost
from reelforge.schema.extensions import (
    Admission,
    ErrorCodes,
    OperationMetrics,
    OperationRateLimits,
    ParserCache,
    ValidationCache,
    format_escaped_errors,
)
from reelforge.schema.types import (
    Asset,
    Export,
    Job,
    JobConnection,
    JobProgress,
    ModelInfo,
    PlatformPreset,
    Viewer,
    Voice,
)
from reelforge.schema.webhooks import WebhookDelivery, WebhookDeliveryConnection, WebhookEndpoint


@strawberry.type
class Query:
    job: Job = strawberry.field(
        resolver=job_resolvers.job, description="A job of the caller's client"
    )
    jobs: JobConnection = strawberry.field(
        resolver=job_resolvers.jobs, description="The client's jobs, newest first (first ≤ 100)"
    )
    asset: Asset = strawberry.field(resolver=asset_resolvers.asset)
    viewer: Viewer = strawberry.field(resolver=job_resolvers.viewer)
    models: list[ModelInfo] = strawberry.field(resolver=job_resolvers.models)
    webhook_endpoints: list[WebhookEndpoint] = strawberry.field(
        resolver=webhook_resolvers.webhook_endpoints, description="The client's webhook endpoints"
    )
    webhook_deliveries: WebhookDeliveryConnection = strawberry.field(
        resolver=webhook_resolvers.webhook_deliveries,
        description="An endpoint's deliveries with their attempts, newest first (first ≤ 100)",
    )
    voices: list[Voice] = strawberry.field(
        resolver=job_resolvers.voices,
        description="Voices the provider speaks with (optionally for one language)",
    )
    platforms: list[PlatformPreset] = strawberry.field(
        resolver=brand_resolvers.platforms,
        description="Where an ad can run, with each placement's rules and safe zone",
    )
    brand_kits: list[BrandKit] = strawberry.field(
        resolver=brand_resolvers.brand_kits, description="The client's brand kits"
    )


@strawberry.type
class Mutation:
    create_job: Job = strawberry.mutation(
        resolver=job_resolvers.create_job,
        description="Start a job: the storyboard is generated next",
    )
    upload_asset: Asset = strawberry.mutation(
        resolver=asset_resolvers.upload_asset,
        description="Upload a jpg, png, mp4 or mov, an mp3, wav or m4a music track, or a ttf "
        "or otf font for a brand kit (≤ 50 MB)",
    )
    refine_scene: Job = strawberry.mutation(
        resolver=job_resolvers.refine_scene, description="Change one scene; clears the approval"
    )
    approve_storyboard: Job = strawberry.mutation(resolver=job_resolvers.approve_storyboard)
    render_video: Job = strawberry.mutation(
        resolver=job_resolvers.render_video,
        description="Render an approved storyboard into a video",
    )
    export_video: list[Export] = strawberry.mutation(
        resolver=job_resolvers.export_video,
        description="Other sizes and formats of a completed video",
    )
    cancel_job: Job = strawberry.mutation(resolver=job_resolvers.cancel_job)
    retry_job: Job = strawberry.mutation(resolver=job_resolvers.retry_job)
    delete_job: strawberry.ID = strawberry.mutation(
        resolver=job_resolvers.delete_job,
        description="Remove a job with its rows and media (stills, clips, video, exports); "
        "running work is canceled first. Returns the deleted id",
    )
    delete_asset: strawberry.ID = strawberry.mutation(
        resolver=job_resolvers.delete_asset,
        description="Remove an uploaded asset and its file; CONFLICT while a job in progress "
        "uses it. Returns the deleted id",
    )
    save_brand_kit: BrandKit = strawberry.mutation(
        resolver=brand_resolvers.save_brand_kit,
        description="Create a brand kit, or replace one (input.id); colours #rrggbb, the logo "
        "a png or jpg upload, the font a ttf or otf upload",
    )
    delete_brand_kit: strawberry.ID = strawberry.mutation(
        resolver=brand_resolvers.delete_brand_kit,
        description="Remove a brand kit; jobs made with it keep their copy. Returns the id",
    )
    create_webhook_endpoint: WebhookEndpoint = strawberry.mutation(
        resolver=webhook_resolvers.create_webhook_endpoint,
        description="Receive job events at a URL, signed (Standard Webhooks); the secret is "
        "shown once",
    )
    delete_webhook_endpoint: bool = strawberry.mutation(
        resolver=webhook_resolvers.delete_webhook_endpoint
    )
    rotate_webhook_secret: WebhookEndpoint = strawberry.mutation(
        resolver=webhook_resolvers.rotate_webhook_secret,
        description="A new secret (shown once); the old one also signs for 24 hours",
    )
    enable_webhook_endpoint: WebhookEndpoint = strawberry.mutation(
        resolver=webhook_resolvers.enable_webhook_endpoint,
        description="Turn a disabled endpoint back on",
    )
    redeliver_webhook: WebhookDelivery = strawberry.mutation(
        resolver=webhook_resolvers.redeliver_webhook,
        description="Send a delivery again now, with the same webhook-id",
    )


@strawberry.type
class Subscription:
    job_progress: AsyncGenerator[JobProgress, None] = strawberry.subscription(
        resolver=progress_resolvers.job_progress,
        description="The job's current state, then every change, until it ends",
    )


def _parse_upload(value: object) -> object:
    if not (hasattr(value, "read") and hasattr(value, "filename")):
        raise ValueError(
            "an Upload is a file sent as a multipart request (the GraphQL multipart request "
            "spec), not a value"
        )
    return value


# A string where a file belongs is the client's error (BAD_USER_INPUT), not a crash in the
# resolver.
SCALAR_OVERRIDES: dict[object, Any] = {
    Upload: ScalarDefinition(
        name="Upload",
        description="Represents a file upload.",
        specified_by_url=None,
        serialize=None,
        parse_value=_parse_upload,
        parse_literal=None,
    ),
}


class Schema(strawberry.Schema):
    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        if result.errors:
            result.errors = format_escaped_errors(result.errors)
        return result

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error with a traceback; `ErrorCodes` already logs the
        unexpected ones (with their error id), and expected ones are not worth a traceback."""


@dataclass(frozen=True)
class SchemaLimits:
    """Every setting the schema is built from. Nothing else of the settings may reach the
    schema, so that equal limits can share one build."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    introspection: bool
    production: bool

    @classmethod
    def of(cls, settings: Settings) -> SchemaLimits:
        return cls(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_tokens=settings.graphql_max_tokens,
            max_cost=settings.graphql_max_cost,
            introspection=settings.introspection_enabled,
            production=settings.is_production,
        )


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema for these settings. Built once per distinct `SchemaLimits` (a build
    converts every type, ~10 ms of CPU): a schema holds no state of its own (the admission
    gate belongs to each app's view), so apps with equal limits share it, and with it the
    validation cache, which is keyed by the schema."""
    return _build_schema(SchemaLimits.of(settings))


@lru_cache(maxsize=16)
def _build_schema(limits: SchemaLimits) -> strawberry.Schema:
    # The rules that read only the document, built once: their classes are part of the
    # validation cache's key, so each distinct query text is validated once (graphql-core's
    # validation costs more CPU than running a small query). The cost reads the variables.
    document_rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    if not limits.introspection:
        document_rules.append(NoSchemaIntrospectionCustomRule)
    # Factories, not instances: Strawberry builds fresh extensions for every operation.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=256),  # one parsed document shared by equal operations
        OperationMetrics,
        lambda: ErrorCodes(production=limits.production),
        # After ErrorCodes, so it ends first: a failed commit becomes a coded error.
        UnitOfWorkExtension,
        OperationRateLimits,
        Admission,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: AddValidationRules(document_rules),
        lambda: ValidationCache(maxsize=256),
        lambda: QueryCost(max_cost=limits.max_cost),
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
    )
