"""The render's sound and words, as plain decisions the render stage acts on.

- Each scene's voice-over is one speech prediction (through the ledger: never paid twice),
  its word timings kept on the scene; a model that gives none gets them estimated here.
- Captions are drawn on the scene's clip in its normalise pass, from those timings shifted
  by the narration's lead; with no voice-over they follow the speaking rate.
- The music bed is one music prediction (or the client's uploaded track); the final mix
  (voice over the ducked bed, -14 LUFS) runs on the stitched video, audio only.

Word timings ("estimated" ones included) are what burned-in captions and the .srt/.vtt
files share, so what is read and what is heard stay together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from reelforge.jobs.params import JobParams
from reelforge.jobs.storyboard import Scene
from reelforge.jobs.voiceover import NARRATION_LEAD
from reelforge.media.captions import Captions, CaptionStyle, Cue, Word, build_cues
from reelforge.providers.base import (
    SPEAKING_RATE_WPS,
    MusicRequest,
    SpeechRequest,
    WordTiming,
    estimate_word_timings,
)

# A music bed is asked for in whole blocks of this many seconds and trimmed by the mix, so
# a scene that grows a little does not buy a new bed.
MUSIC_BLOCK_SECONDS = 10


def speech_request(params: JobParams, scene: Scene) -> SpeechRequest | None:
    """What the provider is asked to say for this scene; None: no voice-over here."""
    if params.voice is None or not scene.narration.strip():
        return None
    return SpeechRequest(text=scene.narration, voice=params.voice, language=params.language or "en")


def words_to_json(words: Sequence[WordTiming]) -> list[list[Any]]:
    return [[w.text, w.start, w.end] for w in words]


def words_from_json(data: Sequence[Sequence[Any]] | None) -> list[WordTiming]:
    return [WordTiming(text=str(t), start=float(a), end=float(b)) for t, a, b in data or []]


def scene_words(scene: Scene) -> list[Word]:
    """The scene's words on its clip's timeline: heard ones from the voice-over (which starts
    NARRATION_LEAD in), or, with no voice, the narration at the speaking rate."""
    if scene.words:
        timed = words_from_json(scene.words)
        return [Word(w.text, w.start + NARRATION_LEAD, w.end + NARRATION_LEAD) for w in timed]
    text = scene.narration.strip()
    if not text:
        return []
    seconds = len(text.split()) / SPEAKING_RATE_WPS
    return [
        Word(w.text, w.start, w.end)
        for w in estimate_word_timings(text, seconds, start=NARRATION_LEAD)
    ]


def captions_for(params: JobParams, scene: Scene) -> Captions | None:
    """The overlay that burns this scene's captions, or None."""
    style = CaptionStyle(params.captions)
    words = scene_words(scene)
    if style is CaptionStyle.NONE or not words:
        return None
    return Captions(words=tuple(words), style=style)


def video_cues(params: JobParams, scenes: Sequence[Scene], starts: Sequence[float]) -> list[Cue]:
    """Caption cues of the whole video (for .srt/.vtt): each scene's, shifted to its start."""
    if CaptionStyle(params.captions) is CaptionStyle.NONE:
        return []
    cues: list[Cue] = []
    for scene, start in zip(scenes, starts, strict=True):
        words = [Word(w.text, w.start + start, w.end + start) for w in scene_words(scene)]
        cues += build_cues(words, max_chars=64)
    return cues


def music_request(params: JobParams, duration: float, seed: int) -> MusicRequest | None:
    """The generated bed for a video of `duration` seconds; None without one."""
    if params.music is None or params.music_asset_id is not None:
        return None
    blocks = max(1, math.ceil(duration / MUSIC_BLOCK_SECONDS))
    return MusicRequest(mood=params.music, duration=float(blocks * MUSIC_BLOCK_SECONDS), seed=seed)
