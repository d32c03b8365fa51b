"""The job repository: client scoping, the state machine, compare-and-set writes, pagination."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from reelforge.db import UnitOfWork
from reelforge.errors import BadUserInput, Conflict, NotFound
from reelforge.jobs.repository import JobChange, JobRepository
from reelforge.jobs.states import ALLOWED
from reelforge.models import Job, JobStatus
from reelforge.runtime import Runtime

ALL = list(JobStatus)
LEGAL = [(a, b) for a in ALL for b in ALL if b in ALLOWED[a]]
ILLEGAL = [(a, b) for a, b in itertools.product(ALL, ALL) if b not in ALLOWED[a]]


async def _job(
    repo: JobRepository, status: JobStatus = JobStatus.PENDING, client: str = "acme"
) -> Job:
    job = Job(client_id=client, user_id="alice", prompt="brief", params={}, status=status.value)
    return await repo.create(job, actor="alice")


@pytest.mark.parametrize(
    ("source", "target"), LEGAL, ids=[f"{a.value}->{b.value}" for a, b in LEGAL]
)
async def test_every_legal_transition_works(
    runtime: Runtime, source: JobStatus, target: JobStatus
) -> None:
    async with runtime.unit() as unit:
        repo = JobRepository(unit)
        job = await repo.transition(await _job(repo, source), target)
        assert job.status == target.value
        assert [e.type for e in await repo.events(job.id)][-1] == target.value


@pytest.mark.parametrize(
    ("source", "target"), ILLEGAL, ids=[f"{a.value}->{b.value}" for a, b in ILLEGAL]
)
async def test_every_illegal_transition_is_a_conflict(
    runtime: Runtime, source: JobStatus, target: JobStatus
) -> None:
    async with runtime.unit() as unit:
        repo = JobRepository(unit)
        job = await _job(repo, source)
        with pytest.raises(Conflict) as info:
            await repo.transition(job, target)
        assert info.value.code.value == "CONFLICT"
        assert (await repo.get(job.id, client_id=None)).status == source.value


async def test_a_write_based_on_a_stale_status_is_a_conflict(runtime: Runtime) -> None:
    async with runtime.unit() as unit:
        job = await _job(JobRepository(unit), JobStatus.RENDERING)
    async with runtime.unit() as unit:
        stale = await JobRepository(unit).get(job.id, client_id=None)
    async with runtime.unit() as unit:
        await JobRepository(unit).transition(stale, JobStatus.CANCELED)
    with pytest.raises(Conflict):
        async with runtime.unit() as unit:
            await JobRepository(unit).update(stale, progress=50)


async def test_another_clients_job_is_not_found(runtime: Runtime) -> None:
    async with runtime.unit() as unit:
        repo = JobRepository(unit)
        job = await _job(repo, client="acme")
        assert (await repo.get(job.id, client_id="acme")).id == job.id
        with pytest.raises(NotFound):
            await repo.get(job.id, client_id="globex")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any, Any]] = []

    async def status_reached(self, unit: UnitOfWork, job: Job) -> None:
        return None

    async def invalidate(self, job_id: str) -> None:
        self.seen.append(("invalidate", job_id, None))

    async def committed(self) -> None:
        return None

    async def publish(self, payload: dict[str, Any]) -> None:
        self.seen.append(("publish", payload["progress"], payload["event"]))


async def test_progress_update_notifies_after_commit(runtime: Runtime) -> None:
    recorder = Recorder()
    async with runtime.unit() as unit:
        repo = JobRepository(unit, recorder)
        job = await _job(repo)
        await repo.update(job, progress=40, change=JobChange(event="scene_done", scene_index=1))
        assert recorder.seen == []  # nothing is announced before the commit
    assert recorder.seen == [
        ("invalidate", job.id, None),
        ("publish", 0, "created"),
        ("publish", 40, "scene_done"),
    ]


async def test_a_rolled_back_write_announces_nothing(runtime: Runtime) -> None:
    recorder = Recorder()

    async def failing_operation() -> None:
        async with runtime.unit() as unit:
            await _job(JobRepository(unit, recorder))
            raise RuntimeError("the operation failed after the write")

    with pytest.raises(RuntimeError):
        await failing_operation()
    assert recorder.seen == []
    async with runtime.unit() as unit:
        assert (await JobRepository(unit).list_jobs("acme")).total_count == 0


async def test_pagination_walks_every_job_once_newest_first(runtime: Runtime) -> None:
    async with runtime.unit() as unit:
        repo = JobRepository(unit)
        ids = [(await _job(repo)).id for _ in range(7)]
        await _job(repo, client="globex")
        seen: list[str] = []
        after = None
        while True:
            page = await repo.list_jobs("acme", first=3, after=after)
            assert page.total_count == 7
            seen += [j.id for j in page.jobs]
            if not page.has_next_page:
                break
            after = page.end_cursor
        assert sorted(seen) == sorted(ids) and len(seen) == 7
        with pytest.raises(BadUserInput):
            await repo.list_jobs("acme", first=101)
        with pytest.raises(BadUserInput):
            await repo.list_jobs("acme", after="not-a-cursor")
