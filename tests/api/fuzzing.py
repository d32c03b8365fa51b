"""A property-based fuzzer for the GraphQL API, shared by the suite (a short run) and
`bench/fuzz.py` (a long one).

What it sends, with a valid token, straight to the ASGI app:
- every root query and mutation field with **variables** for all its arguments, drawn from
  the argument types (right and wrong types, nulls, unknown and missing fields, huge
  numbers, any text) — as real clients send them;
- inline documents from hypothesis-graphql (positive and negative mode);
- malformed bodies (random bytes, JSON that is not a request, odd content types and
  encodings) and multipart uploads with random `operations`, `map` and files.

The property: no answer is a 5xx, every error has an `extensions.code`, and none is
INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis_graphql
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    StringValueNode,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSONScalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JUNK = st.one_of(
    JSONScalar,
    st.lists(JSONScalar, max_size=3),
    st.dictionaries(st.text(max_size=6), JSONScalar, max_size=3),
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "acme\n", "../../etc/passwd", "a" * 3000, "商品", "\u202e"]),
)
UPLOAD_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x9a\xa0\xa0"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def value_for(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for a variable of `type_`: mostly of the type, sometimes anything."""
    if isinstance(type_, GraphQLNonNull):
        inner = value_for(type_.of_type, depth)
        return st.one_of(inner, inner, inner, JUNK)
    if isinstance(type_, GraphQLList):
        item = value_for(type_.of_type, depth + 1)
        return st.one_of(st.none(), st.lists(item, max_size=3), item)
    if isinstance(type_, GraphQLEnumType):
        return st.one_of(st.none(), st.sampled_from(sorted(type_.values)), TEXT)
    if isinstance(type_, GraphQLInputObjectType):
        if depth > 3:
            return st.none()
        required = {
            name: value_for(f.type, depth + 1)
            for name, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        }
        optional = {
            name: value_for(f.type, depth + 1)
            for name, f in type_.fields.items()
            if not isinstance(f.type, GraphQLNonNull)
        }
        objects = st.fixed_dictionaries(required, optional=optional)
        with_unknown = objects.map(lambda d: {**d, "unknownField": 1})
        return st.one_of(st.none(), objects, objects, with_unknown)
    assert isinstance(type_, GraphQLScalarType)
    return st.one_of(st.none(), _scalar(type_.name))


def _scalar(name: str) -> st.SearchStrategy[Any]:
    if name == "Int":
        return st.one_of(
            st.integers(min_value=-5, max_value=130),
            st.integers(min_value=-(2**40), max_value=2**40),
            TEXT,
        )
    if name == "Float":
        return st.one_of(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(min_value=-(2**64), max_value=2**64),
        )
    if name == "Boolean":
        return st.one_of(st.booleans(), JSONScalar)
    if name == "ID":
        return st.one_of(st.uuids().map(str), TEXT, st.integers())
    if name == "String":
        return TEXT
    return JUNK  # Upload and anything custom: a value where a file belongs


def selection(type_: Any, depth: int = 0) -> str:
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if not isinstance(named, GraphQLObjectType) or depth > 2:
        return "{ __typename }"
    parts = ["__typename"]
    for name, f in named.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) for a in f.args.values()):
            continue
        inner = selection(f.type, depth + 1)
        if inner or is_leaf_type(get_named_type(f.type)):
            parts.append(f"{name} {inner}".strip())
    return "{ " + " ".join(parts) + " }"


def _type_name(type_: Any) -> str:
    return str(type_)


def operation_for(kind: str, name: str, f: GraphQLField) -> str:
    args = list(f.args.items())
    declared = ", ".join(f"${a}: {_type_name(arg.type)}" for a, arg in args)
    passed = ", ".join(f"{a}: ${a}" for a, _ in args)
    head = f"{kind} Fuzz({declared})" if args else f"{kind} Fuzz"
    call = f"{name}({passed})" if args else name
    return f"{head} {{ {call} {selection(f.type)} }}"


def variable_requests(schema: GraphQLSchema) -> st.SearchStrategy[dict[str, Any]]:
    """`{"query", "variables"}` for every root query, mutation and subscription field."""
    options = []
    roots = (
        ("query", schema.query_type),
        ("mutation", schema.mutation_type),
        ("subscription", schema.subscription_type),
    )
    for kind, root in roots:
        for name, f in (root.fields if root else {}).items():
            query = operation_for(kind, name, f)
            variables = st.fixed_dictionaries(
                {},
                optional={a: value_for(arg.type) for a, arg in f.args.items()},
            )
            options.append(
                st.builds(lambda q, v: {"query": q, "variables": v}, st.just(query), variables)
            )
    return st.one_of(options)


def inline_requests(schema: GraphQLSchema) -> st.SearchStrategy[dict[str, Any]]:
    """Inline documents from hypothesis-graphql, valid and invalid."""
    scalars = {"Upload": st.just(StringValueNode(value="not a file"))}
    documents = st.one_of(
        hypothesis_graphql.queries(schema, custom_scalars=scalars),
        hypothesis_graphql.mutations(schema, custom_scalars=scalars),
        hypothesis_graphql.queries(
            schema, custom_scalars=scalars, mode=hypothesis_graphql.Mode.NEGATIVE
        ),
        hypothesis_graphql.mutations(
            schema, custom_scalars=scalars, mode=hypothesis_graphql.Mode.NEGATIVE
        ),
    )
    return documents.map(lambda q: {"query": q})


JSON_VALUES = st.recursive(
    JSONScalar,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "application/graphql-response+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    ]
)


@st.composite
def malformed_requests(draw: st.DrawFn) -> dict[str, Any]:
    body = draw(
        st.one_of(
            st.binary(max_size=120),
            JSON_VALUES.map(lambda v: json.dumps(v).encode()),
            st.builds(
                lambda q, v, e: json.dumps(
                    {"query": q, "variables": v, "extensions": e, "operationName": None}
                ).encode(),
                st.one_of(st.none(), TEXT, st.just("{ viewer { clientId } }")),
                JSON_VALUES,
                JSON_VALUES,
            ),
        )
    )
    headers = {"content-type": draw(CONTENT_TYPES), "apollo-require-preflight": "1"}
    if draw(st.booleans()):
        headers["content-encoding"] = draw(st.sampled_from(["gzip", "br", "identity", "x"]))
    return {"content": body, "headers": headers}


@st.composite
def upload_requests(draw: st.DrawFn) -> dict[str, Any]:
    query = "mutation($f: Upload!) { uploadAsset(file: $f) { id url } }"
    operations = draw(
        st.one_of(
            st.just(json.dumps({"query": query, "variables": {"f": None}})),
            JSON_VALUES.map(json.dumps),
            st.text(max_size=30),
        )
    )
    map_ = draw(
        st.one_of(
            st.just(json.dumps({"0": ["variables.f"]})),
            st.sampled_from(['{"0": ["query"]}', '{"0": ["variables"]}', '{"1": ["variables.f"]}']),
            JSON_VALUES.map(json.dumps),
        )
    )
    file = draw(st.one_of(st.just(UPLOAD_PNG), st.binary(max_size=64)))
    name = draw(st.one_of(st.just("a.png"), st.text(max_size=20)))
    return {
        "data": {"operations": operations, "map": map_},
        "files": {"0": (name or "x", file, "image/png")},
        "headers": {"apollo-require-preflight": "1"},
    }


@dataclass
class FuzzReport:
    operations: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500) + self.codes.get(
            "INTERNAL_SERVER_ERROR", 0
        )

    def check(self, kind: str, sent: Any, response: httpx.Response) -> None:
        self.operations += 1
        self.statuses[response.status_code] += 1
        problem = None
        if response.status_code >= 500:
            problem = f"status {response.status_code}"
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
                if response.status_code != 200 or "json" in response.headers.get(
                    "content-type", ""
                ):
                    problem = f"not JSON: {response.text[:200]!r}"
            if isinstance(body, dict):
                for error in body.get("errors") or []:
                    code = (error.get("extensions") or {}).get("code")
                    self.codes[str(code)] += 1
                    if code is None or code == "INTERNAL_SERVER_ERROR":
                        problem = f"error {error}"
        if problem:
            self.failures.append(f"{kind}: {problem} for {str(sent)[:400]}")


def run_fuzz(
    app: Any,
    token: str,
    schema: GraphQLSchema,
    *,
    examples: int,
    loop: asyncio.AbstractEventLoop,
    seed: int | None = None,
) -> FuzzReport:
    """Runs in a worker thread: Hypothesis drives, and each request is sent on `loop`
    (where the app's runtime lives)."""
    report = FuzzReport()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    lock = threading.Lock()

    def send(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        with lock:
            return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=120)  # type: ignore[arg-type]

    options = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        suppress_health_check=list(HealthCheck),
    )

    @options
    @given(request=variable_requests(schema))
    def with_variables(request: dict[str, Any]) -> None:
        report.check("variables", request, send(lambda: client.post("/graphql", json=request)))

    @options
    @given(request=inline_requests(schema))
    def inline(request: dict[str, Any]) -> None:
        report.check("inline", request, send(lambda: client.post("/graphql", json=request)))

    @options
    @given(request=malformed_requests())
    def malformed(request: dict[str, Any]) -> None:
        report.check("malformed", request, send(lambda: client.post("/graphql", **request)))

    @options
    @given(request=upload_requests())
    def uploads(request: dict[str, Any]) -> None:
        report.check("upload", request, send(lambda: client.post("/graphql", **request)))

    try:
        for case in (with_variables, inline, malformed, uploads):
            if seed is not None:
                case = _seeded(case, seed)
            case()
    finally:
        asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=30)
    return report


def _seeded(test: Callable[[], None], seed: int) -> Callable[[], None]:
    from hypothesis import seed as with_seed

    seeded: Callable[[], None] = with_seed(seed)(test)
    return seeded
