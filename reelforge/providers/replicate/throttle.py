"""Staying inside Replicate's rate limits: one gate per process (per account) that every call
goes through, so the scenes of a job (and every job of the worker) share one request budget
instead of stampeding.

Replicate allows 600 creates and 3000 other requests a minute, less for an account running out
of credit, and 6 a minute (1 a second) for an account without a payment method. A 429 answers
`{"detail": "Request was throttled. Your rate limit resets in ~30s."}`, often without
`Retry-After`. The gate therefore:

- paces requests with a token bucket (`rate` per second, `burst` at once);
- on a 429 closes for the wait the answer asks for (`Retry-After`, else "resets in ~Ns", else
  exponential backoff) and halves the rate, so waiters do not all rush in when it reopens;
- raises the rate again slowly after each success (additive increase, multiplicative decrease).

Each call may spend at most `budget` seconds waiting on the gate (REPLICATE_THROTTLE_BUDGET)
before it gives up with a retryable error.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import math
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx

Sleep = Callable[[float], Awaitable[None]]

MAX_THROTTLE_WAIT = 600.0
_RESETS_IN = re.compile(r"resets?\s+in\s+~?\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?|m|min|minutes?)\b")


class Throttle:
    """A token bucket with a gate that a 429 closes. Safe to share between tasks of one event
    loop. With an injected `sleep` the gate's clock runs ahead of real time by every pause, so
    tests can throttle for minutes in no time."""

    def __init__(
        self,
        *,
        rate: float = 10.0,
        burst: int = 10,
        min_rate: float = 0.1,
        recovery: float = 0.5,
        budget: float = 120.0,
        sleep: Sleep | None = None,
    ) -> None:
        self.max_rate = rate
        self.min_rate = min(min_rate, rate)
        self.rate = rate
        self.burst = max(1, burst)
        self.recovery = recovery
        self.budget = budget
        self._virtual = sleep is not None
        self._sleep: Sleep = sleep or asyncio.sleep
        self._now = 0.0
        self._tokens = float(self.burst)
        self._stamp = self._clock()
        self._open_at = 0.0
        self.throttled_total = 0  # 429s seen, for tests and logs

    def _clock(self) -> float:
        # Virtual: real time plus every injected sleep, so tests pass minutes in no time.
        return time.monotonic() + self._now

    async def pause(self, seconds: float) -> None:
        """Sleep on the gate's clock."""
        if seconds <= 0:
            return
        await self._sleep(seconds)
        if self._virtual:
            self._now += seconds

    async def _until(self, moment: float) -> float:
        """Sleep until `moment` on the gate's clock; returns the seconds slept."""
        wait = moment - self._clock()
        if wait <= 0:
            return 0.0
        await self._sleep(wait)
        if self._virtual:
            self._now += max(0.0, moment - self._clock())
        return wait

    async def acquire(self) -> float:
        """Wait for the gate to be open and a token to be free; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self._clock()
            if now < self._open_at:
                waited += await self._until(self._open_at)
                continue
            self._refill(now)
            if self._tokens >= 1.0 - 1e-9:
                self._tokens = max(0.0, self._tokens - 1.0)
                return waited
            waited += await self._until(now + (1.0 - self._tokens) / self.rate)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)

    def throttled(self, delay: float) -> None:
        """A 429: close the gate for `delay` seconds and slow down."""
        self.throttled_total += 1
        now = self._clock()
        self._open_at = max(self._open_at, now + delay)
        self.rate = max(self.min_rate, self.rate / 2)
        # One caller goes first when it reopens; the others follow at the new, slower rate.
        self._tokens = min(self._tokens, 1.0)
        self._stamp = max(self._stamp, self._open_at)

    def succeeded(self) -> None:
        """A request went through: speed up again, slowly."""
        if self.rate < self.max_rate:
            self.rate = min(self.max_rate, self.rate + self.recovery)


_SHARED: dict[str, Throttle] = {}


def shared_throttle(base_url: str, token: str, *, budget: float = 120.0) -> Throttle:
    """The process's gate for one Replicate account (keyed by API host and token)."""
    key = hashlib.sha256(f"{base_url}\0{token}".encode()).hexdigest()
    throttle = _SHARED.get(key)
    if throttle is None:
        throttle = _SHARED[key] = Throttle(budget=budget)
    throttle.budget = budget
    return throttle


def throttle_delay(response: httpx.Response) -> float | None:
    """How long a 429 asks us to wait: `Retry-After` (seconds or a date), else the "resets in
    ~Ns" of Replicate's body; None when it says neither."""
    header = retry_after_seconds(response.headers.get("retry-after"))
    if header is not None:
        return header
    try:
        body = response.json()
    except ValueError:
        text = response.text
    else:
        text = str(body.get("detail", "")) if isinstance(body, dict) else ""
    match = _RESETS_IN.search(text.lower())
    if match is None:
        return None
    seconds = float(match.group(1)) * (60 if match.group(2).startswith("m") else 1)
    return min(seconds, MAX_THROTTLE_WAIT)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_THROTTLE_WAIT)
