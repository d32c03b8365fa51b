"""Benchmark: stitching normalised clips by stream copy vs copying their bytes.

Makes eight 5 s 720p clips in the normalised clip format (cached in the temp dir between
runs): by default moving, textured footage normalised like a provider's clip; with
``--content kenburns`` the preview provider's pans over a still. Then times
``stitch_clips`` on them against writing the same bytes into one file with shutil, measured
in the same run. Target: stitch/copy ratio <= 3.

FFmpeg needs ~60 ms just to open and demux eight MP4s, so the ratio falls as clips grow:
about 9 at 11 MB (2.3 Mb/s clips), about 2 at 136 MB. ``--reencode`` shows what the
normalise-on-arrival design avoids (a re-encode is ~200x the copy).

    python bench/stitch.py [--runs 9] [--fresh] [--reencode] [--content camera|kenburns]
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

from reelforge.media import (
    ClipFormat,
    draw_still,
    ken_burns_clip,
    normalise_clip,
    run_ffmpeg,
    stitch_clips,
)

CLIPS = 8
SECONDS = 5.0
FMT = ClipFormat.for_output("16:9", "720p")
CACHE = Path(tempfile.gettempdir()) / f"reelforge-bench-stitch-{FMT.width}x{FMT.height}-v3"


async def camera_clip(out: Path, seed: int) -> None:
    """A clip like a provider's: moving, textured footage, normalised the way the pipeline
    normalises every provider clip (so its bitrate is a real clip's, not a still's)."""
    raw = out.with_suffix(".src.mp4")
    source = (
        f"testsrc2=s={FMT.width}x{FMT.height}:r=24:d={SECONDS},noise=alls={1 + seed % 2}:allf=t"
    )
    await run_ffmpeg(
        ["-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "ultrafast", str(raw)],
        timeout=300,
    )
    await normalise_clip(raw, out, fmt=FMT, duration=SECONDS)
    raw.unlink()


async def make_clips(fresh: bool, content: str) -> list[Path]:
    if fresh:
        shutil.rmtree(CACHE, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    clips = []
    started = time.perf_counter()
    made = 0
    for i in range(CLIPS):
        clip = CACHE / f"{content}{i}.mp4"
        if not clip.exists():
            if content == "camera":
                await camera_clip(clip, seed=i)
            else:
                still = CACHE / f"still{i}.png"
                await draw_still(
                    still, width=FMT.width, height=FMT.height, text=f"Scene {i}", seed=i
                )
                await ken_burns_clip(still, clip, fmt=FMT, duration=SECONDS, seed=i)
            made += 1
        clips.append(clip)
    if made:
        per_clip = (time.perf_counter() - started) / made
        print(f"made {made} {content} clips ({per_clip:.2f} s per 5 s 720p clip)")
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
    parser.add_argument(
        "--content",
        choices=["camera", "kenburns"],
        default="camera",
        help="camera: moving footage at a provider clip's bitrate (default); kenburns: the "
        "preview provider's pans over a still, whose few bytes leave FFmpeg's start-up to dominate",
    )
    opts = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    clips = await make_clips(opts.fresh, opts.content)
    total_mb = sum(c.stat().st_size for c in clips) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        async def stitch() -> None:
            await stitch_clips(clips, out / "stitched.mp4", timeout=120)

        async def copy() -> None:
            copy_bytes(clips, out / "copied.bin")

        stitch_s = await median_seconds(opts.runs, stitch)
        copy_s = await median_seconds(opts.runs, copy)
        print(
            f"{CLIPS} {opts.content} clips x {SECONDS:g} s {FMT.width}x{FMT.height},"
            f" {total_mb:.1f} MB in all"
        )
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
