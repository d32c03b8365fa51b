"""Platform presets: where an ad will run, as data. One row per placement, holding what its
published spec demands of the file (shape, size, length, bytes, bitrates, frame rate) and
the part of the frame its app covers with UI (the safe zone everything drawn stays inside).

This table is the one place these figures live: job and export validation, the safe zone
of every overlay, the export checks, the planner's pacing and the `platforms` query all
read it. The README's preset table is written from it (and its `sources`); sources
disagree in places, and where they do the stricter figure is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reelforge.media.ffmpeg import MediaInfo
from reelforge.media.overlays import SAFE_ZONES, SafeZone

MB = 1_000_000
GB = 1_000 * MB


class Platform(StrEnum):
    TIKTOK = "tiktok"
    INSTAGRAM_REELS = "instagram_reels"
    INSTAGRAM_STORIES = "instagram_stories"
    INSTAGRAM_FEED = "instagram_feed"
    YOUTUBE_SHORTS = "youtube_shorts"
    YOUTUBE = "youtube"
    YOUTUBE_BUMPER = "youtube_bumper"
    FACEBOOK_FEED = "facebook_feed"
    LINKEDIN = "linkedin"


@dataclass(frozen=True)
class Preset:
    platform: Platform
    label: str
    aspect_ratio: str
    min_width: int  # pixels, of a frame in `aspect_ratio`
    min_height: int
    min_seconds: float
    max_seconds: float
    max_bytes: int
    default_seconds: float = 15.0
    max_side: int | None = None  # pixels, either side
    min_bytes: int = 0
    min_video_kbps: int | None = None
    min_audio_kbps: int | None = None
    max_fps: float | None = None  # the file's frame rate must stay below this
    safe_zone: SafeZone = SAFE_ZONES["16:9"]
    pacing: str = ""  # what the planner is told of the placement
    sources: tuple[str, ...] = ()


_HOOK = "Hook the viewer in the first 2 seconds; "
_VERTICAL_PACE = _HOOK + "fast cuts, sound-on, native-looking, one idea per scene."

PRESETS: dict[Platform, Preset] = {
    p.platform: p
    for p in (
        Preset(
            Platform.TIKTOK,
            "TikTok in-feed",
            "9:16",
            min_width=540,
            min_height=960,
            min_seconds=5,
            max_seconds=60,
            max_bytes=500 * MB,
            min_video_kbps=516,
            # 1080x1920: top 150 px (profile, tabs), bottom 440 px (caption, music),
            # right 150 px (like / comment / share rail).
            safe_zone=SafeZone(top=0.08, bottom=0.23, left=0.06, right=0.14),
            pacing=_VERTICAL_PACE,
            sources=("https://ads.tiktok.com/help/article/video-ads-specifications",),
        ),
        Preset(
            Platform.INSTAGRAM_REELS,
            "Instagram / Facebook Reels",
            "9:16",
            min_width=500,
            min_height=888,
            min_seconds=1,
            max_seconds=90,
            max_bytes=4 * GB,
            min_audio_kbps=128,
            safe_zone=SafeZone(top=0.14, bottom=0.35, left=0.06, right=0.06),
            pacing=_VERTICAL_PACE,
            sources=(
                "https://www.facebook.com/business/ads-guide/video/instagram-reels",
                "https://www.facebook.com/business/help/980593475366490",
            ),
        ),
        Preset(
            Platform.INSTAGRAM_STORIES,
            "Instagram / Facebook Stories",
            "9:16",
            min_width=500,
            min_height=888,
            min_seconds=1,
            max_seconds=60,
            max_bytes=4 * GB,
            min_audio_kbps=128,
            safe_zone=SafeZone(top=0.14, bottom=0.20, left=0.06, right=0.06),
            pacing=_VERTICAL_PACE,
            sources=("https://www.facebook.com/business/ads-guide/video/instagram-story",),
        ),
        Preset(
            Platform.INSTAGRAM_FEED,
            "Instagram feed",
            "4:5",
            min_width=500,
            min_height=625,
            min_seconds=1,
            max_seconds=60,
            max_bytes=4 * GB,
            min_audio_kbps=128,
            safe_zone=SAFE_ZONES["4:5"],
            pacing=_HOOK + "most viewers watch muted: the picture and captions carry the story.",
            sources=("https://www.facebook.com/business/ads-guide/video/instagram-feed",),
        ),
        Preset(
            Platform.YOUTUBE_SHORTS,
            "YouTube Shorts",
            "9:16",
            min_width=600,
            min_height=1067,
            min_seconds=1,
            max_seconds=60,  # an ad plays its first 60 s
            max_bytes=256 * GB,
            # Title and channel at the bottom, Subscribe button, the right action rail.
            safe_zone=SafeZone(top=0.10, bottom=0.25, left=0.06, right=0.14),
            pacing=_VERTICAL_PACE,
            sources=("https://support.google.com/google-ads/answer/11135637",),
        ),
        Preset(
            Platform.YOUTUBE,
            "YouTube in-stream",
            "16:9",
            min_width=640,
            min_height=360,
            min_seconds=12,
            max_seconds=180,
            max_bytes=256 * GB,
            # The progress bar, "Ad" badge and Skip button sit along the bottom.
            safe_zone=SafeZone(top=0.06, bottom=0.15, left=0.06, right=0.06),
            pacing=_HOOK + "brand and product in the first 5 seconds, before the Skip button.",
            sources=(
                "https://support.google.com/google-ads/answer/2375464",
                "https://support.google.com/youtube/answer/1722171",
            ),
        ),
        Preset(
            Platform.YOUTUBE_BUMPER,
            "YouTube bumper",
            "16:9",
            min_width=640,
            min_height=360,
            min_seconds=1,
            max_seconds=6,
            default_seconds=6,
            max_bytes=256 * GB,
            safe_zone=SafeZone(top=0.06, bottom=0.15, left=0.06, right=0.06),
            pacing="Six seconds, not skippable: one message, the brand on screen throughout.",
            sources=("https://support.google.com/google-ads/answer/7159363",),
        ),
        Preset(
            Platform.FACEBOOK_FEED,
            "Facebook feed",
            "4:5",
            min_width=500,
            min_height=625,
            min_seconds=1,
            max_seconds=241 * 60,
            max_bytes=4 * GB,
            min_audio_kbps=128,
            safe_zone=SAFE_ZONES["4:5"],
            pacing=_HOOK + "most viewers watch muted: the picture and captions carry the story.",
            sources=("https://www.facebook.com/business/ads-guide/video/facebook-feed",),
        ),
        Preset(
            Platform.LINKEDIN,
            "LinkedIn video ad",
            "4:5",
            min_width=360,
            min_height=450,
            max_side=1920,
            min_seconds=3,
            max_seconds=30 * 60,
            min_bytes=75_000,
            max_bytes=500 * MB,
            max_fps=30,
            safe_zone=SAFE_ZONES["4:5"],
            pacing=_HOOK + "professional tone; state the benefit plainly; muted by default.",
            sources=("https://www.linkedin.com/help/lms/answer/a424737",),
        ),
    )
}


def preset(platform: Platform | str) -> Preset:
    return PRESETS[Platform(platform)]


Problem = tuple[str, str]  # (the rule, what breaks it)


def size_problem(p: Preset, width: int, height: int) -> Problem | None:
    """The size rule a ``width`` x ``height`` frame breaks, or None."""
    if width < p.min_width or height < p.min_height:
        return (
            "min_size",
            f"{p.label} needs at least {p.min_width}x{p.min_height} pixels; "
            f"this is {width}x{height}",
        )
    if p.max_side is not None and max(width, height) > p.max_side:
        return (
            "max_side",
            f"{p.label} allows at most {p.max_side} pixels a side; this is {width}x{height}",
        )
    return None


def duration_problem(p: Preset, seconds: float) -> Problem | None:
    if not p.min_seconds <= seconds <= p.max_seconds:
        return (
            "duration",
            f"{p.label} runs {p.min_seconds:g}–{p.max_seconds:g} s; this is {seconds:g} s",
        )
    return None


def check_file(p: Preset, size_bytes: int, info: MediaInfo) -> list[dict[str, object]]:
    """The file measured against each of ``p``'s rules that a file can break: one entry
    per rule, {"rule", "passed", "limit", "actual"}."""
    checks: list[tuple[str, bool, float, float]] = [
        ("max_bytes", size_bytes <= p.max_bytes, p.max_bytes, size_bytes),
        (
            "min_seconds",
            info.duration_seconds >= p.min_seconds - 0.05,
            p.min_seconds,
            info.duration_seconds,
        ),
        (
            "max_seconds",
            info.duration_seconds <= p.max_seconds,
            p.max_seconds,
            info.duration_seconds,
        ),
        ("min_width", info.width >= p.min_width, p.min_width, info.width),
        ("min_height", info.height >= p.min_height, p.min_height, info.height),
    ]
    if p.min_bytes:
        checks.append(("min_bytes", size_bytes >= p.min_bytes, p.min_bytes, size_bytes))
    if p.max_side is not None:
        side = max(info.width, info.height)
        checks.append(("max_side", side <= p.max_side, p.max_side, side))
    if p.min_video_kbps is not None:
        kbps = info.video_kbps or 0
        checks.append(("min_video_kbps", kbps >= p.min_video_kbps, p.min_video_kbps, kbps))
    if p.min_audio_kbps is not None and info.has_audio:
        kbps = info.audio_kbps or 0
        checks.append(("min_audio_kbps", kbps >= p.min_audio_kbps, p.min_audio_kbps, kbps))
    if p.max_fps is not None:
        checks.append(("max_fps", info.fps < p.max_fps, p.max_fps, info.fps))
    return [
        {"rule": rule, "passed": passed, "limit": float(limit), "actual": float(actual)}
        for rule, passed, limit, actual in checks
    ]


def markdown_table() -> str:
    """The README's table of presets, written from PRESETS (a test keeps them equal)."""

    def size(n: int) -> str:
        return f"{n / GB:g} GB" if n >= GB else f"{n / MB:g} MB"

    lines = [
        "| Platform | Placement | Ratio | Frame (px) | Length | File | Rates "
        "| Safe zone: top / bottom / left / right | Sources |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in PRESETS.values():
        z = p.safe_zone
        frame = f"≥ {p.min_width}×{p.min_height}"
        if p.max_side:
            frame += f", ≤ {p.max_side} a side"
        file = f"≤ {size(p.max_bytes)}" + (f", ≥ {p.min_bytes // 1000} KB" if p.min_bytes else "")
        rates = [
            f"video ≥ {p.min_video_kbps} kbps" if p.min_video_kbps else "",
            f"audio ≥ {p.min_audio_kbps} kbps" if p.min_audio_kbps else "",
            f"< {p.max_fps:g} fps" if p.max_fps else "",
        ]
        zone = f"{z.top:.0%} / {z.bottom:.0%} / {z.left:.0%} / {z.right:.0%}"
        sources = " ".join(f"[{i + 1}]({url})" for i, url in enumerate(p.sources))
        lines.append(
            f"| `{p.platform.name}` | {p.label} | {p.aspect_ratio} | {frame} "
            f"| {p.min_seconds:g}–{p.max_seconds:g} s | {file} "
            f"| {', '.join(r for r in rates if r) or '—'} | {zone} | {sources} |"
        )
    return "\n".join(lines)
