"""eSpeak NG through ctypes: the `preview` provider's free, offline voice with word timings.

The library and its data come from the `espeakng-loader` wheel (no apt, no network).
Synthesis runs with ``AUDIO_OUTPUT_SYNCHRONOUS``: eSpeak calls our callback with each block
of samples and the events inside it; a WORD event carries the word's character position in
the text and its position in the audio (ms), which is exactly what burned-in captions need.

eSpeak NG keeps global state (one voice, one callback), so one lock serialises every use
in the process; callers run :func:`synthesize` in a worker thread.
"""

from __future__ import annotations

import ctypes
import io
import re
import threading
import wave
from dataclasses import dataclass
from functools import cache
from typing import Any

from reelforge.providers.base import SPEAKING_RATE_WPS, Voice, WordTiming

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_END = 5
_EVENT_MSG_TERMINATED = 6
_PARAM_RATE = 1
_BASE_WPM = round(SPEAKING_RATE_WPS * 60)

# Languages offered as voices (eSpeak knows ~140; these are the ones an ad is likely in).
# language tag -> eSpeak voice identifier
LANGUAGES: dict[str, str] = {
    "en": "en-us",
    "en-GB": "en",
    "fr": "fr",
    "de": "de",
    "es": "es",
    "it": "it",
    "pt": "pt",
    "pt-BR": "pt-br",
    "nl": "nl",
    "pl": "pl",
    "sv": "sv",
    "tr": "tr",
    "ru": "ru",
    "ja": "ja",
    "hi": "hi",
}
_NAMES = {
    "en": "English (US)",
    "en-GB": "English (UK)",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "pt-BR": "Portuguese (Brazil)",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "tr": "Turkish",
    "ru": "Russian",
    "ja": "Japanese",
    "hi": "Hindi",
}
VOICE_PREFIX = "espeak:"


class EspeakError(Exception):
    pass


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # characters, from 1
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class _Engine:
    lib: Any
    sample_rate: int
    callback: Any  # kept referenced: eSpeak holds the pointer


_lock = threading.Lock()
_collect: dict[str, Any] = {}


def _on_synth(wav: Any, count: int, events: Any) -> int:
    if count and wav:
        _collect["pcm"].append(ctypes.string_at(wav, count * 2))
    i = 0
    while events[i].type != _EVENT_LIST_TERMINATED:
        event = events[i]
        if event.type == _EVENT_WORD:
            _collect["words"].append((event.text_position, event.length, event.audio_position))
        elif event.type in (_EVENT_END, _EVENT_MSG_TERMINATED):
            _collect["ends"].append(event.audio_position)
        i += 1
    return 0


@cache
def _engine() -> _Engine:
    try:
        import espeakng_loader
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise EspeakError("espeakng-loader is not installed") from exc
    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    rate = int(
        lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS,
            0,
            espeakng_loader.get_data_path().encode(),
            _INITIALIZE_DONT_EXIT,
        )
    )
    if rate <= 0:
        raise EspeakError(f"espeak_Initialize failed ({rate})")
    callback = _Callback(_on_synth)
    lib.espeak_SetSynthCallback(callback)
    return _Engine(lib=lib, sample_rate=rate, callback=callback)


def voices() -> list[Voice]:
    return [
        Voice(id=VOICE_PREFIX + tag, name=f"eSpeak NG {_NAMES[tag]}", language=tag)
        for tag in LANGUAGES
    ]


def voice_for_language(language: str) -> str | None:
    """The voice id for a language tag ("fr", "pt-BR", "en-US"…), or None."""
    if language in LANGUAGES:
        return VOICE_PREFIX + language
    base = language.split("-")[0].lower()
    return VOICE_PREFIX + base if base in LANGUAGES else None


@dataclass(frozen=True)
class Speech:
    wav: bytes  # 16-bit mono PCM WAV
    sample_rate: int
    duration: float
    words: list[WordTiming]


_WORD = re.compile(r"\S+")


def synthesize(text: str, voice_id: str, *, speed: float = 1.0) -> Speech:
    """Speak `text` with an ``espeak:<tag>`` voice; blocking (run it in a thread)."""
    tag = voice_id.removeprefix(VOICE_PREFIX)
    if not voice_id.startswith(VOICE_PREFIX) or tag not in LANGUAGES:
        raise EspeakError(f"unknown voice {voice_id!r}")
    data = text.encode("utf-8")
    with _lock:
        engine = _engine()
        lib = engine.lib
        _collect.update(pcm=[], words=[], ends=[])
        if lib.espeak_SetVoiceByName(LANGUAGES[tag].encode()) != 0:
            raise EspeakError(f"eSpeak NG has no voice {LANGUAGES[tag]!r}")
        lib.espeak_SetParameter(_PARAM_RATE, max(80, min(450, round(_BASE_WPM * speed))), 0)
        status = lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        lib.espeak_Synchronize()
        pcm = b"".join(_collect["pcm"])
        events = list(_collect["words"])
        ends = list(_collect["ends"])
    if status != 0:
        raise EspeakError(f"espeak_Synth failed ({status})")
    rate = engine.sample_rate
    duration = len(pcm) / 2 / rate
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return Speech(
        wav=buf.getvalue(),
        sample_rate=rate,
        duration=duration,
        words=word_timings(text, events, ends, duration),
    )


def word_timings(
    text: str, events: list[tuple[int, int, int]], ends: list[int], duration: float
) -> list[WordTiming]:
    """One timing per whitespace-separated word of `text`.

    eSpeak reports (character position from 1, length, ms) per word it speaks; it may split
    or merge tokens ("aujourd'hui", "Essayez-le"), so each word of the text takes the first
    event that starts inside it, and a word without one starts where the previous ended.
    A word ends where the next starts, or at the end of its sentence (an END event).
    """
    tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    starts: list[float | None] = []
    for first, last, _ in tokens:
        hit = next((ms for pos, _, ms in events if first <= pos - 1 < last), None)
        starts.append(None if hit is None else hit / 1000)
    timings: list[WordTiming] = []
    previous = 0.0
    for i, (_, _, word) in enumerate(tokens):
        start = starts[i] if starts[i] is not None else previous
        start = max(start or 0.0, previous)
        later = [s for s in starts[i + 1 :] if s is not None]
        next_start = later[0] if later else duration
        sentence_end = min((e / 1000 for e in ends if start < e / 1000 <= next_start), default=None)
        stop = sentence_end if sentence_end is not None else next_start
        stop = min(max(stop, start + 0.05), duration)
        timings.append(WordTiming(text=word, start=round(start, 3), end=round(stop, 3)))
        previous = start
    return timings
