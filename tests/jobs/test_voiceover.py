"""Narration, voices, captions and music choices through the API (preview provider)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from reelforge.config import Settings
from reelforge.jobs.voiceover import min_scene_seconds
from reelforge.media.ffmpeg import ffmpeg_exe
from tests.helpers import create_job, error_code, gql, wait_for_status

SOUND_FIELDS = """
id status voice language captions music musicAssetId
scenes { index description narration duration image { id } }
"""


async def job_sound(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    body = await gql(client, f"query($id: ID!) {{ job(id: $id) {{ {SOUND_FIELDS} }} }}", id=job_id)
    assert not body.get("errors"), body
    job: dict[str, Any] = body["data"]["job"]
    return job


async def test_voices_lists_several_languages(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ voices { id name language provider } }")
    voices = body["data"]["voices"]
    assert {"en", "fr", "de", "es", "it", "pt"} <= {v["language"] for v in voices}
    assert {v["provider"] for v in voices} == {"preview"}
    french = await gql(client, '{ voices(language: "fr-CA") { id language } }')
    assert french["data"]["voices"] == [{"id": "espeak:fr", "language": "fr"}]


async def test_by_default_a_job_speaks_the_briefs_language_with_word_captions_and_music(
    client: httpx.AsyncClient, worker: Any
) -> None:
    body = await gql(  # nothing about sound or words given: the defaults
        client,
        "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }",
        input={
            "brief": "Un café glacé, doux et corsé. Essayez-le avec vos amis aujourd'hui.",
            "sceneCount": 2,
            "targetDuration": 2.0,
        },
    )
    done = await wait_for_status(client, body["data"]["createJob"]["id"], "STORYBOARD_COMPLETE")
    sound = await job_sound(client, done["id"])
    assert (sound["voice"], sound["language"]) == ("espeak:fr", "fr")
    assert (sound["captions"], sound["music"], sound["musicAssetId"]) == ("WORD", "UPBEAT", None)
    narrations = [s["narration"] for s in sound["scenes"]]
    assert narrations == [
        "Un café glacé, doux et corsé.",
        "Essayez-le avec vos amis aujourd'hui.",
    ]
    # each scene is long enough for its line plus a pause, even past the target duration
    for scene in sound["scenes"]:
        assert scene["duration"] >= min_scene_seconds(scene["narration"]) > 1.0


async def test_voice_choices_are_checked(client: httpx.AsyncClient) -> None:
    body = await gql(
        client,
        "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }",
        input={"brief": "Lemonade. Ice cold.", "voice": "espeak:klingon"},
    )
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "voice"
    body = await gql(
        client,
        "mutation($input: CreateJobInput!) { createJob(input: $input) { voice captions music } }",
        input={"brief": "Lemonade. Ice cold.", "voice": None, "captions": "NONE", "music": "NONE"},
    )
    assert body["data"]["createJob"] == {"voice": None, "captions": "NONE", "music": "NONE"}
    body = await gql(
        client,
        "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }",
        input={"brief": "Lemonade. Ice cold.", "language": "not a language"},
    )
    assert body["errors"][0]["extensions"]["field"] == "language"


async def test_narration_given_per_scene_and_refined_keeps_the_still(
    client: httpx.AsyncClient, worker: Any
) -> None:
    job = await create_job(
        client,
        scenes=[
            {"description": "A glass of lemonade", "narration": "Fresh lemonade."},
            {"description": "A sunny terrace", "narration": ""},
        ],
        targetDuration=4.0,
        voice="default",
        captions="WORD",
    )
    ready = await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    sound = await job_sound(client, ready["id"])
    assert [s["narration"] for s in sound["scenes"]] == ["Fresh lemonade.", ""]
    still = sound["scenes"][1]["image"]["id"]

    line = "Squeezed this morning, served ice cold on your terrace, all summer long."
    body = await gql(
        client,
        """mutation($id: ID!, $input: RefineSceneInput!) {
             refineScene(jobId: $id, sceneIndex: 1, input: $input) { id storyboardVersion } }""",
        id=job["id"],
        input={"narration": line},
    )
    assert not body.get("errors"), body
    await wait_for_status(client, job["id"], "STORYBOARD_COMPLETE")
    scene = (await job_sound(client, job["id"]))["scenes"][1]
    assert scene["narration"] == line
    assert scene["image"]["id"] == still  # the picture is kept: only words changed
    assert scene["duration"] >= min_scene_seconds(line)  # grown to hold the longer line


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _tone(path: Path, *codec: str) -> bytes:
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=1.5", *codec, str(path))
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "codec", "content_type"),
    [
        ("track.mp3", ("-c:a", "libmp3lame"), "audio/mpeg"),
        ("track.wav", ("-c:a", "pcm_s16le"), "audio/wav"),
        ("track.m4a", ("-c:a", "aac"), "audio/mp4"),
    ],
)
async def test_music_tracks_upload_and_are_used_by_a_job(
    client: httpx.AsyncClient,
    settings: Settings,
    tmp_path: Path,
    name: str,
    codec: tuple[str, ...],
    content_type: str,
) -> None:
    data = _tone(tmp_path / name, *codec)
    response = await client.post(
        "/api/v2/upload-asset", files={"file": ("renamed.bin", data, "application/octet-stream")}
    )
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["contentType"] == content_type
    assert abs(asset["durationSeconds"] - 1.5) < 0.1
    body = await gql(
        client,
        "mutation($input: CreateJobInput!) { createJob(input: $input) { musicAssetId } }",
        input={"brief": "Lemonade. Ice cold.", "musicAssetId": asset["id"]},
    )
    assert body["data"]["createJob"]["musicAssetId"] == asset["id"]


async def test_a_picture_is_not_a_music_track(client: httpx.AsyncClient, tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", "-update", "1", str(png))
    response = await client.post(
        "/api/v2/upload-asset", files={"file": ("p.png", png.read_bytes())}
    )
    assert response.status_code == 201, response.text
    body = await gql(
        client,
        "mutation($input: CreateJobInput!) { createJob(input: $input) { id } }",
        input={"brief": "Lemonade. Ice cold.", "musicAssetId": response.json()["id"]},
    )
    assert body["errors"][0]["extensions"]["field"] == "musicAssetId"
