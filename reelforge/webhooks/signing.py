"""The Standard Webhooks signature (https://www.standardwebhooks.com), the one
implementation used both ways: verifying Replicate's webhooks and signing our own.

A secret is `whsec_` + base64 of the key. The signed content is
`{webhook-id}.{webhook-timestamp}.{body}`; the `webhook-signature` header holds one or more
space-separated `v1,<base64 HMAC-SHA256>` entries (several while a secret is rotated)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
TOLERANCE_SECONDS = 300  # a webhook older or newer than this is refused (replays)


class InvalidWebhook(Exception):
    """The request is not a genuine, fresh webhook."""


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _secret_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidWebhook("the webhook secret is not a whsec_<base64> key") from exc


def sign_webhook(secret: str, webhook_id: str, timestamp: int | str, body: bytes) -> str:
    """The `v1,<base64>` signature of this content with this secret."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(
    secrets_: Iterable[str], webhook_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of one attempt, signed with every secret given (new one first)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(sign_webhook(s, webhook_id, ts, body) for s in secrets_),
    }


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE_SECONDS,
) -> dict[str, Any]:
    """The webhook's JSON payload, once its signature and timestamp are verified.

    Raises InvalidWebhook on a missing header, a timestamp further than `tolerance` seconds
    from `now` (replays), no matching signature, or a body that is not a JSON object."""
    lowered = {key.lower(): value for key, value in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (webhook_id and timestamp and signatures):
        raise InvalidWebhook("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise InvalidWebhook("webhook-timestamp is not a number") from exc
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise InvalidWebhook("webhook-timestamp is outside the accepted window")
    expected = sign_webhook(secret, webhook_id, timestamp, body).split(",", 1)[1]
    for entry in signatures.split():
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            break
    else:
        raise InvalidWebhook("no valid signature")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
        raise InvalidWebhook("the body is not JSON we accept") from exc
    if not isinstance(payload, dict):
        raise InvalidWebhook("the body is not a JSON object")
    return payload
