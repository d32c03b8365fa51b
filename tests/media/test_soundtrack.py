"""Voice-over, captions, music bed, loudness and colour: real FFmpeg and eSpeak NG on tiny
inputs, every assertion made on the real output."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from reelforge.media.audio import (
    MAX_TRUE_PEAK_DB,
    TARGET_LUFS,
    VoiceCue,
    measure_loudness,
    mix_soundtrack,
)
from reelforge.media.captions import (
    Captions,
    CaptionStyle,
    Word,
    build_cues,
    to_srt,
    to_vtt,
)
from reelforge.media.clips import normalise_clip, stitch_clips
from reelforge.media.ffmpeg import probe, probe_audio
from reelforge.media.formats import ClipFormat
from reelforge.media.music import music_bed_graph, synthesize_music_bed
from reelforge.media.overlays import SAFE_ZONES
from reelforge.providers.espeak import synthesize
from tests.helpers import ffmpeg

FMT = ClipFormat.for_output("9:16", "480p")  # 480x854


def frame_at(video: Path, seconds: float, fmt: ClipFormat) -> bytes:
    """One decoded frame as raw gray bytes (width x height)."""
    return ffmpeg(
        *("-ss", f"{seconds:.3f}", "-i", str(video), "-frames:v", "1"),
        *("-f", "rawvideo", "-pix_fmt", "gray", "-"),
    )


def region(frame: bytes, fmt: ClipFormat, top: float, bottom: float) -> bytes:
    """Rows between the fractions ``top`` and ``bottom`` of the frame's height."""
    first, last = round(fmt.height * top), round(fmt.height * bottom)
    return frame[first * fmt.width : last * fmt.width]


def difference(a: bytes, b: bytes) -> float:
    """Mean absolute difference of two gray images (encoder noise is well under 1)."""
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


def loud_windows(audio: Path, *, window: float = 0.1, threshold_db: float = -40) -> list[float]:
    """Start times of windows whose RMS level is above ``threshold_db`` (speech present)."""
    out = ffmpeg(
        *("-i", str(audio), "-map", "0:a:0", "-ac", "1", "-ar", "8000"),
        *("-f", "s16le", "-"),
    )
    import array
    import math

    samples = array.array("h", out)
    size = int(8000 * window)
    starts = []
    for i in range(0, len(samples) - size, size):
        chunk = samples[i : i + size]
        rms = math.sqrt(sum(s * s for s in chunk) / size) / 32768
        if rms > 0 and 20 * math.log10(rms) > threshold_db:
            starts.append(i / 8000)
    return starts


@pytest.fixture(scope="module")
def still(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-range JPEG, like a phone photo (decodes to yuvj420p)."""
    path = tmp_path_factory.mktemp("still") / "photo.jpg"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=s=320x240", "-frames:v", "1"),
        *("-pix_fmt", "yuvj420p", "-update", "1", str(path)),
    )
    return path


@pytest.fixture(scope="module")
def silent_clip(tmp_path_factory: pytest.TempPathFactory, still: Path) -> Path:
    """The still as a normalised clip of LOUDNESS_SECONDS with a silent track, made once: the
    tests below only read it."""
    path = tmp_path_factory.mktemp("silent") / "silent.mp4"
    asyncio.run(normalise_clip(still, path, fmt=FMT, duration=LOUDNESS_SECONDS))
    return path


def test_espeak_speaks_several_languages_with_word_timings() -> None:
    for voice, text in [
        ("espeak:en", "Cold brew coffee. Smooth and bold."),
        ("espeak:fr", "Café glacé, doux et corsé. Essayez-le aujourd'hui."),
        ("espeak:de", "Kalter Kaffee, mild und kräftig."),
    ]:
        speech = synthesize(text, voice)
        assert speech.wav.startswith(b"RIFF")
        assert 1.0 < speech.duration < 6.0
        assert [w.text for w in speech.words] == text.split()
        starts = [w.start for w in speech.words]
        assert starts == sorted(starts)
        assert starts[-1] > 0.5  # real positions, not all zero
        assert all(w.start < w.end <= speech.duration + 1e-3 for w in speech.words)


def test_captions_group_words_into_cues_and_files() -> None:
    words = [
        Word("Cold", 0.0, 0.4),
        Word("brew.", 0.4, 0.9),
        Word("Smooth", 1.2, 1.6),
        Word("and", 1.6, 1.8),
        Word("bold.", 1.8, 2.3),
    ]
    cues = build_cues(words, max_chars=40)
    assert [c.text for c in cues] == ["Cold brew.", "Smooth and bold."]
    assert to_srt(cues, duration=3) == (
        "1\n00:00:00,000 --> 00:00:01,200\nCold brew.\n\n"
        "2\n00:00:01,200 --> 00:00:02,700\nSmooth and bold.\n"
    )
    assert to_vtt(cues, duration=3).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.200\nCold")
    # a long sentence is cut before it overflows
    many = [Word(f"word{i}", i * 0.2, i * 0.2 + 0.2) for i in range(20)]
    assert all(len(c.text) <= 30 for c in build_cues(many, max_chars=30))


def test_word_captions_highlight_the_spoken_word() -> None:
    from reelforge.media.overlays import Frame

    captions = Captions(
        words=(Word("Try", 0.0, 0.3), Word("it{\\b1}", 0.3, 0.6)), style=CaptionStyle.WORD
    )
    frame = Frame(fmt=FMT, safe_zone=SAFE_ZONES["9:16"], duration=2.0, work_dir=Path("/tmp"))
    script = captions.script(frame)
    events = [line for line in script.splitlines() if line.startswith("Dialogue:")]
    assert len(events) == 2  # one per word
    assert "{\\c&H0000D7FF&}Try{\\r} it(/b1)" in events[0]  # data cannot inject ASS tags
    assert "Try {\\c&H0000D7FF&}it(/b1){\\r}" in events[1]
    # the bottom margin keeps the text above the platform's UI band
    style = next(line for line in script.splitlines() if line.startswith("Style:"))
    assert style.endswith(f",{round(FMT.height * SAFE_ZONES['9:16'].bottom)},1")


async def test_captions_are_burned_inside_the_safe_zone(tmp_path: Path, still: Path) -> None:
    words = tuple(
        Word(w, 0.1 + i * 0.3, 0.4 + i * 0.3) for i, w in enumerate(["Smooth", "and", "bold"])
    )
    plain, captioned = tmp_path / "plain.mp4", tmp_path / "captioned.mp4"
    await normalise_clip(still, plain, fmt=FMT, duration=1.5)
    await normalise_clip(
        still,
        captioned,
        fmt=FMT,
        duration=1.5,
        overlays=[Captions(words=words, style=CaptionStyle.WORD)],
    )
    a, b = frame_at(plain, 0.5, FMT), frame_at(captioned, 0.5, FMT)
    zone = SAFE_ZONES["9:16"]
    lowest = 1 - zone.bottom  # the caption's baseline is at most here
    # text is drawn just above the bottom band, and nothing inside that band or the top one
    assert difference(region(a, FMT, 0.6, lowest), region(b, FMT, 0.6, lowest)) > 5
    assert difference(region(a, FMT, lowest + 0.01, 1.0), region(b, FMT, lowest + 0.01, 1.0)) < 1
    assert difference(region(a, FMT, 0, zone.top), region(b, FMT, 0, zone.top)) < 1
    assert not list(tmp_path.glob(".overlays-*"))  # the ASS script is cleaned up


async def test_every_clip_is_limited_range_bt709_and_stitch_refuses_a_mix(
    tmp_path: Path, still: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    await normalise_clip(still, clip, fmt=FMT, duration=1.0)
    info = await probe(clip)
    assert (info.pix_fmt, info.color_range, info.color_space) == ("yuv420p", "tv", "bt709")
    assert FMT.mismatches(info) == []
    # A clip encoded straight from the JPEG, as the pipeline used to: full range.
    full = tmp_path / "full.mp4"
    ffmpeg(
        *("-loop", "1", "-i", str(still), "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"),
        *("-vf", f"scale={FMT.width}:{FMT.height},setsar=1", "-t", "1"),
        *("-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-r", "24"),
        *("-video_track_timescale", "12288", "-c:a", "aac", "-shortest", str(full)),
    )
    assert (await probe(full)).color_range == "pc"
    assert any("color" in m for m in FMT.mismatches(await probe(full)))
    with pytest.raises(ValueError, match="not in the same format"):
        await stitch_clips([clip, full], tmp_path / "out.mp4")


async def test_music_bed_is_generated_and_never_loops(tmp_path: Path) -> None:
    bed = tmp_path / "bed.m4a"
    await synthesize_music_bed(bed, mood="upbeat", duration=6.0, seed=7)
    info = await probe_audio(bed)
    assert abs(info.duration_seconds - 6.0) < 0.1
    assert (info.sample_rate, info.channels) == (48000, 2)
    level = await measure_loudness(bed)
    assert -45 < level.integrated < -10
    # the same seed is the same bed; another seed (or mood) another one
    graph = music_bed_graph(mood="calm", duration=20, seed=1)
    assert graph == music_bed_graph(mood="calm", duration=20, seed=1)
    assert graph != music_bed_graph(mood="calm", duration=20, seed=2)
    bars = [part.split("*(t+")[0] for part in graph.split("aevalsrc=")[1:]]
    pluck_lines = [part[part.find("if(eq(") :].split("*(t+")[0] for part in bars]
    assert len(set(pluck_lines)) > len(pluck_lines) // 2  # the melody keeps changing


async def test_mix_reaches_target_loudness_with_voice_where_placed(
    tmp_path: Path, silent_clip: Path
) -> None:
    assert LOUDNESS_SECONDS == 3.0  # two scenes of 3 s
    video = tmp_path / "video.mp4"
    await stitch_clips([silent_clip, silent_clip], video)
    cues = []
    for i, text in enumerate(["Cold brew coffee.", "Try it today!"]):
        speech = synthesize(text, "espeak:en")
        path = tmp_path / f"voice{i}.wav"
        path.write_bytes(speech.wav)
        cues.append(VoiceCue(path=path, start=i * 3.0 + 0.3))
    bed = tmp_path / "bed.m4a"
    await synthesize_music_bed(bed, mood="calm", duration=6.0, seed=1)
    out = tmp_path / "final.mp4"
    loudness = await mix_soundtrack(video, out, voices=cues, music=bed, duration=6.0, fmt=FMT)

    measured = await measure_loudness(out)  # FFmpeg's ebur128, on the file itself
    assert abs(measured.integrated - TARGET_LUFS) <= 0.5
    assert measured.true_peak <= MAX_TRUE_PEAK_DB
    assert loudness == measured
    # the picture is a stream copy of the stitched video
    info = await probe(out)
    assert (info.width, info.height, info.fps) == (FMT.width, FMT.height, 24.0)
    assert abs(info.duration_seconds - 6.0) < 0.1

    # speech starts in each scene: the voice-only mix is silent before each cue
    dry = tmp_path / "dry.mp4"
    await mix_soundtrack(video, dry, voices=cues, music=None, duration=6.0, fmt=FMT)
    loud = loud_windows(dry)
    assert loud and 0.2 <= loud[0] <= 0.5
    assert any(3.2 <= t <= 3.5 for t in loud)
    assert not any(2.9 <= t < 3.2 for t in loud)  # the first line ended before scene 2


# --- loudness: every kind of soundtrack reaches the target, measured on the file itself ------

LOUDNESS_SECONDS = 3.0


def speak(tmp_path: Path, text: str, *, start: float = 0.3, gain_db: float = 0.0) -> VoiceCue:
    """An eSpeak NG line as a WAV, ``gain_db`` louder (or quieter) than eSpeak makes it."""
    n = len(list(tmp_path.glob("line-*.wav")))
    raw = tmp_path / f"raw-{n}.wav"
    raw.write_bytes(synthesize(text, "espeak:en").wav)
    path = tmp_path / f"line-{n}.wav"
    ffmpeg("-i", str(raw), "-af", f"volume={gain_db}dB", "-c:a", "pcm_f32le", str(path))
    return VoiceCue(path=path, start=start)


def video_with_sound(tmp_path: Path, sound: str) -> Path:
    """A short video whose own audio track (an uploaded clip's sound) is ``sound``, an
    ``aevalsrc`` expression, encoded to AAC as a phone would."""
    path = tmp_path / "with-sound.mp4"
    d = f"{LOUDNESS_SECONDS}"
    ffmpeg(
        *("-f", "lavfi", "-i", f"color=c=gray:s=160x284:r=24:d={d}"),
        *("-f", "lavfi", "-i", f"aevalsrc='{sound}':s=48000:c=stereo:d={d}"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k"),
        *("-shortest", str(path)),
    )
    return path


# A chord with a slow swell, like music or room tone under an uploaded clip, at `amp`.
def chord(amp: float) -> str:
    return (
        f"{amp}*(0.5+0.5*sin(2*PI*0.7*t))"
        "*(sin(2*PI*220*t)+0.6*sin(2*PI*277.2*t)+0.5*sin(2*PI*329.6*t))/2.1"
    )


# A full-scale square wave: as loud as a file gets; its AAC encode overshoots 0 dBTP.
SQUARE = "0.999*if(gte(sin(2*PI*110*t),0),1,-1)"

Soundtrack = tuple[Path, list[VoiceCue], Path | None]
Build = Callable[[Path, Path], Awaitable[Soundtrack]]


async def speech_only(tmp_path: Path, video: Path) -> Soundtrack:
    lines = [speak(tmp_path, "Cold brew coffee."), speak(tmp_path, "Try it!", start=1.8)]
    return video, lines, None


async def speech_over_bed(tmp_path: Path, video: Path) -> Soundtrack:
    bed = tmp_path / "bed.m4a"
    await synthesize_music_bed(bed, mood="upbeat", duration=LOUDNESS_SECONDS, seed=3)
    return video, [speak(tmp_path, "Smooth and bold. Try it today!")], bed


async def bed_only(tmp_path: Path, video: Path) -> Soundtrack:
    bed = tmp_path / "bed.m4a"
    await synthesize_music_bed(bed, mood="calm", duration=LOUDNESS_SECONDS, seed=5)
    return video, [], bed


async def clip_sound(tmp_path: Path, video: Path) -> Soundtrack:
    return video_with_sound(tmp_path, chord(0.1)), [], None


async def very_quiet_clip_sound(tmp_path: Path, video: Path) -> Soundtrack:
    return video_with_sound(tmp_path, chord(0.003)), [], None  # about -59 LUFS


async def very_loud_clip_sound(tmp_path: Path, video: Path) -> Soundtrack:
    return video_with_sound(tmp_path, SQUARE), [], None  # about +1 LUFS, +3.5 dBTP


async def whisper_over_loud_track(tmp_path: Path, video: Path) -> Soundtrack:
    track = tmp_path / "track.mp3"
    d = f"{LOUDNESS_SECONDS}"
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{SQUARE}':s=44100:d={d}", str(track))
    voice = speak(tmp_path, "Cold brew coffee, smooth and bold.", gain_db=-40)
    return video_with_sound(tmp_path, chord(0.3)), [voice], track


@pytest.mark.parametrize(
    "build",
    [
        speech_only,
        speech_over_bed,
        bed_only,
        clip_sound,
        very_quiet_clip_sound,
        very_loud_clip_sound,
        whisper_over_loud_track,
    ],
    ids=lambda build: build.__name__,
)
async def test_every_soundtrack_is_mastered_to_the_target_loudness_under_the_peak_ceiling(
    tmp_path: Path, silent_clip: Path, build: Build
) -> None:
    video, voices, music = await build(tmp_path, silent_clip)
    out = tmp_path / "out.mp4"

    loudness = await mix_soundtrack(
        video, out, voices=voices, music=music, duration=LOUDNESS_SECONDS, fmt=FMT
    )

    measured = await measure_loudness(out)  # FFmpeg's ebur128 on the delivered file
    assert abs(measured.integrated - TARGET_LUFS) <= 0.5, measured
    assert measured.true_peak <= MAX_TRUE_PEAK_DB, measured
    assert loudness == measured
    assert abs((await probe(out)).duration_seconds - LOUDNESS_SECONDS) < 0.1


async def test_the_loud_inputs_really_peak_over_the_ceiling(tmp_path: Path) -> None:
    """The "very loud" cases above start where a linear gain alone cannot reach the target."""
    level = await measure_loudness(video_with_sound(tmp_path, SQUARE))
    assert level.true_peak > 0.0
    assert level.integrated > TARGET_LUFS + 5
    voice = speak(tmp_path, "Cold brew coffee.")
    level = await measure_loudness(voice.path)
    # eSpeak's crest factor: at the target its peaks would be over the ceiling
    assert level.true_peak + (TARGET_LUFS - level.integrated) > MAX_TRUE_PEAK_DB


async def test_uploaded_music_shorter_than_the_video_is_looped(
    tmp_path: Path, silent_clip: Path
) -> None:
    track = tmp_path / "track.mp3"  # half the video
    ffmpeg("-f", "lavfi", "-i", "sine=f=330:d=1.5", "-c:a", "libmp3lame", str(track))
    out = tmp_path / "out.mp4"
    loudness = await mix_soundtrack(
        silent_clip,
        out,
        voices=[],
        music=track,
        duration=LOUDNESS_SECONDS,
        fmt=FMT,
        loop_music=True,
    )
    assert abs(loudness.integrated - TARGET_LUFS) <= 0.5
    assert loudness.true_peak <= MAX_TRUE_PEAK_DB
    loud = loud_windows(out)
    assert any(t >= 2.0 for t in loud)  # still playing after the track's own end


async def test_a_video_without_voice_or_music_is_left_silent(tmp_path: Path, still: Path) -> None:
    clip = tmp_path / "clip.mp4"
    await normalise_clip(still, clip, fmt=FMT, duration=1.0)
    out = tmp_path / "out.mp4"
    loudness = await mix_soundtrack(clip, out, voices=[], music=None, duration=1.0, fmt=FMT)
    assert loudness.integrated < -60
