"""deleteJob, deleteAsset and RETENTION_DAYS through the API, on both backends: nothing of a
deleted job is left in the store or the database; uploads in use are protected; another
client sees nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from reelforge.config import Settings
from reelforge.jobs.retention import expire_media
from reelforge.models import Asset, Export, Job, JobEvent, Prediction, utcnow
from reelforge.runtime import Runtime
from reelforge.storage.seaweed import EmbeddedSeaweed
from tests.conftest import make_token, s3_settings
from tests.helpers import create_job, error_code, gql, mutate, wait_for_status

pytestmark = pytest.mark.slow


@pytest.fixture(params=["file", "s3"])
def settings(
    request: pytest.FixtureRequest, settings: Settings
) -> Settings:  # the shared settings, on each backend in turn
    if request.param == "file":
        return settings
    weed: EmbeddedSeaweed = request.getfixturevalue("seaweed")
    return s3_settings(settings, weed)


async def stored(runtime: Runtime) -> list[str]:
    return sorted([info.key async for info in runtime.blobs.list("")])


async def rows_of(runtime: Runtime, job_id: str) -> dict[str, int]:
    async with runtime.unit() as unit:
        session = unit.session
        counts = {}
        for model in (Job, Asset, Prediction, Export, JobEvent):
            column = Job.id if model is Job else model.job_id  # type: ignore[union-attr]
            query = select(func.count()).select_from(model).where(column == job_id)
            counts[model.__tablename__] = int((await session.execute(query)).scalar_one())
        return counts


async def upload_png(client: httpx.AsyncClient, png: bytes) -> str:
    response = await client.post(
        "/api/v2/upload-asset",
        files={"file": ("brand.png", png, "image/png")},
        headers={"apollo-require-preflight": "1"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def completed_with_export(client: httpx.AsyncClient, **input: Any) -> str:
    job = await create_job(client, sceneCount=1, **input)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    assert not (await mutate(client, "approveStoryboard", job["id"])).get("errors")
    assert not (await mutate(client, "renderVideo", job["id"])).get("errors")
    await wait_for_status(client, job["id"], "COMPLETED")
    body = await gql(
        client,
        "mutation($id: ID!, $i: ExportVideoInput!) { exportVideo(jobId: $id, input: $i) { id } }",
        id=job["id"],
        i={"targets": [{"aspectRatio": "SQUARE_1_1", "resolution": "R480P", "container": "GIF"}]},
    )
    assert not body.get("errors"), body
    for _ in range(600):
        body = await gql(
            client, "query($id: ID!) { job(id: $id) { exports { status } } }", id=job["id"]
        )
        if body["data"]["job"]["exports"][0]["status"] == "COMPLETED":
            return str(job["id"])
        await __import__("asyncio").sleep(0.1)
    raise AssertionError("the export did not finish")


DELETE_JOB = "mutation($id: ID!) { deleteJob(jobId: $id) }"
DELETE_ASSET = "mutation($id: ID!) { deleteAsset(id: $id) }"


async def test_deleting_a_completed_job_leaves_no_object_and_no_row(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, png: bytes
) -> None:
    upload = await upload_png(client, png)
    job_id = await completed_with_export(client, assetIds=[upload])
    before = await stored(runtime)
    assert any(k.startswith(f"jobs/{job_id}/export/") for k in before)
    assert any(k.startswith(f"jobs/{job_id}/normalised/") for k in before)

    # Another client can neither see nor delete it.
    other = {"Authorization": f"Bearer {make_token(runtime.settings, client_id='globex')}"}
    denied = await gql(client, DELETE_JOB, headers=other, id=job_id)
    assert error_code(denied) == "NOT_FOUND"

    body = await gql(client, DELETE_JOB, id=job_id)
    assert body["data"] == {"deleteJob": job_id}, body
    assert [k for k in await stored(runtime) if job_id in k] == []
    assert await rows_of(runtime, job_id) == {
        "jobs": 0,
        "assets": 0,
        "predictions": 0,
        "exports": 0,
        "job_events": 0,
    }
    assert error_code(await gql(client, DELETE_JOB, id=job_id)) == "NOT_FOUND"
    # The client's upload is theirs, not the job's: it stays until deleteAsset.
    assert f"uploads/acme/{upload}.png" in await stored(runtime)
    assert (await gql(client, DELETE_ASSET, id=upload))["data"] == {"deleteAsset": upload}
    assert await stored(runtime) == []


async def test_an_upload_used_by_a_job_in_progress_cannot_be_deleted(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any, png: bytes
) -> None:
    upload = await upload_png(client, png)
    job = await create_job(client, assetIds=[upload])
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")  # not finished: in use
    refused = await gql(client, DELETE_ASSET, id=upload)
    assert error_code(refused) == "CONFLICT", refused
    assert f"uploads/acme/{upload}.png" in await stored(runtime)

    other = {"Authorization": f"Bearer {make_token(runtime.settings, client_id='globex')}"}
    assert error_code(await gql(client, DELETE_ASSET, headers=other, id=upload)) == "NOT_FOUND"

    # deleteJob cancels a job in progress first, then removes it; the upload is free then.
    assert (await gql(client, DELETE_JOB, id=job["id"]))["data"] == {"deleteJob": job["id"]}
    assert (await gql(client, DELETE_ASSET, id=upload))["data"] == {"deleteAsset": upload}
    assert await stored(runtime) == []


async def test_retention_deletes_finished_jobs_media_and_keeps_the_job(
    client: httpx.AsyncClient, runtime: Runtime, worker: Any
) -> None:
    job_id = await completed_with_export(client)
    assert await expire_media(runtime, utcnow()) == 0  # off by default
    runtime.settings = runtime.settings.model_copy(update={"retention_days": 30.0})
    assert await expire_media(runtime, utcnow()) == 0  # finished just now: kept
    assert await expire_media(runtime, utcnow() + timedelta(days=31)) == 1
    assert [k for k in await stored(runtime) if job_id in k] == []
    rows = await rows_of(runtime, job_id)
    assert (rows["jobs"], rows["assets"], rows["exports"]) == (1, 0, 0)
    body = await gql(
        client,
        "query($id: ID!) { job(id: $id) { status video { id } events { type } } }",
        id=job_id,
    )
    job = body["data"]["job"]
    assert job["status"] == "COMPLETED" and job["video"] is None
    assert "media_deleted" in [e["type"] for e in job["events"]]
    assert await expire_media(runtime, utcnow() + timedelta(days=31)) == 0  # nothing left


@pytest.fixture(scope="module")
def png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import subprocess

    from reelforge.media.ffmpeg import ffmpeg_exe

    path = tmp_path_factory.mktemp("png") / "brand.png"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=s=320x240:d=1",
            "-frames:v",
            "1",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()
