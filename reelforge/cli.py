"""`reelforge serve | worker | migrate | storage | token | export-schema | generate | models`.

Each command imports what it needs when it runs: `reelforge token` or `--help` does not load
SQLAlchemy, the GraphQL schema or the web server."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import structlog

from reelforge.config import ConfigError, Settings, get_settings
from reelforge.media.formats import ASPECT_RATIOS, RESOLUTIONS
from reelforge.media.platforms import Platform
from reelforge.observability.logging import configure_logging

log = structlog.get_logger(__name__)

DEFAULT_PORT = 8000


def serve(settings: Settings, host: str, port: int, *, banner: bool = True) -> None:
    import uvicorn

    from reelforge.app import create_app
    from reelforge.startup import dev_token, prepare, redis_for, server_config, tune_gc

    prepare(settings)
    with redis_for(settings) as redis_url:
        app = create_app(settings, redis_url=redis_url, embedded_worker=settings.embedded_worker)
        server = uvicorn.Server(server_config(app, host, port, settings))
        if banner and settings.resolved_log_format == "console":  # JSON logs stay pure JSON
            local = host in ("0.0.0.0", "::")  # noqa: S104 (only choosing what to print)
            base = f"http://{'127.0.0.1' if local else host}:{port}"
            token = dev_token(settings)
            sys.stderr.write(
                f"\n  Reelforge is starting on {base}\n"
                f"  Studio:    {base}/  (paste the token below into the page)\n"
                f"  GraphiQL:  {base}/graphql  (add the header below under 'Headers')\n"
                f"  Provider:  {settings.provider_name}\n"
                f'  Header:    {{"Authorization": "Bearer {token}"}}\n'
                f"  Token:     {token}\n\n"
            )
        # uvicorn re-raises the signal that stopped it once it has drained; exiting through
        # SystemExit instead lets the embedded Valkey below stop cleanly too.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _exit_cleanly)
        tune_gc()
        server.run()


def _exit_cleanly(signum: int, _frame: object) -> None:
    raise SystemExit(0)


def worker(settings: Settings) -> None:
    from prometheus_client import start_http_server

    from reelforge.jobs.worker import run_standalone
    from reelforge.startup import tune_gc

    if not settings.redis_url:
        raise ConfigError(
            "the standalone worker needs REDIS_URL (reelforge serve runs a worker in-process)"
        )
    start_http_server(settings.worker_metrics_port)
    log.info("worker.metrics", port=settings.worker_metrics_port)
    tune_gc()
    # Started again after any failure (Redis down at start-up included) until SIGTERM.
    asyncio.run(run_standalone(settings, settings.redis_url))


def storage_command(settings: Settings, command: str, source: str | None, target: str) -> int:
    """`storage migrate` (from the local folder by default) and `storage sync` (from the
    configured store by default): copy what the target lacks; print what was done."""
    from reelforge.storage.blobs import open_blob_store, open_blob_store_url
    from reelforge.storage.sync import sync_stores

    async def run() -> int:
        if source:
            src = open_blob_store_url(source, settings)
        elif command == "migrate":
            src = open_blob_store_url(settings.video_storage_path.resolve().as_uri(), settings)
        else:
            src = open_blob_store(settings)
        dst = open_blob_store_url(target, settings)
        if src.url == dst.url:
            raise ValueError(f"the source and the target are the same store ({src.url})")
        try:
            report = await sync_stores(src, dst)
        finally:
            await src.aclose()
            await dst.aclose()
        sys.stdout.write(f"{src.url} -> {dst.url}: {report}\n")
        return 1 if report.failed else 0

    return asyncio.run(run())


def export_schema(out: Path) -> None:
    from strawberry.printer import print_schema

    from reelforge.schema import build_schema

    out.write_text(print_schema(build_schema(Settings())) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reelforge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the API (and an in-process worker)")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    sub.add_parser("worker", help="run a standalone arq worker against REDIS_URL")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    p_token = sub.add_parser("token", help="mint a development JWT")
    p_token.add_argument("--client", required=True)
    p_token.add_argument("--user", required=True)
    p_token.add_argument("--hours", type=float, default=24.0)
    p_storage = sub.add_parser("storage", help="copy media between stores (migrate, backups)")
    storage_sub = p_storage.add_subparsers(dest="storage_command", required=True)
    p_migrate = storage_sub.add_parser(
        "migrate", help="copy the local folder's media to another store (idempotent, resumable)"
    )
    p_migrate.add_argument("--to", required=True, help="s3://bucket/prefix or file:///path")
    p_migrate.add_argument("--from", dest="source", help="default: file://VIDEO_STORAGE_PATH")
    p_sync = storage_sub.add_parser(
        "sync", help="copy what the target lacks, e.g. a bucket to a backup folder"
    )
    p_sync.add_argument("--to", required=True, help="s3://bucket/prefix or file:///path")
    p_sync.add_argument("--from", dest="source", help="default: STORAGE_URL")
    p_schema = sub.add_parser("export-schema", help="write the GraphQL SDL")
    p_schema.add_argument("--out", type=Path, default=Path("schema.graphql"))
    p_models = sub.add_parser("models", help="show the configured models, inputs and prices")
    p_models.add_argument(
        "--check", action="store_true", help="compare each model's inputs with Replicate's schema"
    )
    p_models.add_argument("--json", action="store_true", help="print JSON")
    p_gen = sub.add_parser("generate", help="brief → storyboard → approve → render → video file")
    p_gen.add_argument("brief")
    p_gen.add_argument("--scenes", type=int, default=4)
    p_gen.add_argument(
        "--aspect", default=None, choices=ASPECT_RATIOS, help="default: the platform's, else 16:9"
    )
    p_gen.add_argument(
        "--platform",
        default=None,
        choices=[p.value for p in Platform],
        help="where the ad runs: its rules are checked, its safe zone kept clear",
    )
    p_gen.add_argument(
        "--brand-kit", default=None, help="a brand kit id (saveBrandKit; see the brandKits query)"
    )
    p_gen.add_argument(
        "--cta", default=None, help="the end card's call to action (over the brand kit's)"
    )
    p_gen.add_argument(
        "--headlines", action="store_true", help="a headline on each scene, written by the planner"
    )
    p_gen.add_argument("--resolution", default="720p", choices=list(RESOLUTIONS))
    p_gen.add_argument("--duration", type=float, default=None, help="seconds (default 3 per scene)")
    p_gen.add_argument("--style", default=None)
    p_gen.add_argument(
        "--voice",
        default="default",
        help="a voice id (see the voices query), 'none' for no voice-over; default: the "
        "provider's voice for the language",
    )
    p_gen.add_argument("--language", default=None, help="en, fr, pt-BR… (default: the brief's)")
    p_gen.add_argument(
        "--captions", default="word", choices=["none", "sentence", "word"], help="burned in"
    )
    p_gen.add_argument(
        "--music",
        default="upbeat",
        help="a mood (upbeat, calm, corporate, dramatic, playful), 'none', or an mp3/wav/m4a file",
    )
    p_gen.add_argument("--yes", action="store_true", help="approve without asking")
    p_gen.add_argument("--out", type=Path, default=Path("video.mp4"))
    p_gen.add_argument("--url", default=os.environ.get("REELFORGE_URL"), help="a running server")
    p_gen.add_argument("--token", default=os.environ.get("REELFORGE_TOKEN"))
    args = parser.parse_args(argv)

    try:
        settings = get_settings()
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    if args.command == "generate" and "LOG_LEVEL" not in os.environ:
        settings = settings.model_copy(
            update={"log_level": "WARNING"}
        )  # keep the progress readable
    configure_logging(settings)
    try:
        if args.command == "serve":
            serve(settings, args.host, args.port)
        elif args.command == "worker":
            worker(settings)
        elif args.command == "migrate":
            from reelforge.startup import migrate

            migrate(settings)
        elif args.command == "token":
            from reelforge.auth import mint_token

            sys.stdout.write(
                mint_token(
                    settings,
                    client_id=args.client,
                    user_id=args.user,
                    ttl=timedelta(hours=args.hours),
                )
                + "\n"
            )
        elif args.command == "storage":
            return storage_command(settings, args.storage_command, args.source, args.to)
        elif args.command == "export-schema":
            export_schema(args.out)
        elif args.command == "models":
            from reelforge.providers.models_report import run_models

            report, code = asyncio.run(run_models(settings, check=args.check, as_json=args.json))
            sys.stdout.write(report + "\n")
            return code
        elif args.command == "generate":
            from reelforge.generate import run_generate

            return asyncio.run(run_generate(settings, args))
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
