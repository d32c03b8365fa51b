"""FFmpeg work: probing, title-card stills, scene clips, stitching, thumbnails, exports.

FFmpeg is called from this package only.
"""

from reelforge.media.clips import ken_burns_clip, make_thumbnail, normalise_clip, stitch_clips
from reelforge.media.ffmpeg import (
    FFmpegError,
    FFmpegTimeoutError,
    InvalidMediaError,
    MediaInfo,
    probe,
    run_ffmpeg,
)
from reelforge.media.formats import (
    ASPECT_RATIOS,
    RESOLUTIONS,
    ClipFormat,
    export_size,
    frame_size,
)
from reelforge.media.stills import draw_still
from reelforge.media.transcode import export_video

__all__ = [
    "ASPECT_RATIOS",
    "RESOLUTIONS",
    "ClipFormat",
    "FFmpegError",
    "FFmpegTimeoutError",
    "InvalidMediaError",
    "MediaInfo",
    "draw_still",
    "export_size",
    "export_video",
    "frame_size",
    "ken_burns_clip",
    "make_thumbnail",
    "normalise_clip",
    "probe",
    "run_ffmpeg",
    "stitch_clips",
]
