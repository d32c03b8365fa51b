"""What a finished prediction produced: its output URLs (or inline data URIs), copied into
bytes at once, because Replicate removes API outputs after an hour; and the files we send as
inputs (small stills inline, large ones through the files API)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import mimetypes
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

import structlog

from reelforge.media.ffmpeg import FFmpegError, probe_audio
from reelforge.providers.base import (
    MediaResult,
    OutputRemoved,
    PredictionKind,
    PredictionMeta,
    ProviderError,
)
from reelforge.providers.replicate.http import ReplicateClient

log = structlog.get_logger(__name__)

INLINE_IMAGE_LIMIT = 1024 * 1024  # larger stills go through the files API
MAX_OUTPUT_BYTES = 200 * 1024 * 1024


def check_not_removed(prediction: dict[str, Any]) -> None:
    """Raise OutputRemoved for a prediction whose data Replicate has removed."""
    if prediction.get("data_removed") is True and prediction.get("output") in (None, [], ""):
        pid = prediction.get("id")
        raise OutputRemoved(
            f"prediction {pid} succeeded but Replicate has removed its output "
            "(data_removed: API predictions' data is kept for one hour)",
            external_id=pid if isinstance(pid, str) else None,
        )


async def image_input(
    client: ReplicateClient,
    data: bytes,
    content_type: str,
    *,
    inline_limit: int,
    url: str | None = None,
) -> str:
    """A data URI for a small still; for a large one, the presigned URL of our own copy when
    there is one (no upload), else a Replicate file URL."""
    if len(data) <= inline_limit:
        return inline_image(data, content_type)
    if url:
        return url
    return await client.upload_file(data, content_type)


def inline_image(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


async def copy_media(
    client: ReplicateClient,
    kind: PredictionKind,
    prediction: dict[str, Any],
    meta: PredictionMeta,
    *,
    max_bytes: int,
) -> MediaResult:
    """The prediction's first output file, copied."""
    try:
        check_not_removed(prediction)
    except ProviderError as exc:
        exc.cost = meta.cost  # it was paid for all the same
        raise
    urls = output_urls(prediction.get("output"))
    if not urls:
        raise ProviderError(
            f"{kind.value} prediction {meta.external_id} succeeded without an output file",
            retryable=True,
            external_id=meta.external_id,
        )
    default_type = {
        PredictionKind.IMAGE: "image/png",
        PredictionKind.SPEECH: "audio/mpeg",
        PredictionKind.MUSIC: "audio/mpeg",
    }.get(kind, "video/mp4")
    url = urls[0]
    try:
        if url.startswith("data:"):
            data, content_type = decode_data_uri(url, default_type)
        else:
            data, header = await client.download(url, max_bytes=max_bytes)
            content_type = media_type(header, url, default_type)
    except ProviderError as exc:
        exc.external_id = meta.external_id
        if isinstance(exc, OutputRemoved):
            exc.cost = meta.cost
        raise
    log.info(
        "replicate.output.copied",
        kind=kind.value,
        prediction=meta.external_id,
        size_bytes=len(data),
    )
    return MediaResult(data=data, content_type=content_type, meta=meta)


async def audio_seconds(data: bytes, content_type: str) -> float:
    """How long an audio output lasts (probed from a temporary copy)."""
    suffix = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mp4": ".m4a"}.get(
        content_type, ".mp3"
    )
    with tempfile.TemporaryDirectory(prefix="reelforge-audio-") as tmp:
        path = Path(tmp) / f"speech{suffix}"
        await asyncio.to_thread(path.write_bytes, data)
        try:
            return (await probe_audio(path)).duration_seconds
        except FFmpegError as exc:
            raise ProviderError(f"the speech output is not audio: {exc}", retryable=True) from exc


def output_urls(output: Any) -> list[str]:
    if isinstance(output, str):
        return [output] if output else []
    if isinstance(output, list):
        return [item for item in output if isinstance(item, str) and item]
    if isinstance(output, dict):
        return [item for item in output.values() if isinstance(item, str) and item]
    return []


def decode_data_uri(uri: str, default_type: str) -> tuple[bytes, str]:
    header, _, payload = uri.partition(",")
    kind = header[len("data:") :].split(";")[0] or default_type
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=True), kind
        return urllib.parse.unquote_to_bytes(payload), kind
    except (binascii.Error, ValueError) as exc:
        raise ProviderError("the output is a malformed data URI", retryable=False) from exc


def media_type(header: str | None, url: str, default_type: str) -> str:
    if header:
        value = header.split(";")[0].strip().lower()
        if value and value not in ("application/octet-stream", "binary/octet-stream"):
            return value
    guessed, _ = mimetypes.guess_type(urllib.parse.urlsplit(url).path)
    return guessed or default_type
