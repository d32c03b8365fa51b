"""The task queue: task names, their keys, and the helpers that put a stage on the queue.
The API's service, the worker's stages and the sweep all enqueue through here; a task is
queued after the commit that made it valid (`enqueue_after_commit`), never before."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from arq import ArqRedis
from arq.jobs import Job as ArqJob

from reelforge.db import UnitOfWork

log = structlog.get_logger(__name__)

QUEUE_NAME = "reelforge:queue"
# A claim this old without a worker's lease belongs to a dead worker (WORKER_HEARTBEAT_TTL's
# default; a live worker takes its lease the moment it starts a task).
DEFAULT_LEASE = timedelta(seconds=30)


class Task(StrEnum):
    """arq function names; each stage's key is `<stage>:<entity id>`."""

    STORYBOARD = "generate_storyboard"
    RENDER = "render_video"
    EXPORT = "export_video"

    @property
    def stage(self) -> str:
        return _STAGES[self]


_STAGES = {Task.STORYBOARD: "storyboard", Task.RENDER: "render", Task.EXPORT: "export"}


def task_key(task: Task, entity_id: str) -> str:
    return f"{task.stage}:{entity_id}"


def serialize_task(data: dict[str, Any]) -> bytes:
    return json.dumps(data, default=str).encode()


def deserialize_task(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


async def enqueue(queue: ArqRedis, task: Task, entity_id: str) -> None:
    """Queue a stage once: arq refuses a second task with the same id while one is queued
    or running, so double clicks and retries never run a stage twice."""
    await enqueue_task(queue, task.value, entity_id, key=task_key(task, entity_id))


async def enqueue_task(
    queue: ArqRedis,
    name: str,
    *args: Any,
    key: str,
    defer_until: datetime | None = None,
    grace: timedelta = DEFAULT_LEASE,
    queue_if_missing: bool = True,
) -> str:
    """Queue the task `name` once under `key`, not before `defer_until`; a task held by a
    worker that died (its lease lapsed) is taken back and run again. Says what happened
    (see `jobs.recovery.ensure_queued`)."""
    from reelforge.jobs.recovery import ensure_queued  # recovery reads this module's names

    async def attempt() -> bool:
        job = await queue.enqueue_job(
            name, *args, _job_id=key, _queue_name=QUEUE_NAME, _defer_until=defer_until
        )
        log.info("queue.enqueued", task=name, key=key, duplicate=job is None)
        return job is not None

    return await ensure_queued(queue, key, attempt, grace=grace, queue_if_missing=queue_if_missing)


def enqueue_after_commit(unit: UnitOfWork, queue: ArqRedis, task: Task, entity_id: str) -> None:
    """Queue the task once `unit` commits; nothing is queued if it rolls back."""

    async def send() -> None:
        await enqueue(queue, task, entity_id)

    unit.after_commit(send, key=f"enqueue:{task_key(task, entity_id)}")


async def abort_task(queue: ArqRedis, task: Task, entity_id: str) -> None:
    """Take a queued task off the queue; a running one is aborted at its next await."""
    key = task_key(task, entity_id)
    try:
        await ArqJob(key, queue, _queue_name=QUEUE_NAME, _deserializer=deserialize_task).abort(
            timeout=0
        )
    except TimeoutError:
        pass
    except Exception as exc:
        log.warning("queue.abort.failed", key=key, error=str(exc))
