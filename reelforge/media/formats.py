"""Output geometry and the one normalised clip format every scene clip is converted into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reelforge.media.ffmpeg import MediaInfo

ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:5")
RESOLUTIONS = {"480p": 480, "720p": 720, "1080p": 1080}  # value: the short side in pixels

Container = Literal["mp4", "webm", "gif"]
CONTAINERS: tuple[Container, ...] = ("mp4", "webm", "gif")

GIF_FPS = 12
GIF_MAX_WIDTH = 480


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _ratio(aspect: str) -> tuple[int, int]:
    if aspect not in ASPECT_RATIOS:
        raise ValueError(f"unknown aspect ratio {aspect!r}; expected one of {ASPECT_RATIOS}")
    w, h = aspect.split(":")
    return int(w), int(h)


def frame_size(aspect: str, resolution: str) -> tuple[int, int]:
    """(width, height) for an aspect ratio and a resolution name; both even (yuv420p needs it).

    The resolution names the short side: 16:9 720p is 1280x720, 9:16 720p is 720x1280.
    """
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r}; expected one of {list(RESOLUTIONS)}")
    a, b = _ratio(aspect)
    short = RESOLUTIONS[resolution]
    if a >= b:
        return _even(short * a / b), _even(short)
    return _even(short), _even(short * b / a)


def export_size(aspect: str, resolution: str, container: Container) -> tuple[int, int]:
    """The frame size an export really has: a GIF is capped at :data:`GIF_MAX_WIDTH` wide."""
    width, height = frame_size(aspect, resolution)
    if container == "gif" and width > GIF_MAX_WIDTH:
        return GIF_MAX_WIDTH, _even(height * GIF_MAX_WIDTH / width)
    return width, height


@dataclass(frozen=True)
class ClipFormat:
    """THE normalised clip: every scene clip is encoded to exactly this, so that the final
    stitch is a pure stream copy (concat demuxer, ``-c copy``).

    Everything that ends up in the codec headers is pinned (profile, level, GOP, time
    base), so clips made at different times by different code paths stay concatenable.
    """

    width: int
    height: int
    fps: int = 24
    pix_fmt: str = "yuv420p"
    # Limited ("tv") range BT.709, tagged in the stream: what players assume for HD video.
    # A clip left in full range (an uploaded JPEG decodes to yuvj420p) would play with
    # crushed blacks next to the others, so the stitch refuses a mix.
    color_range: str = "tv"
    color_space: str = "bt709"
    video_codec: str = "h264"  # as probed
    video_encoder: str = "libx264"
    video_profile: str = "high"
    video_level: str = "4.1"  # covers 1080p at 24-30 fps
    crf: int = 23
    preset: str = "veryfast"
    audio_codec: str = "aac"
    audio_sample_rate: int = 48000
    audio_channels: int = 2
    audio_bitrate: str = "128k"

    @classmethod
    def for_output(cls, aspect: str, resolution: str) -> ClipFormat:
        width, height = frame_size(aspect, resolution)
        return cls(width=width, height=height)

    def frames(self, duration: float) -> int:
        """Whole frames for ``duration`` seconds (at least one)."""
        return max(1, round(duration * self.fps))

    def output_args(self) -> list[str]:
        """Encoder and muxer options for a normalised clip (mp4, video + audio)."""
        return [
            *("-c:v", self.video_encoder, "-preset", self.preset, "-crf", str(self.crf)),
            *("-profile:v", self.video_profile, "-level:v", self.video_level),
            *("-pix_fmt", self.pix_fmt, "-r", str(self.fps)),
            *("-color_range", self.color_range, "-colorspace", self.color_space),
            *("-color_primaries", self.color_space, "-color_trc", self.color_space),
            # A keyframe every 2 s keeps seeking in the stitched video cheap.
            *("-g", str(self.fps * 2), "-keyint_min", str(self.fps)),
            *("-video_track_timescale", str(self.fps * 512)),
            *("-c:a", self.audio_codec, "-b:a", self.audio_bitrate),
            *("-ar", str(self.audio_sample_rate), "-ac", str(self.audio_channels)),
            *("-movflags", "+faststart", "-f", "mp4"),
        ]

    def color_filter(self) -> str:
        """Convert any input to this format's pixel format, range and matrix, and tag it."""
        return (
            f"scale=out_range={self.color_range}:out_color_matrix={self.color_space}:flags=bicubic,"
            f"format={self.pix_fmt},"
            f"setparams=range={self.color_range}:colorspace={self.color_space}"
            f":color_primaries={self.color_space}:color_trc={self.color_space}"
        )

    def mismatches(self, info: MediaInfo) -> list[str]:
        """How a probed clip differs from this format (empty when it conforms)."""
        expected = {
            "video_codec": self.video_codec,
            "size": (self.width, self.height),
            "fps": float(self.fps),
            "pix_fmt": self.pix_fmt,
            "color": (self.color_range, self.color_space),
            "audio_codec": self.audio_codec,
            "audio_sample_rate": self.audio_sample_rate,
            "audio_channels": self.audio_channels,
        }
        actual = {
            "video_codec": info.video_codec,
            "size": (info.width, info.height),
            "fps": info.fps,
            "pix_fmt": info.pix_fmt,
            "color": (info.color_range, info.color_space),
            "audio_codec": info.audio_codec,
            "audio_sample_rate": info.audio_sample_rate,
            "audio_channels": info.audio_channels,
        }
        return [f"{k}={actual[k]!r} (want {v!r})" for k, v in expected.items() if actual[k] != v]
