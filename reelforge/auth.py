"""JWT verification and development-token minting. A token carries `sub` (the user),
`client_id` (the tenant) and `exp`; only the configured HMAC algorithm is accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

from reelforge.config import Settings
from reelforge.errors import Unauthenticated

# Ids end up in storage paths and cache keys: keep them boring (always `fullmatch`: `$`
# would accept a trailing newline, making "acme\n" a tenant of its own).
ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,128}")


@dataclass(frozen=True)
class Principal:
    client_id: str
    user_id: str
    # When the token stops being valid (Unix time); websockets end their operations then.
    expires_at: float | None = field(default=None, compare=False)


def mint_token(settings: Settings, *, client_id: str, user_id: str, ttl: timedelta) -> str:
    for name, value in (("client", client_id), ("user", user_id)):
        if not ID_PATTERN.fullmatch(value):
            raise ValueError(f"{name} id must match {ID_PATTERN.pattern}")
    now = datetime.now(UTC)
    claims = {"sub": user_id, "client_id": client_id, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)


def verify_token(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub", "client_id"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    client_id, user_id = claims.get("client_id"), claims.get("sub")
    if not isinstance(client_id, str) or not ID_PATTERN.fullmatch(client_id):
        raise Unauthenticated("invalid token: bad client_id claim")
    if not isinstance(user_id, str) or not ID_PATTERN.fullmatch(user_id):
        raise Unauthenticated("invalid token: bad sub claim")
    exp = claims.get("exp")
    expires_at = float(exp) if isinstance(exp, int | float) else None
    return Principal(client_id=client_id, user_id=user_id, expires_at=expires_at)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def principal_from_header(settings: Settings, authorization: str | None) -> Principal:
    """The caller of a plain HTTP request; UNAUTHENTICATED without a valid bearer token."""
    token = bearer_token(authorization)
    if token is None:
        raise Unauthenticated("missing bearer token (Authorization: Bearer <JWT>)")
    return verify_token(settings, token)
