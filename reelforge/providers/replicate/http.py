"""Replicate's HTTP API with httpx: authenticated requests with retries, every one through the
process's throttle gate, and the endpoints Reelforge uses (create, get, cancel, list, files,
output downloads).

Money rule: a create is never blindly repeated once it may have reached Replicate. It is
retried only when nothing was sent (connection refused, connect timeout) or on 429 (throttled:
not processed); after a 5xx or a lost response the recent predictions are searched for ours
instead (`find_created`).
"""

from __future__ import annotations

import json
import math
import mimetypes
import random
import urllib.parse
from collections.abc import AsyncIterator, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import httpx
import structlog

from reelforge.observability.metrics import REPLICATE_API_ERRORS
from reelforge.providers.base import OutputRemoved, ProviderError, UnknownPrediction
from reelforge.providers.catalog import ModelSpec
from reelforge.providers.replicate.throttle import Sleep, Throttle, shared_throttle, throttle_delay
from reelforge.tls import client_tls_context

log = structlog.get_logger(__name__)

MAX_PREFER_WAIT = 60  # Replicate holds a create open for at most 60 s


class ReplicateHTTPError(ProviderError):
    """Replicate answered a request with an error status."""

    def __init__(self, message: str, *, status: int, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


class AmbiguousRequest(Exception):
    """A non-idempotent request may or may not have been processed by Replicate."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplicateClient:
    """One Replicate account's API. `throttle` defaults to the process's shared gate for this
    account (a private one on a virtual clock when `sleep` is injected, for tests)."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str = "https://api.replicate.com",
        http: httpx.AsyncClient | None = None,
        throttle: Throttle | None = None,
        throttle_budget: float = 120.0,
        sleep: Sleep | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        lookup_skew: float = 120.0,
        rng: random.Random | None = None,
    ) -> None:
        if not token:
            raise ValueError("a Replicate API token is required")
        self.token = token
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=10.0),
            follow_redirects=True,
            verify=client_tls_context(),
        )
        if throttle is None:
            if sleep is not None:
                throttle = Throttle(sleep=sleep, budget=throttle_budget)
            else:
                throttle = shared_throttle(self.base_url, token, budget=throttle_budget)
        self.throttle = throttle
        self.sleep: Sleep = throttle.pause  # backoff between retries, on the gate's clock
        self.max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._lookup_skew = lookup_skew
        self._random = rng or random.Random()

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    # -- endpoints ---------------------------------------------------------------------------

    async def create(
        self,
        spec: ModelSpec,
        model_input: dict[str, Any],
        *,
        webhook_url: str | None = None,
        cancel_after: float | None = None,
        prefer_wait: int | None = None,
    ) -> dict[str, Any]:
        """Create a prediction. `cancel_after`: Replicate's own deadline (a prediction still
        queued then ends `aborted`, unbilled; a running one `canceled`). `prefer_wait`: hold
        the request open up to that many seconds so a fast model answers with its output."""
        body: dict[str, Any] = {"input": model_input}
        if spec.version:
            path = "/v1/predictions"
            body["version"] = spec.version
        else:
            owner, model_name = spec.model.split("/", 1)
            path = f"/v1/models/{quote(owner)}/{quote(model_name)}/predictions"
        if webhook_url:
            body["webhook"] = webhook_url
            body["webhook_events_filter"] = ["completed"]
        headers: dict[str, str] = {}
        if cancel_after is not None and cancel_after > 0:
            headers["Cancel-After"] = duration_header(cancel_after)
        timeout: httpx.Timeout | None = None
        if prefer_wait:
            wait = max(1, min(MAX_PREFER_WAIT, int(prefer_wait)))
            headers["Prefer"] = f"wait={wait}"
            timeout = httpx.Timeout(wait + 15.0, connect=10.0)
        response = await self.request(
            "POST", path, json=body, headers=headers, timeout=timeout, idempotent=False
        )
        prediction = json_object(response)
        if not isinstance(prediction.get("id"), str):
            raise ProviderError("Replicate's create answer has no prediction id", retryable=True)
        return prediction

    async def get(self, pid: str) -> dict[str, Any]:
        try:
            response = await self.request("GET", f"/v1/predictions/{quote(pid)}")
        except ReplicateHTTPError as exc:
            if exc.status == 404:
                raise UnknownPrediction(pid) from None
            exc.external_id = pid
            raise
        return json_object(response)

    async def cancel(self, pid: str) -> None:
        """Ask Replicate to stop a prediction; quiet when it is unknown or already finished."""
        try:
            await self.request("POST", f"/v1/predictions/{quote(pid)}/cancel")
        except ReplicateHTTPError as exc:
            # 404: unknown; other 4xx: nothing a retry could change. Finished ones answer 200.
            log.warning("replicate.prediction.cancel_refused", prediction=pid, error=str(exc))
            return
        log.info("replicate.prediction.cancel_requested", prediction=pid)

    async def list_predictions(
        self, *, since: datetime | None = None, max_pages: int = 3
    ) -> AsyncIterator[dict[str, Any]]:
        """Recent predictions of the account, newest first, stopping at the first one created
        before `since` (and after `max_pages` pages of 100). For adopting a prediction whose
        create answer was lost."""
        url: str | None = "/v1/predictions"
        if since is not None:  # Replicate filters by creation time itself (ISO 8601)
            after = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
            url = "/v1/predictions?" + urllib.parse.urlencode({"created_after": after})
        for _ in range(max_pages):
            if url is None:
                return
            page = json_object(await self.request("GET", url))
            results = page.get("results")
            if not isinstance(results, list):
                return
            for candidate in results:
                if not isinstance(candidate, dict):
                    continue
                created = parse_time(candidate.get("created_at"))
                if since is not None and created is not None and created < since:
                    return  # sorted newest first: nothing older follows
                yield candidate
            nxt = page.get("next")
            url = nxt if isinstance(nxt, str) and nxt else None

    async def find_created(
        self,
        spec: ModelSpec,
        model_input: Mapping[str, Any],
        *,
        since: datetime,
        exclude: Collection[str] = (),
    ) -> dict[str, Any] | None:
        """Our prediction among the recent ones (same model and input, created after `since`
        less the clock skew allowance), or None (also when the list cannot be had)."""
        try:
            for candidate in await self.matching(spec, model_input, since=since):
                if candidate["id"] not in exclude:
                    return candidate
        except ProviderError as exc:
            log.warning("replicate.create.lookup_failed", error=str(exc))
        return None

    async def matching(
        self, spec: ModelSpec, model_input: Mapping[str, Any], *, since: datetime
    ) -> list[dict[str, Any]]:
        """The account's predictions of `spec`'s model with `model_input`, created after
        `since` less the clock skew allowance, newest first. Raises ProviderError when the
        list cannot be had (the caller must not take "unknown" for "not there")."""
        oldest = since - timedelta(seconds=self._lookup_skew)
        found = []
        try:
            async for candidate in self.list_predictions(since=oldest, max_pages=20):
                pid = candidate.get("id")
                if (
                    isinstance(pid, str)
                    and str(candidate.get("model", "")) == spec.model
                    and (spec.version is None or candidate.get("version") == spec.version)
                    and same_input(candidate.get("input"), model_input)
                ):
                    found.append(candidate)
        except AmbiguousRequest as exc:  # a GET is idempotent; kept for the type's sake
            raise ProviderError(
                f"listing predictions failed ({exc.reason})", retryable=True
            ) from exc
        return found

    async def model_inputs(self, spec: ModelSpec) -> list[str]:
        """The input names the model (or its pinned version) publishes in its OpenAPI schema."""
        owner, name = spec.model.split("/", 1)
        path = f"/v1/models/{quote(owner)}/{quote(name)}"
        if spec.version:
            version: Any = json_object(
                await self.request("GET", f"{path}/versions/{quote(spec.version)}")
            )
        else:
            version = json_object(await self.request("GET", path)).get("latest_version")
        try:
            properties = version["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
        except (KeyError, TypeError):
            raise ProviderError(f"{spec.ref} publishes no input schema", retryable=False) from None
        if not isinstance(properties, dict):
            raise ProviderError(f"{spec.ref} publishes no input schema", retryable=False)
        return list(properties)

    async def upload_file(self, data: bytes, content_type: str) -> str:
        """Upload through the files API; returns the URL a model input can use."""
        extension = mimetypes.guess_extension(content_type) or ".bin"
        response = await self.request(
            "POST", "/v1/files", files={"content": (f"still{extension}", data, content_type)}
        )
        urls = json_object(response).get("urls")
        url = urls.get("get") if isinstance(urls, dict) else None
        if not isinstance(url, str):
            raise ProviderError("Replicate's file upload answer has no urls.get", retryable=True)
        log.info("replicate.file.uploaded", size_bytes=len(data))
        return url

    async def download(self, url: str, *, max_bytes: int) -> tuple[bytes, str | None]:
        """The bytes behind an output URL and their Content-Type header. A 404/410 raises
        OutputRemoved (Replicate removes API outputs after an hour)."""
        # The token only goes to Replicate's API host, never to a CDN or another host.
        same_origin = origin(url) == origin(self.base_url)
        headers = {"Authorization": f"Bearer {self.token}"} if same_origin else {}
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with self.http.stream(
                    "GET", url, headers=headers, follow_redirects=True
                ) as response:
                    status = response.status_code
                    if status in (404, 410):
                        REPLICATE_API_ERRORS.labels(status=str(status)).inc()
                        raise OutputRemoved(
                            f"the output file is gone (HTTP {status}); Replicate removes API "
                            "outputs after one hour"
                        )
                    if status == 429 or status >= 500:
                        REPLICATE_API_ERRORS.labels(status=str(status)).inc()
                        if attempt == self.max_attempts:
                            raise ProviderError(
                                f"downloading the output failed: HTTP {status}", retryable=True
                            )
                        await self.sleep(throttle_delay(response) or self.backoff(attempt))
                        continue
                    if status >= 400:
                        REPLICATE_API_ERRORS.labels(status=str(status)).inc()
                        raise ProviderError(
                            f"downloading the output failed: HTTP {status}", retryable=False
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise too_large(max_bytes)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise too_large(max_bytes)
                        chunks.append(chunk)
                    return b"".join(chunks), response.headers.get("content-type")
            except httpx.TransportError as exc:
                REPLICATE_API_ERRORS.labels(status="network").inc()
                if attempt == self.max_attempts:
                    raise ProviderError(
                        f"downloading the output failed: {type(exc).__name__}", retryable=True
                    ) from exc
                await self.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    # -- one request, with retries -----------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool = True,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One API call through the throttle gate. 429s wait as the answer asks (within the
        throttle budget); network errors and 5xx back off (`max_attempts`). Non-idempotent
        calls raise AmbiguousRequest instead of being retried once the request may have
        reached Replicate."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        label = urllib.parse.urlsplit(url).path
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if timeout is not None:
            kwargs["timeout"] = timeout
        failures = 0
        throttled = 0
        waited = 0.0
        budget = self.throttle.budget
        while True:
            waited += await self.throttle.acquire()
            try:
                response = await self.http.request(method, url, headers=all_headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing was sent: safe to try again, even for a create.
                REPLICATE_API_ERRORS.labels(status="network").inc()
                failures += 1
                if failures >= self.max_attempts:
                    raise ProviderError(
                        f"{method} {label}: could not reach Replicate ({type(exc).__name__})",
                        retryable=True,
                    ) from exc
                await self._retry_pause(method, label, failures, "network", self.backoff(failures))
                continue
            except httpx.TransportError as exc:
                REPLICATE_API_ERRORS.labels(status="network").inc()
                if not idempotent:
                    raise AmbiguousRequest(type(exc).__name__) from exc
                failures += 1
                if failures >= self.max_attempts:
                    raise ProviderError(
                        f"{method} {label}: network error ({type(exc).__name__})", retryable=True
                    ) from exc
                await self._retry_pause(method, label, failures, "network", self.backoff(failures))
                continue
            status = response.status_code
            if status < 400:
                self.throttle.succeeded()
                return response
            REPLICATE_API_ERRORS.labels(status=str(status)).inc()
            if status == 429:
                # Throttled: not processed, so even a create may be sent again.
                throttled += 1
                delay = throttle_delay(response)
                if delay is None:
                    delay = self.backoff(throttled, cap=30.0, floor=True)
                self.throttle.throttled(delay)
                if waited + delay > budget:
                    self._raise_http_error(
                        method,
                        label,
                        response,
                        retryable=True,
                        prefix=f"throttled for over {budget:g} s (REPLICATE_THROTTLE_BUDGET)",
                    )
                log.info(
                    "replicate.request.throttled",
                    method=method,
                    path=label,
                    attempt=throttled,
                    delay=round(delay, 3),
                    waited=round(waited, 3),
                )
                continue  # the gate makes us (and everyone else) wait `delay`
            if status >= 500:
                if not idempotent:
                    raise AmbiguousRequest(f"HTTP {status}")
                failures += 1
                if failures >= self.max_attempts:
                    self._raise_http_error(method, label, response, retryable=True)
                delay = throttle_delay(response) or self.backoff(failures)
                await self._retry_pause(method, label, failures, str(status), delay)
                continue
            self._raise_http_error(method, label, response, retryable=False)

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
        await self.sleep(delay)

    def backoff(self, attempt: int, *, cap: float | None = None, floor: bool = False) -> float:
        """Exponential backoff with jitter (full jitter, or half when `floor`)."""
        ceiling = min(
            self._backoff_cap if cap is None else cap, self._backoff_base * 2 ** (attempt - 1)
        )
        return self._random.uniform(ceiling / 2 if floor else 0, ceiling)

    def _raise_http_error(
        self,
        method: str,
        label: str,
        response: httpx.Response,
        *,
        retryable: bool,
        prefix: str = "",
    ) -> NoReturn:
        status = response.status_code
        detail = error_detail(response)
        if status == 401:
            detail = "the API token was rejected"
        message = f"{method} {label}: HTTP {status}"
        if prefix:
            message += f" ({prefix})"
        if detail:
            message += f": {scrub(detail, self.token)[:500]}"
        raise ReplicateHTTPError(message, status=status, retryable=retryable)

    def scrub(self, text: str) -> str:
        return scrub(text, self.token)


# -- helpers ---------------------------------------------------------------------------------


def duration_header(seconds: float) -> str:
    """A Cancel-After value: whole minutes as "10m", else seconds as "90s"."""
    whole = max(1, math.ceil(seconds))
    return f"{whole // 60}m" if whole % 60 == 0 else f"{whole}s"


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def scrub(text: str, token: str) -> str:
    return text.replace(token, "[redacted]") if token else text


def too_large(max_bytes: int) -> ProviderError:
    return ProviderError(f"the output file is larger than {max_bytes} bytes", retryable=False)


def json_object(response: httpx.Response) -> dict[str, Any]:
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


def error_detail(response: httpx.Response) -> str:
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


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def same_input(listed: Any, sent: Mapping[str, Any]) -> bool:
    """Whether a listed prediction's input is the one we sent. Replicate may show an inlined
    file (data URI) as a URL of its own: such a field then only needs to hold a string; one
    listed as a data URI must be the same (two scenes differ only by their still). A bare
    "data:" sent matches any file."""
    if not isinstance(listed, dict):
        return False
    for key, value in sent.items():
        if key not in listed:
            return False
        shown = listed[key]
        if isinstance(value, str) and value.startswith("data:"):
            if not isinstance(shown, str):
                return False
            if value != "data:" and shown.startswith("data:") and shown != value:
                return False
        elif shown != value:
            return False
    return True
