"""GET /api/v2/assets/{id}: bearer token or signed URL, Range requests, ETag, tenancy."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from reelforge.models import Asset
from reelforge.runtime import Runtime
from reelforge.storage.signing import signed_asset_url, verify_asset_signature
from tests.storage.conftest import (
    OTHER_CLIENT,
    Media,
    bearer,
    client_for,
    make_settings,
    upload,
)


async def _uploaded(client: httpx.AsyncClient, runtime: Runtime, data: bytes) -> dict[str, Any]:
    response = await upload(client, runtime.settings, data)
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()
    return asset


def _row(asset_id: str, client_id: str) -> Asset:
    """A transient asset row: all that signing looks at."""
    return Asset(id=asset_id, client_id=client_id)


async def test_range_request_returns_the_right_bytes(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    asset = await _uploaded(client, runtime, media.mp4)
    url = f"/api/v2/assets/{asset['id']}"
    auth = bearer(runtime.settings)
    size = len(media.mp4)

    part = await client.get(url, headers={**auth, "range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.content == media.mp4[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{size}"
    assert part.headers["content-length"] == "90"
    assert part.headers["content-type"] == "video/mp4"

    tail = await client.get(url, headers={**auth, "range": "bytes=-50"})
    assert tail.status_code == 206
    assert tail.content == media.mp4[-50:]

    open_ended = await client.get(url, headers={**auth, "range": f"bytes={size - 5}-"})
    assert open_ended.content == media.mp4[-5:]

    unsatisfiable = await client.get(url, headers={**auth, "range": f"bytes={size}-"})
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == f"bytes */{size}"

    # If-Range with the current ETag keeps the range; a stale validator gets the whole file.
    etag = part.headers["etag"]
    same = await client.get(url, headers={**auth, "range": "bytes=0-3", "if-range": etag})
    assert same.status_code == 206
    stale = await client.get(url, headers={**auth, "range": "bytes=0-3", "if-range": '"old"'})
    assert stale.status_code == 200
    assert stale.content == media.mp4


async def test_head_and_conditional_get(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    asset = await _uploaded(client, runtime, media.jpg)
    url = f"/api/v2/assets/{asset['id']}"
    auth = bearer(runtime.settings)
    head = await client.head(url, headers=auth)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(media.jpg))
    assert head.headers["x-content-type-options"] == "nosniff"
    assert head.headers["etag"] == f'"{asset["sha256"]}"'

    cached = await client.get(url, headers={**auth, "if-none-match": head.headers["etag"]})
    assert cached.status_code == 304
    assert cached.content == b""


async def test_another_clients_asset_is_not_found(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    asset = await _uploaded(client, runtime, media.png)
    response = await client.get(
        f"/api/v2/assets/{asset['id']}", headers=bearer(runtime.settings, OTHER_CLIENT)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    missing = await client.get(
        "/api/v2/assets/00000000-0000-0000-0000-000000000000", headers=bearer(runtime.settings)
    )
    assert missing.status_code == 404


async def test_asset_without_credentials_is_unauthenticated(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    asset = await _uploaded(client, runtime, media.png)
    response = await client.get(f"/api/v2/assets/{asset['id']}")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_signed_url_serves_the_file_until_it_expires(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    asset = await _uploaded(client, runtime, media.png)
    url = asset["url"]
    assert url.startswith(f"/api/v2/assets/{asset['id']}?expires=")
    ok = await client.get(url)
    assert ok.status_code == 200
    assert ok.content == media.png
    max_age = int(ok.headers["cache-control"].split("max-age=")[1])
    assert 3600 <= max_age <= 3600 + 300
    ranged = await client.get(url, headers={"range": "bytes=0-7"})
    assert ranged.status_code == 206
    assert ranged.content == media.png[:8]

    # Expired: signed two hours ago with a one-hour lifetime.
    row = _row(asset["id"], "acme")
    expired = signed_asset_url(runtime.settings, row, now=time.time() - 2 * 3600)
    response = await client.get(expired)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def _tampered(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


async def test_tampered_signed_urls_are_forbidden(
    client: httpx.AsyncClient, runtime: Runtime, media: Media
) -> None:
    first = await _uploaded(client, runtime, media.png)
    second = await _uploaded(client, runtime, media.jpg)
    url = first["url"]
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    attempts = [
        _tampered(url, sig=flipped),  # another signature
        _tampered(url, expires=str(expires + 86400)),  # a later expiry
        _tampered(url, sig=""),  # none at all
        _tampered(url, expires="soon"),
        url.replace(first["id"], second["id"]),  # first's signature on second
        url.replace(first["id"], "00000000-0000-0000-0000-000000000000"),  # no such asset
    ]
    for attempt in attempts:
        response = await client.get(attempt)
        assert response.status_code == 403, attempt
        assert response.json()["error"]["code"] == "FORBIDDEN"


async def test_signature_is_bound_to_the_client(
    make_runtime: Callable[..., Awaitable[Runtime]], media: Media
) -> None:
    runtime = await make_runtime()
    async with client_for(runtime) as client:
        asset = await _uploaded(client, runtime, media.png)
        forged = signed_asset_url(runtime.settings, _row(asset["id"], OTHER_CLIENT))
        response = await client.get(forged)
    assert response.status_code == 403


def test_verify_asset_signature_checks_expiry_and_constant_parts(storage: Path) -> None:
    settings = make_settings(storage)
    now = 1_700_000_000.0
    url = signed_asset_url(settings, _row("a1", "c1"), now=now)
    query = parse_qs(urlsplit(url).query)
    expires, sig = query["expires"][0], query["sig"][0]
    assert int(expires) % 300 == 0
    assert now + 3600 <= int(expires) < now + 3600 + 300
    assert verify_asset_signature(settings, "a1", "c1", expires, sig, now=now)
    assert verify_asset_signature(settings, "a1", "c1", expires, sig, now=int(expires))
    assert not verify_asset_signature(settings, "a1", "c1", expires, sig, now=int(expires) + 1)
    assert not verify_asset_signature(settings, "a1", "c2", expires, sig, now=now)
    assert not verify_asset_signature(settings, "a2", "c1", expires, sig, now=now)
    assert not verify_asset_signature(settings, "a1", "c1", "-1", sig, now=now)
    assert not verify_asset_signature(settings, "a1", "c1", expires, sig + "é", now=now)
    # Another secret, another signature.
    other = make_settings(storage, jwt_secret="another-secret-" + "y" * 40)
    assert not verify_asset_signature(other, "a1", "c1", expires, sig, now=now)


def test_public_base_url_makes_absolute_urls(storage: Path) -> None:
    settings = make_settings(storage, public_base_url="https://reelforge.example/")
    url = signed_asset_url(settings, _row("a1", "c1"))
    assert url.startswith("https://reelforge.example/api/v2/assets/a1?expires=")


@pytest.mark.parametrize("path", ["/api/v2/assets/..%2F..%2Fetc%2Fpasswd", "/api/v2/assets/a%00b"])
async def test_odd_asset_ids_are_not_found(
    client: httpx.AsyncClient, runtime: Runtime, path: str
) -> None:
    response = await client.get(path, headers=bearer(runtime.settings))
    assert response.status_code == 404
