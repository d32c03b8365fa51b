"""S3-compatible object storage through obstore (the Rust ``object_store`` crate behind an
async Python API; see the README's "Why these dependencies" for the measured comparison
with aiobotocore).

``STORAGE_URL=s3://bucket/prefix`` with ``S3_ENDPOINT_URL`` (unset: AWS),
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_REGION``. The bucket must exist.

Large files go up as multipart uploads of :data:`PART_BYTES` parts, :data:`PART_CONCURRENCY`
at a time (so a 50 MB upload holds about 15 MB in memory); an upload that fails is
aborted by obstore, leaving no object. Downloads for FFmpeg are streamed into the scratch
folder after reserving their size there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from reelforge.storage.blobs import BlobInfo, BlobStore, Scratch, check_key, scratch_parent

if TYPE_CHECKING:
    from obstore import Attributes

    from reelforge.config import Settings

PART_BYTES = 5 * 1024 * 1024  # S3's minimum part size
PART_CONCURRENCY = 2
DOWNLOAD_CHUNK = 1024 * 1024  # reads and writes of local files
MAX_PRESIGN = timedelta(days=7)  # SigV4's limit
PROVIDER_URL_TTL = timedelta(hours=6)  # a video prediction, its retries and a resume


def _attributes(content_type: str | None) -> Attributes | None:
    return {"Content-Type": content_type} if content_type else None


async def _read_chunks(path: Path) -> AsyncIterator[bytes]:
    f: BinaryIO = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, DOWNLOAD_CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(f.close)


class S3BlobStore(BlobStore):
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str,
        endpoint_url: str | None,
        public_endpoint_url: str | None = None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        scratch: Scratch,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.scratch = scratch
        self.store = self._store(endpoint_url, region, access_key_id, secret_access_key)
        # Presigned URLs are signed for the address the browser uses (SigV4 signs the host):
        # signing is local, this second store never connects anywhere.
        self.signer_endpoint = public_endpoint_url or endpoint_url  # None: AWS itself
        self.signer = (
            self._store(public_endpoint_url, region, access_key_id, secret_access_key)
            if public_endpoint_url
            else self.store
        )

    def _store(
        self,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> S3Store:
        options: dict[str, str | bool] = {}
        if access_key_id and secret_access_key:
            options.update(access_key_id=access_key_id, secret_access_key=secret_access_key)
        if endpoint_url:
            options["endpoint"] = endpoint_url
            options["virtual_hosted_style_request"] = False
        return S3Store(
            self.bucket,
            prefix=self.prefix or None,
            region=region,
            client_options={"allow_http": bool(endpoint_url and endpoint_url.startswith("http:"))},
            **options,  # type: ignore[arg-type]
        )

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> S3BlobStore:
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError(f"an s3:// storage URL needs a bucket: {url!r}")
        secret = settings.aws_secret_access_key
        return cls(
            bucket=parts.netloc,
            prefix=parts.path,
            endpoint_url=settings.s3_endpoint_url,
            public_endpoint_url=settings.s3_public_endpoint_url,
            region=settings.aws_region,
            access_key_id=settings.aws_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            scratch=Scratch(scratch_parent(settings), settings.scratch_max_bytes),
        )

    async def put_file(
        self, key: str, source: Path, *, content_type: str | None = None, move: bool = True
    ) -> None:
        check_key(key)
        # Fed from an iterator of 1 MiB reads: obstore then holds about two parts in memory
        # (given the Path itself it read ahead: 25 MB instead of 13 MB for a 48 MB file).
        await obstore.put_async(
            self.store,
            key,
            _read_chunks(source),
            attributes=_attributes(content_type),
            chunk_size=PART_BYTES,
            max_concurrency=PART_CONCURRENCY,
        )
        if move:
            await asyncio.to_thread(source.unlink, missing_ok=True)

    async def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        check_key(key)
        await obstore.put_async(
            self.store, key, data, attributes=_attributes(content_type), use_multipart=False
        )

    async def read_bytes(self, key: str) -> bytes:
        try:
            result = await obstore.get_async(self.store, check_key(key).as_posix())
            return bytes(await result.bytes_async())
        except (NotFoundError, FileNotFoundError) as exc:
            raise FileNotFoundError(key) from exc

    async def size(self, key: str) -> int | None:
        try:
            meta = await obstore.head_async(self.store, check_key(key).as_posix())
        except (NotFoundError, FileNotFoundError):
            return None
        return int(meta["size"])

    async def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            check_key(key)
        for start in range(0, len(keys), 1000):  # S3's DeleteObjects limit
            await obstore.delete_async(self.store, keys[start : start + 1000])

    async def list(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        stream = obstore.list(self.store, prefix=prefix or None, chunk_size=1000)
        async for batch in stream:
            for meta in batch:
                yield BlobInfo(meta["path"], int(meta["size"]))

    @asynccontextmanager
    async def local(self, key: str) -> AsyncIterator[Path]:
        check_key(key)
        size = await self.size(key)
        if size is None:
            raise FileNotFoundError(key)
        suffix = Path(key).suffix
        async with self.scratch.reserve(size):
            with self.scratch.path(suffix) as path:
                await self._download(key, path)
                yield path

    async def _download(self, key: str, path: Path) -> None:
        result = await obstore.get_async(self.store, key)
        f: BinaryIO = await asyncio.to_thread(path.open, "wb")
        try:
            async for chunk in result.stream(min_chunk_size=DOWNLOAD_CHUNK):
                await asyncio.to_thread(f.write, chunk)
        finally:
            await asyncio.to_thread(f.close)

    async def provider_url(self, key: str) -> str | None:
        # Only a store the internet reaches over https (AWS, R2, Tigris, or a public
        # endpoint) is given to a provider; a compose SeaweedFS on http is not.
        if self.signer_endpoint is not None and not self.signer_endpoint.startswith("https:"):
            return None
        return await obstore.sign_async(
            self.signer, "GET", check_key(key).as_posix(), PROVIDER_URL_TTL
        )

    async def presigned_url(self, key: str, expires_in: float) -> str | None:
        ttl = min(timedelta(seconds=max(1.0, expires_in)), MAX_PRESIGN)
        return await obstore.sign_async(self.signer, "GET", check_key(key).as_posix(), ttl)
