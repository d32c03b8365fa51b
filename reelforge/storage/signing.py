"""Signed, expiring asset URLs: ``/api/v2/assets/{id}?expires=<unix>&sig=<hmac>``.

The signature is HMAC-SHA256 over the asset id, its client id and the expiry, with a key
derived from JWT_SECRET (so rotating the secret revokes every URL, and a signature can
never be mistaken for a token). Expiries are rounded up to a 5-minute boundary: the same
asset gets the same URL for a few minutes, so browsers and CDNs can cache it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
from urllib.parse import urlencode

from reelforge.config import Settings
from reelforge.models import Asset

_KEY_CONTEXT = b"reelforge/asset-url/v1"
EXPIRY_GRANULARITY = 300  # seconds


def _key(settings: Settings) -> bytes:
    secret = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()


def asset_signature(settings: Settings, asset_id: str, client_id: str, expires: int) -> str:
    message = f"{asset_id}\n{client_id}\n{expires}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def asset_path(asset_id: str) -> str:
    return f"/api/v2/assets/{asset_id}"


def signed_asset_url(settings: Settings, asset: Asset, *, now: float | None = None) -> str:
    """The URL to download ``asset`` without a token until about ``signed_url_ttl`` from now
    (absolute when PUBLIC_BASE_URL is set, else a path)."""
    now = time.time() if now is None else now
    ttl = settings.signed_url_ttl.total_seconds()
    expires = math.ceil((now + ttl) / EXPIRY_GRANULARITY) * EXPIRY_GRANULARITY
    query = urlencode(
        {"expires": expires, "sig": asset_signature(settings, asset.id, asset.client_id, expires)}
    )
    base = (settings.public_base_url or "").rstrip("/")
    return f"{base}{asset_path(asset.id)}?{query}"


def verify_asset_signature(
    settings: Settings,
    asset_id: str,
    client_id: str,
    expires: str,
    sig: str,
    *,
    now: float | None = None,
) -> bool:
    """True when ``sig`` was made by :func:`signed_asset_url` for this asset and client and
    ``expires`` has not passed. Compared in constant time."""
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return False
    expected = asset_signature(settings, asset_id, client_id, int(expires))
    valid = hmac.compare_digest(expected.encode(), sig.encode("utf-8", errors="replace"))
    now = time.time() if now is None else now
    return valid and int(expires) >= now
