"""Real FFmpeg on tiny inputs; every assertion is made by probing the real output."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest

from reelforge.media import (
    ClipFormat,
    FFmpegError,
    FFmpegTimeoutError,
    InvalidMediaError,
    draw_still,
    export_size,
    export_video,
    frame_size,
    ken_burns_clip,
    make_thumbnail,
    normalise_clip,
    probe,
    run_ffmpeg,
    stills,
    stitch_clips,
)
from reelforge.media.clips import Fit
from reelforge.media.ffmpeg import Capabilities, capabilities, ffmpeg_exe
from reelforge.media.formats import Container

FMT = ClipFormat(width=320, height=180)


def ffmpeg(*args: str) -> None:
    """Make a test input (synchronously, outside the code under test)."""
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        check=True,
    )


def packets(path: Path) -> list[tuple[str, str]]:
    """(size, checksum) of every video packet: equal lists mean the bytes were copied."""
    out = subprocess.run(
        [
            *(ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path)),
            *("-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rows = [line.split(",") for line in out.splitlines() if not line.startswith("#")]
    return [(row[4].strip(), row[5].strip()) for row in rows]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("sources")
    odd = d / "odd.mp4"  # odd size, 30 fps, 4:4:4, mono 44.1 kHz: nothing like a clip
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=s=333x187:r=30:d=1.3"),
        *("-f", "lavfi", "-i", "sine=r=44100:d=1.3"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"),
        *("-c:a", "aac", "-shortest", str(odd)),
    )
    image = d / "square.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=100x100", "-frames:v", "1", "-update", "1", str(image))
    audio_only = d / "sound.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac", str(audio_only))
    corrupt = d / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    return {"odd": odd, "image": image, "audio_only": audio_only, "corrupt": corrupt}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three normalised 1 s clips at 320x180, made by the code under test."""
    d = tmp_path_factory.mktemp("clips")

    async def make() -> list[Path]:
        out = []
        for i in range(3):
            still, clip = d / f"still{i}.png", d / f"clip{i}.mp4"
            await draw_still(still, width=320, height=180, text=f"Scene {i}", seed=i)
            await ken_burns_clip(still, clip, fmt=FMT, duration=1.0, seed=i)
            out.append(clip)
        return out

    return asyncio.run(make())


def only_files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


@pytest.mark.parametrize(
    ("aspect", "resolution", "size"),
    [
        ("16:9", "720p", (1280, 720)),
        ("9:16", "720p", (720, 1280)),
        ("1:1", "720p", (720, 720)),
        ("4:5", "720p", (720, 900)),
        ("16:9", "480p", (854, 480)),
        ("9:16", "1080p", (1080, 1920)),
    ],
)
def test_frame_size_is_even_with_resolution_as_short_side(
    aspect: str, resolution: str, size: tuple[int, int]
) -> None:
    assert frame_size(aspect, resolution) == size


def test_frame_size_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="aspect"):
        frame_size("3:2", "720p")
    with pytest.raises(ValueError, match="resolution"):
        frame_size("16:9", "4k")


async def test_still_has_requested_size_and_is_deterministic(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    await draw_still(a, width=256, height=144, text="Fresh coffee: 50% off!", seed=7)
    await draw_still(b, width=256, height=144, text="Fresh coffee: 50% off!", seed=7)
    await draw_still(c, width=256, height=144, text="Fresh coffee: 50% off!", seed=8)

    info = await probe(a)
    assert (info.width, info.height, info.video_codec, info.is_image) == (256, 144, "png", True)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert only_files(tmp_path) == ["a.png", "b.png", "c.png"]  # no temp files left behind


async def test_still_without_drawtext_still_differs_per_scene(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Builds of ffmpeg without libfreetype (or without fonts) draw seeded shapes instead.
    real = await capabilities()
    no_text = Capabilities(filters=real.filters, encoders=real.encoders, drawtext=False)

    async def fake_capabilities() -> Capabilities:
        return no_text

    monkeypatch.setattr(stills, "capabilities", fake_capabilities)
    a, b, c = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"
    await draw_still(a, width=160, height=90, text="Scene", seed=1)
    await draw_still(b, width=160, height=90, text="Scene", seed=1)
    await draw_still(c, width=160, height=90, text="Scene", seed=2)

    assert (await probe(a)).width == 160
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


async def test_ken_burns_clip_is_normalised_and_exact_length(tmp_path: Path) -> None:
    still = tmp_path / "still.png"
    await draw_still(still, width=640, height=640, text="Scene", seed=1)  # not the clip's shape
    await ken_burns_clip(still, tmp_path / "clip.mp4", fmt=FMT, duration=1.5, seed=1)

    info = await probe(tmp_path / "clip.mp4")
    assert info.duration_seconds == pytest.approx(1.5, abs=0.05)
    assert FMT.mismatches(info) == []
    assert info.frame_count == 36


async def test_normalise_converts_odd_sized_input(sources: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "n.mp4"
    await normalise_clip(sources["odd"], out, fmt=FMT)

    info = await probe(out)
    assert FMT.mismatches(info) == []  # size, fps, pix_fmt, codecs, 48 kHz stereo
    assert info.duration_seconds == pytest.approx(1.3, abs=0.1)


async def test_normalise_loops_a_short_clip_to_the_duration(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "n.mp4"
    await normalise_clip(sources["odd"], out, fmt=FMT, fit="pad", duration=2.0)

    info = await probe(out)
    assert info.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert FMT.mismatches(info) == []


async def test_normalise_holds_a_still_image_for_the_duration(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "n.mp4"
    await normalise_clip(sources["image"], out, fmt=FMT, fit="pad", duration=1.25)

    info = await probe(out)
    assert info.duration_seconds == pytest.approx(1.25, abs=0.05)
    assert FMT.mismatches(info) == []  # including the silent stereo track
    with pytest.raises(ValueError, match="duration"):
        await normalise_clip(sources["image"], tmp_path / "x.mp4", fmt=FMT)


async def test_stitch_is_a_stream_copy_with_summed_duration(
    clips: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "final.mp4"
    await stitch_clips(clips, out, timeout=30)

    info = await probe(out)
    parts = [await probe(c) for c in clips]
    assert info.duration_seconds == pytest.approx(sum(p.duration_seconds for p in parts), abs=0.1)
    assert (info.video_codec, info.width, info.height) == ("h264", 320, 180)
    # Stream copy: the video packets are the clips' packets, byte for byte, in order; only
    # the first (key) packet of each clip may gain its parameter sets in-band (~40 bytes).
    stitched, offset = packets(out), 0
    for clip in clips:
        original = packets(clip)
        copied = stitched[offset : offset + len(original)]
        assert copied[1:] == original[1:]
        assert 0 <= int(copied[0][0]) - int(original[0][0]) < 128
        offset += len(original)
    assert offset == len(stitched)
    assert only_files(tmp_path) == ["final.mp4"]  # the concat list is gone


async def test_stitch_refuses_clips_in_different_formats(
    clips: list[Path], sources: dict[str, Path], tmp_path: Path
) -> None:
    other = tmp_path / "square.mp4"
    await normalise_clip(sources["odd"], other, fmt=ClipFormat(width=180, height=180))

    with pytest.raises(ValueError, match="same format"):
        await stitch_clips([clips[0], other], tmp_path / "final.mp4", timeout=30)
    assert only_files(tmp_path) == ["square.mp4"]


async def test_thumbnail_is_a_jpeg_of_the_requested_width(
    clips: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "poster.jpg"
    await make_thumbnail(clips[0], out, at_seconds=10.0, width=160)  # past the end: clamped

    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    info = await probe(out)
    assert (info.video_codec, info.width, info.height) == ("mjpeg", 160, 90)


@pytest.mark.parametrize(
    ("container", "aspect", "fit", "codec", "format_name"),
    [
        ("mp4", "16:9", "crop", "h264", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("webm", "1:1", "pad", "vp9", "matroska,webm"),
        ("gif", "9:16", "crop", "gif", "gif"),
    ],
)
async def test_export_has_the_requested_size_and_container(
    clips: list[Path],
    tmp_path: Path,
    container: Container,
    aspect: str,
    fit: Fit,
    codec: str,
    format_name: str,
) -> None:
    out = tmp_path / f"export.{container}"
    seen: list[float] = []

    async def progress(fraction: float) -> None:
        seen.append(fraction)

    await export_video(
        clips[0],
        out,
        aspect=aspect,
        resolution="480p",
        container=container,
        fit=fit,
        progress=progress,
    )

    info = await probe(out)
    assert (info.width, info.height) == export_size(aspect, "480p", container)
    assert (info.video_codec, info.format_name) == (codec, format_name)
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)
    assert info.has_audio is (container != "gif")
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


def test_gif_export_is_capped_at_480_wide() -> None:
    assert export_size("16:9", "720p", "gif") == (480, 270)
    assert export_size("16:9", "720p", "mp4") == (1280, 720)


async def test_ffmpeg_error_carries_returncode_and_stderr_tail(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(FFmpegError) as caught:
        await run_ffmpeg(["-i", str(sources["corrupt"]), str(tmp_path / "out.mp4")], timeout=30)
    assert caught.value.returncode not in (0, None)
    assert "corrupt.mp4" in caught.value.stderr_tail
    assert 0 < len(caught.value.stderr_tail) <= 2000


async def test_corrupt_upload_is_invalid_media_and_leaves_no_files(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(InvalidMediaError) as caught:
        await normalise_clip(sources["corrupt"], tmp_path / "n.mp4", fmt=FMT, duration=1)
    assert caught.value.returncode not in (0, None)
    assert only_files(tmp_path) == []


async def test_probe_rejects_a_file_without_video(sources: dict[str, Path]) -> None:
    with pytest.raises(InvalidMediaError, match="no video stream"):
        await probe(sources["audio_only"])


async def test_probe_refuses_playlists_that_point_at_other_files(
    clips: list[Path], tmp_path: Path
) -> None:
    # An upload that is really a playlist would make ffmpeg read files named inside it.
    playlist = tmp_path / "upload.mp4"
    playlist.write_text(f"ffconcat version 1.0\nfile '{clips[0]}'\n")
    m3u8 = tmp_path / "upload2.mp4"
    m3u8.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n{clips[0]}\n#EXT-X-ENDLIST\n")
    for path in (playlist, m3u8):
        with pytest.raises(InvalidMediaError):
            await probe(path)


def _running(marker: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes().decode(errors="replace"):
                return True
        except OSError:
            continue
    return False


async def test_timeout_kills_ffmpeg() -> None:
    marker = "testsrc2=s=34x26"  # a never-ending source nobody else uses
    started = time.perf_counter()
    with pytest.raises(FFmpegTimeoutError) as caught:
        await run_ffmpeg(["-re", "-f", "lavfi", "-i", marker, "-f", "null", "-"], timeout=0.5)
    assert time.perf_counter() - started < 5
    assert caught.value.returncode is not None  # it was reaped
    assert not _running(marker)


async def test_cancelling_a_run_kills_ffmpeg() -> None:
    marker = "testsrc2=s=38x22"
    task = asyncio.create_task(
        run_ffmpeg(["-re", "-f", "lavfi", "-i", marker, "-f", "null", "-"], timeout=60)
    )
    for _ in range(100):  # wait (up to 5 s) for ffmpeg to be running
        await asyncio.sleep(0.05)
        if _running(marker):
            break
    assert _running(marker)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not _running(marker)
