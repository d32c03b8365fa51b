"""One prediction from create to its end: create it (with Replicate's own deadline, and
`Prefer: wait` for fast models), tell the caller its id before waiting, wait (polls that back
off, woken early by webhooks, where polling is only a slow safety net), and say how it ended:
succeeded (with its cost), failed, canceled, past its deadline (billed or not), or removed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from reelforge.providers.base import (
    OnCreated,
    PredictionKind,
    PredictionMeta,
    PredictionTimeout,
    ProviderError,
    UnknownPrediction,
    WorkAbandoned,
)
from reelforge.providers.catalog import ModelSpec
from reelforge.providers.replicate.http import AmbiguousRequest, ReplicateClient, parse_time
from reelforge.providers.webhooks import PredictionWakeups

log = structlog.get_logger(__name__)

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled", "aborted"})


@dataclass(frozen=True)
class Timing:
    """How long predictions may take and how often we look at them."""

    timeouts: Mapping[PredictionKind, float]
    poll_interval: float = 2.0  # first poll; each next one waits 1.5× longer…
    poll_max_interval: float = 10.0  # …up to this
    webhook_poll_interval: float = 30.0  # with webhooks on, polling is only a safety net
    # `Prefer: wait` seconds per kind (0 or missing: off): a fast model answers the create.
    prefer_wait: Mapping[PredictionKind, int] = field(default_factory=dict)

    def timeout(self, kind: PredictionKind) -> float:
        return self.timeouts.get(kind, 600.0)

    def grace(self, kind: PredictionKind) -> float:
        """How long after Replicate's deadline we wait to see it applied before canceling
        ourselves."""
        return min(15.0, self.timeout(kind) * 0.25 + 0.5)


class Lifecycle:
    """Runs predictions for one provider."""

    def __init__(
        self,
        client: ReplicateClient,
        *,
        timing: Timing,
        webhook_url: str | None = None,
        wakeups: PredictionWakeups | None = None,
    ) -> None:
        self.client = client
        self.timing = timing
        self.webhook_url = webhook_url
        self.wakeups = wakeups
        # Predictions this process created or adopted: never adopted again by the lookup after
        # an ambiguous create (an earlier failed attempt with the same input must not match).
        self._known_ids: OrderedDict[str, None] = OrderedDict()
        self._canceling: set[str] = set()

    async def run(
        self,
        kind: PredictionKind,
        spec: ModelSpec,
        make_input: Callable[[ModelSpec], Awaitable[dict[str, Any]]],
        *,
        existing_id: str | None,
        on_created: OnCreated | None,
        duration: float = 0.0,
    ) -> tuple[dict[str, Any], PredictionMeta]:
        """The succeeded prediction and what it cost; ProviderError for every other end."""
        started = time.monotonic()
        if existing_id:
            prediction = await self.client.get(existing_id)
            log.info(
                "replicate.prediction.resumed",
                kind=kind.value,
                prediction=existing_id,
                status=prediction.get("status"),
            )
            started -= _age(prediction)
        else:
            prediction = await self._create(kind, spec, await make_input(spec))
            if on_created is not None:
                try:
                    await on_created(prediction["id"])
                except WorkAbandoned:
                    # Nobody wants it any more (a canceled job): stop paying for it now.
                    await self.cancel_quietly(prediction["id"])
                    raise
        self._remember(prediction["id"])
        prediction = await self._wait(kind, spec, prediction, started, duration)
        return prediction, self._meta(kind, spec, prediction, duration)

    async def cancel_quietly(self, pid: str) -> None:
        self._canceling.add(pid)
        try:
            await self.client.cancel(pid)
        except ProviderError as exc:
            log.warning("replicate.prediction.cancel_failed", prediction=pid, error=str(exc))

    def note_cancel(self, pid: str) -> None:
        """Our side asked for this prediction to stop (a canceled job)."""
        self._canceling.add(pid)

    # -- create ------------------------------------------------------------------------------

    async def _create(
        self, kind: PredictionKind, spec: ModelSpec, model_input: dict[str, Any]
    ) -> dict[str, Any]:
        started = datetime.now(UTC)
        prefer = self.timing.prefer_wait.get(kind) or None
        try:
            prediction = await self.client.create(
                spec,
                model_input,
                webhook_url=self.webhook_url,
                cancel_after=self.timing.timeout(kind),
                prefer_wait=prefer,
            )
        except AmbiguousRequest as exc:
            log.warning(
                "replicate.create.ambiguous", kind=kind.value, model=spec.ref, reason=exc.reason
            )
            found = await self.client.find_created(
                spec, model_input, since=started, exclude=self._known_ids
            )
            if found is None:
                raise ProviderError(
                    f"creating the {kind.value} prediction failed ({exc.reason}) and no matching "
                    "prediction was found at Replicate",
                    retryable=True,
                ) from None
            log.warning("replicate.create.recovered", kind=kind.value, prediction=found["id"])
            return found
        log.info(
            "replicate.prediction.created",
            kind=kind.value,
            model=spec.ref,
            prediction=prediction["id"],
            status=prediction.get("status"),
            waited=bool(prefer),
        )
        return prediction

    # -- wait --------------------------------------------------------------------------------

    async def _wait(
        self,
        kind: PredictionKind,
        spec: ModelSpec,
        prediction: dict[str, Any],
        started: float,
        duration: float,
    ) -> dict[str, Any]:
        pid: str = prediction["id"]
        timeout = self.timing.timeout(kind)
        deadline = started + timeout + self.timing.grace(kind)
        webhooks = self.wakeups is not None and self.webhook_url is not None
        interval = self.timing.webhook_poll_interval if webhooks else self.timing.poll_interval
        try:
            while prediction.get("status") not in TERMINAL_STATUSES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    billed = prediction.get("status") != "starting"
                    log.warning(
                        "replicate.prediction.timeout",
                        kind=kind.value,
                        prediction=pid,
                        timeout=timeout,
                    )
                    await self.cancel_quietly(pid)
                    raise PredictionTimeout(
                        f"{kind.value} prediction {pid} did not finish within {timeout:g} s "
                        "and was canceled" + ("" if billed else " before it started (not billed)"),
                        external_id=pid,
                        billed=billed,
                        cost=spec.cost(duration=duration) if billed else 0.0,
                    )
                await self._pause(pid, min(interval, remaining))
                if not webhooks:
                    interval = min(interval * 1.5, max(self.timing.poll_max_interval, interval))
                try:
                    prediction = await self.client.get(pid)
                except UnknownPrediction:
                    raise
                except ProviderError as exc:
                    if not exc.retryable:
                        raise
                    # Throttled or a hiccup while polling: the prediction runs on; look again.
                    log.info("replicate.poll.deferred", prediction=pid, error=str(exc)[:200])
        finally:
            if self.wakeups is not None:
                self.wakeups.forget(pid)
        status = prediction.get("status")
        if status != "succeeded":
            self._raise_ended(kind, spec, prediction, started, duration)
        return prediction

    async def _pause(self, pid: str, seconds: float) -> None:
        if self.wakeups is not None:
            if await self.wakeups.wait(pid, seconds):
                log.debug("replicate.prediction.woken", prediction=pid)
        else:
            await asyncio.sleep(seconds)

    def _raise_ended(
        self,
        kind: PredictionKind,
        spec: ModelSpec,
        prediction: dict[str, Any],
        started: float,
        duration: float,
    ) -> None:
        pid: str = prediction["id"]
        status = prediction.get("status")
        timeout = self.timing.timeout(kind)
        error = self.client.scrub(str(prediction.get("error") or "no error message"))
        log.warning(
            "replicate.prediction.ended",
            kind=kind.value,
            prediction=pid,
            status=status,
            error=error[:500],
        )
        if status == "aborted":
            raise PredictionTimeout(
                f"{kind.value} prediction {pid} was still queued at its {timeout:g} s deadline "
                "(aborted by Replicate, not billed)",
                external_id=pid,
                billed=False,
            )
        if status == "canceled":
            ours = pid in self._canceling
            if not ours and time.monotonic() - started >= timeout - 0.5:
                raise PredictionTimeout(
                    f"{kind.value} prediction {pid} was still running at its {timeout:g} s "
                    "deadline and Replicate canceled it (billed)",
                    external_id=pid,
                    billed=True,
                    cost=self._cost(kind, spec, prediction, duration),
                )
            raise ProviderError(
                f"{kind.value} prediction {pid} was canceled",
                retryable=False,
                external_id=pid,
                cost=self.unfinished_cost(spec, prediction),
            )
        raise ProviderError(
            f"{kind.value} prediction {pid} {status}: {error}",
            retryable=True,  # model runs are flaky; the caller's retry budget decides
            external_id=pid,
        )

    # -- results -----------------------------------------------------------------------------

    def _cost(
        self, kind: PredictionKind, spec: ModelSpec, prediction: dict[str, Any], duration: float
    ) -> float:
        metrics = prediction.get("metrics") or {}
        input_tokens = _number(metrics.get("input_token_count"))
        output_tokens = _number(metrics.get("output_token_count"))
        return spec.cost(
            predict_time=_number(metrics.get("predict_time")),
            duration=duration if kind is PredictionKind.VIDEO else 0.0,
            input_tokens=int(input_tokens) if input_tokens is not None else None,
            output_tokens=int(output_tokens) if output_tokens is not None else None,
        )

    def unfinished_cost(self, spec: ModelSpec, prediction: dict[str, Any]) -> float:
        """What a prediction that ended without an output was billed: the time it ran, at
        the model's hardware price (per-output prices are charged for outputs only)."""
        metrics = prediction.get("metrics") or {}
        predict_time = _number(metrics.get("predict_time")) or 0.0
        return round(spec.price_per_second * predict_time, 6)

    def final_meta(
        self, kind: PredictionKind, spec: ModelSpec, prediction: dict[str, Any], duration: float
    ) -> PredictionMeta | None:
        """The cost of a prediction that ended (None while it runs), from Replicate's answer."""
        status = prediction.get("status")
        if status not in TERMINAL_STATUSES:
            return None
        pid: str = prediction["id"]
        if status == "succeeded":
            return self._meta(kind, spec, prediction, duration)
        metrics = prediction.get("metrics") or {}
        return PredictionMeta(
            external_id=pid,
            model=spec.ref,
            predict_time=_number(metrics.get("predict_time")),
            cost=0.0 if status == "aborted" else self.unfinished_cost(spec, prediction),
            extra={"status": status},
        )

    def _meta(
        self, kind: PredictionKind, spec: ModelSpec, prediction: dict[str, Any], duration: float
    ) -> PredictionMeta:
        pid: str = prediction["id"]
        metrics = prediction.get("metrics") or {}
        predict_time = _number(metrics.get("predict_time"))
        cost = self._cost(kind, spec, prediction, duration)
        extra: dict[str, Any] = {"status": prediction.get("status")}
        for key in ("input_token_count", "output_token_count"):
            value = _number(metrics.get(key))
            if value is not None:
                extra[key] = int(value)
        if kind is PredictionKind.VIDEO:
            extra["output_duration"] = spec.output_duration(duration)
        log.info(
            "replicate.prediction.succeeded",
            kind=kind.value,
            prediction=pid,
            predict_time=predict_time,
            cost=cost,
        )
        return PredictionMeta(
            external_id=pid, model=spec.ref, predict_time=predict_time, cost=cost, extra=extra
        )

    def _remember(self, pid: str) -> None:
        self._known_ids[pid] = None
        while len(self._known_ids) > 10_000:
            self._known_ids.popitem(last=False)


def _age(prediction: dict[str, Any]) -> float:
    """Seconds since Replicate created the prediction (0 when unknown)."""
    created = parse_time(prediction.get("created_at"))
    if created is None:
        return 0.0
    return max(0.0, (datetime.now(UTC) - created).total_seconds())


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
