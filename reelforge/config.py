"""One Settings object, read from the environment (and a `.env` file when present).

Durations are `timedelta` (pydantic accepts seconds or ISO-8601, e.g. `120` or `PT2M`).
In production a missing or placeholder secret stops start-up with a clear message.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from reelforge.db import PoolSettings

DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"
# Every JWT_SECRET example written in this repository (.env.example, docs): a copied
# example is public, so production refuses it (tests/test_config.py keeps this list whole).
EXAMPLE_SECRETS = frozenset({"replace-with-48-random-url-safe-characters-0123456789"})
PLACEHOLDER_SECRETS = frozenset(
    {"", DEV_JWT_SECRET, "change-me", "changeme", "secret", "xxx", *EXAMPLE_SECRETS}
)
_PLACEHOLDER_WORDS = ("change-me", "changeme", "replace-with", "placeholder", "insecure", "example")
MIN_SECRET_CHARS = 32
MIN_SECRET_BITS = 96.0  # estimated from the characters' frequencies; token_urlsafe(48) ≈ 340


def secret_entropy_bits(secret: str) -> float:
    """Shannon entropy of the characters times the length: a rough upper bound on what a
    guesser faces (32 × "a" is 0; 32 random hex digits are about 115)."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    n = len(secret)
    return -n * sum(c / n * math.log2(c / n) for c in counts.values())


def jwt_secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign production tokens, or None."""
    stripped = secret.strip()
    lowered = stripped.lower()
    if lowered in PLACEHOLDER_SECRETS or any(word in lowered for word in _PLACEHOLDER_WORDS):
        return "is missing, a placeholder or an example from the repository"
    if len(stripped) < MIN_SECRET_CHARS:
        return f"must be at least {MIN_SECRET_CHARS} characters (surrounding spaces not counted)"
    if len(set(stripped)) < 10 or secret_entropy_bits(stripped) < MIN_SECRET_BITS:
        return "is too predictable (too few distinct characters, or a repeated pattern)"
    return None


def _seconds(value: object) -> object:
    """Accept plain seconds ("120", "0.5") as well as ISO-8601 ("PT2M") for durations."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
        return float(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_seconds)]


def _rate_limit(value: str) -> str:
    from reelforge.ratelimit import validate_limit

    return validate_limit(value)


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigError(RuntimeError):
    """The configuration cannot run: the message says which setting and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    log_format: Literal["console", "json"] | None = None  # default: json in production

    # Storage and services
    video_storage_path: Path = Path("./data")
    database_url: str | None = None  # default: SQLite file under the storage path
    # Connections per process. A GraphQL operation or a worker step holds one connection
    # from its first query to its commit; the rest wait up to the timeout, then get
    # SERVICE_UNAVAILABLE with retryAfter (a worker step is retried).
    database_pool_size: int = Field(default=10, ge=1, le=500)
    database_max_overflow: int = Field(default=20, ge=0, le=500)
    database_pool_timeout: Duration = timedelta(seconds=10)
    redis_url: str | None = None  # unset: embedded Valkey started by `reelforge serve`
    public_base_url: str | None = None  # enables Replicate webhooks and absolute asset URLs
    # Media: file:///path or s3://bucket/prefix; unset = the folder VIDEO_STORAGE_PATH
    storage_url: str | None = None
    s3_endpoint_url: str | None = Field(  # unset: AWS; Tigris sets AWS_ENDPOINT_URL_S3
        default=None,
        validation_alias=AliasChoices("S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"),
    )
    s3_public_endpoint_url: str | None = None  # what browsers reach, if not the above
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_region: str = "us-east-1"  # Tigris: "auto"
    scratch_max_bytes: int = Field(default=2 << 30, ge=1024 * 1024)  # local copies for FFmpeg

    # Auth
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    signed_url_ttl: Duration = timedelta(hours=1)

    # Generation
    provider: Literal["auto", "preview", "replicate"] = "auto"
    replicate_api_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("REPLICATE_API_TOKEN", "REPLICATE_API_KEY")
    )
    replicate_base_url: str = "https://api.replicate.com"
    replicate_webhook_secret: SecretStr | None = None  # fetched from Replicate when unset
    replicate_poll_interval: Duration = timedelta(seconds=2)
    replicate_image_timeout: Duration = timedelta(seconds=120)
    replicate_video_timeout: Duration = timedelta(seconds=600)
    # Seconds a create may wait on Replicate's rate limit (shared per process) before failing.
    replicate_throttle_budget: Duration = timedelta(seconds=120)
    # `Prefer: wait` for plan and image predictions (0: off, always poll); at most 60 s.
    replicate_prefer_wait: Duration = timedelta(seconds=60)
    # With webhooks on (PUBLIC_BASE_URL), polling is only a safety net this slow.
    replicate_webhook_poll_interval: Duration = timedelta(seconds=30)
    models_file: Path | None = None  # JSON model/price table overriding the defaults
    prediction_retries: int = Field(default=2, ge=0, le=10)
    prediction_retry_backoff: Duration = timedelta(seconds=2)  # doubled on each retry
    # A stage cut short by a transient database error (a dropped connection) runs again
    # after this many seconds times its attempt (at most 30 s).
    transient_retry_delay: Duration = Field(default=timedelta(seconds=2), ge=timedelta(0))
    scene_concurrency: int = Field(default=4, ge=1, le=32)  # per job
    global_concurrency: int = Field(default=8, ge=1, le=256)  # per worker process
    ffmpeg_timeout: Duration = timedelta(minutes=10)

    # Limits
    daily_budget_dollars: float | None = Field(default=None, ge=0)  # per client; off when unset
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    upload_rate_limit: str = "10/minute"
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)  # JSON GraphQL bodies
    graphql_max_depth: int = Field(default=12, ge=2)
    graphql_max_tokens: int = Field(default=2000, ge=50)
    graphql_max_aliases: int = Field(default=15, ge=1)
    # Fields × list sizes (`first`, or a list's most items) one operation may ask for.
    graphql_max_cost: int = Field(default=10_000, ge=10)
    graphql_introspection: bool | None = None  # default: on except in production
    # Browser origins (scheme://host[:port]) allowed to call the API: CORS and websockets.
    # Empty (the default) = same origin only; "*" = any origin (refused in production
    # together with CORS_ALLOW_CREDENTIALS).
    allowed_origins: list[str] = Field(default_factory=list)
    cors_allow_credentials: bool = False  # bearer tokens need no cookies
    graphql_ide: bool | None = None  # GraphiQL at GET /graphql; default: on except in production
    # Slow and idle clients (see reelforge/timeouts.py and docs/operations.md).
    http_header_timeout: Duration = timedelta(seconds=10)  # to finish a request's headers
    http_body_timeout: Duration = timedelta(seconds=30)  # grace before the minimum rate applies
    http_min_body_rate: int = Field(default=16 * 1024, ge=1)  # bytes/s, after the grace
    http_keep_alive_timeout: Duration = timedelta(seconds=5)  # idle between requests
    operation_rate_limit: RateLimit = "600/minute"  # GraphQL operations per user
    # Operations executing at once per API process; the rest wait, taking turns by user
    # (reelforge/admission.py), and are answered SERVICE_UNAVAILABLE after the timeout.
    operation_concurrency: int = Field(default=8, ge=1, le=1000)
    operation_queue_timeout: Duration = Field(default=timedelta(seconds=30), gt=timedelta(0))
    create_job_rate_limit: RateLimit = "30/minute"  # createJob per user
    clamav_url: str | None = None  # tcp://host:3310 enables malware scanning of uploads

    # Jobs
    cache_ttl: Duration = timedelta(seconds=30)
    stuck_job_after: Duration = timedelta(minutes=15)
    worker_metrics_port: int = 9091
    embedded_worker: bool = True  # `serve` runs an arq worker in-process
    # A worker renews this lease on the tasks it runs; a task whose lease lapsed is an orphan
    # (its worker died) and is picked up again by another worker.
    worker_heartbeat_ttl: Duration = timedelta(seconds=30)
    # On SIGTERM a worker takes no new task and lets the running ones finish this long (keep
    # it under the platform's kill timeout); what is left is resumed by the next worker.
    worker_shutdown_grace: Duration = timedelta(seconds=25)
    # The sweep (lost and orphaned tasks, stuck jobs, gauges) runs this often, in seconds.
    sweep_interval: int = Field(default=20, ge=1, le=60)  # best a divisor of 60
    # A progress subscriber that hears nothing this long re-reads the job from the database.
    progress_resync_interval: Duration = timedelta(seconds=10)
    # The API's progress pub/sub link, idle this long, is PINGed before its next use, so a
    # half-open connection is noticed instead of waited on.
    progress_health_check_interval: Duration = Field(default=timedelta(seconds=5), gt=timedelta(0))
    retention_days: float | None = Field(default=None, gt=0)  # finished jobs' media; off unset

    # Outgoing webhooks (reelforge.webhooks)
    webhook_timeout: Duration = timedelta(seconds=10)  # one whole attempt, DNS to answer
    # Waits before each retry: the first three tries within a minute, the last about a day
    # after the event. Plain seconds in the environment: WEBHOOK_RETRY_SCHEDULE='[5, 25]'.
    webhook_retry_schedule: list[Duration] = Field(
        default_factory=lambda: [
            timedelta(seconds=s) for s in (5, 25, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)
        ]
    )
    webhook_disable_after: Duration = timedelta(days=5)  # an endpoint failing this long

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env is Environment.PRODUCTION:
            problem = jwt_secret_problem(self.jwt_secret.get_secret_value())
            if problem:
                raise ConfigError(
                    f"JWT_SECRET {problem}; set a random value of {MIN_SECRET_CHARS}+ "
                    "characters (for example: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')"
                )
            if "*" in self.allowed_origins and self.cors_allow_credentials:
                raise ConfigError(
                    "ALLOWED_ORIGINS='*' with CORS_ALLOW_CREDENTIALS=true would let any site "
                    "act with a user's credentials; list the origins instead"
                )
            if self.public_base_url and not self.public_base_url.lower().startswith("https://"):
                raise ConfigError(
                    "PUBLIC_BASE_URL must be an https:// URL in production: Replicate sends "
                    "webhooks only over HTTPS and does not follow redirects "
                    f"(got {self.public_base_url!r})"
                )
        return self

    @property
    def ide_enabled(self) -> bool:
        if self.graphql_ide is None:
            return not self.is_production
        return self.graphql_ide

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Fly and Heroku hand out postgres:// URLs; SQLAlchemy needs the async driver named.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+asyncpg://" + url.removeprefix(prefix)
            return url
        return f"sqlite+aiosqlite:///{(self.video_storage_path / 'reelforge.db').resolve()}"

    @property
    def database_pool(self) -> PoolSettings:
        # Imported here: settings alone (`reelforge token`, --help) need no SQLAlchemy.
        from reelforge.db import PoolSettings

        return PoolSettings(
            size=self.database_pool_size,
            max_overflow=self.database_max_overflow,
            timeout=self.database_pool_timeout.total_seconds(),
        )

    @property
    def resolved_log_format(self) -> Literal["console", "json"]:
        if self.log_format:
            return self.log_format
        return "json" if self.is_production else "console"

    @property
    def introspection_enabled(self) -> bool:
        if self.graphql_introspection is None:
            return not self.is_production
        return self.graphql_introspection

    @property
    def provider_name(self) -> Literal["preview", "replicate"]:
        if self.provider == "auto":
            return "replicate" if self.replicate_api_token else "preview"
        return self.provider


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
