"""Benchmark: stitching normalised clips by stream copy vs copying their bytes.

Makes eight 5 s 720p normalised clips with ``ken_burns_clip`` (cached in the temp dir
between runs), then times ``stitch_clips`` on them against writing the same bytes into one
file with shutil, measured in the same run. Target: stitch/copy ratio <= 3.

    python bench/stitch.py [--runs 9] [--fresh] [--reencode]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from reelforge.media import ClipFormat, draw_still, ken_burns_clip, run_ffmpeg, stitch_clips

CLIPS = 8
SECONDS = 5.0
FMT = ClipFormat.for_output("16:9", "720p")
CACHE = Path(tempfile.gettempdir()) / f"reelforge-bench-stitch-{FMT.width}x{FMT.height}-v1"


async def make_clips(fresh: bool) -> list[Path]:
    if fresh:
        shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    clips = []
    started = time.perf_counter()
    made = 0
    for i in range(CLIPS):
        clip = CACHE / f"clip{i}.mp4"
        if not clip.exists():
            still = CACHE / f"still{i}.png"
            await draw_still(still, width=FMT.width, height=FMT.height, text=f"Scene {i}", seed=i)
            await ken_burns_clip(still, clip, fmt=FMT, duration=SECONDS, seed=i)
            made += 1
        clips.append(clip)
    if made:
        per_clip = (time.perf_counter() - started) / made
        print(f"made {made} clips ({per_clip:.2f} s per 5 s 720p ken-burns clip)")
    return clips


def copy_bytes(clips: list[Path], out: Path) -> None:
    with out.open("wb") as dst:
        for clip in clips:
            with clip.open("rb") as src:
                shutil.copyfileobj(src, dst)


async def median_seconds(runs: int, action: Callable[[], Awaitable[None]]) -> float:
    await action()  # warm-up: page cache, ffmpeg capability detection
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--fresh", action="store_true", help="re-make the cached clips")
    parser.add_argument("--reencode", action="store_true", help="also time a re-encode")
    opts = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    clips = await make_clips(opts.fresh)
    total_mb = sum(c.stat().st_size for c in clips) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        async def stitch() -> None:
            await stitch_clips(clips, out / "stitched.mp4", timeout=120)

        async def copy() -> None:
            copy_bytes(clips, out / "copied.bin")

        stitch_s = await median_seconds(opts.runs, stitch)
        copy_s = await median_seconds(opts.runs, copy)
        print(f"{CLIPS} clips x {SECONDS:g} s {FMT.width}x{FMT.height}, {total_mb:.1f} MB in all")
        print(
            f"stitch: {stitch_s * 1000:.1f} ms   copy: {copy_s * 1000:.2f} ms"
            f" (median of {opts.runs})"
        )
        print(f"stitch/copy ratio: {stitch_s / copy_s:.2f} (target <= 3)")

        if opts.reencode:

            async def reencode() -> None:
                listing = out / "list.txt"
                listing.write_text("".join(f"file '{c}'\n" for c in clips))
                await run_ffmpeg(
                    [
                        *("-f", "concat", "-safe", "0", "-i", str(listing)),
                        *FMT.output_args(),
                        str(out / "reencoded.mp4"),
                    ],
                    timeout=600,
                )

            started = time.perf_counter()
            await reencode()
            reencode_s = time.perf_counter() - started
            print(f"re-encode: {reencode_s:.2f} s, re-encode/copy ratio: {reencode_s / copy_s:.0f}")


if __name__ == "__main__":
    asyncio.run(main())
