"""A job continues from where it is: interrupted while STITCHING it completes on the next
run."""

from __future__ import annotations

from typing import Any

import httpx

from reelforge.jobs.queue import Task, enqueue_task, task_key
from reelforge.jobs.repository import JobChange
from reelforge.models import JobStatus
from reelforge.runtime import Runtime
from tests.helpers import create_job, mutate, wait_for_status


async def test_a_job_interrupted_while_stitching_completes(
    runtime: Runtime, client: httpx.AsyncClient, worker: Any
) -> None:
    job = await create_job(client, sceneCount=1)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    assert not (await mutate(client, "approveStoryboard", job["id"])).get("errors")
    # Where a worker stopped between the last clip and the stitch leaves a job.
    async with runtime.unit() as unit:
        repo = runtime.jobs(unit)
        row = await repo.get(job["id"], client_id=None)
        row = await repo.transition(row, JobStatus.RENDERING, change=JobChange(event="x"))
        await repo.transition(row, JobStatus.STITCHING, stage="stitch", progress=90)
    await enqueue_task(
        runtime.queue, Task.RENDER.value, job["id"], key=task_key(Task.RENDER, job["id"])
    )
    done = await wait_for_status(client, job["id"], "COMPLETED", timeout=60)
    assert done["video"] is not None and done["progress"] == 100
