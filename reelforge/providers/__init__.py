"""Generation backends behind one interface (`base.Provider`): `replicate` (paid, httpx) and
`preview` (local, free). `build_provider` picks one from the settings."""

from __future__ import annotations

import httpx

from reelforge.config import ConfigError, Settings
from reelforge.providers.base import Provider
from reelforge.providers.catalog import load_catalog
from reelforge.providers.preview import PreviewProvider
from reelforge.providers.replicate import ReplicateProvider
from reelforge.providers.webhooks import PredictionWakeups, fetch_default_webhook_secret

WEBHOOK_PATH = "/webhooks/replicate"

__all__ = [
    "WEBHOOK_PATH",
    "build_provider",
    "resolve_webhook_secret",
    "webhook_url",
]


def webhook_url(settings: Settings) -> str | None:
    """Where Replicate should send completion webhooks; None without a public URL."""
    if not settings.public_base_url:
        return None
    return settings.public_base_url.rstrip("/") + WEBHOOK_PATH


def build_provider(
    settings: Settings,
    *,
    http: httpx.AsyncClient | None = None,
    wakeups: PredictionWakeups | None = None,
) -> Provider:
    """The provider named by `settings.provider_name`. `http` (optional) is used as is and not
    closed by the provider; `wakeups` lets webhooks cut polling short."""
    if settings.provider_name == "preview":
        return PreviewProvider(ffmpeg_timeout=settings.ffmpeg_timeout.total_seconds())
    if settings.replicate_api_token is None or not settings.replicate_api_token.get_secret_value():
        raise ConfigError("PROVIDER=replicate needs REPLICATE_API_TOKEN")
    return ReplicateProvider(
        token=settings.replicate_api_token.get_secret_value(),
        catalog=load_catalog(settings.models_file),
        base_url=settings.replicate_base_url,
        http=http,
        poll_interval=settings.replicate_poll_interval.total_seconds(),
        image_timeout=settings.replicate_image_timeout.total_seconds(),
        video_timeout=settings.replicate_video_timeout.total_seconds(),
        plan_timeout=settings.replicate_image_timeout.total_seconds(),
        prefer_wait=int(settings.replicate_prefer_wait.total_seconds()),
        webhook_url=webhook_url(settings),
        webhook_poll_interval=settings.replicate_webhook_poll_interval.total_seconds(),
        wakeups=wakeups,
        throttle_budget=settings.replicate_throttle_budget.total_seconds(),
    )


async def resolve_webhook_secret(settings: Settings, http: httpx.AsyncClient) -> str:
    """REPLICATE_WEBHOOK_SECRET when set, else the account's default secret from Replicate."""
    if settings.replicate_webhook_secret is not None:
        secret = settings.replicate_webhook_secret.get_secret_value()
        if secret:
            return secret
    if settings.replicate_api_token is None:
        raise ConfigError("webhooks need REPLICATE_WEBHOOK_SECRET or REPLICATE_API_TOKEN")
    return await fetch_default_webhook_secret(
        http, settings.replicate_base_url, settings.replicate_api_token.get_secret_value()
    )
