"""Fuzz the GraphQL API for server errors (the long run of tests/api/test_fuzz.py).

With a valid token, against the ASGI app (embedded Valkey, a migrated SQLite file): every
query, mutation and subscription field with variables drawn from its argument types,
hypothesis-graphql's inline documents (valid and invalid), malformed bodies and multipart
uploads. Prints the operations sent, the statuses and error codes seen, and the server
errors (5xx or INTERNAL_SERVER_ERROR; the goal is 0), with the first few failures.

    python bench/fuzz.py [--examples 500] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import structlog
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.api.fuzzing

from reelforge import startup  # noqa: E402
from reelforge.app import create_app  # noqa: E402
from reelforge.auth import mint_token  # noqa: E402
from reelforge.config import Environment, Settings  # noqa: E402
from reelforge.embedded import EmbeddedValkey  # noqa: E402
from reelforge.runtime import Runtime  # noqa: E402
from reelforge.schema import build_schema  # noqa: E402
from tests.api.fuzzing import FuzzReport, run_fuzz  # noqa: E402


async def fuzz(settings: Settings, redis_url: str, examples: int, seed: int | None) -> FuzzReport:
    runtime = await Runtime.start(settings, redis_url=redis_url)
    try:
        app = create_app(settings, runtime=runtime)
        token = mint_token(settings, client_id="fuzz", user_id="fuzz", ttl=timedelta(hours=2))
        return await asyncio.to_thread(
            run_fuzz,
            app,
            token,
            build_schema(settings)._schema,
            examples=examples,
            loop=asyncio.get_running_loop(),
            seed=seed,
        )
    finally:
        await runtime.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=500, help="cases per family (4 families)")
    parser.add_argument(
        "--seed", type=int, default=None, help="random seed (default: derandomized)"
    )
    opts = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    logging.basicConfig(level=logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="reelforge-bench-fuzz-") as tmp_name:
        tmp = Path(tmp_name)
        valkey = EmbeddedValkey(tmp / "valkey")
        redis_url = valkey.start()
        try:
            settings = Settings(
                env=Environment.TEST,
                video_storage_path=tmp / "storage",
                database_url=f"sqlite+aiosqlite:///{tmp / 'storage' / 'reelforge.db'}",
                redis_url=redis_url,
                provider="preview",
                jwt_secret=SecretStr("bench-only-secret-" + "k" * 48),
                operation_rate_limit="1000000/minute",
                create_job_rate_limit="1000000/minute",
                upload_rate_limit="1000000/minute",
                _env_file=None,  # type: ignore[call-arg]
            )
            (tmp / "storage").mkdir(parents=True)
            startup.migrate(settings)
            started = time.perf_counter()
            report = asyncio.run(fuzz(settings, redis_url, opts.examples, opts.seed))
            seconds = time.perf_counter() - started
        finally:
            valkey.stop()
    print(f"cases: {opts.examples} per family × 4 (variables, inline, malformed, uploads)")
    print(f"operations sent: {report.operations} in {seconds:.0f} s")
    print(f"statuses: {dict(sorted(report.statuses.items()))}")
    print(f"error codes: {dict(report.codes.most_common())}")
    print(f"server errors (5xx or INTERNAL_SERVER_ERROR): {report.server_errors}")
    for failure in report.failures[:10]:
        print("  ", failure)
    sys.exit(1 if report.server_errors or report.failures else 0)


if __name__ == "__main__":
    main()
