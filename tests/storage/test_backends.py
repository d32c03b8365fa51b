"""The blob stores, the upload service and the asset route against both backends: the local
folder and S3 (a real SeaweedFS started for the session)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from reelforge.config import Settings
from reelforge.runtime import Runtime
from reelforge.storage.blobs import BlobStore, LocalBlobStore, open_blob_store_url
from reelforge.storage.seaweed import EmbeddedSeaweed
from reelforge.storage.sync import sync_stores
from tests.conftest import S3_BUCKET, s3_settings
from tests.storage.conftest import CLIENT, Media, bearer, client_for, make_settings, upload

BACKENDS = ["file", "s3"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def backend_runtime(
    backend: str,
    make_runtime: Callable[..., Awaitable[Runtime]],
    storage: Path,
    request: pytest.FixtureRequest,
) -> Runtime:
    if backend == "file":
        return await make_runtime(max_upload_bytes=12 * 1024 * 1024)
    weed: EmbeddedSeaweed = request.getfixturevalue("seaweed")
    settings = s3_settings(make_settings(storage), weed, max_upload_bytes=12 * 1024 * 1024)
    return await make_runtime(
        **{k: getattr(settings, k) for k in ("storage_url", "s3_endpoint_url", "max_upload_bytes")},
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
    )


async def stored_media(blobs: BlobStore) -> list[str]:
    return sorted([info.key async for info in blobs.list("")])


async def fetch(client: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    """GET through the app; a redirect to the object store is followed over real HTTP."""
    response = await client.get(url, headers=headers)
    if response.status_code != 307:
        return response
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:")  # the store itself, presigned
    async with httpx.AsyncClient() as real:
        return await real.get(location, headers=headers)


async def test_upload_is_stored_and_served_with_ranges(
    backend_runtime: Runtime, media: Media
) -> None:
    runtime = backend_runtime
    async with client_for(runtime) as client:
        response = await upload(client, runtime.settings, media.mp4, filename="a.mp4")
        assert response.status_code == 201, response.text
        asset = response.json()
        key = f"uploads/{CLIENT}/{asset['id']}.mp4"
        assert await stored_media(runtime.blobs) == [key]
        assert await runtime.blobs.read_bytes(key) == media.mp4

        token = bearer(runtime.settings)["authorization"]
        ranged = await fetch(
            client, f"/api/v2/assets/{asset['id']}", authorization=token, range="bytes=10-109"
        )
        assert ranged.status_code == 206
        assert ranged.content == media.mp4[10:110]
        assert ranged.headers["content-type"] == "video/mp4"

        # The signed URL works without a token, Range included.
        by_url = await fetch(client, asset["url"], range="bytes=0-3")
        assert by_url.status_code == 206
        assert by_url.content == media.mp4[:4]
    assert runtime.blobs.scratch.files() == []


async def test_signed_url_redirect_expires_with_the_signed_url(
    backend_runtime: Runtime, media: Media
) -> None:
    runtime = backend_runtime
    if isinstance(runtime.blobs, LocalBlobStore):
        pytest.skip("the local folder is served by the API itself")
    async with client_for(runtime) as client:
        asset = (await upload(client, runtime.settings, media.png)).json()
        response = await client.get(asset["url"])
    assert response.status_code == 307
    location = httpx.URL(response.headers["location"])
    ttl = int(location.params["X-Amz-Expires"])
    signed_expiry = int(httpx.URL(asset["url"]).params["expires"])
    import time

    assert abs(ttl - (signed_expiry - time.time())) < 5


async def test_presigned_urls_are_signed_for_the_public_endpoint(settings: Settings) -> None:
    """Inside compose the app reaches the bucket at http://seaweedfs:8333; browsers at the
    published address. Signing is local: no server is needed for this."""
    from reelforge.storage.s3 import S3BlobStore

    public = settings.model_copy(
        update={
            "s3_endpoint_url": "http://seaweedfs:8333",
            "s3_public_endpoint_url": "https://media.example.com",
            "aws_access_key_id": "key",
            "aws_secret_access_key": SecretStr("secret"),
        }
    )
    store = S3BlobStore.from_url("s3://bucket/prefix", public)
    try:
        url = httpx.URL(await store.presigned_url("jobs/j/video/v.mp4", 600) or "")
    finally:
        await store.aclose()
    assert (url.scheme, url.host) == ("https", "media.example.com")
    assert url.path == "/bucket/prefix/jobs/j/video/v.mp4"
    assert url.params["X-Amz-Expires"] == "600"


async def test_providers_get_presigned_urls_only_from_a_public_store(
    backend_runtime: Runtime, settings: Settings
) -> None:
    """A provider on the internet can fetch from AWS/R2/Tigris (https), not from a local
    folder or a compose SeaweedFS on http: then the still is uploaded as before."""
    from reelforge.storage.s3 import S3BlobStore

    assert await backend_runtime.blobs.provider_url("jobs/j/image/s.png") is None
    public = S3BlobStore.from_url(
        "s3://bucket/p",
        settings.model_copy(
            update={
                "s3_endpoint_url": "https://fly.storage.tigris.dev",
                "aws_access_key_id": "key",
                "aws_secret_access_key": SecretStr("secret"),
            }
        ),
    )
    try:
        url = httpx.URL(await public.provider_url("jobs/j/image/s.png") or "")
    finally:
        await public.aclose()
    assert (url.scheme, url.host, url.path) == (
        "https",
        "fly.storage.tigris.dev",
        "/bucket/p/jobs/j/image/s.png",
    )
    assert int(url.params["X-Amz-Expires"]) == 6 * 3600


@pytest.mark.parametrize("case", ["unreadable", "too-large"])
async def test_refused_upload_leaves_nothing_behind(
    backend_runtime: Runtime, media: Media, case: str
) -> None:
    runtime = backend_runtime
    data = (
        media.jpg[:200] + bytes(5000)
        if case == "unreadable"
        else media.mp4 + bytes(runtime.settings.max_upload_bytes)
    )
    async with client_for(runtime) as client:
        response = await upload(client, runtime.settings, data)
    assert response.status_code in (413, 415), response.text
    assert await stored_media(runtime.blobs) == []
    assert runtime.blobs.scratch.files() == []


async def test_large_upload_goes_up_in_parts(backend_runtime: Runtime, media: Media) -> None:
    from tests.storage.test_uploads import padded_mp4

    runtime = backend_runtime
    data = padded_mp4(media.mp4, 11 * 1024 * 1024)  # over two 5 MiB parts
    async with client_for(runtime) as client:
        response = await upload(client, runtime.settings, data, filename="big.mp4")
    assert response.status_code == 201, response.text
    asset = response.json()
    key = f"uploads/{CLIENT}/{asset['id']}.mp4"
    assert await runtime.blobs.size(key) == len(data)
    async with runtime.blobs.local(key) as path:
        assert path.read_bytes() == data
    assert runtime.blobs.scratch.files() == []


async def test_local_copies_prefix_deletes_and_readiness(backend_runtime: Runtime) -> None:
    blobs = backend_runtime.blobs
    await blobs.put_bytes("jobs/j1/clip/a.mp4", b"a" * 10, content_type="video/mp4")
    await blobs.put_bytes("jobs/j1/normalised/b.mp4", b"b" * 20)
    await blobs.put_bytes("jobs/j2/clip/c.mp4", b"c")
    async with blobs.local("jobs/j1/clip/a.mp4") as path:
        assert path.read_bytes() == b"a" * 10
    with pytest.raises(FileNotFoundError):
        async with blobs.local("jobs/j1/clip/missing.mp4"):
            pass
    assert await blobs.delete_prefix("jobs/j1/") == 2
    assert await stored_media(blobs) == ["jobs/j2/clip/c.mp4"]
    await blobs.check_writable()
    assert await stored_media(blobs) == ["jobs/j2/clip/c.mp4"]
    assert blobs.scratch.files() == []
    if isinstance(blobs, LocalBlobStore):
        assert not (blobs.root / "jobs" / "j1").exists()  # no empty folders left


async def test_scratch_left_by_a_dead_process_is_cleaned_at_start_up(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    blobs = (await make_runtime()).blobs
    parent = blobs.scratch.parent
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    crashed = parent / f"{blobs.scratch.host}-{dead}-deadbeef"
    crashed.mkdir(parents=True)
    (crashed / "half-a-clip.mp4").write_bytes(b"x" * 100)
    alive = parent / f"{blobs.scratch.host}-{os.getppid()}-cafebabe"  # another live process
    alive.mkdir()
    blobs.start()
    assert not crashed.exists()
    assert alive.exists()
    assert blobs.scratch.dir.exists()


async def test_migrate_copies_a_hundred_assets_once_and_resumes(
    seaweed: EmbeddedSeaweed, settings: Settings, tmp_path: Path
) -> None:
    local = LocalBlobStore(tmp_path / "local")
    for i in range(100):
        await local.put_bytes(f"uploads/acme/{i:03}.jpg", f"image {i}".encode() * 10)
    target_settings = s3_settings(settings, seaweed)
    assert target_settings.storage_url
    s3 = open_blob_store_url(target_settings.storage_url, target_settings)
    try:
        first = await sync_stores(local, s3)
        assert (first.copied, first.skipped) == (100, 0)
        again = await sync_stores(local, s3)
        assert (again.copied, again.skipped) == (0, 100)
        # Cut short: whatever is missing is copied on the next run, nothing else.
        await s3.delete_many([f"uploads/acme/{i:03}.jpg" for i in range(10)])
        resumed = await sync_stores(local, s3)
        assert (resumed.copied, resumed.skipped) == (10, 90)
        assert await s3.read_bytes("uploads/acme/007.jpg") == b"image 7" * 10
    finally:
        await s3.aclose()
        await local.aclose()


def test_storage_cli_migrates_then_backs_the_bucket_up(
    seaweed: EmbeddedSeaweed, settings: Settings, tmp_path: Path
) -> None:
    """`reelforge storage migrate` then `reelforge storage sync` (a backup of the bucket to
    a folder), as an operator runs them; each second run copies nothing."""
    data = tmp_path / "data"
    (data / "uploads" / "acme").mkdir(parents=True)
    (data / "uploads" / "acme" / "one.png").write_bytes(b"png" * 100)
    (data / "jobs" / "j" / "video").mkdir(parents=True)
    (data / "jobs" / "j" / "video" / "v.mp4").write_bytes(b"mp4" * 1000)
    (data / "reelforge.db").write_bytes(b"not media")  # never copied
    target = s3_settings(settings, seaweed)
    assert target.storage_url and target.aws_secret_access_key
    env: dict[str, Any] = {
        **os.environ,
        "VIDEO_STORAGE_PATH": str(data),
        "S3_ENDPOINT_URL": seaweed.endpoint_url,
        "AWS_ACCESS_KEY_ID": seaweed.access_key,
        "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
        "LOG_LEVEL": "WARNING",
    }

    def cli(*args: str, **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "reelforge.cli", "storage", *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "copied 2 objects" in cli("migrate", "--to", target.storage_url)
    assert "copied 0 objects" in cli("migrate", "--to", target.storage_url)
    backup = (tmp_path / "backup").as_uri()
    out = cli("sync", "--to", backup, STORAGE_URL=target.storage_url)
    assert "copied 2 objects" in out
    assert (tmp_path / "backup" / "jobs" / "j" / "video" / "v.mp4").read_bytes() == b"mp4" * 1000
    assert not (tmp_path / "backup" / "reelforge.db").exists()
    assert "copied 0 objects" in cli("sync", "--to", backup, STORAGE_URL=target.storage_url)
    assert S3_BUCKET in target.storage_url
