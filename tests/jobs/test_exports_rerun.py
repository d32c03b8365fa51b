"""Failed and stale exports run again: asking again for a FAILED export queues it again,
and the sweep re-queues QUEUED/PROCESSING exports whose task was lost."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
from sqlalchemy import update

from reelforge.jobs import recovery
from reelforge.jobs.queue import QUEUE_NAME
from reelforge.jobs.repository import JobRepository
from reelforge.jobs.tasks import sweep_stuck_jobs
from reelforge.models import Asset, Export, ExportStatus, Job, JobStatus, utcnow
from reelforge.runtime import Runtime
from tests.helpers import gql

EXPORT = """
mutation($id: ID!) {
  exportVideo(jobId: $id, input: {targets: [{aspectRatio: SQUARE_1_1, resolution: R480P}]}) {
    id status error
  }
}
"""


async def completed_job(runtime: Runtime) -> str:
    async with runtime.unit() as unit:
        video = Asset(
            client_id="acme",
            kind="video",
            content_type="video/mp4",
            size_bytes=1,
            sha256="0" * 64,
            storage_key="jobs/x/video/v.mp4",
        )
        unit.session.add(video)
        await unit.session.flush()
        job = await JobRepository(unit).create(
            Job(
                client_id="acme",
                user_id="alice",
                prompt="brief",
                params={},
                status=JobStatus.COMPLETED.value,
                video_asset_id=video.id,
            ),
            actor="alice",
        )
        return job.id


async def test_asking_again_for_a_failed_export_queues_it_again(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    job_id = await completed_job(runtime)
    first = (await gql(client, EXPORT, id=job_id))["data"]["exportVideo"][0]
    assert first["status"] == "QUEUED"
    assert await runtime.redis.exists(f"arq:job:export:{first['id']}")
    # As if the task had run: arq drops it from the queue and deletes its record.
    await runtime.redis.zrem(QUEUE_NAME, f"export:{first['id']}")
    await runtime.redis.delete(f"arq:job:export:{first['id']}")
    async with runtime.unit() as unit:
        await JobRepository(unit).update_export(
            first["id"], status=ExportStatus.FAILED.value, error="disk full"
        )
    again = (await gql(client, EXPORT, id=job_id))["data"]["exportVideo"][0]
    assert again == {"id": first["id"], "status": "QUEUED", "error": None}
    assert await runtime.redis.exists(f"arq:job:export:{first['id']}")


async def test_the_sweep_requeues_an_export_whose_task_was_lost(runtime: Runtime) -> None:
    job_id = await completed_job(runtime)
    period = runtime.settings.stuck_job_after
    async with runtime.unit() as unit:
        repo = JobRepository(unit)
        job = await repo.get(job_id, client_id=None)
        lost = Export(
            job_id=job.id,
            format={"aspect_ratio": "1:1"},
            format_key="lost",
            source_asset_id=job.video_asset_id,
            status=ExportStatus.PROCESSING.value,
        )
        fresh = Export(
            job_id=job.id,
            format={"aspect_ratio": "9:16"},
            format_key="fresh",
            source_asset_id=job.video_asset_id,
            status=ExportStatus.QUEUED.value,
        )
        await repo.add_exports([lost, fresh])
        await unit.session.execute(
            update(Export)
            .where(Export.id == lost.id)
            .values(updated_at=utcnow() - period - timedelta(minutes=1))
        )
    await runtime.queue.set(recovery.EPOCH_KEY, str(time.time() - 3600))  # Redis kept its data
    await sweep_stuck_jobs({"runtime": runtime})
    assert await runtime.redis.exists(f"arq:job:export:{lost.id}")
    assert not await runtime.redis.exists(f"arq:job:export:{fresh.id}")
