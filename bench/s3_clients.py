"""Benchmark: the two maintained async S3 clients, aiobotocore and obstore, against a local
SeaweedFS (started here): a 50 MB streamed multipart upload from an async iterator of 1 MiB
chunks, a full download, a ranged read, 200 small puts, and presigning 1,000 URLs. Each
client runs in a fresh subprocess so its RSS growth is its own.

    pip install aiobotocore   # not a dependency of Reelforge: only this comparison uses it
    python bench/s3_clients.py [--mb 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 1024 * 1024


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def chunks(total: int):  # type: ignore[no-untyped-def]
    block = os.urandom(CHUNK)
    for _ in range(total // CHUNK):
        yield block


async def run_aiobotocore(endpoint: str, mb: int) -> dict[str, float]:
    import aiobotocore.session
    from botocore.config import Config

    session = aiobotocore.session.get_session()
    out: dict[str, float] = {}
    async with session.create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    ) as s3:
        base = rss_mb()
        t = time.perf_counter()
        up = await s3.create_multipart_upload(Bucket="bench", Key="big-a")
        parts = []
        buf = bytearray()
        n = 1

        async def send(data: bytes, number: int) -> None:
            r = await s3.upload_part(
                Bucket="bench", Key="big-a", UploadId=up["UploadId"], PartNumber=number, Body=data
            )
            parts.append({"PartNumber": number, "ETag": r["ETag"]})

        async for c in chunks(mb * CHUNK):
            buf += c
            if len(buf) >= 8 * CHUNK:
                await send(bytes(buf), n)
                n += 1
                buf.clear()
        if buf:
            await send(bytes(buf), n)
        parts.sort(key=lambda p: p["PartNumber"])
        await s3.complete_multipart_upload(
            Bucket="bench", Key="big-a", UploadId=up["UploadId"], MultipartUpload={"Parts": parts}
        )
        out["put_mb_s"] = mb / (time.perf_counter() - t)
        t = time.perf_counter()
        r = await s3.get_object(Bucket="bench", Key="big-a")
        async for _ in r["Body"].iter_chunks(CHUNK):
            pass
        out["get_mb_s"] = mb / (time.perf_counter() - t)
        out["rss_growth_mb"] = rss_mb() - base
        t = time.perf_counter()
        for i in range(200):
            await s3.put_object(Bucket="bench", Key=f"small-a/{i}", Body=b"x" * 1000)
        out["small_puts_per_s"] = 200 / (time.perf_counter() - t)
        t = time.perf_counter()
        for i in range(1000):
            await s3.generate_presigned_url(
                "get_object", Params={"Bucket": "bench", "Key": f"k{i}"}, ExpiresIn=3600
            )
        out["presign_per_s"] = 1000 / (time.perf_counter() - t)
    return out


async def run_obstore(endpoint: str, mb: int) -> dict[str, float]:
    from datetime import timedelta

    import obstore
    from obstore.store import S3Store

    store = S3Store(
        "bench",
        endpoint=endpoint,
        region="us-east-1",
        access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        client_options={"allow_http": True},
        virtual_hosted_style_request=False,
    )
    out: dict[str, float] = {}
    base = rss_mb()
    t = time.perf_counter()
    await obstore.put_async(store, "big-o", chunks(mb * CHUNK), chunk_size=8 * CHUNK)
    out["put_mb_s"] = mb / (time.perf_counter() - t)
    t = time.perf_counter()
    r = await obstore.get_async(store, "big-o")
    async for _ in r.stream(min_chunk_size=CHUNK):
        pass
    out["get_mb_s"] = mb / (time.perf_counter() - t)
    out["rss_growth_mb"] = rss_mb() - base
    t = time.perf_counter()
    for i in range(200):
        await obstore.put_async(store, f"small-o/{i}", b"x" * 1000)
    out["small_puts_per_s"] = 200 / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(1000):
        await obstore.sign_async(store, "GET", f"k{i}", timedelta(hours=1))
    out["presign_per_s"] = 1000 / (time.perf_counter() - t)
    return out


def child(name: str, endpoint: str, mb: int) -> None:
    fn = run_aiobotocore if name == "aiobotocore" else run_obstore
    result = asyncio.run(fn(endpoint, mb))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.mb)
        return
    from reelforge.storage.seaweed import EmbeddedSeaweed

    with (
        tempfile.TemporaryDirectory() as tmp,
        EmbeddedSeaweed(Path(tmp), buckets=("bench",)) as weed,
    ):
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": weed.access_key,
            "AWS_SECRET_ACCESS_KEY": weed.secret_key,
        }
        time.sleep(1)
        for name in ("aiobotocore", "obstore"):
            raw = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--mb",
                    str(args.mb),
                    "--child",
                    name,
                    weed.endpoint_url,
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(raw.strip().splitlines()[-1])
            print(
                f"{name:12} put {r['put_mb_s']:6.1f} MB/s  get {r['get_mb_s']:6.1f} MB/s  "
                f"rss +{r['rss_growth_mb']:5.1f} MB (peak {r['peak_rss_mb']:.0f} MB)  "
                f"small puts {r['small_puts_per_s']:5.0f}/s  presign {r['presign_per_s']:6.0f}/s"
            )


if __name__ == "__main__":
    main()
