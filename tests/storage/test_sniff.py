"""Content sniffing: the first bytes decide the candidate type; nothing else does."""

from __future__ import annotations

import struct

import pytest

from reelforge.errors import UnsupportedMediaType
from reelforge.storage.sniff import JPG, MOV, MP4, PNG, MediaKind, sniff
from tests.storage.conftest import Media


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\x02\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\0\0\0\x08free"


def test_real_media_is_recognised(media: Media) -> None:
    assert sniff(media.jpg[:4096]) is JPG
    assert sniff(media.png[:4096]) is PNG
    assert sniff(media.mp4[:4096]) is MP4
    assert sniff(media.mov[:4096]) is MOV


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (ftyp(b"isom", b"isom", b"avc1"), MP4),
        (ftyp(b"mp42", b"mp41"), MP4),
        (ftyp(b"M4V ", b"M4V ", b"mp42"), MP4),
        (ftyp(b"qt  ", b"qt  "), MOV),
        (ftyp(b"xyz1", b"isom"), MP4),  # unknown major brand, compatible with mp4
    ],
)
def test_iso_brands(head: bytes, kind: MediaKind) -> None:
    assert sniff(head) is kind


@pytest.mark.parametrize(
    ("head", "described"),
    [
        (b"<!DOCTYPE html><html></html>", "an HTML page"),
        (b"\xef\xbb\xbf  <html><body>", "an HTML page"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG image"),
        (b'<?xml version="1.0"?><svg/>', "an XML document"),
        (b"\x7fELF\x02\x01\x01", "an executable"),
        (b"MZ\x90\x00\x03", "an executable"),
        (b"#EXTM3U\n#EXTINF:1,\nhttp://x/a.ts\n", "an HLS playlist"),
        (b"ffconcat version 1.0\nfile a.mp4\n", "an ffconcat playlist"),
        (b"GIF89a\x01\x00", "a GIF"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "a WebP image"),
        (ftyp(b"heic", b"mif1", b"heic"), "brand 'heic'"),
        (ftyp(b"avif", b"avif", b"mif1"), "brand 'avif'"),
        (ftyp(b"xyz1", b"mif1", b"isom"), "brand 'xyz1'"),  # an image container after all
        (b"\0\0\0\x20ftyp", "not one of them"),  # truncated box
        (b"", "not one of them"),
        (b"\xff\xd8", "not one of them"),  # two bytes are not a JPEG
    ],
)
def test_everything_else_is_unsupported(head: bytes, described: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        sniff(head)
    assert described in caught.value.message
    assert caught.value.extensions["accepted"] == [
        "image/jpeg",
        "image/png",
        "video/mp4",
        "video/quicktime",
        "audio/mpeg",
        "audio/wav",
        "audio/mp4",
        "font/ttf",
        "font/otf",
    ]


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00", "mp3"),  # an ID3v2 tag
        (b"\xff\xfb\x90\x64", "mp3"),  # an MPEG-1 layer III frame
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", "wav"),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00M4A isom", "m4a"),
    ],
)
def test_music_tracks_are_sniffed_by_content(head: bytes, name: str) -> None:
    assert sniff(head).name == name
