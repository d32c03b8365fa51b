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
# A JWT anywhere (a websocket URL's `?token=`, a token pasted into a variable and echoed
# in an exception), and any `token=`/`sig=` query parameter.
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_QUERY_SECRET = re.compile(
    r"([?&](?:access_token|token|sig|signature|jwt|authorization)=)[^&\s\"']+", re.I
)


def mask_text(text: str) -> str:
    text = _BEARER.sub(r"\1***", text)
    text = _QUERY_SECRET.sub(r"\1***", text)
    text = _JWT.sub("eyJ***", text)
    return _REPLICATE_TOKEN.sub("r8_***", text)


def mask_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Runs after exceptions are formatted, so their text is masked too."""
    for key, value in list(event_dict.items()):
        if _SECRET_KEYS.search(key) and key != "event":
            event_dict[key] = "***"
        elif isinstance(value, str):
            event_dict[key] = mask_text(value)
        elif key == "positional_args" and isinstance(value, tuple):
            event_dict[key] = tuple(mask_text(v) if isinstance(v, str) else v for v in value)
    return event_dict


def configure_logging(settings: Settings) -> None:
    json_output = settings.resolved_log_format == "json"
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Exceptions become text before masking: a token inside an exception's message
        # (or a traceback's locals) is masked like any other value.
        structlog.processors.format_exc_info,
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
