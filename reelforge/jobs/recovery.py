"""Recovery of queued work: what the queue knows about a task (queued, running, whose
worker runs it), and taking back the tasks of a worker that died.

A task's key is its stage and entity (`render:{job_id}`), so a double click or a retry never
runs a stage twice at once. arq marks a started task "in progress" for the whole job timeout
(2 h) and keeps it queued until it finishes; a worker killed with SIGKILL leaves both behind,
and arq would refuse the key until the mark expires. So every worker heartbeats the tasks it
runs (`owner_key`, a short TTL); a task in progress whose owner stopped heartbeating is an
orphan, and its mark is released so any live worker picks it up again (`ensure_queued`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import structlog
from arq import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix

from reelforge.runtime import QUEUE_NAME

log = structlog.get_logger(__name__)

JOB_TIMEOUT = timedelta(hours=2)
# arq's in-progress mark lives this long (its own rule: the job timeout plus 10 s).
IN_PROGRESS_TTL = JOB_TIMEOUT + timedelta(seconds=10)

EPOCH_KEY = "reelforge:redis-since"  # absent: this Redis is new or lost its data
OWNER_PREFIX = "reelforge:task-owner:"
WORKER_PREFIX = "reelforge:worker:"

Outcome = Literal["queued", "already_queued", "running", "released", "requeued", "recent"]


def owner_key(key: str) -> str:
    return OWNER_PREFIX + key


def worker_key(worker_id: str) -> str:
    return WORKER_PREFIX + worker_id


@dataclass(frozen=True)
class TaskState:
    queued: bool  # waiting in the queue (or started: arq keeps it there until it finishes)
    in_progress: bool  # a worker claimed it
    owner: str | None  # the worker heartbeating it, if any
    started_seconds_ago: float | None

    def orphaned(self, grace: timedelta) -> bool:
        """Claimed by a worker that is gone: no heartbeat, and claimed long enough ago that
        a live worker would have sent one."""
        return (
            self.in_progress
            and self.owner is None
            and (self.started_seconds_ago or 0.0) > grace.total_seconds()
        )


async def task_state(queue: ArqRedis, key: str) -> TaskState:
    async with queue.pipeline(transaction=False) as pipe:
        pipe.zscore(QUEUE_NAME, key)
        pipe.pttl(in_progress_key_prefix + key)
        pipe.get(owner_key(key))
        score, pttl, owner = await pipe.execute()
    in_progress = pttl is not None and pttl != -2
    age = None
    if in_progress:
        remaining = pttl / 1000 if pttl >= 0 else IN_PROGRESS_TTL.total_seconds()
        age = max(0.0, IN_PROGRESS_TTL.total_seconds() - remaining)
    return TaskState(
        queued=score is not None,
        in_progress=in_progress,
        owner=owner.decode() if isinstance(owner, bytes) else owner,
        started_seconds_ago=age,
    )


async def ensure_queued(
    queue: ArqRedis,
    key: str,
    enqueue: Callable[[], Awaitable[bool]],
    *,
    grace: timedelta,
    queue_if_missing: bool = True,
) -> Outcome:
    """Make sure the task `key` will run: leave it to the live worker running it, or take it
    back from a worker that is gone, or queue it (`enqueue` answers whether arq took it).
    With `queue_if_missing=False` a task found nowhere is left alone ("recent": the sweep
    passes that for a job written moments ago, whose worker may not have renewed its lease
    yet after a Redis restart). Says which happened."""
    if await queue.exists(owner_key(key)):
        return "running"  # a live worker holds its lease
    state = await task_state(queue, key)
    if state.in_progress:
        if not state.orphaned(grace):
            return "running"
        await queue.delete(in_progress_key_prefix + key, owner_key(key))
        log.warning(
            "queue.orphan_released",
            key=key,
            claimed_seconds_ago=round(state.started_seconds_ago or 0.0),
        )
        if state.queued:
            return "released"  # still queued: the next free worker picks it up
        await queue.delete(job_key_prefix + key, retry_key_prefix + key)
        await enqueue()
        return "requeued"
    if state.queued:
        return "already_queued"
    if not queue_if_missing:
        return "recent"
    if await enqueue():
        return "queued"
    # Neither queued nor running, yet arq still holds the key (a task record left behind
    # by an outage): drop the leftovers and queue it afresh.
    await queue.delete(job_key_prefix + key, retry_key_prefix + key)
    return "requeued" if await enqueue() else "already_queued"


async def redis_settled(queue: ArqRedis, grace: timedelta, now: float) -> bool:
    """Whether this Redis has kept its data for at least `grace`. After a restart that lost
    it, workers still running tasks need that long to renew their leases; until then a
    task found nowhere may well be running, and is not queued a second time."""
    since = await queue.get(EPOCH_KEY)
    if since is None:
        await queue.set(EPOCH_KEY, str(now), nx=True)
        return False
    return now - float(since) >= grace.total_seconds()


async def heartbeat(
    queue: ArqRedis, worker_id: str, running: list[str], *, ttl: timedelta, info: str
) -> None:
    """Say this worker is alive and which tasks it runs, for `ttl`."""
    px = int(ttl.total_seconds() * 1000)
    async with queue.pipeline(transaction=False) as pipe:
        pipe.set(worker_key(worker_id), info, px=px)
        for key in running:
            pipe.set(owner_key(key), worker_id, px=px)
        await pipe.execute()
