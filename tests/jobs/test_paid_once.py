"""Exactly one payment per piece of work, counted at the fake Replicate (the witness), not in
our database: a create whose answer was lost is adopted, not bought again; an output removed
before it was saved is bought again only as a visible decision; a cancel stops spending; and
`actualCost` is what the provider billed, whatever the job's end."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from reelforge.config import Settings
from reelforge.jobs.queue import Task, enqueue_task, task_key
from reelforge.jobs.repository import JobRepository
from reelforge.jobs.worker import build_worker, stop_in_process_worker
from reelforge.models import Prediction
from reelforge.observability.metrics import OUTPUTS_EXPIRED
from reelforge.providers.base import PredictionKind, Provider
from reelforge.runtime import Runtime
from tests.fakes.replicate import FakeReplicate
from tests.helpers import create_job, get_job, mutate, wait_for_status
from tests.live import live_server
from tests.processes import replicate_worker_env, start_worker


@pytest.fixture
def provider(replicate_provider: Provider) -> Provider:
    return replicate_provider


@asynccontextmanager
async def in_process_worker(runtime: Runtime) -> AsyncIterator[None]:
    w = build_worker(runtime.settings, runtime.redis_url, runtime=runtime, handle_signals=False)
    w.poll_delay_s = 0.05
    task = asyncio.create_task(w.async_run())
    try:
        yield
    finally:
        await stop_in_process_worker(w, task)


async def rows(runtime: Runtime, job_id: str) -> list[Prediction]:
    async with runtime.unit() as unit:
        return await JobRepository(unit).predictions(job_id)


async def until(check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.05)


async def approve_and_render(client: httpx.AsyncClient, job_id: str) -> None:
    assert not (await mutate(client, "approveStoryboard", job_id)).get("errors")
    body = await mutate(client, "renderVideo", job_id)
    assert not body.get("errors"), body


def expired_count(kind: str) -> float:
    return float(OUTPUTS_EXPIRED.labels(kind=kind, action="regenerated")._value.get())


@pytest.mark.timeout(300)  # two worker processes start; slow on a loaded machine
async def test_slow_create_answers_and_a_sigterm_do_not_pay_twice(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    fake = FakeReplicate(latency=0.05, predict_time=1.0)
    async with live_server(fake.app) as host:
        worker_env = replicate_worker_env(
            tmp_path,
            settings,
            runtime.redis_url,
            host,
            SWEEP_INTERVAL="2",
            WORKER_SHUTDOWN_GRACE="1",  # SIGTERM lands while both creates are unanswered
        )
        log = tmp_path / "worker.log"
        job = await create_job(client, sceneCount=2)
        worker = start_worker(worker_env, log)
        try:
            await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE", timeout=120)
            fake.create_latency = 8.0  # the clips exist (and bill) but nobody hears of them
            await approve_and_render(client, job["id"])
            await until(lambda: _true(fake.kind_count("video") == 2), timeout=120)
            recorded = await rows(runtime, job["id"])
            videos = [r for r in recorded if r.kind == "video"]
            assert [r.status for r in videos] == ["creating", "creating"]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        fake.create_latency = 0.0
        worker = start_worker(worker_env, log)
        try:
            done = await wait_for_status(client, job["id"], "COMPLETED", timeout=150)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
    await fake.aclose()
    assert fake.kind_count("video") == 2, "a clip was paid twice"
    videos = [r for r in await rows(runtime, job["id"]) if r.kind == "video"]
    assert [r.status for r in videos] == ["succeeded", "succeeded"]
    assert {r.external_id for r in videos} == {
        p.id for p in fake.predictions.values() if p.kind.value == "video"
    }
    assert done["actualCost"] == pytest.approx(fake.billed_dollars(), abs=1e-6)


async def _true(value: bool) -> bool:
    return value


async def test_an_output_gone_on_resume_is_regenerated_visibly_and_both_are_counted(
    client: httpx.AsyncClient, runtime: Runtime, fake: FakeReplicate
) -> None:
    before = expired_count("video")
    job = await create_job(client, sceneCount=2)
    fake.stick_next("video", 1)  # one clip runs at the provider while the worker stops
    async with in_process_worker(runtime):
        await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
        await approve_and_render(client, job["id"])

        async def one_saved_one_running() -> bool:
            videos = sorted(r.status for r in await rows(runtime, job["id"]) if r.kind == "video")
            return videos == ["running", "succeeded"]

        await until(one_saved_one_running)
    # The clip finishes at the provider, and its output is removed before anyone copies it
    # (Replicate keeps API outputs for an hour).
    assert fake.release_stuck() == 1
    await until(lambda: _true(all(p.status == "succeeded" for p in fake.predictions.values())))
    fake.remove_data()
    await enqueue_task(
        runtime.queue, Task.RENDER.value, job["id"], key=task_key(Task.RENDER, job["id"])
    )
    async with in_process_worker(runtime):
        done = await wait_for_status(client, job["id"], "COMPLETED", timeout=90)

    assert fake.kind_count("plan") == 1
    assert fake.kind_count("image") == 2
    assert fake.kind_count("video") == 3  # 2 clips + 1 bought again, visibly:
    messages = [e["message"] for e in done["events"] if e["type"] == "output_expired"]
    assert len(messages) == 1
    assert messages[0].startswith("scene ")
    assert messages[0].endswith(": provider output expired before it was saved; regenerated")
    assert expired_count("video") - before == 1
    # Both purchases are on the job's bill, as on the provider's.
    assert done["actualCost"] == pytest.approx(fake.billed_dollars(), abs=1e-6)


async def test_cancel_during_slow_creates_pays_nothing_after_the_cancel(
    client: httpx.AsyncClient, runtime: Runtime, fake: FakeReplicate, worker: Any
) -> None:
    job = await create_job(client, sceneCount=2)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    fake.create_latency = 1.5  # the clips exist at the provider before their ids reach us
    fake.latencies = {PredictionKind.VIDEO: 5.0}  # and would run for a while
    await approve_and_render(client, job["id"])
    await until(lambda: _true(fake.kind_count("video") >= 1))
    body = await mutate(client, "cancelJob", job["id"])
    assert not body.get("errors"), body
    canceled_at = time.monotonic()

    async def settled() -> bool:
        return not any(r.status in ("creating", "running") for r in await rows(runtime, job["id"]))

    await until(settled, timeout=30)
    await asyncio.sleep(2.0)  # anything still on its way would have arrived by now
    videos = [p for p in fake.predictions.values() if p.kind.value == "video"]
    assert videos
    assert all(p.created_mono < canceled_at for p in videos), "created after the cancel"
    # Every clip created before the cancel was stopped, none ran to its end.
    assert all(p.status == "canceled" for p in videos), [p.status for p in videos]
    assert set(fake.cancel_calls) >= {p.id for p in videos}
    final = await get_job(client, job["id"])
    assert final["status"] == "CANCELED"
    assert final["actualCost"] == pytest.approx(fake.billed_dollars(), abs=1e-6)


async def test_a_database_disconnect_mid_render_does_not_fail_the_job(
    client: httpx.AsyncClient, runtime: Runtime, fake: FakeReplicate, worker: Any
) -> None:
    # The rerun after the dropped connection comes soon (by default after 2 s).
    runtime.settings = runtime.settings.model_copy(
        update={"transient_retry_delay": timedelta(milliseconds=100)}
    )
    job = await create_job(client, sceneCount=2)
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    dropped: list[str] = []

    def drop_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not dropped and statement.lstrip().upper().startswith("UPDATE PREDICTIONS"):
            dropped.append(statement)
            raise OperationalError(
                statement, None, ConnectionResetError("server closed the connection unexpectedly")
            )

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", drop_once)
    try:
        await approve_and_render(client, job["id"])
        done = await wait_for_status(client, job["id"], "COMPLETED", timeout=90)
    finally:
        event.remove(engine, "before_cursor_execute", drop_once)
    assert dropped, "the disconnect never happened"
    assert done["errorMessage"] is None
    assert not any("SQL" in (e["message"] or "") for e in done["events"])
    assert fake.kind_count("video") == 2  # the rerun resumed; nothing paid twice
    assert done["actualCost"] == pytest.approx(fake.billed_dollars(), abs=1e-6)


def test_a_job_failed_by_the_database_shows_a_sentence_not_the_sql() -> None:
    from reelforge.jobs.run import failure_message

    error = OperationalError("UPDATE predictions SET x=1", None, Exception("boom"))
    text = failure_message("render", error, "abc123")
    assert "UPDATE" not in text and "boom" not in text
    assert text == (
        "render failed: the database was unavailable for too long; retry the job (reference abc123)"
    )
