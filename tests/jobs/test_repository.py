"""The job repository: client scoping, the state machine, compare-and-set writes, pagination."""

from __future__ import annotations

import itertools

import pytest

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
    async with runtime.session() as session:
        repo = JobRepository(session)
        job = await repo.transition(await _job(repo, source), target)
        assert job.status == target.value
        assert [e.type for e in await repo.events(job.id)][-1] == target.value


@pytest.mark.parametrize(
    ("source", "target"), ILLEGAL, ids=[f"{a.value}->{b.value}" for a, b in ILLEGAL]
)
async def test_every_illegal_transition_is_a_conflict(
    runtime: Runtime, source: JobStatus, target: JobStatus
) -> None:
    async with runtime.session() as session:
        repo = JobRepository(session)
        job = await _job(repo, source)
        with pytest.raises(Conflict) as info:
            await repo.transition(job, target)
        assert info.value.code.value == "CONFLICT"
        assert (await repo.get(job.id, client_id=None)).status == source.value


async def test_a_write_based_on_a_stale_status_is_a_conflict(runtime: Runtime) -> None:
    async with runtime.session() as a, runtime.session() as b:
        repo_a, repo_b = JobRepository(a), JobRepository(b)
        job = await _job(repo_a, JobStatus.RENDERING)
        stale = await repo_b.get(job.id, client_id=None)
        await repo_a.transition(job, JobStatus.CANCELED)
        with pytest.raises(Conflict):
            await repo_b.update(stale, progress=50)


async def test_another_clients_job_is_not_found(runtime: Runtime) -> None:
    async with runtime.session() as session:
        repo = JobRepository(session)
        job = await _job(repo, client="acme")
        assert (await repo.get(job.id, client_id="acme")).id == job.id
        with pytest.raises(NotFound):
            await repo.get(job.id, client_id="globex")


async def test_progress_update_notifies_after_commit(runtime: Runtime) -> None:
    seen: list[tuple[str, int, str | None]] = []

    class Recorder:
        async def job_changed(self, job: Job, change: JobChange) -> None:
            seen.append((job.status, job.progress, change.event))

    async with runtime.session() as session:
        repo = JobRepository(session, Recorder())
        job = await _job(repo)
        await repo.update(job, progress=40, change=JobChange(event="scene_done", scene_index=1))
    assert seen == [("pending", 0, "created"), ("pending", 40, "scene_done")]


async def test_pagination_walks_every_job_once_newest_first(runtime: Runtime) -> None:
    async with runtime.session() as session:
        repo = JobRepository(session)
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
