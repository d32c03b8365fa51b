"""What an upload really is, decided by its content: the first bytes name a candidate type
(jpg, png, mp4 or mov; mp3, wav or m4a for music tracks; ttf or otf for a brand kit's
font), then FFmpeg must probe it as that type and decode its first frame (or its audio, or
draw text with the font). The client's file name and Content-Type are never consulted.

Only these nine kinds are accepted. Anything else (HTML, SVG, executables, HLS or ffconcat
playlists, other image and video formats) is UNSUPPORTED_MEDIA_TYPE before it reaches
FFmpeg; FFmpeg itself only ever reads a sniffed upload with that kind's demuxers, so a
playlist that would make it open further files can never be opened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from reelforge.errors import ServiceUnavailable, UnsupportedMediaType
from reelforge.media.ffmpeg import (
    AudioInfo,
    FFmpegError,
    FFmpegTimeoutError,
    MediaInfo,
    input_args,
    probe,
    probe_audio,
    run_ffmpeg_inputs,
)
from reelforge.media.stills import filter_value

# Bytes needed to decide: the ISO-BMFF `ftyp` box of an mp4/mov is normally 20-40 bytes.
SNIFF_BYTES = 4096
# A bigger picture would take hundreds of megabytes to decode (a decompression bomb).
MAX_DIMENSION = 8192
DECODE_TIMEOUT = 30.0

ACCEPTED = "jpg, png, mp4, mov, mp3, wav, m4a, ttf or otf"
# Longest music track accepted (a bed under an ad; anything longer is a mistake).
MAX_AUDIO_SECONDS = 600.0


@dataclass(frozen=True)
class MediaKind:
    name: str  # "jpg", "png", "mp4", "mov"
    ext: str
    content_type: str
    demuxers: tuple[str, ...]  # what FFmpeg may read this kind with
    codecs: frozenset[str] | None  # the video (or audio) codec FFmpeg must find; None: any
    is_video: bool
    is_audio: bool = False
    is_font: bool = False


JPG = MediaKind("jpg", "jpg", "image/jpeg", ("image2", "jpeg_pipe"), frozenset({"mjpeg"}), False)
PNG = MediaKind("png", "png", "image/png", ("image2", "png_pipe"), frozenset({"png"}), False)
MP4 = MediaKind("mp4", "mp4", "video/mp4", ("mov",), None, True)
MOV = MediaKind("mov", "mov", "video/quicktime", ("mov",), None, True)
MP3 = MediaKind("mp3", "mp3", "audio/mpeg", ("mp3",), frozenset({"mp3"}), False, True)
WAV = MediaKind(
    "wav",
    "wav",
    "audio/wav",
    ("wav",),
    frozenset({"pcm_s16le", "pcm_s24le", "pcm_f32le"}),
    False,
    True,
)
M4A = MediaKind("m4a", "m4a", "audio/mp4", ("mov",), frozenset({"aac", "alac"}), False, True)
TTF = MediaKind("ttf", "ttf", "font/ttf", (), None, False, is_font=True)
OTF = MediaKind("otf", "otf", "font/otf", (), None, False, is_font=True)
FONT_CONTENT_TYPES = (TTF.content_type, OTF.content_type)
ALL_KINDS = (JPG, PNG, MP4, MOV, MP3, WAV, M4A, TTF, OTF)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TRUETYPE_VERSIONS = (b"\x00\x01\x00\x00", b"true")
# Tables every font we draw with must have (OpenType spec, "Required tables"), and the
# outlines: TrueType glyphs or CFF.
_REQUIRED_TABLES = frozenset({b"cmap", b"head", b"hhea", b"hmtx", b"maxp", b"name"})
_OUTLINES = {"ttf": ({b"glyf", b"loca"},), "otf": ({b"CFF "}, {b"CFF2"})}
_HEAD_MAGIC = 0x5F0F3CF5
MAX_FONT_TABLES = 256
_JPEG_SIGNATURE = b"\xff\xd8\xff"


def _brands(names: str) -> frozenset[bytes]:
    """Four-character codes separated by "|" (some end in spaces: "M4V ", "qt  ")."""
    return frozenset(name.encode("latin-1") for name in names.split("|"))


# Major brands of the `ftyp` box that make a file an mp4 (ISO base media / MPEG-4 video).
MP4_BRANDS = _brands(
    "isom|iso2|iso3|iso4|iso5|iso6|iso7|iso8|iso9|mp41|mp42|mp71|avc1|M4V |M4VH|M4VP|MSNV"
    "|XAVC|dash|f4v |mmp4|NDAS|NDSC|NDSH|NDSM|NDSP|NDSS|NDXC|NDXH|NDXM|NDXP|NDXS"
)
MOV_BRANDS = _brands("qt  ")
M4A_BRANDS = _brands("M4A ")
# ISO-BMFF files that are not videos we take, even when they list a video brand as compatible.
_NOT_VIDEO_BRANDS = _brands(
    "heic|heix|hevc|hevx|heim|heis|mif1|msf1|avif|avis|M4A |M4B |M4P |crx |jp2 |jpx |3gp4|3gp5"
    "|3gp6|3g2a"
)

# For a helpful message only: common things people (or attackers) send instead.
_LOOKS_LIKE: tuple[tuple[bytes, str], ...] = (
    (b"#EXTM3U", "an HLS playlist"),
    (b"ffconcat", "an ffconcat playlist"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
    (b"%PDF", "a PDF"),
    (b"GIF8", "a GIF"),
    (b"PK\x03\x04", "a zip archive"),
    (b"<svg", "an SVG image"),
    (b"<?xml", "an XML document"),
    (b"<!doctype", "an HTML page"),
    (b"<html", "an HTML page"),
)


def _describe(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for prefix, what in _LOOKS_LIKE:
        if text.startswith(prefix.lower()):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return f"an ISO media file of brand {head[8:12].decode('latin-1')!r}"
    return "not one of them"


def _iso_kind(head: bytes) -> MediaKind | None:
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    if size < 16 or size > len(head) or size % 4:
        return None
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, size, 4)}
    if major in M4A_BRANDS:
        return M4A
    if major in MOV_BRANDS:
        return MOV
    if major in MP4_BRANDS:
        return MP4
    if major in _NOT_VIDEO_BRANDS or compatible & _NOT_VIDEO_BRANDS:
        return None
    if compatible & MP4_BRANDS:
        return MP4
    if compatible & MOV_BRANDS:
        return MOV
    return None


def sniff(head: bytes) -> MediaKind:
    """The kind named by the first bytes of a file (up to :data:`SNIFF_BYTES` of them).

    Raises UNSUPPORTED_MEDIA_TYPE for anything but jpg, png, mp4 and mov.
    """
    if head.startswith(_JPEG_SIGNATURE):
        return JPG
    if head.startswith(_PNG_SIGNATURE):
        return PNG
    kind = _iso_kind(head)
    if kind is not None:
        return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:4] in _TRUETYPE_VERSIONS:
        return TTF
    if head[:4] == b"OTTO":
        return OTF
    # An ID3 tag, or an MPEG audio frame header (11 sync bits, layer III).
    if head.startswith(b"ID3") or (
        len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 == 0x02
    ):
        return MP3
    raise UnsupportedMediaType(
        f"only {ACCEPTED} files are accepted; this is {_describe(head)}",
        accepted=[k.content_type for k in ALL_KINDS],
    )


def _check_info(kind: MediaKind, info: MediaInfo) -> None:
    if kind.is_video:
        if not info.format_name.startswith("mov,mp4"):
            raise UnsupportedMediaType(f"not a valid {kind.name} file")
        if info.duration_seconds <= 0:
            raise UnsupportedMediaType(f"the {kind.name} file has no playable video")
    elif info.format_name not in kind.demuxers:
        raise UnsupportedMediaType(f"not a valid {kind.name} file")
    if kind.codecs is not None and info.video_codec not in kind.codecs:
        raise UnsupportedMediaType(f"not a valid {kind.name} file")
    if max(info.width, info.height) > MAX_DIMENSION:
        raise UnsupportedMediaType(
            f"pictures are limited to {MAX_DIMENSION}x{MAX_DIMENSION} pixels "
            f"(this one is {info.width}x{info.height})"
        )


async def _decode_first_frame(path: Path, kind: MediaKind) -> MediaInfo:
    """One FFmpeg run: read the headers and decode the first frame, with only this kind's
    demuxers. Decoders refuse pictures over MAX_DIMENSION² pixels (a decompression bomb
    fails fast) and -xerror stops at the first decoding error (garbage behind a valid
    header fails here)."""
    infos = await run_ffmpeg_inputs(
        [
            "-xerror",
            *("-max_pixels", str(MAX_DIMENSION * MAX_DIMENSION)),
            *input_args(path, demuxers=kind.demuxers),
            *("-map", "0:V:0", "-frames:v", "1", "-f", "null", "-"),
        ],
        timeout=DECODE_TIMEOUT,
    )
    info = infos[0] if infos else None
    if info is None:
        raise UnsupportedMediaType(f"not a valid {kind.name} file: no picture in it")
    return info


async def _verify_audio(path: Path, kind: MediaKind) -> AudioInfo:
    """Probe the audio stream with only this kind's demuxers, then decode its start."""
    info = await probe_audio(path, timeout=DECODE_TIMEOUT)
    if info.format_name.split(",")[0] not in kind.demuxers:
        raise UnsupportedMediaType(f"not a valid {kind.name} file")
    if kind.codecs is not None and info.codec not in kind.codecs:
        raise UnsupportedMediaType(f"not a valid {kind.name} file ({info.codec} audio)")
    if not 0 < info.duration_seconds <= MAX_AUDIO_SECONDS:
        raise UnsupportedMediaType(
            f"music tracks must be up to {MAX_AUDIO_SECONDS:g} s long and not empty"
        )
    await run_ffmpeg_inputs(
        [
            "-xerror",
            *input_args(path, demuxers=kind.demuxers),
            *("-map", "0:a:0", "-t", "1", "-f", "null", "-"),
        ],
        timeout=DECODE_TIMEOUT,
    )
    return info


def check_font_tables(data: bytes, kind: MediaKind) -> None:
    """The sfnt table directory must be whole and hold the tables a font needs, each inside
    the file, with the `head` table's magic number where the spec puts it."""
    bad = UnsupportedMediaType(f"not a valid {kind.name} font")
    if len(data) < 12:
        raise bad
    count = int.from_bytes(data[4:6], "big")
    if not 1 <= count <= MAX_FONT_TABLES or len(data) < 12 + 16 * count:
        raise bad
    tables: dict[bytes, tuple[int, int]] = {}
    for i in range(count):
        record = data[12 + 16 * i : 28 + 16 * i]
        offset = int.from_bytes(record[8:12], "big")
        length = int.from_bytes(record[12:16], "big")
        if offset + length > len(data):
            raise bad
        tables[record[:4]] = (offset, length)
    if not tables.keys() >= _REQUIRED_TABLES:
        raise bad
    if not any(outline <= tables.keys() for outline in _OUTLINES[kind.name]):
        raise bad
    head_offset, head_length = tables[b"head"]
    magic = data[head_offset + 12 : head_offset + 16]
    if head_length < 54 or int.from_bytes(magic, "big") != _HEAD_MAGIC:
        raise bad


async def _verify_font(path: Path, kind: MediaKind) -> None:
    """The table directory, then FFmpeg (FreeType) must draw text with the font."""
    check_font_tables(await asyncio.to_thread(path.read_bytes), kind)
    await run_ffmpeg_inputs(_draw_with_font(path), timeout=DECODE_TIMEOUT)


def _draw_with_font(path: Path) -> list[str]:
    font = filter_value(str(path.absolute()))
    return [
        "-xerror",
        *("-f", "lavfi", "-i", "color=c=black:s=64x64:d=0.04"),
        *("-vf", f"drawtext=fontfile={font}:text=Ag:fontsize=24"),
        *("-frames:v", "1", "-f", "null", "-"),
    ]


async def verify_media(path: Path, kind: MediaKind) -> MediaInfo | AudioInfo | None:
    """Decode the first frame of ``path`` as ``kind`` and return what FFmpeg reported
    (geometry, codec; for videos the container's duration, to 10 ms). A video whose
    headers give no duration (some fragmented mp4s) is probed packet by packet instead.

    Raises UNSUPPORTED_MEDIA_TYPE when FFmpeg cannot read it as that kind, and
    SERVICE_UNAVAILABLE when FFmpeg runs out of time.
    """
    try:
        if kind.is_font:
            await _verify_font(path, kind)
            return None
        if kind.is_audio:
            return await _verify_audio(path, kind)
        info = await _decode_first_frame(path, kind)
        if kind.is_video and info.duration_seconds <= 0:
            info = await probe(path)
    except FFmpegTimeoutError as exc:
        raise ServiceUnavailable("checking the file took too long; try again later") from exc
    except FFmpegError as exc:  # InvalidMediaError included
        raise UnsupportedMediaType(f"not a valid {kind.name} file") from exc
    _check_info(kind, info)
    return info
