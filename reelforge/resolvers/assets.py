"""Asset query and the GraphQL upload mutation (same upload service as the REST route)."""

from __future__ import annotations

from typing import cast

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from reelforge.errors import NotFound
from reelforge.schema.context import Info
from reelforge.schema.types import Asset
from reelforge.storage.uploads import receive_upload, upload_chunks


async def asset(info: Info, id: strawberry.ID) -> Asset:
    row = await info.context.loaders.assets.load(str(id))
    if row is None:
        raise NotFound(f"asset {id} not found", id=str(id))
    return Asset.from_row(row)


async def upload_asset(info: Info, file: Upload) -> Asset:
    principal = info.context.principal
    upload = cast(UploadFile, file)  # Strawberry hands over Starlette's UploadFile
    row = await receive_upload(
        info.context.runtime, principal, upload_chunks(upload), filename=upload.filename
    )
    return Asset.from_row(row)
