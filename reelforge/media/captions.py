"""Burned-in captions from word timings, and the same timings as SRT / WebVTT files.

Words are grouped into cues (a sentence, or as many words as fit two lines); a cue shows
from its first word to its last. ``WORD`` style also highlights the word being spoken.
Drawing uses libass (FFmpeg's ``ass`` filter) with the packaged font: it wraps, outlines
and places text by the safe zone's margins, and renders per-word colour changes exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from reelforge.media.overlays import FONT_NAME, FONTS_DIR, Frame
from reelforge.media.stills import filter_value


class CaptionStyle(StrEnum):
    NONE = "none"
    SENTENCE = "sentence"
    WORD = "word"


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the clip (or the video, for files)
    end: float


@dataclass(frozen=True)
class Cue:
    words: tuple[Word, ...]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


# Text size from the frame: 7 % of the short side reads on a phone at arm's length.
FONT_SCALE = 0.07
# DejaVu Sans Bold's average advance is about 0.62 em; used to size lines before libass wraps.
_CHAR_WIDTH_EM = 0.62
_MAX_LINES = 2
_HOLD = 0.4  # a cue stays this much after its last word, unless the next one starts
HIGHLIGHT = "&H0000D7FF&"  # ASS is &HBBGGRR: gold #FFD700
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")


def font_size(width: int, height: int) -> int:
    return max(12, round(min(width, height) * FONT_SCALE))


def chars_per_line(width: int, margin_lr: int, size: int) -> int:
    return max(8, int((width - margin_lr) / (size * _CHAR_WIDTH_EM)))


def build_cues(words: Sequence[Word], *, max_chars: int) -> list[Cue]:
    """Group words into cues: break after a sentence, or before overflowing ``max_chars``."""
    cues: list[Cue] = []
    current: list[Word] = []
    length = 0
    for word in words:
        extra = len(word.text) + (1 if current else 0)
        if current and length + extra > max_chars:
            cues.append(Cue(tuple(current)))
            current, length, extra = [], 0, len(word.text)
        current.append(word)
        length += extra
        if word.text.endswith(_SENTENCE_END):
            cues.append(Cue(tuple(current)))
            current, length = [], 0
    if current:
        cues.append(Cue(tuple(current)))
    return cues


def _cue_end(cues: Sequence[Cue], i: int, limit: float) -> float:
    end = cues[i].end + _HOLD
    if i + 1 < len(cues):
        end = min(end, cues[i + 1].start)
    return max(cues[i].start + 0.1, min(end, limit))


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Sequence[Cue], *, duration: float) -> str:
    blocks = []
    for i, cue in enumerate(cues):
        end = _cue_end(cues, i, duration)
        blocks.append(f"{i + 1}\n{_clock(cue.start, ',')} --> {_clock(end, ',')}\n{cue.text}\n")
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue], *, duration: float) -> str:
    blocks = [
        f"{_clock(c.start, '.')} --> {_clock(_cue_end(cues, i, duration), '.')}\n{c.text}\n"
        for i, c in enumerate(cues)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _ass_time(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _ass_text(text: str) -> str:
    # Braces open override blocks and backslashes start escapes: neither may come from data.
    return text.replace("\\", "/").replace("{", "(").replace("}", ")").replace("\n", " ")


def _highlighted(text: str) -> str:
    return f"{{\\c{HIGHLIGHT}}}{_ass_text(text)}{{\\r}}"


@dataclass(frozen=True)
class Captions:
    """An overlay: the words of one clip's narration, drawn in ``style``."""

    words: tuple[Word, ...]
    style: CaptionStyle

    def key(self) -> str:
        payload = json.dumps(
            {"style": self.style.value, "words": [asdict(w) for w in self.words]}, sort_keys=True
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def script(self, frame: Frame) -> str:
        """The ASS script that draws the captions on a frame of this size."""
        fmt = frame.fmt
        left, right, _top, bottom = frame.safe_zone.margins(fmt.width, fmt.height)
        size = font_size(fmt.width, fmt.height)
        outline = max(2, round(size / 14))
        cues = build_cues(
            self.words, max_chars=_MAX_LINES * chars_per_line(fmt.width, left + right, size)
        )
        style = (
            f"Style: Caption,{FONT_NAME},{size},&H00FFFFFF,&H00FFFFFF,&H00000000,&H96000000,"
            f"-1,0,0,0,100,100,0,0,1,{outline},{max(1, outline // 2)},2,"
            f"{left},{right},{bottom},1"
        )
        events = []
        for i, cue in enumerate(cues):
            end = _cue_end(cues, i, frame.duration)
            if self.style is CaptionStyle.WORD:
                for j, word in enumerate(cue.words):
                    start = cue.start if j == 0 else word.start
                    until = cue.words[j + 1].start if j + 1 < len(cue.words) else end
                    if until <= start:
                        continue
                    text = " ".join(
                        _highlighted(w.text) if k == j else _ass_text(w.text)
                        for k, w in enumerate(cue.words)
                    )
                    events.append((start, until, text))
            else:
                events.append((cue.start, end, _ass_text(cue.text)))
        lines = [
            "[Script Info]",
            "ScriptType: v4.00+",
            f"PlayResX: {fmt.width}",
            f"PlayResY: {fmt.height}",
            "WrapStyle: 0",
            "ScaledBorderAndShadow: yes",
            "",
            "[V4+ Styles]",
            "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
            "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
            "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
            style,
            "",
            "[Events]",
            "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
            *(
                f"Dialogue: 0,{_ass_time(a)},{_ass_time(b)},Caption,,0,0,0,,{text}"
                for a, b, text in events
            ),
        ]
        return "\n".join(lines) + "\n"

    def filter(self, frame: Frame) -> str:
        if self.style is CaptionStyle.NONE or not self.words:
            return "null"
        path = frame.work_dir / f"captions-{self.key()}.ass"
        path.write_text(self.script(frame), encoding="utf-8")
        return f"ass=filename={filter_value(str(path))}:fontsdir={filter_value(str(FONTS_DIR))}"
