"""Admission: how many GraphQL operations run at once in one API process, and whose runs next.

Python runs one operation's resolvers at a time; letting every request in at once only makes
all of them slower together and leaves the event loop (and an embedded worker's tasks on it)
waiting behind hundreds of half-done operations. So at most OPERATION_CONCURRENCY operations
execute at once; the rest wait their turn, and the turns go round the users who are waiting,
one operation each. A user's 200 open dashboards therefore queue behind each other, not in
front of another user's `createJob`. An operation that waits longer than
OPERATION_QUEUE_TIMEOUT is answered SERVICE_UNAVAILABLE with `retryAfter`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from reelforge.errors import BUSY_RETRY_AFTER, ServiceUnavailable
from reelforge.observability.metrics import GRAPHQL_OPERATIONS_WAITING


class FairGate:
    """A semaphore whose waiters are served round-robin by key, first come first served
    within a key."""

    def __init__(self, slots: int, timeout: float) -> None:
        self._free = slots
        self.timeout = timeout  # the longest wait for a slot, unless `admit` says otherwise
        # Waiting keys in turn order (a dict keeps insertion order): served from the front,
        # a served key goes to the back if it has more waiting.
        self._waiting: dict[Hashable, deque[asyncio.Future[None]]] = {}

    @property
    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    @asynccontextmanager
    async def admit(self, key: Hashable, timeout: float | None = None) -> AsyncIterator[None]:
        """Hold one slot for the block; wait at most `timeout` seconds for it."""
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                await self._acquire(key)
        except TimeoutError:
            raise ServiceUnavailable(
                "the service is busy; try again shortly", retryAfter=BUSY_RETRY_AFTER
            ) from None
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, key: Hashable) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, deque()).append(future)
        GRAPHQL_OPERATIONS_WAITING.inc()
        try:
            await future
        except BaseException:
            if future.done() and not future.cancelled():
                self._release()  # handed a slot just as it was cancelled: pass it on
            else:
                self._forget(key, future)
            raise
        finally:
            GRAPHQL_OPERATIONS_WAITING.dec()

    def _release(self) -> None:
        while self._waiting:
            key = next(iter(self._waiting))
            queue = self._waiting.pop(key)
            future = queue.popleft()
            if queue:
                self._waiting[key] = queue
            if not future.done():
                future.set_result(None)  # the slot passes straight to the waiter
                return
        self._free += 1

    def _forget(self, key: Hashable, future: asyncio.Future[None]) -> None:
        queue = self._waiting.get(key)
        if queue is None:
            return
        try:
            queue.remove(future)
        except ValueError:
            return
        if not queue:
            del self._waiting[key]
