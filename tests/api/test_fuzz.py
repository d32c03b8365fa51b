"""A short run of the fuzzer (bench/fuzz.py runs the long one): with a valid token, every
query, mutation and the upload, with variables, inline values and malformed bodies —
zero 5xx and zero INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import asyncio
from typing import Any

from reelforge.config import Settings
from reelforge.schema import build_schema
from tests.api.fuzzing import run_fuzz
from tests.conftest import make_token

EXAMPLES = 25  # per family (variables, inline, malformed, uploads)


async def test_fuzzing_finds_no_server_error(app: Any, settings: Settings) -> None:
    schema = build_schema(settings)._schema
    report = await asyncio.to_thread(
        run_fuzz,
        app,
        make_token(settings),
        schema,
        examples=EXAMPLES,
        loop=asyncio.get_running_loop(),
    )
    print(
        f"fuzz: {report.operations} operations, statuses {dict(report.statuses)}, codes {dict(report.codes)}"
    )
    assert report.operations >= 3 * EXAMPLES
    assert report.server_errors == 0, "\n".join(report.failures[:10])
    assert report.failures == [], "\n".join(report.failures[:10])
    assert report.codes["BAD_USER_INPUT"] > 0  # the variables did reach coercion
