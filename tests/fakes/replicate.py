"""A fake Replicate: a Starlette app speaking the parts of Replicate's HTTP API Reelforge uses.

In tests: ``httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app),
base_url="http://replicate.test")``. Standalone, for benchmarks::

    python -m tests.fakes.replicate --port 8765 --latency 2

Predictions go starting (queued) → processing → succeeded after `latency` seconds and produce
real media (PNG stills drawn by FFmpeg, MP4 Ken-Burns clips of the input image, an LLM answer as
streamed tokens of fenced JSON followed by prose), identical for identical inputs. It behaves as
Replicate does where Reelforge depends on it:

- inputs a model's published schema does not declare are refused (422; schemas of the default
  models in `model_schemas.json`);
- a 429 may carry only Replicate's body ("Your rate limit resets in ~Ns."), no Retry-After;
- `Cancel-After` sets a deadline: a prediction still queued then ends `aborted` (not billed),
  a running one `canceled` (billed);
- `Prefer: wait[=N]` holds the create open until the prediction ends (at most N ≤ 60 s);
- a finished prediction's input, output and logs are removed after `data_ttl` seconds
  (`data_removed: true`, `output: null`), its output files after `output_ttl`.

Failures, 429s, 5xx, stuck or long-queued predictions, ambiguous creates and expiring outputs
are scriptable, and completed predictions are delivered to their webhook, signed like
Replicate does.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hashlib
import itertools
import json
import re
import secrets
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reelforge.providers.base import PredictionKind
from reelforge.providers.catalog import DEFAULT_CATALOG
from reelforge.webhooks.signing import sign_webhook

DEFAULT_TOKEN = "r8_fake_token_0123456789"
SCHEMAS_FILE = Path(__file__).with_name("model_schemas.json")
DEFAULT_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"fake-replicate-signing-key-0001").decode()
TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
IMAGE_KEYS = ("start_image", "image", "first_frame_image", "input_image")


def default_models() -> dict[str, PredictionKind]:
    """The models of Reelforge's default catalog (alternates included), by ref."""
    return {spec.ref: spec.kind for spec in DEFAULT_CATALOG.specs()}


def load_schemas() -> dict[str, dict[str, Any]]:
    """Published input schemas by model ("owner/name" → {input name: {type, enum…}})."""
    raw = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    return {model: entry["inputs"] for model, entry in raw.items() if not model.startswith("_")}


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_go_duration(value: str) -> float | None:
    """Seconds in a Cancel-After value such as "90s", "10m" or "1h30m"; None if malformed."""
    text = value.strip()
    if not text:
        return None
    total, at = 0.0, 0
    for match in _GO_DURATION.finditer(text):
        if match.start() != at:
            return None
        number, unit = float(match.group(1)), match.group(2)
        total += number * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        at = match.end()
    return total if at == len(text) else None


@dataclass
class FakePrediction:
    id: str
    model: str  # owner/name
    version: str | None
    kind: PredictionKind
    input: dict[str, Any]
    created_at: datetime
    created_mono: float
    latency: float
    base_url: str
    webhook: str | None = None
    webhook_events_filter: list[str] | None = None
    queue_time: float = 0.0  # seconds queued ("starting") before it runs
    deadline: float | None = None  # Cancel-After, seconds after creation
    started: bool = False  # it ran (so it is billed whatever its end)
    status: str = "starting"
    output: Any = None
    error: str | None = None
    completed_at: datetime | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    stuck: bool = False
    fail_error: str | None = None
    task: asyncio.Task[None] | None = None
    deadline_task: asyncio.Task[None] | None = None
    completed_mono: float | None = None
    data_ttl: float = 3600.0

    @property
    def billed(self) -> bool:
        """Replicate bills a prediction that ran, whatever its end; an aborted one never ran."""
        return self.started and self.status in TERMINAL

    @property
    def data_removed(self) -> bool:
        return (
            self.completed_mono is not None
            and time.monotonic() - self.completed_mono >= self.data_ttl
        )

    def public_status(self) -> str:
        if self.status in TERMINAL:
            return self.status
        return "processing" if self.started else "starting"

    def to_json(self) -> dict[str, Any]:
        api = f"{self.base_url}/v1/predictions/{self.id}"
        removed = self.data_removed
        return {
            "id": self.id,
            "model": self.model,
            "version": self.version or hashlib.sha256(self.model.encode()).hexdigest(),
            "input": {} if removed else self.input,
            "logs": "",
            "output": None if removed else self.output,
            "data_removed": removed,
            "error": self.error,
            "status": self.public_status(),
            "source": "api",
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.created_at),
            "completed_at": _iso(self.completed_at) if self.completed_at else None,
            "metrics": self.metrics,
            "webhook": self.webhook,
            "urls": {
                "get": api,
                "cancel": f"{api}/cancel",
                "web": f"https://replicate.com/p/{self.id}",
            },
        }


@dataclass
class FakeFile:
    id: str
    name: str
    content_type: str
    data: bytes
    created_at: datetime


@dataclass
class StoredOutput:
    data: bytes
    content_type: str
    created_mono: float


@dataclass
class _Script:
    remaining: int
    match: str | None = None  # kind value, model name or ref; None: any
    error: str = ""
    retry_after: int | None = 1
    resets_in: int | None = None
    method: str | None = None
    status: int = 500
    seconds: float = 0.0


class FakeReplicate:
    """The fake server; `app` is the ASGI application."""

    def __init__(
        self,
        *,
        token: str | None = DEFAULT_TOKEN,
        latency: float = 0.05,
        latencies: Mapping[PredictionKind | str, float] | None = None,
        output_ttl: float = 3600.0,
        data_ttl: float = 3600.0,
        schemas: Mapping[str, Mapping[str, Any]] | None = None,
        models: Mapping[str, PredictionKind | str] | None = None,
        webhook_client: httpx.AsyncClient | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        short_side: int = 180,
        predict_time: float | None = None,
        create_latency: float = 0.0,
    ) -> None:
        self.token = token  # None accepts any bearer token
        # Seconds a create takes to answer, the prediction already existing (and billing):
        # a client that dies meanwhile never learns its id.
        self.create_latency = create_latency
        self.latency = latency
        self.latencies = {PredictionKind(k): v for k, v in (latencies or {}).items()}
        self.output_ttl = output_ttl
        self.data_ttl = data_ttl
        self.schemas = dict(schemas if schemas is not None else load_schemas())
        self.models = {
            ref: PredictionKind(kind) for ref, kind in (models or default_models()).items()
        }
        self.webhook_client = webhook_client
        self.webhook_secret = webhook_secret
        self.short_side = short_side
        self.predict_time = predict_time

        # What tests look at.
        self.predictions: dict[str, FakePrediction] = {}
        self.create_calls: list[tuple[str, dict[str, Any]]] = []
        self.create_headers: list[dict[str, str]] = []  # Cancel-After, Prefer of each create
        self.refused_inputs: list[tuple[str, list[str]]] = []  # (model, undeclared inputs)
        self.cancel_calls: list[str] = []
        self.get_calls: list[str] = []
        self.list_calls = 0
        self.file_uploads: list[FakeFile] = []
        self.counts: Counter[str] = Counter()  # predictions created, by kind value
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request
        self.webhook_deliveries: list[tuple[str, int | str]] = []  # (prediction id, status)

        self._fail: list[_Script] = []
        self._stuck: list[_Script] = []
        self._queued: list[_Script] = []
        self._removed: list[_Script] = []
        self._rate_limits: list[_Script] = []
        self._server_errors: list[_Script] = []
        self._ambiguous = 0
        self._files: dict[str, FakeFile] = {}
        # URLs on the internet the fake "fetches" inputs from (a public bucket's presigned
        # URLs): url -> bytes. Tests put them here.
        self.public_urls: dict[str, bytes] = {}
        self._outputs: dict[str, StoredOutput] = {}
        self._cache: dict[str, tuple[Any, list[tuple[bytes, str, str]]]] = {}
        self._media_slots = asyncio.Semaphore(4)
        self._ids = itertools.count(1)
        self._webhook_ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route(
                    "/v1/models/{owner}/{name}/predictions", self._create_official, methods=["POST"]
                ),
                Route("/v1/models/{owner}/{name}", self._model, methods=["GET"]),
                Route(
                    "/v1/models/{owner}/{name}/versions/{version}", self._version, methods=["GET"]
                ),
                Route("/v1/predictions", self._create_versioned, methods=["POST"]),
                Route("/v1/predictions", self._list, methods=["GET"]),
                Route("/v1/predictions/{id}", self._get, methods=["GET"]),
                Route("/v1/predictions/{id}/cancel", self._cancel, methods=["POST"]),
                Route("/v1/files", self._upload, methods=["POST"]),
                Route("/v1/files/{id}", self._file, methods=["GET", "DELETE"]),
                Route("/v1/files/{id}/download", self._file_download, methods=["GET"]),
                Route("/v1/webhooks/default/secret", self._secret, methods=["GET"]),
                Route("/outputs/{name}", self._output, methods=["GET"]),
            ]
        )

    # -- scripting --------------------------------------------------------------------------

    def fail_next(
        self,
        model_or_kind: str | PredictionKind | None = None,
        n: int = 1,
        error: str = "CUDA out of memory",
    ) -> None:
        """The next `n` matching predictions end `failed` with `error`."""
        self._fail.append(_Script(n, _match_key(model_or_kind), error=error))

    def stick_next(self, model_or_kind: str | PredictionKind | None = None, n: int = 1) -> None:
        """The next `n` matching predictions stay `processing` until canceled."""
        self._stuck.append(_Script(n, _match_key(model_or_kind)))

    def queue_next(
        self, model_or_kind: str | PredictionKind | None = None, n: int = 1, seconds: float = 3600
    ) -> None:
        """The next `n` matching predictions wait `seconds` in the queue ("starting") first."""
        self._queued.append(_Script(n, _match_key(model_or_kind), seconds=seconds))

    def rate_limit_next(
        self,
        n: int = 1,
        retry_after: int | None = 1,
        method: str | None = None,
        resets_in: int | None = None,
    ) -> None:
        """The next `n` API requests (of `method`, or any) are answered 429: with Retry-After
        when `retry_after` is set, else only Replicate's body ("resets in ~{resets_in}s")."""
        self._rate_limits.append(
            _Script(n, retry_after=retry_after, resets_in=resets_in, method=method)
        )

    def remove_data_next(
        self, model_or_kind: str | PredictionKind | None = None, n: int = 1
    ) -> None:
        """The next `n` matching predictions have their data removed the moment they finish
        (as if nobody had copied the output within Replicate's hour)."""
        self._removed.append(_Script(n, _match_key(model_or_kind)))

    def remove_data(self) -> None:
        """Every finished prediction's data is removed now, as after Replicate's hour."""
        for prediction in self.predictions.values():
            prediction.data_ttl = 0.0
        self.expire_outputs()

    def billed(self, kind: PredictionKind | str | None = None) -> list[FakePrediction]:
        """The predictions Replicate would bill (those that ran), optionally of one kind."""
        return [
            p
            for p in self.predictions.values()
            if p.billed and (kind is None or p.kind is PredictionKind(kind))
        ]

    def billed_dollars(self) -> float:
        """What Replicate would have charged for every prediction so far (see `price`)."""
        return round(
            sum(price(p.model, p.public_status(), p.metrics, p.input) for p in self.billed()), 6
        )

    def server_error_next(self, n: int = 1, method: str | None = "GET", status: int = 500) -> None:
        """The next `n` API requests of `method` (None: any) are answered `status` unprocessed."""
        self._server_errors.append(_Script(n, method=method, status=status))

    def ambiguous_create_next(self, n: int = 1) -> None:
        """The next `n` creates make the prediction but answer 500, as a lost response would."""
        self._ambiguous += n

    def release_stuck(self) -> int:
        """Let every stuck prediction finish normally; returns how many were released."""
        released = 0
        for prediction in self.predictions.values():
            if prediction.stuck and prediction.status not in TERMINAL:
                prediction.stuck = False
                prediction.task = asyncio.get_running_loop().create_task(
                    self._complete(prediction, queued=False)
                )
                released += 1
        return released

    def expire_outputs(self) -> None:
        """Every output URL handed out so far answers 404 from now on."""
        self._outputs.clear()

    def kind_count(self, kind: PredictionKind | str) -> int:
        return self.counts[PredictionKind(kind).value]

    async def deliver_webhook(self, prediction_id: str) -> int | str:
        """(Re)send the completion webhook of a prediction; returns the answer's status."""
        return await self._deliver(self.predictions[prediction_id])

    async def aclose(self) -> None:
        """Stop the predictions still running."""
        tasks = [
            task
            for p in self.predictions.values()
            for task in (p.task, p.deadline_task)
            if task is not None and not task.done()
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- request handling -------------------------------------------------------------------

    def _preflight(self, request: Request) -> Response | None:
        self.requests.append((request.method, request.url.path))
        auth = request.headers.get("authorization", "")
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not given or (self.token and given != self.token):
            return _problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        if script := _take(self._rate_limits, method=request.method):
            detail = "Request was throttled."
            if script.resets_in is not None:
                detail += f" Your rate limit resets in ~{script.resets_in}s."
            headers = {}
            if script.retry_after is not None:
                headers["Retry-After"] = str(script.retry_after)
            return JSONResponse({"detail": detail}, status_code=429, headers=headers)
        if script := _take(self._server_errors, method=request.method):
            return _problem(script.status, "Internal server error", "Something went wrong")
        return None

    async def _create_official(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        if model not in self.models:
            return _problem(
                422, "Invalid model", f"The model {model} does not exist or is not official"
            )
        return await self._create(request, model, version=None)

    async def _create_versioned(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _problem(400, "Bad request", "The body is not JSON")
        version = str(body.get("version", "")) if isinstance(body, dict) else ""
        ref = next((r for r in self.models if r.endswith(":" + version) or r == version), None)
        if not version or ref is None:
            return _problem(422, "Invalid version or not permitted", f"Unknown version {version!r}")
        model, _, version_id = ref.partition(":")
        return await self._create(request, ref, version=version_id or None, model=model)

    async def _create(
        self, request: Request, ref: str, *, version: str | None, model: str | None = None
    ) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _problem(400, "Bad request", "The body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return _problem(422, "Input validation failed", "input is required")
        model_input: dict[str, Any] = body["input"]
        kind = self.models[ref]
        model_name = model or ref
        invalid = self._invalid_fields(model_name, model_input)
        if invalid:
            self.refused_inputs.append((model_name, [f["field"] for f in invalid]))
            return JSONResponse(
                {
                    "title": "Input validation failed",
                    "detail": "; ".join(f["description"] for f in invalid),
                    "status": 422,
                    "invalid_fields": invalid,
                },
                status_code=422,
            )
        cancel_after = request.headers.get("cancel-after")
        deadline = parse_go_duration(cancel_after) if cancel_after is not None else None
        if cancel_after is not None and deadline is None:
            return _problem(400, "Bad request", f"Invalid Cancel-After header {cancel_after!r}")
        if kind is PredictionKind.VIDEO and self._find_image(model_input) is None:
            return _problem(
                422, "Input validation failed", "start_image: a readable image is required"
            )
        self.create_calls.append((ref, model_input))
        self.create_headers.append(
            {k: v for k, v in request.headers.items() if k in ("cancel-after", "prefer")}
        )
        self.counts[kind.value] += 1
        base = _base(request)
        prediction = FakePrediction(
            id=_prediction_id(next(self._ids)),
            model=model_name,
            version=version,
            kind=kind,
            input=model_input,
            created_at=datetime.now(UTC),
            created_mono=time.monotonic(),
            latency=self.latencies.get(kind, self.latency),
            base_url=base,
            webhook=body.get("webhook") if isinstance(body.get("webhook"), str) else None,
            webhook_events_filter=body.get("webhook_events_filter"),
            queue_time=self.latencies.get(kind, self.latency) * 0.2,
            deadline=deadline,
            data_ttl=self.data_ttl,
        )
        keys = {kind.value, model_name, ref}
        if script := _take(self._fail, keys=keys):
            prediction.fail_error = script.error
        if _take(self._stuck, keys=keys):
            prediction.stuck = True
        if script := _take(self._queued, keys=keys):
            prediction.queue_time = script.seconds
        if _take(self._removed, keys=keys):
            prediction.data_ttl = 0.0
        self.predictions[prediction.id] = prediction
        loop = asyncio.get_running_loop()
        prediction.task = loop.create_task(self._complete(prediction))
        if deadline is not None:
            prediction.deadline_task = loop.create_task(self._deadline(prediction, deadline))
        if self.create_latency:
            await asyncio.sleep(self.create_latency)
        if self._ambiguous > 0:
            self._ambiguous -= 1
            return _problem(500, "Internal server error", "Something went wrong")
        wait = _prefer_wait(request.headers.get("prefer"))
        if wait:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._ended(prediction), timeout=wait)
        return JSONResponse(prediction.to_json(), status_code=201)

    async def _ended(self, prediction: FakePrediction) -> None:
        while prediction.status not in TERMINAL:
            await asyncio.sleep(0.005)

    async def _deadline(self, prediction: FakePrediction, seconds: float) -> None:
        """Cancel-After: aborted while queued (not billed), canceled while running (billed)."""
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - prediction.created_mono)))
        if prediction.status in TERMINAL:
            return
        if prediction.task is not None:
            prediction.task.cancel()
        prediction.status = "canceled" if prediction.started else "aborted"
        prediction.completed_at = datetime.now(UTC)
        prediction.completed_mono = time.monotonic()
        if prediction.started:
            prediction.metrics.setdefault("predict_time", round(seconds, 3))
        await self._deliver(prediction)

    def _invalid_fields(self, model: str, model_input: Mapping[str, Any]) -> list[dict[str, str]]:
        """What Replicate's validation would say of `model_input`, by the model's schema (an
        unknown model's input is not checked). Replicate itself ignores undeclared inputs;
        the fake refuses them so a catalog that sends one fails loudly in tests."""
        schema = self.schemas.get(model)
        if schema is None:
            return []
        invalid = []
        for name, value in model_input.items():
            field_schema = schema.get(name)
            if field_schema is None:
                invalid.append(
                    {
                        "type": "additional_property_not_allowed",
                        "field": name,
                        "description": f"{name}: not an input of {model}",
                    }
                )
            elif "enum" in field_schema and value not in field_schema["enum"]:
                invalid.append(
                    {
                        "type": "enum",
                        "field": name,
                        "description": f"{name}: must be one of {field_schema['enum']}",
                    }
                )
        return invalid

    async def _model(self, request: Request) -> Response:
        """A model with its latest version's OpenAPI schema (inputs from `schemas`)."""
        if refused := self._preflight(request):
            return refused
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        schema = self.schemas.get(model)
        if schema is None:
            return _problem(404, "Not found", f"Model {model} not found")
        return JSONResponse(
            {
                "owner": request.path_params["owner"],
                "name": request.path_params["name"],
                "latest_version": {
                    "id": hashlib.sha256(model.encode()).hexdigest(),
                    "openapi_schema": {
                        "components": {"schemas": {"Input": {"properties": dict(schema)}}}
                    },
                },
            }
        )

    async def _version(self, request: Request) -> Response:
        """One version of a (community) model with its OpenAPI schema."""
        if refused := self._preflight(request):
            return refused
        model = f"{request.path_params['owner']}/{request.path_params['name']}"
        schema = self.schemas.get(model)
        if schema is None:
            return _problem(404, "Not found", f"Model {model} not found")
        return JSONResponse(
            {
                "id": request.path_params["version"],
                "openapi_schema": {
                    "components": {"schemas": {"Input": {"properties": dict(schema)}}}
                },
            }
        )

    async def _get(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        pid = request.path_params["id"]
        self.get_calls.append(pid)
        prediction = self.predictions.get(pid)
        if prediction is None:
            return _problem(404, "Not found", f"Prediction {pid} not found")
        return JSONResponse(prediction.to_json())

    async def _list(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        self.list_calls += 1
        items = sorted(self.predictions.values(), key=lambda p: p.created_at, reverse=True)
        after = _parse_iso(request.query_params.get("created_after"))
        before = _parse_iso(request.query_params.get("created_before"))
        items = [
            p
            for p in items
            if (after is None or p.created_at >= after)
            and (before is None or p.created_at < before)
        ]
        offset = int(request.query_params.get("cursor", "0") or 0)
        page = items[offset : offset + 100]
        next_url = None
        if offset + 100 < len(items):
            # Like Replicate's cursors, the next page keeps the filters of this one.
            query = {k: v for k, v in request.query_params.items() if k != "cursor"}
            query["cursor"] = str(offset + 100)
            next_url = f"{_base(request)}/v1/predictions?{urllib.parse.urlencode(query)}"
        return JSONResponse(
            {"next": next_url, "previous": None, "results": [p.to_json() for p in page]}
        )

    async def _cancel(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        pid = request.path_params["id"]
        prediction = self.predictions.get(pid)
        if prediction is None:
            return _problem(404, "Not found", f"Prediction {pid} not found")
        self.cancel_calls.append(pid)
        if prediction.status not in TERMINAL:
            if prediction.task is not None:
                prediction.task.cancel()
            prediction.status = "canceled"
            prediction.completed_at = datetime.now(UTC)
            prediction.completed_mono = time.monotonic()
            if prediction.started:  # it ran until now: Replicate reports (and bills) that time
                ran = prediction.completed_mono - prediction.created_mono - prediction.queue_time
                prediction.metrics.setdefault("predict_time", round(max(0.0, ran), 3))
            asyncio.get_running_loop().create_task(self._deliver(prediction))
        return JSONResponse(prediction.to_json())

    async def _upload(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        form = await request.form(max_part_size=100 * 1024 * 1024)
        content = form.get("content")
        if not isinstance(content, UploadFile):
            return _problem(422, "Input validation failed", "content: a file is required")
        data = await content.read()
        created = datetime.now(UTC)
        fake = FakeFile(
            id=_prediction_id(next(self._ids)),
            name=content.filename or "file",
            content_type=content.content_type or "application/octet-stream",
            data=data,
            created_at=created,
        )
        self._files[fake.id] = fake
        self.file_uploads.append(fake)
        return JSONResponse(self._file_json(fake, _base(request)), status_code=201)

    async def _file(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        fake = self._files.get(request.path_params["id"])
        if fake is None:
            return _problem(404, "Not found", "File not found")
        if request.method == "DELETE":
            del self._files[fake.id]
            return Response(status_code=204)
        return JSONResponse(self._file_json(fake, _base(request)))

    async def _file_download(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        fake = self._files.get(request.path_params["id"])
        if fake is None:
            return _problem(404, "Not found", "File not found")
        return Response(fake.data, media_type=fake.content_type)

    async def _secret(self, request: Request) -> Response:
        if refused := self._preflight(request):
            return refused
        return JSONResponse({"key": self.webhook_secret})

    async def _output(self, request: Request) -> Response:
        # Like replicate.delivery: no token needed, gone after the ttl.
        stored = self._outputs.get(request.path_params["name"])
        if stored is None or time.monotonic() - stored.created_mono > self.output_ttl:
            return Response("Not found", status_code=404, media_type="text/plain")
        return Response(stored.data, media_type=stored.content_type)

    def _file_json(self, fake: FakeFile, base: str) -> dict[str, Any]:
        return {
            "id": fake.id,
            "name": fake.name,
            "content_type": fake.content_type,
            "size": len(fake.data),
            "etag": hashlib.md5(fake.data).hexdigest(),
            "checksums": {"sha256": hashlib.sha256(fake.data).hexdigest()},
            "metadata": {},
            "created_at": _iso(fake.created_at),
            "expires_at": _iso(fake.created_at + timedelta(days=1)),
            "urls": {"get": f"{base}/v1/files/{fake.id}"},
        }

    # -- running a prediction ---------------------------------------------------------------

    async def _complete(self, prediction: FakePrediction, *, queued: bool = True) -> None:
        if queued:
            await asyncio.sleep(prediction.queue_time)
            prediction.started = True
            if prediction.stuck:
                return  # runs until canceled (or released)
            await asyncio.sleep(max(0.0, prediction.latency - prediction.queue_time))
        else:
            await asyncio.sleep(prediction.latency)
        try:
            if prediction.fail_error is not None:
                prediction.status = "failed"
                prediction.error = prediction.fail_error
            else:
                output, files = await self._make_output(prediction)
                prediction.output = self._publish(prediction, output, files)
                prediction.status = "succeeded"
        except Exception as exc:  # the fake's own bug or bad media: report it like Replicate
            prediction.status = "failed"
            prediction.error = f"fake model error: {type(exc).__name__}: {exc}"
        prediction.completed_at = datetime.now(UTC)
        prediction.completed_mono = time.monotonic()
        if prediction.deadline_task is not None:
            prediction.deadline_task.cancel()
        prediction.metrics.setdefault(
            "predict_time",
            self.predict_time if self.predict_time is not None else round(prediction.latency, 3),
        )
        await self._deliver(prediction)

    def _publish(
        self, prediction: FakePrediction, output: Any, files: list[tuple[bytes, str, str]]
    ) -> Any:
        """Store output files under expiring URLs; `output` holds "{0}", "{1}"... for them."""
        urls = []
        for index, (data, content_type, extension) in enumerate(files):
            name = f"{prediction.id}-{index}.{extension}"
            self._outputs[name] = StoredOutput(data, content_type, time.monotonic())
            urls.append(f"{prediction.base_url}/outputs/{name}")
        if isinstance(output, str) and output.startswith("{") and output[1:-1].isdigit():
            return urls[int(output[1:-1])]
        if isinstance(output, list) and files:
            return [urls[int(o[1:-1])] for o in output]
        return output

    async def _make_output(
        self, prediction: FakePrediction
    ) -> tuple[Any, list[tuple[bytes, str, str]]]:
        key = hashlib.sha256(
            json.dumps([prediction.model, prediction.input], sort_keys=True, default=str).encode()
        ).hexdigest()
        if key not in self._cache:
            if prediction.kind is PredictionKind.PLAN:
                tokens, in_tokens = _llm_answer(prediction.input)
                prediction.metrics.update(
                    input_token_count=in_tokens, output_token_count=len(tokens)
                )
                self._cache[key] = (tokens, [])
            elif prediction.kind is PredictionKind.SPEECH:
                text = str(prediction.input.get("text", ""))
                prediction.metrics.update(input_token_count=len(text))
                async with self._media_slots:
                    mp3 = await self._speak(text)
                self._cache[key] = ("{0}", [(mp3, "audio/mpeg", "mp3")])
            elif prediction.kind is PredictionKind.MUSIC:
                async with self._media_slots:
                    mp3 = await self._compose(prediction.input, key)
                self._cache[key] = ("{0}", [(mp3, "audio/mpeg", "mp3")])
            elif prediction.kind is PredictionKind.IMAGE:
                async with self._media_slots:
                    png = await self._draw(prediction.input, key)
                self._cache[key] = (["{0}"], [(png, "image/png", "png")])
            else:
                async with self._media_slots:
                    mp4 = await self._animate(prediction.input, key)
                self._cache[key] = ("{0}", [(mp4, "video/mp4", "mp4")])
        elif prediction.kind is PredictionKind.PLAN:
            tokens = self._cache[key][0]
            prediction.metrics.update(output_token_count=len(tokens))
        return self._cache[key]

    async def _speak(self, text: str) -> bytes:
        """Real speech (eSpeak NG) as mp3, like the TTS model's output."""
        from reelforge.media.ffmpeg import ffmpeg_exe
        from reelforge.providers.espeak import synthesize

        speech = await asyncio.to_thread(synthesize, text or "silence", "espeak:en")
        with tempfile.TemporaryDirectory(prefix="fake-replicate-") as tmp:
            wav, mp3 = Path(tmp) / "speech.wav", Path(tmp) / "speech.mp3"
            wav.write_bytes(speech.wav)
            proc = await asyncio.create_subprocess_exec(
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(wav),
                "-c:a",
                "libmp3lame",
                "-b:a",
                "64k",
                str(mp3),
            )
            await proc.wait()
            return mp3.read_bytes()

    async def _compose(self, model_input: Mapping[str, Any], key: str) -> bytes:
        """A music bed (synthesised, as mp3) of the requested duration."""
        from reelforge.media.ffmpeg import ffmpeg_exe
        from reelforge.media.music import synthesize_music_bed

        duration = _number(model_input.get("duration")) or 8.0
        with tempfile.TemporaryDirectory(prefix="fake-replicate-") as tmp:
            bed, mp3 = Path(tmp) / "bed.m4a", Path(tmp) / "bed.mp3"
            await synthesize_music_bed(bed, mood="calm", duration=duration, seed=int(key[:8], 16))
            proc = await asyncio.create_subprocess_exec(
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(bed),
                "-c:a",
                "libmp3lame",
                "-b:a",
                "128k",
                str(mp3),
            )
            await proc.wait()
            return mp3.read_bytes()

    async def _draw(self, model_input: Mapping[str, Any], key: str) -> bytes:
        from reelforge.media.stills import draw_still

        width, height = self._still_size(model_input)
        seed = model_input.get("seed")
        with tempfile.TemporaryDirectory(prefix="fake-replicate-") as tmp:
            out = Path(tmp) / "still.png"
            await draw_still(
                out,
                width=width,
                height=height,
                text=str(model_input.get("prompt", ""))[:60],
                seed=seed if isinstance(seed, int) else int(key[:8], 16),
            )
            return out.read_bytes()

    async def _animate(self, model_input: Mapping[str, Any], key: str) -> bytes:
        from reelforge.media.clips import ken_burns_clip
        from reelforge.media.ffmpeg import probe
        from reelforge.media.formats import ClipFormat

        image = self._find_image(model_input)
        assert image is not None  # checked at create
        duration = _number(model_input.get("duration"))
        if duration is None:
            frames = _number(model_input.get("num_frames"))
            fps = _number(model_input.get("frames_per_second")) or 16.0
            duration = frames / fps if frames else 5.0
        seed = model_input.get("seed")
        with tempfile.TemporaryDirectory(prefix="fake-replicate-") as tmp:
            still = Path(tmp) / "input.png"
            still.write_bytes(image)
            info = await probe(still)
            width, height = _even(info.width), _even(info.height)
            out = Path(tmp) / "clip.mp4"
            await ken_burns_clip(
                still,
                out,
                fmt=ClipFormat(width=width, height=height),
                duration=float(duration),
                seed=seed if isinstance(seed, int) else int(key[:8], 16),
            )
            return out.read_bytes()

    def _still_size(self, model_input: Mapping[str, Any]) -> tuple[int, int]:
        width, height = model_input.get("width"), model_input.get("height")
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
            return _even(width), _even(height)
        match = re.fullmatch(r"(\d+):(\d+)", str(model_input.get("aspect_ratio", "1:1")))
        w, h = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        short = self.short_side
        if w >= h:
            return _even(round(short * w / h)), _even(short)
        return _even(short), _even(round(short * h / w))

    def _find_image(self, model_input: Mapping[str, Any]) -> bytes | None:
        for key in IMAGE_KEYS:
            value = model_input.get(key)
            if isinstance(value, str) and value:
                return self._resolve(value)
        return None

    def _resolve(self, ref: str) -> bytes | None:
        """The bytes behind an input file: a data URI, a files-API URL or one of our outputs."""
        if ref in self.public_urls:
            return self.public_urls[ref]
        if ref.startswith("data:"):
            header, _, payload = ref.partition(",")
            try:
                if header.endswith(";base64"):
                    return base64.b64decode(payload, validate=True)
                return urllib.parse.unquote_to_bytes(payload)
            except (binascii.Error, ValueError):
                return None
        path = urllib.parse.urlsplit(ref).path
        if match := re.fullmatch(r"/v1/files/([^/]+)(?:/download)?", path):
            found = self._files.get(match.group(1))
            return found.data if found else None
        if match := re.fullmatch(r"/outputs/([^/]+)", path):
            stored = self._outputs.get(match.group(1))
            return stored.data if stored else None
        return None

    async def _deliver(self, prediction: FakePrediction) -> int | str:
        if not prediction.webhook or self.webhook_client is None:
            return "skipped"
        events = prediction.webhook_events_filter
        if events is not None and "completed" not in events:
            return "skipped"
        body = json.dumps(prediction.to_json()).encode()
        webhook_id = f"msg_{prediction.id}_{next(self._webhook_ids)}"
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_webhook(self.webhook_secret, webhook_id, timestamp, body),
        }
        try:
            response = await self.webhook_client.post(
                prediction.webhook, content=body, headers=headers
            )
            result: int | str = response.status_code
        except httpx.HTTPError as exc:
            result = type(exc).__name__
        self.webhook_deliveries.append((prediction.id, result))
        return result


def price(
    model: str, status: str, metrics: Mapping[str, Any], model_input: Mapping[str, Any]
) -> float:
    """Dollars Replicate charges for one prediction of the default catalog's `model`, priced
    as the catalog says: a succeeded one in full (time run, tokens, per output, per output
    second); one that ran and then failed or was canceled for the time it ran; an aborted one
    (never ran) nothing."""
    specs = {spec.model: spec for spec in DEFAULT_CATALOG.specs()}
    spec = specs.get(model)
    predict_time = _number(metrics.get("predict_time"))
    if spec is None or status == "aborted" or predict_time is None:
        return 0.0
    if status != "succeeded":
        return round(spec.price_per_second * predict_time, 6)
    tokens_in, tokens_out = metrics.get("input_token_count"), metrics.get("output_token_count")
    return spec.cost(
        predict_time=predict_time,
        duration=_number(model_input.get("duration")) or 0.0
        if spec.kind is PredictionKind.VIDEO
        else 0.0,
        input_tokens=None if tokens_in is None else int(tokens_in),
        output_tokens=None if tokens_out is None else int(tokens_out),
    )


def _llm_answer(model_input: Mapping[str, Any]) -> tuple[list[str], int]:
    """A storyboard for the prompt, as an LLM streams it: fenced JSON, then chatter, cut into
    tokens of a few characters regardless of word boundaries."""
    prompt = str(model_input.get("prompt", ""))
    count_match = re.search(r"exactly (\d+) scenes", prompt)
    count = int(count_match.group(1)) if count_match else 3
    total_match = re.search(r"(\d+(?:\.\d+)?)-second", prompt)
    total = float(total_match.group(1)) if total_match else 5.0 * count
    brief_match = re.search(r"Brief: (.*)", prompt)
    brief = (brief_match.group(1) if brief_match else prompt).strip()[:120] or "the product"
    shots = ["Opening wide shot", "Close-up", "Lifestyle moment", "Detail shot", "Hero shot"]
    per_scene = max(1, round(total / count))
    scenes = [
        {
            "description": f"{shots[i % len(shots)]}: {brief}",
            "image_prompt": f"{shots[i % len(shots)].lower()} of {brief}, cinematic lighting",
            "motion_prompt": "slow push-in" if i % 2 == 0 else "gentle pan left",
            "duration": per_scene,
        }
        for i in range(count)
    ]
    text = (
        "Here is the storyboard you asked for:\n\n```json\n"
        + json.dumps({"scenes": scenes}, indent=2)
        + "\n```\n\nEach scene is designed to flow into the next. Let me know if you want changes!"
    )
    tokens = [text[i : i + 4] for i in range(0, len(text), 4)]
    return tokens, max(1, len(prompt) // 4)


def _prefer_wait(header: str | None) -> float:
    """Seconds a `Prefer: wait` or `Prefer: wait=N` header asks for (0: none; at most 60)."""
    if not header:
        return 0.0
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "wait":
            try:
                return min(60.0, float(value)) if value else 60.0
            except ValueError:
                return 0.0
    return 0.0


def _match_key(model_or_kind: str | PredictionKind | None) -> str | None:
    if model_or_kind is None:
        return None
    return model_or_kind.value if isinstance(model_or_kind, PredictionKind) else model_or_kind


def _take(
    scripts: list[_Script], *, method: str | None = None, keys: set[str] | None = None
) -> _Script | None:
    for script in scripts:
        if script.method is not None and method is not None and script.method != method:
            continue
        if script.match is not None and keys is not None and script.match not in keys:
            continue
        script.remaining -= 1
        if script.remaining <= 0:
            scripts.remove(script)
        return script
    return None


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"title": title, "detail": detail, "status": status}, status_code=status)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


_ID_SALT = secrets.token_hex(8)  # ids never repeat across restarts of a standalone fake


def _prediction_id(n: int) -> str:
    digest = hashlib.sha256(f"fake-{_ID_SALT}-{n}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:26]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _even(value: int) -> int:
    return max(2, value - value % 2)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Run the fake Replicate API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per prediction")
    parser.add_argument("--token", default=None, help="required bearer token (default: any)")
    parser.add_argument("--output-ttl", type=float, default=3600.0)
    parser.add_argument("--create-latency", type=float, default=0.0, help="seconds per create")
    args = parser.parse_args()
    fake = FakeReplicate(
        token=args.token,
        latency=args.latency,
        output_ttl=args.output_ttl,
        create_latency=args.create_latency,
    )
    uvicorn.run(fake.app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
