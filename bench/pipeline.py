"""Benchmark: one 8-scene job through the real GraphQL API against the fake Replicate, vs the
ideal (plan + one image + one video latency + the stitch).

Everything runs in this process on loopback: an embedded Valkey, a migrated SQLite file in a
temp dir, the Starlette app under uvicorn (GraphQL over HTTP and websockets), an arq worker
sharing the app's Runtime (as ``reelforge serve`` runs it) and a real ``ReplicateProvider``
talking to ``tests.fakes.replicate.FakeReplicate`` through an httpx ASGI transport. Every
prediction of the fake answers after a fixed latency L (``--latency``, default 2 s). No
webhooks (no PUBLIC_BASE_URL): the provider polls every ``--poll-interval`` seconds.

The job is what a client would order, with the defaults for sound and words (a voice-over per
scene, WORD captions burned in while each clip is normalised, a music bed, -14 LUFS): 8 scenes,
40 s (5 s a scene), 16:9 at 720p, so every
320x180 5 s clip of the fake is normalised to 1280x720 before the stream-copy stitch. The
client creates it, approves the storyboard at once and renders it, watching ``jobProgress``
over a websocket; the storyboard phase (createJob -> STORYBOARD_COMPLETE seen) and the render
phase (approveStoryboard sent -> COMPLETED seen) are timed separately and summed, so there is
no human gap in the wall time. A small warm-up job runs first (a real service is warm).

By default the fake's media are drawn before the timed job (distinct per scene, through the
fake's own drawing code) and handed out at exactly L, as a remote Replicate would: the fake's
own FFmpeg work would otherwise run on our two cores and add to L. ``--live-media`` keeps the
fake as the tests use it (media drawn after L, 4 at a time).

Printed: ``pipeline wall / ideal`` (ideal = 3 L + stitch, the stitch timed afterwards on the
job's own normalised clips, median of ``--runs``; target <= 1.3) and ``stitch / copy`` (copy =
shutil.copyfileobj of the same clips into one file, page cache to page cache: no fsync on
either side, ffmpeg does not fsync either; target <= 3), then where the time went.

Also printed: the steps of both phases on a timeline (the pipeline's functions, wrapped in
this process only), the CPU of this process and of its FFmpeg children per phase, and the
launch floor of an FFmpeg process. ``--explain`` re-normalises the job's provider clips other
ways (one per core, cheaper presets) and stream-copies clips already in the job's format.

    python bench/pipeline.py [--latency 2] [--poll-interval 0.1] [--scenes 8] [--live-media]
                             [--explain]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import logging
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import structlog
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakes.replicate and tests.live

from reelforge import startup  # noqa: E402
from reelforge.app import create_app  # noqa: E402
from reelforge.auth import mint_token  # noqa: E402
from reelforge.config import Environment, Settings  # noqa: E402
from reelforge.embedded import EmbeddedValkey  # noqa: E402
from reelforge.jobs import render as render_module  # noqa: E402
from reelforge.jobs import storyboard as storyboard_module  # noqa: E402
from reelforge.jobs import tasks as tasks_module  # noqa: E402
from reelforge.jobs.predictions import Ledger  # noqa: E402
from reelforge.jobs.run import Run  # noqa: E402
from reelforge.jobs.worker import build_worker, stop_in_process_worker  # noqa: E402
from reelforge.media import audio as audio_module  # noqa: E402
from reelforge.media import clips as clips_module  # noqa: E402
from reelforge.media.ffmpeg import run_ffmpeg  # noqa: E402
from reelforge.media.formats import ClipFormat  # noqa: E402
from reelforge.providers.base import PredictionKind  # noqa: E402
from reelforge.providers.replicate import ReplicateProvider  # noqa: E402
from reelforge.runtime import Runtime  # noqa: E402
from reelforge.storage.service import AssetStore  # noqa: E402
from tests.fakes.replicate import DEFAULT_TOKEN, FakePrediction, FakeReplicate  # noqa: E402
from tests.live import live_server, subscribe  # noqa: E402

FAKE_BASE = "http://replicate.test"
SCENE_SECONDS = 5.0
ASPECT, RESOLUTION = "LANDSCAPE_16_9", "R720P"
BRIEF = "Cold brew coffee. Smooth and bold. Brewed for 20 hours. Try it today."


# --- the fake Replicate, answering at exactly L ------------------------------------------


class TimedFake(FakeReplicate):
    """The fake, noting when each prediction's output became available; with `premade`, its
    stills and clips are drawn before the run and handed out without any work after L."""

    def __init__(self, *, premade: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.premade = premade
        self.stills: list[bytes] = []
        self.clips: list[bytes] = []
        self.ready: dict[str, float] = {}
        self.handed: defaultdict[str, int] = defaultdict(int)

    async def prepare(self, count: int) -> None:
        """Draw `count` distinct stills and clips with the fake's own code (not timed)."""
        for index in range(count):
            still_input = {"prompt": f"scene {index} of {BRIEF}", "aspect_ratio": "16:9"}
            png = await self._draw({**still_input, "seed": index}, f"{index:08x}")
            image = "data:image/png;base64," + base64.b64encode(png).decode()
            clip_input = {"start_image": image, "duration": SCENE_SECONDS, "seed": index}
            self.stills.append(png)
            self.clips.append(await self._animate(clip_input, f"{index:08x}"))

    async def _make_output(self, prediction: FakePrediction) -> tuple[Any, list[Any]]:
        if not self.premade or prediction.kind in (
            PredictionKind.PLAN,
            PredictionKind.SPEECH,  # eSpeak NG, milliseconds
            PredictionKind.MUSIC,  # synthesised by the fake: about 1 s of CPU
        ):
            return await super()._make_output(prediction)
        n = self.handed[prediction.kind.value]
        self.handed[prediction.kind.value] += 1
        if prediction.kind is PredictionKind.IMAGE:
            return ["{0}"], [(self.stills[n % len(self.stills)], "image/png", "png")]
        return "{0}", [(self.clips[n % len(self.clips)], "video/mp4", "mp4")]

    async def _complete(self, prediction: FakePrediction, *, queued: bool = True) -> None:
        await super()._complete(prediction, queued=queued)
        self.ready[prediction.id] = time.monotonic()


# --- spans: where the time goes ----------------------------------------------------------


class Spans:
    def __init__(self) -> None:
        self.items: list[tuple[str, float, float]] = []
        self.stitched: list[list[Path]] = []
        self.raw_clips: list[Path] = []  # what normalise_clip was given (the provider's clips)

    def add(self, name: str, start: float, end: float) -> None:
        self.items.append((name, start, end))

    def wrap(self, name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.add(name, started, time.monotonic())

        return timed

    def report(self, label: str, start: float, end: float) -> None:
        rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for name, s, e in self.items:
            if start <= s <= end:
                rows[name].append((s - start, e - start))
        print(f"  {label} ({end - start:.2f} s), seconds from its start:")
        print(f"    {'step':<34}{'n':>3}{'first start':>13}{'last end':>10}{'each (median)':>15}")
        for name, spans in sorted(rows.items(), key=lambda kv: min(s for s, _ in kv[1])):
            each = statistics.median(e - s for s, e in spans)
            first, last = min(s for s, _ in spans), max(e for _, e in spans)
            print(f"    {name:<34}{len(spans):>3}{first:>13.2f}{last:>10.2f}{each:>15.3f}")


def instrument(spans: Spans, provider: ReplicateProvider) -> None:
    """Wrap the steps of a job in this process only (no code outside bench/ is changed)."""
    normalise, stitch = clips_module.normalise_clip, clips_module.stitch_clips

    async def normalise_and_keep(src: Path, *args: Any, **kwargs: Any) -> None:
        spans.raw_clips.append(src)
        await normalise(src, *args, **kwargs)

    async def stitch_and_keep(clips: list[Path], *args: Any, **kwargs: Any) -> None:
        spans.stitched.append(list(clips))
        await stitch(clips, *args, **kwargs)

    wrapped: list[tuple[object, str, str, Any]] = [
        (render_module, "make_thumbnail", "ffmpeg thumbnail", clips_module.make_thumbnail),
        (render_module, "normalise_clip", "ffmpeg normalise clip", normalise_and_keep),
        (render_module, "stitch_clips", "ffmpeg stitch", stitch_and_keep),
        (
            tasks_module,
            "generate_storyboard",
            "worker: storyboard task",
            storyboard_module.generate_storyboard,
        ),
        (tasks_module, "render", "worker: render task", render_module.render),
        (Ledger, "media", "ledger.media", Ledger.media),
        (Run, "update_scene", "run.update_scene (db+publish)", Run.update_scene),
        (
            storyboard_module,
            "estimate_render",
            "render.estimate_render",
            render_module.estimate_render,
        ),
        (render_module, "stitch", "render.stitch (+mix, thumb, store)", render_module.stitch),
        (
            render_module,
            "mix_soundtrack",
            "ffmpeg mix + loudnorm (audio only)",
            audio_module.mix_soundtrack,
        ),
        (render_module, "voice_for", "render.voice_for (speech)", render_module.voice_for),
        (render_module, "music_for", "render.music_for (music bed)", render_module.music_for),
        (AssetStore, "store_file", "store_file (probe, sha, db)", AssetStore.store_file),
    ]
    for owner, attribute, name, function in wrapped:
        setattr(owner, attribute, spans.wrap(name, function))
    for method in ("plan", "still", "clip", "speak", "compose"):
        setattr(
            provider,
            method,
            spans.wrap(f"provider.{method} (wait+download)", getattr(provider, method)),
        )


def fake_spans(spans: Spans, fake: TimedFake, since: float) -> None:
    for p in fake.predictions.values():
        if p.created_mono >= since and p.id in fake.ready:
            spans.add(f"fake: {p.kind.value} L + output", p.created_mono, fake.ready[p.id])


class CpuMarks:
    """CPU seconds of this process (API + worker + fake, Python) and of its children (FFmpeg)."""

    def __init__(self) -> None:
        self.marks: dict[str, tuple[float, float]] = {}

    def mark(self, name: str) -> None:
        me, kids = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        self.marks[name] = (me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime)

    def between(self, a: str, b: str) -> tuple[float, float]:
        (s0, c0), (s1, c1) = self.marks[a], self.marks[b]
        return s1 - s0, c1 - c0


# --- one job through the API ------------------------------------------------------------

JOB = """mutation($input: CreateJobInput!) { createJob(input: $input) { id status } }"""
APPROVE = """mutation($id: ID!) { approveStoryboard(jobId: $id) { approved } }"""
RENDER = """mutation($id: ID!) { renderVideo(jobId: $id) { status } }"""


async def gql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL error: {response.status_code} {body}")
    data: dict[str, Any] = body["data"]
    return data


async def run_job(
    host: str, token: str, scenes: int, cpu: CpuMarks | None = None
) -> tuple[float, float, float, float]:
    """createJob → STORYBOARD_COMPLETE, approve + render → COMPLETED, watched over a
    websocket. Returns, in time.monotonic(): createJob sent, STORYBOARD_COMPLETE seen,
    approveStoryboard sent, COMPLETED seen."""
    seen: dict[str, float] = {}
    storyboard_done, completed = asyncio.Event(), asyncio.Event()

    async def watch(job_id: str) -> None:
        async for event in subscribe(host, token, job_id, fields="status event progress"):
            seen.setdefault(event["status"], time.monotonic())
            if event["status"] == "STORYBOARD_COMPLETE":
                storyboard_done.set()
            elif event["status"] in ("COMPLETED", "FAILED", "CANCELED"):
                completed.set()
                if event["status"] != "COMPLETED":
                    raise RuntimeError(f"job ended {event['status']}")

    async with httpx.AsyncClient(
        base_url=f"http://{host}", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        t0 = time.monotonic()
        job_input = {
            "brief": BRIEF,
            "sceneCount": scenes,
            "targetDuration": SCENE_SECONDS * scenes,
            "aspectRatio": ASPECT,
            "resolution": RESOLUTION,
        }
        job_id = (await gql(http, JOB, input=job_input))["createJob"]["id"]
        watcher = asyncio.create_task(watch(job_id))
        await wait_either(storyboard_done, watcher, 120)
        if cpu:
            cpu.mark("storyboard")
        t2 = time.monotonic()
        await gql(http, APPROVE, id=job_id)
        await gql(http, RENDER, id=job_id)
        await wait_either(completed, watcher, 120)
        if cpu:
            cpu.mark("render")
        await asyncio.wait_for(watcher, 10)
    return t0, seen["STORYBOARD_COMPLETE"], t2, seen["COMPLETED"]


async def wait_either(event: asyncio.Event, watcher: asyncio.Task[None], timeout: float) -> None:
    waiter = asyncio.create_task(event.wait())
    done, _ = await asyncio.wait({waiter, watcher}, timeout=timeout, return_when="FIRST_COMPLETED")
    if waiter not in done:
        waiter.cancel()
        if watcher in done:
            watcher.result()  # raises what the watcher raised
        raise TimeoutError("the job did not get there in time")


# --- the baselines ----------------------------------------------------------------------


async def median_seconds(runs: int, action: Callable[[], Awaitable[None]]) -> float:
    await action()  # warm-up: page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def copy_bytes(clips: list[Path], out: Path) -> None:
    with out.open("wb") as dst:
        for clip in clips:
            with clip.open("rb") as src:
                shutil.copyfileobj(src, dst)


async def explain(raw: list[Path], conforming: list[Path], out: Path) -> None:
    """Re-normalise the job's own provider clips: as the pipeline does (all at once), one per
    core, and one per core with a cheaper x264 preset; then what a stream copy of clips that
    already have the job's format costs (the job's normalised clips, copied with -c copy)."""
    fmt = ClipFormat.for_output("16:9", "720p")
    cores = os.cpu_count() or 1
    print(f"normalising the job's {len(raw)} provider clips again (to 1280x720, 5 s):")
    for label, variant, at_once in (
        ("all at once, preset veryfast (now)", fmt, len(raw)),
        (f"{cores} at a time, preset veryfast", fmt, cores),
        (
            f"{cores} at a time, preset superfast",
            dataclasses.replace(fmt, preset="superfast"),
            cores,
        ),
        (
            f"{cores} at a time, preset ultrafast",
            dataclasses.replace(fmt, preset="ultrafast"),
            cores,
        ),
    ):
        slots = asyncio.Semaphore(at_once)
        marks = CpuMarks()

        async def one(
            index: int, src: Path, variant: ClipFormat = variant, slots: asyncio.Semaphore = slots
        ) -> None:
            async with slots:
                dst = out / f"renorm{index}.mp4"
                await clips_module.normalise_clip(src, dst, fmt=variant, duration=SCENE_SECONDS)

        marks.mark("a")
        started = time.perf_counter()
        await asyncio.gather(*(one(i, src) for i, src in enumerate(raw)))
        wall = time.perf_counter() - started
        marks.mark("b")
        size = sum((out / f"renorm{i}.mp4").stat().st_size for i in range(len(raw))) / 1e6
        ffmpeg_cpu = marks.between("a", "b")[1]
        print(
            f"  {label:<38} {wall:5.2f} s wall, {ffmpeg_cpu:5.2f} s ffmpeg CPU"
            f" ({ffmpeg_cpu / len(raw):.2f} s a clip), {size:.1f} MB"
        )

    async def remux(index: int, src: Path) -> None:
        args = ["-i", str(src), "-c", "copy", "-movflags", "+faststart", "-f", "mp4"]
        await run_ffmpeg([*args, str(out / f"remux{index}.mp4")], timeout=60)

    marks = CpuMarks()
    marks.mark("a")
    started = time.perf_counter()
    await asyncio.gather(*(remux(i, src) for i, src in enumerate(conforming)))
    wall = time.perf_counter() - started
    marks.mark("b")
    ffmpeg_cpu = marks.between("a", "b")[1]
    print(
        f"  {'clips already in format: -c copy, all':<38} {wall:5.2f} s wall,"
        f" {ffmpeg_cpu:5.2f} s ffmpeg CPU ({ffmpeg_cpu / len(conforming):.2f} s a clip)"
    )


# --- main ---------------------------------------------------------------------------------


def make_settings(tmp: Path, redis_url: str, poll: float) -> Settings:
    return Settings(
        env=Environment.TEST,
        video_storage_path=tmp / "storage",
        database_url=f"sqlite+aiosqlite:///{tmp / 'storage' / 'reelforge.db'}",
        redis_url=redis_url,
        provider="replicate",
        replicate_api_token=SecretStr(DEFAULT_TOKEN),
        replicate_base_url=FAKE_BASE,
        replicate_poll_interval=timedelta(seconds=poll),
        jwt_secret=SecretStr("bench-only-secret-" + "k" * 48),
        scene_concurrency=8,
        global_concurrency=16,
        _env_file=None,  # type: ignore[call-arg]
    )


async def bench(opts: argparse.Namespace, settings: Settings, redis_url: str) -> None:
    latency: float = opts.latency
    fake = TimedFake(premade=not opts.live_media, latency=latency)
    if fake.premade:
        await fake.prepare(opts.scenes)
    fake_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), base_url=FAKE_BASE)
    provider = ReplicateProvider(
        token=DEFAULT_TOKEN,
        http=fake_http,
        base_url=FAKE_BASE,
        poll_interval=opts.poll_interval,
    )
    spans = Spans()
    cpu = CpuMarks()
    instrument(spans, provider)
    runtime = await Runtime.start(settings, redis_url=redis_url, provider=provider)
    worker = build_worker(settings, redis_url, runtime=runtime, handle_signals=False)
    worker_task = asyncio.create_task(worker.async_run())
    token = mint_token(settings, client_id="bench", user_id="bench", ttl=timedelta(hours=1))
    try:
        async with live_server(create_app(settings, runtime=runtime)) as host:
            fake.latency = 0.05  # warm-up: every code path once, quickly
            await run_job(host, token, 2)
            fake.latency = latency
            spans.items.clear()
            spans.stitched.clear()
            spans.raw_clips.clear()
            since = time.monotonic()
            cpu.mark("start")
            t0, t1_seen, t2, t3_seen = await run_job(host, token, opts.scenes, cpu)
            fake_spans(spans, fake, since)
    finally:
        await stop_in_process_worker(worker, worker_task)
        await runtime.aclose()
        await fake.aclose()
        await fake_http.aclose()

    storyboard_s, render_s = t1_seen - t0, t3_seen - t2
    wall = storyboard_s + render_s
    clips = spans.stitched[-1]
    out = Path(tempfile.mkdtemp(dir=settings.video_storage_path))

    async def stitch() -> None:
        await clips_module.stitch_clips(clips, out / "stitched.mp4", timeout=120)

    async def copy() -> None:
        copy_bytes(clips, out / "copied.bin")

    async def noop_ffmpeg() -> None:
        await run_ffmpeg(
            ["-f", "lavfi", "-i", "nullsrc=s=16x16", "-frames:v", "1", "-f", "null", "-"],
            timeout=30,
        )

    stitch_s = await median_seconds(opts.runs, stitch)
    copy_s = await median_seconds(opts.runs, copy)
    floor_s = await median_seconds(opts.runs, noop_ffmpeg)
    ideal = 3 * latency + stitch_s
    size_mb = sum(c.stat().st_size for c in clips) / 1e6

    print(
        f"{opts.scenes} scenes x {SCENE_SECONDS:g} s, 16:9 720p (1280x720), fake latency L = "
        f"{latency:g} s ({'media drawn live by the fake' if opts.live_media else 'premade media'}),"
        f" poll every {opts.poll_interval:g} s, scene_concurrency 8, global_concurrency 16"
    )
    print(f"storyboard phase: {storyboard_s:.2f} s   (ideal: plan + image = {2 * latency:.2f} s)")
    print(
        f"render phase:     {render_s:.2f} s   (ideal: video + stitch = {latency + stitch_s:.2f} s)"
    )
    print(
        f"stitch: {stitch_s * 1000:.1f} ms   copy: {copy_s * 1000:.2f} ms   "
        f"({len(clips)} normalised clips, {size_mb:.1f} MB, median of {opts.runs}, no fsync)"
    )
    print(f"pipeline wall / ideal: {wall / ideal:.2f} (target <= 1.3)")
    print(f"stitch / copy: {stitch_s / copy_s:.2f} (target <= 3; the stitch is -c copy)")
    print(f"ffmpeg launch floor: {floor_s * 1000:.1f} ms (median of a no-op ffmpeg run)")
    print("where the time went:")
    for phase, (a, b), (start, end) in (
        ("storyboard phase", ("start", "storyboard"), (t0, t1_seen)),
        ("render phase", ("storyboard", "render"), (t2, t3_seen)),
    ):
        me, kids = cpu.between(a, b)
        spans.report(phase, start, end)
        print(
            f"    CPU: this process {me:.2f} s, ffmpeg children {kids:.2f} s"
            f" ({os.cpu_count()} cores)"
        )
    if opts.explain:
        await explain(spans.raw_clips, clips, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per prediction")
    parser.add_argument("--poll-interval", type=float, default=0.1, help="REPLICATE_POLL_INTERVAL")
    parser.add_argument("--scenes", type=int, default=8)
    parser.add_argument("--runs", type=int, default=9, help="stitch and copy timings")
    parser.add_argument("--live-media", action="store_true", help="the fake draws after L")
    parser.add_argument(
        "--explain", action="store_true", help="also time normalising the clips other ways"
    )
    opts = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="reelforge-bench-pipeline-") as tmp_name:
        tmp = Path(tmp_name)
        valkey = EmbeddedValkey(tmp / "valkey")
        redis_url = valkey.start()
        try:
            settings = make_settings(tmp, redis_url, opts.poll_interval)
            startup.migrate(settings)
            asyncio.run(bench(opts, settings, redis_url))
        finally:
            valkey.stop()


if __name__ == "__main__":
    main()
