"""`reelforge generate`: the whole flow through the GraphQL API, as a client would drive it.

Without `--url` it starts a server in this process (embedded Valkey, SQLite under the
storage path, the configured provider) on a free loopback port, then talks to it over
HTTP like any other client."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from reelforge.config import Settings
from reelforge.media.music import MOODS

JOB_FIELDS = """
  id status stage progress estimatedCost actualCost errorMessage approved
  scenes { index description duration narration }
  video { url durationSeconds width height loudnessLufs truePeakDb }
  captionsSrt { url }
"""


ASPECT_NAMES = {
    "16:9": "LANDSCAPE_16_9",
    "9:16": "PORTRAIT_9_16",
    "1:1": "SQUARE_1_1",
    "4:5": "PORTRAIT_4_5",
}


class GenerateError(RuntimeError):
    pass


@asynccontextmanager
async def local_server(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    import uvicorn

    from reelforge.app import create_app
    from reelforge.startup import dev_token, free_port, prepare, redis_for, server_config

    await asyncio.to_thread(prepare, settings)  # alembic runs its own event loop
    with redis_for(settings) as redis_url:
        port = free_port()
        app = create_app(settings, redis_url=redis_url, embedded_worker=True)
        # The same uvicorn settings as `serve` (no access log: URLs carry signatures).
        server = uvicorn.Server(server_config(app, "127.0.0.1", port, settings))
        task = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if task.done():
                    task.result()
                    raise GenerateError("the local server did not start")
                await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{port}", dev_token(settings)
        finally:
            server.should_exit = True
            await task


class Client:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        if body.get("errors"):
            error = body["errors"][0]
            code = error.get("extensions", {}).get("code", "ERROR")
            raise GenerateError(f"{code}: {error['message']}")
        data: dict[str, Any] = body["data"]
        return data

    async def wait_for(self, job_id: str, statuses: set[str], *, label: str) -> dict[str, Any]:
        while True:
            job = (
                await self.call(f"query($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}", id=job_id)
            )["job"]
            bar = "#" * (job["progress"] // 4)
            sys.stderr.write(
                f"\r  {label:<11} [{bar:<25}] {job['progress']:3d}%  {job['status'].lower():<22}"
            )
            sys.stderr.flush()
            if job["status"] in statuses:
                sys.stderr.write("\n")
                return dict(job)
            if job["status"] in ("FAILED", "CANCELED"):
                sys.stderr.write("\n")
                raise GenerateError(f"job {job['status'].lower()}: {job.get('errorMessage') or ''}")
            await asyncio.sleep(0.5)


async def drive(base_url: str, token: str, args: argparse.Namespace) -> int:
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as http:
        client = Client(http)
        duration = args.duration or 3.0 * args.scenes
        music: dict[str, Any] = {"music": "NONE" if args.music == "none" else "UPBEAT"}
        if args.music in MOODS:
            music = {"music": args.music.upper()}
        elif args.music != "none":
            track = Path(args.music)
            upload = await http.post(
                "/api/v2/upload-asset",
                files={"file": (track.name, await asyncio.to_thread(track.read_bytes))},
            )
            if upload.status_code != 201:
                raise GenerateError(f"music track refused: {upload.text}")
            music["musicAssetId"] = upload.json()["asset"]["id"]
        job_input: dict[str, Any] = {
            "brief": args.brief,
            "sceneCount": args.scenes,
            "resolution": {"480p": "R480P", "720p": "R720P", "1080p": "R1080P"}[args.resolution],
            "style": args.style,
            "voice": None if args.voice == "none" else args.voice,
            "language": args.language,
            "captions": args.captions.upper(),
            "headlines": args.headlines,
            **music,
        }
        if args.platform:
            # The platform decides the shape and, unless given, the length.
            job_input["platform"] = args.platform.upper()
            if args.duration:
                job_input["targetDuration"] = args.duration
        else:
            job_input["targetDuration"] = duration
        if args.aspect or not args.platform:
            job_input["aspectRatio"] = ASPECT_NAMES[args.aspect or "16:9"]
        if args.brand_kit:
            job_input["brandKitId"] = args.brand_kit
        if args.cta is not None:
            job_input["callToAction"] = args.cta
        created = await client.call(
            f"mutation($input: CreateJobInput!) {{ createJob(input: $input) {{ {JOB_FIELDS} }} }}",
            input=job_input,
        )
        job_id = created["createJob"]["id"]
        sys.stderr.write(f"  job {job_id}\n")
        job = await client.wait_for(job_id, {"STORYBOARD_COMPLETE"}, label="storyboard")
        sys.stderr.write("\n  Storyboard:\n")
        for scene in job["scenes"]:
            sys.stderr.write(
                f"   {scene['index'] + 1}. ({scene['duration']:.1f} s) {scene['description']}\n"
            )
            if scene["narration"]:
                sys.stderr.write(f"      “{scene['narration']}”\n")
        sys.stderr.write(f"\n  Estimated render cost: ${job['estimatedCost'] or 0:.2f}\n")
        if not args.yes:
            sys.stderr.write("  Approve and render? [y/N] ")
            sys.stderr.flush()
            answer = await asyncio.to_thread(sys.stdin.readline)
            if answer.strip().lower() not in ("y", "yes"):
                sys.stderr.write("  not approved; the storyboard is kept.\n")
                return 1
        await client.call("mutation($id: ID!) { approveStoryboard(jobId: $id) { id } }", id=job_id)
        await client.call("mutation($id: ID!) { renderVideo(jobId: $id) { id } }", id=job_id)
        job = await client.wait_for(job_id, {"COMPLETED"}, label="render")
        video = job["video"]
        url = video["url"] if video["url"].startswith("http") else base_url + video["url"]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        response = await http.get(url)
        response.raise_for_status()
        await asyncio.to_thread(Path(args.out).write_bytes, response.content)
        size = f"{video['width']}x{video['height']}, {video['durationSeconds']:.1f} s"
        if video["loudnessLufs"] is not None:
            size += f", {video['loudnessLufs']:.1f} LUFS, {video['truePeakDb']:.1f} dBTP"
        sys.stderr.write(f"  wrote {args.out} ({size}, cost ${job['actualCost']:.2f})\n")
        if job["captionsSrt"]:
            srt = job["captionsSrt"]["url"]
            captions = await http.get(srt if srt.startswith("http") else base_url + srt)
            captions.raise_for_status()
            srt_path = Path(args.out).with_suffix(".srt")
            await asyncio.to_thread(srt_path.write_bytes, captions.content)
            sys.stderr.write(f"  wrote {srt_path}\n")
        return 0


async def run_generate(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.url:
            if not args.token:
                raise GenerateError("--url needs --token (or REELFORGE_TOKEN)")
            return await drive(args.url.rstrip("/"), args.token, args)
        async with local_server(settings) as (base_url, token):
            return await drive(base_url, token, args)
    except (GenerateError, httpx.HTTPError) as exc:
        sys.stderr.write(f"\n  error: {exc}\n")
        return 1
