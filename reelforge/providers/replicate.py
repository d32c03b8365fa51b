"""Replicate's HTTP API with httpx: create a prediction, record it, wait for it (polling, woken
early by webhooks), copy its output at once (Replicate deletes outputs after an hour).

Money rule: a create is never blindly repeated once it may have reached Replicate. It is
retried only when nothing was sent (connection refused, connect timeout) or on 429; after a
5xx or a lost response the recent predictions are searched for ours instead.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import json
import math
import mimetypes
import random
import re
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import httpx
import structlog

from reelforge.observability.metrics import REPLICATE_API_ERRORS
from reelforge.providers.base import (
    ClipRequest,
    MediaResult,
    OnCreated,
    PlannedScene,
    PlanRequest,
    PlanResult,
    PredictionKind,
    PredictionMeta,
    PredictionTimeout,
    ProviderError,
    StillRequest,
    UnknownPrediction,
)
from reelforge.providers.catalog import DEFAULT_CATALOG, Catalog, ModelSpec
from reelforge.providers.webhooks import PredictionWakeups

log = structlog.get_logger(__name__)

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled", "aborted"})
MIN_SCENE_SECONDS = 1.0
MAX_SCENE_SECONDS = 15.0
INLINE_IMAGE_LIMIT = 1024 * 1024  # larger stills go through the files API
MAX_OUTPUT_BYTES = 200 * 1024 * 1024
MAX_RETRY_AFTER = 600.0

Sleep = Callable[[float], Awaitable[None]]


class ReplicateHTTPError(ProviderError):
    """Replicate answered a request with an error status."""

    def __init__(self, message: str, *, status: int, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


class _AmbiguousRequest(Exception):
    """A non-idempotent request may or may not have been processed by Replicate."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplicateProvider:
    """Generation on Replicate: an LLM plans, an image model draws, a video model animates."""

    name = "replicate"

    def __init__(
        self,
        *,
        token: str,
        catalog: Catalog | None = None,
        base_url: str = "https://api.replicate.com",
        http: httpx.AsyncClient | None = None,
        poll_interval: float = 2.0,
        image_timeout: float = 120.0,
        video_timeout: float = 600.0,
        plan_timeout: float = 120.0,
        webhook_url: str | None = None,
        wakeups: PredictionWakeups | None = None,
        sleep: Sleep | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        lookup_skew: float = 120.0,
        inline_image_limit: int = INLINE_IMAGE_LIMIT,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
        rng: random.Random | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Replicate API token is required")
        self._token = token
        self.catalog = catalog or DEFAULT_CATALOG
        self._base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True
        )
        self._poll_interval = poll_interval
        self._timeouts = {
            PredictionKind.PLAN: plan_timeout,
            PredictionKind.IMAGE: image_timeout,
            PredictionKind.VIDEO: video_timeout,
        }
        self._webhook_url = webhook_url
        self._wakeups = wakeups
        self._sleep: Sleep = sleep or asyncio.sleep  # retry backoff only (tests record it)
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._lookup_skew = lookup_skew
        self._inline_image_limit = inline_image_limit
        self._max_output_bytes = max_output_bytes
        self._random = rng or random.Random()
        # Predictions this process created or adopted: never adopted again by the lookup after
        # an ambiguous create (an earlier failed attempt with the same input must not match).
        self._known_ids: OrderedDict[str, None] = OrderedDict()

    # -- Provider protocol -------------------------------------------------------------------

    def model_for(self, kind: PredictionKind) -> str:
        return self.catalog.spec(kind).ref

    def estimate_cost(self, kind: PredictionKind, *, duration: float = 0.0) -> float:
        return self.catalog.estimate(kind, duration)

    async def plan(
        self,
        request: PlanRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> PlanResult:
        values = {
            "prompt": plan_prompt(request),
            "brief": request.brief,
            "scene_count": request.scene_count,
            "target_duration": request.target_duration,
            "style": request.style,
            "aspect_ratio": request.aspect_ratio,
        }

        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            return spec.render_input(values)

        prediction, meta = await self._run(
            PredictionKind.PLAN, make_input, existing_id=existing_id, on_created=on_created
        )
        try:
            scenes = parse_storyboard(
                prediction.get("output"),
                scene_count=request.scene_count,
                target_duration=request.target_duration,
            )
        except ProviderError as exc:
            exc.external_id = meta.external_id
            raise
        return PlanResult(scenes=scenes, meta=meta)

    async def still(
        self,
        request: StillRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        values = {
            "prompt": request.prompt,
            "width": request.width,
            "height": request.height,
            "aspect_ratio": request.aspect_ratio,
            "seed": request.seed,
            "title": request.title,
        }

        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            return spec.render_input(values)

        prediction, meta = await self._run(
            PredictionKind.IMAGE, make_input, existing_id=existing_id, on_created=on_created
        )
        return await self._media_result(PredictionKind.IMAGE, prediction, meta)

    async def clip(
        self,
        request: ClipRequest,
        *,
        existing_id: str | None = None,
        on_created: OnCreated | None = None,
    ) -> MediaResult:
        async def make_input(spec: ModelSpec) -> dict[str, Any]:
            image = await self._image_input(request.image, request.image_content_type)
            return spec.render_input(
                {
                    "image": image,
                    "prompt": request.prompt,
                    "duration": spec.output_duration(request.duration),
                    "width": request.width,
                    "height": request.height,
                    "aspect_ratio": request.aspect_ratio,
                    "seed": request.seed,
                }
            )

        prediction, meta = await self._run(
            PredictionKind.VIDEO,
            make_input,
            existing_id=existing_id,
            on_created=on_created,
            duration=request.duration,
        )
        return await self._media_result(PredictionKind.VIDEO, prediction, meta)

    async def cancel(self, external_id: str) -> None:
        try:
            await self._request("POST", f"/v1/predictions/{_quote(external_id)}/cancel")
        except ReplicateHTTPError as exc:
            # 404: unknown; other 4xx: nothing a retry could change. Finished ones answer 200.
            log.warning(
                "replicate.prediction.cancel_refused", prediction=external_id, error=str(exc)
            )
            return
        log.info("replicate.prediction.cancel_requested", prediction=external_id)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- One prediction, start to finish -----------------------------------------------------

    async def _run(
        self,
        kind: PredictionKind,
        make_input: Callable[[ModelSpec], Awaitable[dict[str, Any]]],
        *,
        existing_id: str | None,
        on_created: OnCreated | None,
        duration: float = 0.0,
    ) -> tuple[dict[str, Any], PredictionMeta]:
        spec = self.catalog.spec(kind)
        if existing_id:
            prediction = await self._get(existing_id)
            log.info(
                "replicate.prediction.resumed",
                kind=kind.value,
                prediction=existing_id,
                status=prediction.get("status"),
            )
        else:
            prediction = await self._create(kind, spec, await make_input(spec))
            if on_created is not None:
                try:
                    await on_created(prediction["id"])
                except BaseException:
                    # Nobody would know about this prediction: stop it rather than pay for it.
                    await self._cancel_quietly(prediction["id"])
                    raise
        self._remember(prediction["id"])
        prediction = await self._wait(kind, prediction)
        pid = prediction["id"]
        status = prediction.get("status")
        if status != "succeeded":
            error = _scrub(str(prediction.get("error") or "no error message"), self._token)
            log.warning(
                "replicate.prediction.failed",
                kind=kind.value,
                prediction=pid,
                status=status,
                error=error[:500],
            )
            if status == "canceled":
                raise ProviderError(
                    f"{kind.value} prediction {pid} was canceled", retryable=False, external_id=pid
                )
            raise ProviderError(
                f"{kind.value} prediction {pid} {status}: {error}",
                retryable=True,  # model runs are flaky; the pipeline's retry budget decides
                external_id=pid,
            )
        metrics = prediction.get("metrics") or {}
        predict_time = _number(metrics.get("predict_time"))
        input_tokens = _number(metrics.get("input_token_count"))
        output_tokens = _number(metrics.get("output_token_count"))
        cost = self.catalog.cost(
            kind,
            predict_time,
            duration,
            input_tokens=int(input_tokens) if input_tokens is not None else None,
            output_tokens=int(output_tokens) if output_tokens is not None else None,
        )
        extra: dict[str, Any] = {"status": status}
        if input_tokens is not None:
            extra["input_token_count"] = int(input_tokens)
        if output_tokens is not None:
            extra["output_token_count"] = int(output_tokens)
        if kind is PredictionKind.VIDEO:
            extra["output_duration"] = spec.output_duration(duration)
        meta = PredictionMeta(
            external_id=pid,
            model=spec.ref,
            predict_time=predict_time,
            cost=cost,
            extra=extra,
        )
        log.info(
            "replicate.prediction.succeeded",
            kind=kind.value,
            prediction=pid,
            predict_time=predict_time,
            cost=cost,
        )
        return prediction, meta

    async def _create(
        self, kind: PredictionKind, spec: ModelSpec, model_input: dict[str, Any]
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"input": model_input}
        if spec.version:
            path = "/v1/predictions"
            body["version"] = spec.version
        else:
            owner, model_name = spec.model.split("/", 1)
            path = f"/v1/models/{_quote(owner)}/{_quote(model_name)}/predictions"
        if self._webhook_url:
            body["webhook"] = self._webhook_url
            body["webhook_events_filter"] = ["completed"]
        started = datetime.now(UTC)
        try:
            response = await self._request("POST", path, json=body, idempotent=False)
        except _AmbiguousRequest as exc:
            log.warning(
                "replicate.create.ambiguous", kind=kind.value, model=spec.ref, reason=exc.reason
            )
            found = await self._find_created(spec, model_input, since=started)
            if found is None:
                raise ProviderError(
                    f"creating the {kind.value} prediction failed ({exc.reason}) and no matching "
                    "prediction was found at Replicate",
                    retryable=True,
                ) from None
            log.warning("replicate.create.recovered", kind=kind.value, prediction=found["id"])
            return found
        prediction = _json_object(response)
        if not isinstance(prediction.get("id"), str):
            raise ProviderError("Replicate's create answer has no prediction id", retryable=True)
        log.info(
            "replicate.prediction.created",
            kind=kind.value,
            model=spec.ref,
            prediction=prediction["id"],
        )
        return prediction

    async def _find_created(
        self, spec: ModelSpec, model_input: dict[str, Any], *, since: datetime
    ) -> dict[str, Any] | None:
        """Our prediction among the recent ones (newest first), or None."""
        oldest = since - timedelta(seconds=self._lookup_skew)
        url: str | None = "/v1/predictions"
        for _ in range(3):  # 100 per page: plenty for a few minutes of one account
            if url is None:
                break
            try:
                page = _json_object(await self._request("GET", url))
            except (ProviderError, _AmbiguousRequest) as exc:
                log.warning("replicate.create.lookup_failed", error=str(exc))
                return None
            results = page.get("results")
            if not isinstance(results, list):
                return None
            for candidate in results:
                if not isinstance(candidate, dict):
                    continue
                created = _parse_time(candidate.get("created_at"))
                if created is not None and created < oldest:
                    return None  # sorted newest first: nothing older can be ours
                if (
                    created is not None
                    and isinstance(candidate.get("id"), str)
                    and candidate["id"] not in self._known_ids
                    and candidate.get("model") == spec.model
                    and (spec.version is None or candidate.get("version") == spec.version)
                    and _same_input(candidate.get("input"), model_input)
                ):
                    return candidate
            next_url = page.get("next")
            url = next_url if isinstance(next_url, str) and next_url else None
        return None

    async def _wait(self, kind: PredictionKind, prediction: dict[str, Any]) -> dict[str, Any]:
        pid: str = prediction["id"]
        timeout = self._timeouts[kind]
        deadline = time.monotonic() + timeout
        while prediction.get("status") not in TERMINAL_STATUSES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning(
                    "replicate.prediction.timeout", kind=kind.value, prediction=pid, timeout=timeout
                )
                await self._cancel_quietly(pid)
                raise PredictionTimeout(
                    f"{kind.value} prediction {pid} did not finish within {timeout:g} s "
                    "and was canceled",
                    external_id=pid,
                )
            await self._pause(pid, min(self._poll_interval, remaining))
            prediction = await self._get(pid)
        if self._wakeups is not None:
            self._wakeups.forget(pid)
        return prediction

    async def _pause(self, pid: str, seconds: float) -> None:
        if self._wakeups is not None:
            if await self._wakeups.wait(pid, seconds):
                log.debug("replicate.prediction.woken", prediction=pid)
        else:
            await asyncio.sleep(seconds)

    async def _get(self, pid: str) -> dict[str, Any]:
        try:
            response = await self._request("GET", f"/v1/predictions/{_quote(pid)}")
        except ReplicateHTTPError as exc:
            if exc.status == 404:
                raise UnknownPrediction(pid) from None
            exc.external_id = pid
            raise
        return _json_object(response)

    async def _cancel_quietly(self, pid: str) -> None:
        try:
            await self.cancel(pid)
        except ProviderError as exc:
            log.warning("replicate.prediction.cancel_failed", prediction=pid, error=str(exc))

    def _remember(self, pid: str) -> None:
        self._known_ids[pid] = None
        while len(self._known_ids) > 10_000:
            self._known_ids.popitem(last=False)

    # -- Inputs and outputs ------------------------------------------------------------------

    async def _image_input(self, data: bytes, content_type: str) -> str:
        """A data URI for a small still; a Replicate file URL for a large one."""
        if len(data) <= self._inline_image_limit:
            return f"data:{content_type};base64,{base64.b64encode(data).decode()}"
        extension = mimetypes.guess_extension(content_type) or ".bin"
        response = await self._request(
            "POST",
            "/v1/files",
            files={"content": (f"still{extension}", data, content_type)},
        )
        urls = _json_object(response).get("urls")
        url = urls.get("get") if isinstance(urls, dict) else None
        if not isinstance(url, str):
            raise ProviderError("Replicate's file upload answer has no urls.get", retryable=True)
        log.info("replicate.file.uploaded", size_bytes=len(data))
        return url

    async def _media_result(
        self, kind: PredictionKind, prediction: dict[str, Any], meta: PredictionMeta
    ) -> MediaResult:
        urls = _output_urls(prediction.get("output"))
        if not urls:
            raise ProviderError(
                f"{kind.value} prediction {meta.external_id} succeeded without an output file",
                retryable=True,
                external_id=meta.external_id,
            )
        default_type = "image/png" if kind is PredictionKind.IMAGE else "video/mp4"
        try:
            data, content_type = await self._download(urls[0], default_type)
        except ProviderError as exc:
            exc.external_id = meta.external_id
            raise
        log.info(
            "replicate.output.copied",
            kind=kind.value,
            prediction=meta.external_id,
            size_bytes=len(data),
        )
        return MediaResult(data=data, content_type=content_type, meta=meta)

    async def _download(self, url: str, default_type: str) -> tuple[bytes, str]:
        if url.startswith("data:"):
            return _decode_data_uri(url, default_type)
        # The token only goes to Replicate's API host, never to a CDN or another host.
        same_origin = _origin(url) == _origin(self._base_url)
        headers = {"Authorization": f"Bearer {self._token}"} if same_origin else {}
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with self._http.stream(
                    "GET", url, headers=headers, follow_redirects=True
                ) as response:
                    if response.status_code in (404, 410):
                        REPLICATE_API_ERRORS.labels(status=str(response.status_code)).inc()
                        raise ProviderError(
                            f"the output file is gone (HTTP {response.status_code}); "
                            "Replicate keeps outputs for one hour",
                            retryable=True,
                        )
                    if response.status_code == 429 or response.status_code >= 500:
                        REPLICATE_API_ERRORS.labels(status=str(response.status_code)).inc()
                        if attempt == self._max_attempts:
                            raise ProviderError(
                                f"downloading the output failed: HTTP {response.status_code}",
                                retryable=True,
                            )
                        await self._sleep(self._retry_delay(attempt, response))
                        continue
                    if response.status_code >= 400:
                        REPLICATE_API_ERRORS.labels(status=str(response.status_code)).inc()
                        raise ProviderError(
                            f"downloading the output failed: HTTP {response.status_code}",
                            retryable=False,
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > self._max_output_bytes:
                        raise self._too_large()
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self._max_output_bytes:
                            raise self._too_large()
                        chunks.append(chunk)
                    content_type = _content_type(
                        response.headers.get("content-type"), url, default_type
                    )
                    return b"".join(chunks), content_type
            except httpx.TransportError as exc:
                REPLICATE_API_ERRORS.labels(status="network").inc()
                if attempt == self._max_attempts:
                    raise ProviderError(
                        f"downloading the output failed: {type(exc).__name__}", retryable=True
                    ) from exc
                await self._sleep(self._backoff(attempt))
        raise AssertionError("unreachable")

    def _too_large(self) -> ProviderError:
        return ProviderError(
            f"the output file is larger than {self._max_output_bytes} bytes", retryable=False
        )

    # -- HTTP with retries -------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """One API call with backoff. Non-idempotent calls raise _AmbiguousRequest instead of
        being retried once the request may have reached Replicate."""
        url = path if path.startswith(("http://", "https://")) else self._base_url + path
        label = urllib.parse.urlsplit(url).path
        headers = {"Authorization": f"Bearer {self._token}"}
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            try:
                response = await self._http.request(method, url, headers=headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing was sent: safe to try again, even for a create.
                REPLICATE_API_ERRORS.labels(status="network").inc()
                if last:
                    raise ProviderError(
                        f"{method} {label}: could not reach Replicate ({type(exc).__name__})",
                        retryable=True,
                    ) from exc
                await self._retry_pause(method, label, attempt, "network", self._backoff(attempt))
                continue
            except httpx.TransportError as exc:
                REPLICATE_API_ERRORS.labels(status="network").inc()
                if not idempotent:
                    raise _AmbiguousRequest(type(exc).__name__) from exc
                if last:
                    raise ProviderError(
                        f"{method} {label}: network error ({type(exc).__name__})", retryable=True
                    ) from exc
                await self._retry_pause(method, label, attempt, "network", self._backoff(attempt))
                continue
            status = response.status_code
            if status < 400:
                return response
            REPLICATE_API_ERRORS.labels(status=str(status)).inc()
            if status == 429 or status >= 500:
                if status >= 500 and not idempotent:
                    raise _AmbiguousRequest(f"HTTP {status}")
                if last:
                    self._raise_http_error(method, label, response, retryable=True)
                delay = self._retry_delay(attempt, response)
                await self._retry_pause(method, label, attempt, str(status), delay)
                continue
            self._raise_http_error(method, label, response, retryable=False)
        raise AssertionError("unreachable")

    async def _retry_pause(
        self, method: str, label: str, attempt: int, reason: str, delay: float
    ) -> None:
        log.info(
            "replicate.request.retry",
            method=method,
            path=label,
            attempt=attempt,
            reason=reason,
            delay=round(delay, 3),
        )
        await self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return self._random.uniform(0, ceiling)

    def _retry_delay(self, attempt: int, response: httpx.Response) -> float:
        retry_after = _retry_after_seconds(response.headers.get("retry-after"))
        return retry_after if retry_after is not None else self._backoff(attempt)

    def _raise_http_error(
        self, method: str, label: str, response: httpx.Response, *, retryable: bool
    ) -> NoReturn:
        status = response.status_code
        detail = _error_detail(response)
        if status == 401:
            detail = "the API token was rejected"
        message = f"{method} {label}: HTTP {status}"
        if detail:
            message += f": {_scrub(detail, self._token)[:500]}"
        raise ReplicateHTTPError(message, status=status, retryable=retryable)


# -- The storyboard -------------------------------------------------------------------------


def plan_prompt(request: PlanRequest) -> str:
    """The user prompt asking the LLM for a storyboard of `scene_count` scenes."""
    per_scene = request.target_duration / max(request.scene_count, 1)
    lines = [
        f"Brief: {request.brief.strip()}",
        f"Write exactly {request.scene_count} scenes for a {request.target_duration:g}-second "
        f"video ad (about {per_scene:.0f} s each; durations add up to the total).",
        f"Frame: {request.aspect_ratio}.",
    ]
    if request.style:
        lines.append(f"Visual style: {request.style}.")
    lines.append('Answer with the JSON object {"scenes": [...]} only.')
    return "\n".join(lines)


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")

_FIELD_NAMES = {
    "description": ("description", "scene", "summary", "narration", "title", "text"),
    "image_prompt": (
        "imageprompt",
        "image",
        "imagedescription",
        "visual",
        "visualprompt",
        "prompt",
    ),
    "motion_prompt": ("motionprompt", "motion", "cameramotion", "camera", "videoprompt", "action"),
    "duration": ("duration", "durationseconds", "seconds", "length", "durations"),
}
_DEFAULT_MOTION = "slow cinematic camera push-in"


def parse_storyboard(
    output: Any, *, scene_count: int, target_duration: float
) -> list[PlannedScene]:
    """Scenes from an LLM's answer: streamed tokens or text, JSON fenced or bare, wrapped in
    prose, an object with "scenes" or a bare list. Fields are coerced, durations clamped to
    1–15 s, and extra scenes trimmed to `scene_count`. Raises ProviderError (not retryable)
    when no usable scene can be found."""
    if isinstance(output, str):
        text = output
    elif isinstance(output, list) and all(isinstance(t, str) or t is None for t in output):
        text = "".join(t for t in output if t)
    else:
        raise ProviderError(
            f"the storyboard model answered {type(output).__name__}, not text", retryable=False
        )
    count = max(1, scene_count)
    default_duration = _clamp(target_duration / count if target_duration > 0 else 5.0)
    for candidate in _json_candidates(text):
        raw_scenes = _raw_scenes(candidate)
        if raw_scenes is None:
            continue
        scenes = [s for s in (_coerce_scene(raw, default_duration) for raw in raw_scenes) if s]
        if scenes:
            if len(scenes) < count:
                log.warning("replicate.storyboard.short", wanted=count, got=len(scenes))
            return scenes[:count]
    snippet = " ".join(text.split())[:200]
    raise ProviderError(
        f"the storyboard model's answer holds no usable scenes: {snippet!r}", retryable=False
    )


def _json_candidates(text: str) -> Iterator[Any]:
    """JSON values found in `text`: fenced blocks first, then the whole text, then every
    top-level value embedded in prose."""
    blocks = [m.group(2) for m in _FENCE.finditer(text)]
    for block in [*blocks, text]:
        for variant in (block, _TRAILING_COMMA.sub(r"\1", block)):
            try:
                yield json.loads(variant.strip())
                break
            except ValueError:
                continue
    decoder = json.JSONDecoder()
    for source in (text, _TRAILING_COMMA.sub(r"\1", text)):
        index = 0
        while index < len(source):
            if source[index] in "{[":
                try:
                    value, end = decoder.raw_decode(source, index)
                except ValueError:
                    index += 1
                    continue
                yield value
                index = end
            else:
                index += 1


def _raw_scenes(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if _normalise(key) in ("scenes", "storyboard", "shots") and isinstance(item, list):
                return item
        for item in value.values():  # {"storyboard": {"scenes": [...]}}
            if isinstance(item, dict):
                nested = _raw_scenes(item)
                if nested is not None:
                    return nested
    return None


def _coerce_scene(raw: Any, default_duration: float) -> PlannedScene | None:
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        return PlannedScene(text, text, _DEFAULT_MOTION, default_duration)
    if not isinstance(raw, dict):
        return None
    fields = {_normalise(str(k)): v for k, v in raw.items()}

    def text_field(name: str) -> str:
        for key in _FIELD_NAMES[name]:
            value = fields.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    description = text_field("description")
    image_prompt = text_field("image_prompt")
    if not description and not image_prompt:
        return None
    duration = default_duration
    for key in _FIELD_NAMES["duration"]:
        seconds = _seconds(fields.get(key))
        if seconds is not None:
            duration = _clamp(seconds)
            break
    return PlannedScene(
        description=description or image_prompt,
        image_prompt=image_prompt or description,
        motion_prompt=text_field("motion_prompt") or _DEFAULT_MOTION,
        duration=duration,
    )


def _normalise(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and (match := _NUMBER.search(value)):
        number = float(match.group(0))
    else:
        return None
    return number if math.isfinite(number) and number > 0 else None


def _clamp(seconds: float) -> float:
    return min(MAX_SCENE_SECONDS, max(MIN_SCENE_SECONDS, seconds))


# -- Small helpers --------------------------------------------------------------------------


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "[redacted]") if token else text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ProviderError(
            f"Replicate answered {response.request.url.path} with something other than a JSON "
            "object",
            retryable=True,
        )
    return value


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("title", "detail") if body.get(key)]
        invalid = body.get("invalid_fields")
        if isinstance(invalid, list) and invalid:
            parts.append(json.dumps(invalid)[:300])
        return " - ".join(parts)
    return ""


def _retry_after_seconds(value: str | None) -> float | None:
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
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _same_input(listed: Any, sent: Mapping[str, Any]) -> bool:
    """Whether a listed prediction's input is the one we sent. Replicate may show an inlined
    file (data URI) as a URL of its own, so such fields only need to hold a string."""
    if not isinstance(listed, dict):
        return False
    for key, value in sent.items():
        if key not in listed:
            return False
        if isinstance(value, str) and value.startswith("data:"):
            if not isinstance(listed[key], str):
                return False
        elif listed[key] != value:
            return False
    return True


def _output_urls(output: Any) -> list[str]:
    if isinstance(output, str):
        return [output] if output else []
    if isinstance(output, list):
        return [item for item in output if isinstance(item, str) and item]
    if isinstance(output, dict):
        return [item for item in output.values() if isinstance(item, str) and item]
    return []


def _decode_data_uri(uri: str, default_type: str) -> tuple[bytes, str]:
    header, _, payload = uri.partition(",")
    media_type = header[len("data:") :].split(";")[0] or default_type
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=True), media_type
        return urllib.parse.unquote_to_bytes(payload), media_type
    except (binascii.Error, ValueError) as exc:
        raise ProviderError("the output is a malformed data URI", retryable=False) from exc


def _content_type(header: str | None, url: str, default_type: str) -> str:
    if header:
        media_type = header.split(";")[0].strip().lower()
        if media_type and media_type not in ("application/octet-stream", "binary/octet-stream"):
            return media_type
    guessed, _ = mimetypes.guess_type(urllib.parse.urlsplit(url).path)
    return guessed or default_type
