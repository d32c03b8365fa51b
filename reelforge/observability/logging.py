"""structlog set up once per process: readable in a terminal, JSON in production. Standard
library loggers (uvicorn, arq, alembic) go through the same renderer. Values under keys that
look secret are masked, so a token never reaches a log line."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from reelforge.config import Settings

_SECRET_KEYS = re.compile(r"(token|secret|password|authorization|api_key|apikey|signature)", re.I)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.=]+", re.I)
_REPLICATE_TOKEN = re.compile(r"r8_[A-Za-z0-9]{10,}")


def mask_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key, value in list(event_dict.items()):
        if _SECRET_KEYS.search(key) and key != "event":
            event_dict[key] = "***"
        elif isinstance(value, str):
            event_dict[key] = _REPLICATE_TOKEN.sub("r8_***", _BEARER.sub(r"\1***", value))
    return event_dict


def configure_logging(settings: Settings) -> None:
    json_output = settings.resolved_log_format == "json"
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        mask_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json_output else _identity,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq", "alembic"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its lines carry full URLs
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _identity(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    return event_dict
