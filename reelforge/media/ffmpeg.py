"""Locating and running FFmpeg, and probing media with it.

Only the ``ffmpeg`` binary is used (no ffprobe): on a fresh machine it comes from the
``imageio-ffmpeg`` wheel, which ships ffmpeg alone. Probing parses ffmpeg's input dump
(the text ffprobe would print) and takes the exact duration and frame count from the
packet list of a stream copy (no decoding).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import secrets
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

STDERR_TAIL_CHARS = 2000
# Enough for any input dump we parse; a hostile file with megabytes of metadata is cut off.
_STDERR_HEAD_CHARS = 256 * 1024

# Inputs may only be read from local files (and pipes): no http, tcp, crypto, data, ...
PROTOCOL_WHITELIST = "file,pipe"

# Demuxers allowed for untrusted inputs. Playlist-like formats (hls, dash, concat, ffconcat)
# are left out on purpose: they make ffmpeg open further files named inside the upload.
UPLOAD_DEMUXERS = (
    "mov",  # mp4, mov, m4v, 3gp
    "matroska",  # mkv, webm
    "avi",
    "mpegts",
    "mpeg",
    "flv",
    "ogg",
    "gif",
    "image2",  # jpeg files are detected as image2
    "png_pipe",
    "jpeg_pipe",
    "webp_pipe",
    "bmp_pipe",
    "tiff_pipe",
)

ProgressCallback = Callable[[float], Awaitable[None]]


class FFmpegError(Exception):
    """FFmpeg exited with an error; carries the return code and the end of its stderr."""

    def __init__(self, message: str, *, returncode: int | None, stderr_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail

    def __str__(self) -> str:
        last = self.stderr_tail.strip().splitlines()[-1:] or [""]
        return f"{self.args[0]} (returncode={self.returncode}): {last[0]}"


class FFmpegTimeoutError(FFmpegError):
    """FFmpeg ran longer than its timeout and was killed. Worth retrying, unlike the rest."""


class InvalidMediaError(FFmpegError):
    """The input is not media we can use: unreadable, unsupported, or without a video stream."""


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg binary: ``ffmpeg`` on PATH, else the one shipped by imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def input_args(
    path: Path | str,
    *,
    demuxers: Sequence[str] | None = UPLOAD_DEMUXERS,
    headers_only: bool = False,
) -> list[str]:
    """The options and ``-i`` for one input file, with the protocol (and demuxer) whitelist.

    ``demuxers=None`` is for inputs we generated ourselves that need another demuxer
    (the concat list of ``stitch_clips``). ``headers_only`` skips decoding the first
    frames when the file is opened: much faster, but the input dump then lacks the pixel
    format and the codec profile.
    """
    args = ["-protocol_whitelist", PROTOCOL_WHITELIST]
    if demuxers is not None:
        args += ["-format_whitelist", ",".join(demuxers)]
    if headers_only:
        args.append("-nofind_stream_info")
    return [*args, "-i", _local_path(path)]


def _local_path(path: Path | str) -> str:
    # Absolute, so that a name starting with "-" or containing "proto:" stays a plain file.
    return str(Path(path).absolute())


def _whitelist_inputs(args: Sequence[str]) -> list[str]:
    """Put ``-protocol_whitelist`` before every ``-i`` whose own options lack one.

    A safety net: callers normally build inputs with :func:`input_args`. We never pass
    "-i" as the value of another option, so every "-i" token starts an input.
    """
    out: list[str] = []
    group_start = 0  # where the options of the next input begin in `out`
    expect_path = False
    for arg in args:
        if expect_path:
            out.append(arg)
            group_start = len(out)
            expect_path = False
        elif arg == "-i":
            if "-protocol_whitelist" not in out[group_start:]:
                out += ["-protocol_whitelist", PROTOCOL_WHITELIST]
            out.append(arg)
            expect_path = True
        else:
            out.append(arg)
    return out


@dataclass(frozen=True)
class _Result:
    returncode: int
    stderr: str  # head (bounded) of stderr, for parsing input dumps
    stderr_tail: str


class _StderrBuffer:
    """Keeps the first ~256 KiB and the last ~2000 characters of a stream."""

    def __init__(self) -> None:
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""

    def feed(self, chunk: str) -> None:
        if self._head_len < _STDERR_HEAD_CHARS:
            part = chunk[: _STDERR_HEAD_CHARS - self._head_len]
            self._head.append(part)
            self._head_len += len(part)
        self._tail = (self._tail + chunk)[-STDERR_TAIL_CHARS:]

    @property
    def head(self) -> str:
        return "".join(self._head)

    @property
    def tail(self) -> str:
        return self._tail


LineHandler = Callable[[str], Awaitable[None]]


async def _execute(
    args: Sequence[str],
    *,
    timeout: float,
    stdout: LineHandler | None = None,
    check: bool = True,
) -> _Result:
    """Run ffmpeg; ``stdout``, when given, is awaited with each line ffmpeg writes there."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *_whitelist_inputs(args)]
    log.debug("ffmpeg.run", args=cmd[1:])
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if stdout is not None else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr = _StderrBuffer()

    async def read_stderr() -> None:
        assert proc.stderr is not None
        while chunk := await proc.stderr.read(65536):
            stderr.feed(chunk.decode("utf-8", errors="replace"))

    async def read_stdout() -> None:
        assert proc.stdout is not None
        assert stdout is not None
        while line := await proc.stdout.readline():
            await stdout(line.decode("utf-8", errors="replace").rstrip("\n"))

    readers = [read_stderr()] + ([read_stdout()] if stdout is not None else [])
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*readers, proc.wait())
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log.warning("ffmpeg.timeout", timeout=timeout, args=cmd[1:])
        raise FFmpegTimeoutError(
            f"ffmpeg timed out after {timeout:g}s",
            returncode=proc.returncode,
            stderr_tail=stderr.tail,
        ) from None
    finally:
        # Cancelled (or a line handler raised): never leave ffmpeg running behind us.
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    returncode = proc.returncode
    assert returncode is not None
    log.debug("ffmpeg.done", returncode=returncode, seconds=round(time.perf_counter() - started, 3))
    if check and returncode != 0:
        raise FFmpegError("ffmpeg failed", returncode=returncode, stderr_tail=stderr.tail)
    return _Result(returncode=returncode, stderr=stderr.head, stderr_tail=stderr.tail)


async def run_ffmpeg(
    args: Sequence[str], *, timeout: float, progress: ProgressCallback | None = None
) -> None:
    """Run ffmpeg with ``args`` (after ``-hide_banner -nostdin -y``).

    Raises :class:`FFmpegError` on a non-zero exit and :class:`FFmpegTimeoutError` (after
    killing the process) when it runs longer than ``timeout`` seconds. ``progress``, when
    given, is awaited with the output position in seconds as ffmpeg reports it.
    """
    if progress is None:
        await _execute(args, timeout=timeout)
        return

    async def on_line(line: str) -> None:
        key, _, value = line.strip().partition("=")
        # out_time_us is "N/A" until the first frame is written.
        if key == "out_time_us" and value.lstrip("-").isdigit():
            await progress(max(0, int(value)) / 1_000_000)

    await _execute(["-progress", "pipe:1", "-nostats", *args], timeout=timeout, stdout=on_line)


async def run_ffmpeg_report(args: Sequence[str], *, timeout: float) -> str:
    """Run ffmpeg like :func:`run_ffmpeg` and return the end of its stderr, where filters
    such as ``ebur128`` and ``loudnorm`` print their summaries."""
    result = await _execute(args, timeout=timeout)
    return result.stderr_tail


@dataclass(frozen=True)
class Capabilities:
    filters: frozenset[str]
    encoders: frozenset[str]
    drawtext: bool  # the filter exists *and* can render with a font found on this machine


_capabilities: Capabilities | None = None


def _names(listing: str) -> frozenset[str]:
    # Lines look like " TS geq   V->V   Apply ..." or " V....D libx264   libx264 H.264 ...".
    names = set()
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"[A-Z.|]{2,6}", parts[0]):
            names.add(parts[1])
    return frozenset(names)


async def _list(option: str) -> frozenset[str]:
    proc = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-hide_banner",
        option,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    return _names(out.decode("utf-8", errors="replace"))


async def capabilities() -> Capabilities:
    """What this ffmpeg build can do; detected once per process."""
    global _capabilities
    if _capabilities is None:
        filters, encoders = await asyncio.gather(_list("-filters"), _list("-encoders"))
        drawtext = False
        if "drawtext" in filters:
            # The filter can exist while no font is found (no fontconfig config, no fonts).
            try:
                await _execute(
                    [
                        *("-f", "lavfi", "-i", "color=c=black:s=64x64:d=0.04"),
                        *("-vf", "drawtext=text=Ag:fontsize=20", "-frames:v", "1", "-f", "null"),
                        "-",
                    ],
                    timeout=30,
                )
                drawtext = True
            except FFmpegError as exc:
                log.warning("ffmpeg.drawtext.unusable", stderr_tail=exc.stderr_tail[-300:])
        _capabilities = Capabilities(filters=filters, encoders=encoders, drawtext=drawtext)
        log.info(
            "ffmpeg.capabilities",
            exe=ffmpeg_exe(),
            drawtext=drawtext,
            vp9="libvpx-vp9" in encoders,
        )
    return _capabilities


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; rename it into place only on success.

    The suffix is kept so ffmpeg still picks the muxer from the extension.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.tmp{out.suffix}")
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise FFmpegError("ffmpeg wrote no output", returncode=0, stderr_tail="")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


# --- probing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaInfo:
    width: int  # as displayed (rotation applied)
    height: int
    duration_seconds: float  # of the first video stream; 0.0 for a still image
    format_name: str  # demuxer, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "png_pipe"
    video_codec: str  # e.g. "h264", "vp9", "png"
    video_profile: str | None  # e.g. "High"
    audio_codec: str | None
    fps: float
    pix_fmt: str
    has_video: bool
    has_audio: bool
    frame_count: int = 0
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    # From the pixel format's details, e.g. "yuv420p(tv, bt709, progressive)": "tv" is
    # limited range, "pc" full range (what JPEGs decode to); "" when not tagged.
    color_range: str = ""
    color_space: str = ""  # "bt709", or "space/primaries/transfer" when they differ
    # Average bitrates as the container states them (mp4: each track's bytes over its
    # duration); None when it does not.
    video_kbps: int | None = None
    audio_kbps: int | None = None

    @property
    def is_image(self) -> bool:
        """A single picture (png, jpeg, webp, one-frame gif...) rather than a moving video."""
        return self.frame_count <= 1


@dataclass
class _Stream:
    kind: str  # "Video", "Audio", ...
    fields: list[str]  # top-level comma-separated parts after "Video: "
    rotation: float = 0.0

    @property
    def is_video(self) -> bool:
        # Cover art in an audio file is a "video" stream of one picture; it does not count.
        return self.kind == "Video" and "(attached pic)" not in self.fields[-1]


@dataclass
class _InputDump:
    format_name: str
    duration: float | None
    streams: list[_Stream]


_INPUT_RE = re.compile(r"^Input #(\d+), (.+?), from '")
_DURATION_RE = re.compile(r"^  Duration: (?:(\d+):(\d+):(\d+(?:\.\d+)?)|N/A)")
# Exactly two spaces: metadata lines are indented further, so an upload cannot forge these.
_STREAM_RE = re.compile(r"^  Stream #\d+:\d+\S*: (Video|Audio|Subtitle|Data|Attachment): (.*)$")
_ROTATION_RE = re.compile(r"^\s+(?:Display Matrix|displaymatrix): rotation of (-?[\d.]+) degrees")
_SIZE_RE = re.compile(r"^(\d+)x(\d+)\b")


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _parse_inputs(stderr: str) -> list[_InputDump]:
    """Parse the "Input #N" sections of ffmpeg's stderr (the dump ffprobe would print)."""
    inputs: list[_InputDump] = []
    current: _InputDump | None = None
    for line in stderr.splitlines():
        if m := _INPUT_RE.match(line):
            current = _InputDump(format_name=m.group(2), duration=None, streams=[])
            inputs.append(current)
            continue
        if current is None:
            continue
        if not line.startswith(" "):
            # "Stream mapping:", "Output #0", "[mov @ 0x..] ..." end the input dump.
            current = None
        elif m := _DURATION_RE.match(line):
            if m.group(1) is not None:
                h, mi, s = m.groups()
                current.duration = int(h) * 3600 + int(mi) * 60 + float(s)
        elif m := _STREAM_RE.match(line):
            current.streams.append(_Stream(kind=m.group(1), fields=_split_top(m.group(2))))
        elif (m := _ROTATION_RE.match(line)) and current.streams:
            current.streams[-1].rotation = float(m.group(1))
    return inputs


def _color_fields(stream: _Stream) -> tuple[str, str]:
    """(range, colour space) from the pixel format field's parenthesis, when tagged."""
    if len(stream.fields) < 2 or "(" not in stream.fields[1]:
        return "", ""
    details = [p.strip() for p in stream.fields[1].split("(", 1)[1].rstrip(")").split(",")]
    color_range = details[0] if details and details[0] in ("tv", "pc") else ""
    rest = details[1:] if color_range else details
    space = rest[0] if rest and rest[0] not in ("progressive", "top first", "bottom first") else ""
    return color_range, space


def _video_fields(stream: _Stream) -> tuple[str, str | None, int, int, str, float]:
    codec_desc = stream.fields[0]
    codec = codec_desc.split(" ", 1)[0]
    profile_m = re.match(r"\S+ \(([^)/]+)\)", codec_desc)
    profile = profile_m.group(1) if profile_m else None
    width = height = 0
    pix_fmt = ""
    fps = 0.0
    tbr = 0.0
    for i, field in enumerate(stream.fields[1:], start=1):
        if size := _SIZE_RE.match(field):
            width, height = int(size.group(1)), int(size.group(2))
        elif i == 1:
            pix_fmt = field.split("(", 1)[0].strip()
        if m := re.fullmatch(r"(\d+(?:\.\d+)?)(k?) (fps|tbr)", field):
            value = float(m.group(1)) * (1000 if m.group(2) else 1)
            if m.group(3) == "fps":
                fps = value
            else:
                tbr = value
    if round(abs(stream.rotation)) % 180 == 90:
        width, height = height, width
    return codec, profile, width, height, pix_fmt, fps or tbr


def _audio_fields(stream: _Stream) -> tuple[str, int | None, int | None]:
    codec = stream.fields[0].split(" ", 1)[0]
    rate: int | None = None
    channels: int | None = None
    for field in stream.fields[1:]:
        if m := re.fullmatch(r"(\d+) Hz", field):
            rate = int(m.group(1))
        elif field == "mono":
            channels = 1
        elif field == "stereo":
            channels = 2
        elif m := re.fullmatch(r"(\d+) channels(?: \(.*\))?", field):
            channels = int(m.group(1))
        elif m := re.fullmatch(r"(\d+)\.(\d+)(?:\(.*\))?", field):
            channels = int(m.group(1)) + int(m.group(2))
    return codec, rate, channels


def _kbps(stream: _Stream | None) -> int | None:
    for field in stream.fields[1:] if stream else []:
        if m := re.fullmatch(r"(\d+) kb/s(?: \(.*\))?", field):
            return int(m.group(1))
    return None


def _media_info(dump: _InputDump, *, duration: float | None, frames: int) -> MediaInfo:
    video = next((s for s in dump.streams if s.is_video), None)
    audio = next((s for s in dump.streams if s.kind == "Audio"), None)
    if video is None:
        raise ValueError("no video stream")
    codec, profile, width, height, pix_fmt, fps = _video_fields(video)
    a_codec, a_rate, a_channels = _audio_fields(audio) if audio else (None, None, None)
    color_range, color_space = _color_fields(video)
    if duration is None:
        duration = dump.duration or 0.0
    return MediaInfo(
        width=width,
        height=height,
        duration_seconds=0.0 if frames == 1 else duration,
        format_name=dump.format_name,
        video_codec=codec,
        video_profile=profile,
        audio_codec=a_codec,
        fps=fps,
        pix_fmt=pix_fmt,
        has_video=True,
        has_audio=audio is not None,
        frame_count=frames,
        audio_sample_rate=a_rate,
        audio_channels=a_channels,
        color_range=color_range,
        color_space=color_space,
        video_kbps=_kbps(video),
        audio_kbps=_kbps(audio),
    )


class _PacketSpan:
    """Collects ``framecrc`` lines: the time span and count of a stream's packets."""

    _NOPTS = -(2**63)

    def __init__(self) -> None:
        self.time_base = 0.0
        self.packets = 0
        self.start: int | None = None
        self.end: int | None = None

    async def feed(self, line: str) -> None:
        if line.startswith("#tb 0:"):
            num, _, den = line.split(":", 1)[1].strip().partition("/")
            self.time_base = int(num) / int(den) if den.strip() else 0.0
            return
        if line.startswith("#"):
            return
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 4 or fields[0] != "0":
            return
        self.packets += 1
        pts, duration = int(fields[2]), int(fields[3])
        if pts == self._NOPTS:
            return
        self.start = pts if self.start is None else min(self.start, pts)
        # A packet without a duration still shows for about one frame.
        end = pts + max(duration, 1)
        self.end = end if self.end is None else max(self.end, end)

    def seconds(self) -> float | None:
        if self.start is None or self.end is None or not self.time_base:
            return None
        return (self.end - self.start) * self.time_base


async def probe(path: Path, *, timeout: float = 30.0) -> MediaInfo:
    """Describe a media file; safe on untrusted uploads.

    One ffmpeg run: the input dump gives codecs and geometry, and a stream copy of the
    first video stream to the ``framecrc`` muxer lists its packets, which give the exact
    duration (last presentation end minus first start) and frame count without decoding.
    Only local files and the demuxers in :data:`UPLOAD_DEMUXERS` are accepted. Raises
    :class:`InvalidMediaError` when the file cannot be read or has no video stream, and
    :class:`FFmpegTimeoutError` on timeout.
    """
    span = _PacketSpan()
    result = await _execute(
        [*input_args(path), "-map", "0:V:0", "-c", "copy", "-f", "framecrc", "pipe:1"],
        timeout=timeout,
        stdout=span.feed,
        check=False,
    )
    dumps = _parse_inputs(result.stderr)
    problem = None
    if not dumps:
        problem = f"not a readable media file: {path.name}"
    elif not any(s.is_video for s in dumps[0].streams):
        problem = f"no video stream in {path.name}"
    elif result.returncode != 0:
        problem = f"cannot read the video stream of {path.name}"
    if problem is None:
        info = _media_info(dumps[0], duration=span.seconds(), frames=span.packets)
        if info.width > 0 and info.height > 0:
            log.debug("media.probe", path=str(path), info=info)
            return info
        problem = f"video stream of {path.name} has no frame size"
    raise InvalidMediaError(problem, returncode=result.returncode, stderr_tail=result.stderr_tail)


async def run_ffmpeg_inputs(args: Sequence[str], *, timeout: float) -> list[MediaInfo | None]:
    """Run ffmpeg like :func:`run_ffmpeg` and return what it reported about each input.

    The details come from ffmpeg's input dump (headers only: durations are the
    containers', rounded to 10 ms, and ``frame_count`` is 0); ``None`` stands for an input
    without a video stream. Lets a caller check its inputs without a separate probe run.
    """
    result = await _execute(args, timeout=timeout)
    infos: list[MediaInfo | None] = []
    for dump in _parse_inputs(result.stderr):
        try:
            infos.append(_media_info(dump, duration=None, frames=0))
        except ValueError:
            infos.append(None)
    return infos


# --- audio ---------------------------------------------------------------------------

# Demuxers for audio inputs (voice-over from a TTS model, music beds, uploaded tracks).
AUDIO_DEMUXERS = ("mp3", "wav", "mov", "flac", "ogg", "aac", "matroska")


@dataclass(frozen=True)
class AudioInfo:
    duration_seconds: float
    codec: str
    sample_rate: int | None
    channels: int | None
    format_name: str


async def probe_audio(path: Path, *, timeout: float = 30.0) -> AudioInfo:
    """Describe the first audio stream of a file (exact duration from its packets).

    Raises :class:`InvalidMediaError` when the file has no readable audio stream.
    """
    span = _PacketSpan()
    result = await _execute(
        [
            *input_args(path, demuxers=AUDIO_DEMUXERS),
            *("-map", "0:a:0", "-c", "copy", "-f", "framecrc", "pipe:1"),
        ],
        timeout=timeout,
        stdout=span.feed,
        check=False,
    )
    dumps = _parse_inputs(result.stderr)
    audio = next((s for s in dumps[0].streams if s.kind == "Audio"), None) if dumps else None
    if audio is None or result.returncode != 0:
        raise InvalidMediaError(
            f"no readable audio stream in {path.name}",
            returncode=result.returncode,
            stderr_tail=result.stderr_tail,
        )
    codec, rate, channels = _audio_fields(audio)
    # The container's duration honours the edit list (AAC's priming samples are not heard).
    duration = dumps[0].duration or span.seconds() or 0.0
    return AudioInfo(
        duration_seconds=duration,
        codec=codec,
        sample_rate=rate,
        channels=channels,
        format_name=dumps[0].format_name,
    )
