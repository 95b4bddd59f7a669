"""GET /api/public/openapi.json: Langfuse's OpenAPI document cut down to the routes this server serves.

The source is Langfuse's own spec (`langfuse-openapi.yml` beside this module, a verbatim copy of
`../shared/reference/langfuse-openapi.yml`, MIT licensed, Copyright (c) 2023-2026 ClickHouse, Inc.).
The list of routes is not written by hand: it is read from the URLconf (every pattern under
/api/public/ and the HTTP methods its view accepts), so a route added to the URLconf without a
document entry, or a document entry without a route, fails tests/hostile/test_openapi_document.py.

Where we deliberately differ from Langfuse (routes Langfuse dropped or never documented, status codes
and fields we answer beyond its spec) the document is adjusted here; docs/api.md lists the differences.
The document is built once per process and served without authentication, as Langfuse serves its own.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.decorators.http import require_safe

SPEC_PATH = Path(__file__).resolve().parent / "langfuse-openapi.yml"
PREFIX = "/api/public/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Routes of the URLconf that the document leaves out on purpose, with the reason (docs/api.md).
UNDOCUMENTED: dict[tuple[str, str], str] = {
    ("/api/public/openapi.json", "get"): "this document itself",
    (
        "/api/public/media-upload/{}",
        "put",
    ): "presigned upload URL handed out by POST /media; a signed token, no API key",
    ("/api/public/media-download/{}", "get"): "signed download URL in media references; a token, no API key",
    (
        "/api/public/prompts",
        "get",
    ): "Langfuse's unversioned prompt route of SDK 1.x, kept for old clients only",
    (
        "/api/public/prompts",
        "post",
    ): "Langfuse's unversioned prompt route of SDK 1.x, kept for old clients only",
}

# A plain function view (no method decorator) declares its methods here, keyed by URL name.
PLAIN_VIEW_METHODS: dict[str, tuple[str, ...]] = {
    # PATCH of a version's labels; GET/DELETE fall through to the prompt named ".../versions/<n>",
    # which the {promptName} route documents.
    "prompt-version": ("patch",),
}

_PARAM = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_TEMPLATE = re.compile(r"\{[^}]*\}")


def _shape(path: str) -> str:
    """The path with every parameter written {}, to match ours against Langfuse's names."""
    return _TEMPLATE.sub("{}", path)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route, pattern


def view_methods(view: Callable, name: str | None = None) -> set[str]:
    """The HTTP methods a view answers (HEAD folded into GET), from its decorators or dispatcher."""
    if name in PLAIN_VIEW_METHODS:
        return set(PLAIN_VIEW_METHODS[name])
    seen = view
    while seen is not None:
        closure = inspect.getclosurevars(seen).nonlocals if seen.__closure__ else {}
        if "request_method_list" in closure:  # django.views.decorators.http.require_http_methods
            return {m.lower() for m in closure["request_method_list"] if m != "HEAD"}
        if isinstance(closure.get("views"), dict):  # traces.api.dispatch.methods
            return {m.lower() for m in closure["views"]}
        seen = getattr(seen, "__wrapped__", None)
    raise LookupError(
        f"cannot tell the HTTP methods of the view of URL {name!r}; add it to PLAIN_VIEW_METHODS"
    )


def implemented_routes() -> dict[tuple[str, str], str]:
    """{(path with {camelCase} parameters, method): URL name} of every public API route in the URLconf."""
    routes = {}
    for route, pattern in _walk(get_resolver().url_patterns, "/"):
        if not route.startswith(PREFIX) or getattr(pattern.callback, "catch_all", False):
            continue
        path = _PARAM.sub(lambda m: "{" + _camel(m.group(1)) + "}", route)
        for method in view_methods(pattern.callback, pattern.name):
            routes[(path, method)] = pattern.name
    return routes


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _error_responses(*codes: int) -> dict:
    return {str(code): {"description": "", "content": {"application/json": {"schema": {}}}} for code in codes}


def _json_operation(
    operation_id: str, summary: str, body_ref: str | None, response: dict, status: str = "200"
) -> dict:
    op: dict[str, Any] = {
        "operationId": operation_id,
        "tags": ["LangfuseUiExtensions"],
        "description": summary,
        "responses": {
            status: {"description": "", "content": {"application/json": {"schema": response}}},
            **_error_responses(400, 401, 403, 404, 405),
        },
        "security": [{"BasicAuth": []}],
    }
    if body_ref:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body_ref}"}}},
        }
    return op


_ID_RESPONSE = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}

# Routes Langfuse no longer documents (or never did) that we serve for older SDKs.
EXTRA_OPERATIONS: dict[tuple[str, str], dict] = {
    ("/api/public/ready", "get"): {
        "operationId": "ready",
        "tags": ["LangfuseUiExtensions"],
        "description": "Readiness probe: 200 when the database answers and migrations are applied, else 503.",
        "responses": {
            status: {
                "description": "",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"status": {"type": "string"}},
                            "required": ["status"],
                        }
                    }
                },
            }
            for status in ("200", "503")
        },
    },
    ("/api/public/otel/v1/metrics", "post"): {
        "operationId": "otel_exportMetrics",
        "tags": ["LangfuseUiExtensions"],
        "description": "OTLP metrics: accepted and discarded, as Langfuse does.",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "responses": {
            "200": {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}},
            **_error_responses(400, 401, 403, 405, 413),
        },
        "security": [{"BasicAuth": []}],
    },
    ("/api/public/traces", "post"): _json_operation(
        "legacy_trace_create",
        "Legacy single-object route of SDK 1.x: create a trace.",
        "TraceBody",
        _ID_RESPONSE,
    ),
    ("/api/public/spans", "post"): _json_operation(
        "legacy_span_create", "Legacy single-object route: create a span.", "CreateSpanBody", _ID_RESPONSE
    ),
    ("/api/public/spans", "patch"): _json_operation(
        "legacy_span_update", "Legacy single-object route: update a span.", "UpdateSpanBody", _ID_RESPONSE
    ),
    ("/api/public/generations", "post"): _json_operation(
        "legacy_generation_create",
        "Legacy single-object route: create a generation.",
        "CreateGenerationBody",
        _ID_RESPONSE,
    ),
    ("/api/public/generations", "patch"): _json_operation(
        "legacy_generation_update",
        "Legacy single-object route: update a generation.",
        "UpdateGenerationBody",
        _ID_RESPONSE,
    ),
    ("/api/public/events", "post"): _json_operation(
        "legacy_event_create", "Legacy single-object route: create an event.", "CreateEventBody", _ID_RESPONSE
    ),
    ("/api/public/metrics/daily", "get"): {
        "operationId": "metrics_daily",
        "tags": ["LangfuseUiExtensions"],
        "description": "Daily trace, observation, cost and usage counts (Langfuse's legacy daily metrics).",
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in (
                ("page", {"type": "integer", "nullable": True}),
                ("limit", {"type": "integer", "nullable": True}),
                ("traceName", {"type": "string", "nullable": True}),
                ("userId", {"type": "string", "nullable": True}),
                ("tags", {"type": "array", "items": {"type": "string"}, "nullable": True}),
                ("environment", {"type": "array", "items": {"type": "string"}, "nullable": True}),
                ("fromTimestamp", {"type": "string", "format": "date-time", "nullable": True}),
                ("toTimestamp", {"type": "string", "format": "date-time", "nullable": True}),
            )
        ],
        "responses": {
            "200": {
                "description": "",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DailyMetrics"}}},
            },
            **_error_responses(400, 401, 403, 404, 405),
        },
        "security": [{"BasicAuth": []}],
    },
}


# Our own schemas for the extra routes (Langfuse's current spec no longer has them).
_USAGE_BY_MODEL = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "nullable": True},
        "inputUsage": {"type": "integer"},
        "outputUsage": {"type": "integer"},
        "totalUsage": {"type": "integer"},
        "countTraces": {"type": "integer"},
        "countObservations": {"type": "integer"},
        "totalCost": {"type": "number"},
    },
    "required": ["model", "inputUsage", "outputUsage", "totalUsage", "countTraces", "countObservations"],
}
EXTRA_SCHEMAS: dict[str, dict] = {
    "DailyMetrics": {
        "type": "object",
        "properties": {
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "countTraces": {"type": "integer"},
                        "countObservations": {"type": "integer"},
                        "totalCost": {"type": "number"},
                        "usage": {"type": "array", "items": _USAGE_BY_MODEL},
                    },
                    "required": ["date", "countTraces", "countObservations", "totalCost", "usage"],
                },
            },
            "meta": {"$ref": "#/components/schemas/utilsMetaResponse"},
        },
        "required": ["data", "meta"],
    }
}

# Routes we serve as the same operation as a documented one (v1 paths of the v2 score reads).
ALIASES: dict[tuple[str, str], tuple[str, str]] = {
    ("/api/public/scores", "get"): ("/api/public/v2/scores", "get"),
    ("/api/public/scores/{scoreId}", "get"): ("/api/public/v2/scores/{scoreId}", "get"),
}


def _adjust(doc: dict) -> None:
    """Where we answer differently from Langfuse's spec on purpose (listed in docs/api.md)."""
    paths = doc["paths"]
    common = _error_responses(400, 401, 403, 404, 405, 413, 415, 503)
    for path, item in paths.items():
        for method, op in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = op.setdefault("responses", {})
            # Every API route may answer 413 (body limit), 415 (content encoding) and 503 (database
            # unreachable: retry), which Langfuse's spec does not list; the body is {message, error}.
            for code, response in common.items():
                responses.setdefault(code, copy.deepcopy(response))
            if path == "/api/public/health":
                responses.setdefault("503", copy.deepcopy(common["503"]))
    ingestion = paths.get("/api/public/ingestion", {}).get("post")
    if ingestion:
        # Langfuse's spec lists 207 only in prose; our answer is always 207 {successes, errors}.
        ok = ingestion["responses"].pop("200", None)
        if ok:
            ingestion["responses"]["207"] = ok
    create_prompt = paths.get("/api/public/v2/prompts", {}).get("post")
    if create_prompt and "200" in create_prompt["responses"]:
        # A new prompt version is a created resource: we answer 201 Created (Langfuse's spec lists 200).
        create_prompt["responses"]["201"] = create_prompt["responses"].pop("200")
    otel = paths.get("/api/public/otel/v1/traces", {}).get("post")
    if otel:
        # An OTLP/protobuf request gets an empty protobuf answer; only a JSON request gets {}.
        otel["responses"]["200"]["content"]["application/x-protobuf"] = {"schema": {}}
    scores = paths.get("/api/public/scores", {}).get("post")
    if scores:
        # A list of scores (Python SDK 5) answers 202 or 207.
        for code in ("202", "207"):
            scores["responses"].setdefault(
                code, {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}}
            )


@functools.cache
def document() -> dict:
    with SPEC_PATH.open("rb") as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    ours = implemented_routes()
    by_shape = {(_shape(path), method): path for path, method in ours}
    paths: dict[str, dict] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS and (_shape(path), method) in by_shape:
                paths.setdefault(path, {})[method] = op
    for (path, method), op in EXTRA_OPERATIONS.items():
        if (path, method) in ours:
            paths.setdefault(path, {})[method] = copy.deepcopy(op)
    for (path, method), (source, source_method) in ALIASES.items():
        if (path, method) in ours:
            op = copy.deepcopy(spec["paths"][source][source_method])
            op["operationId"] += "_v1"
            op["tags"] = ["LangfuseUiExtensions"]
            paths.setdefault(path, {})[method] = op
    doc = {
        "openapi": spec["openapi"],
        "info": {
            "title": "langfuse-ui public API",
            "version": "0.1.0",
            "description": (
                "The routes of Langfuse's public API that this server implements, from Langfuse's own "
                "OpenAPI document (MIT, Copyright (c) 2023-2026 ClickHouse, Inc.); differences are listed "
                "in docs/api.md.\n\nAuthenticate with HTTP Basic: public key as username, secret key as password."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {"securitySchemes": spec["components"]["securitySchemes"]},
    }
    _adjust(doc)
    schemas = {**spec["components"]["schemas"], **EXTRA_SCHEMAS}
    needed: set[str] = set()
    pending = list(_refs(doc["paths"]))
    while pending:
        name = pending.pop()
        if name not in needed and name in schemas:
            needed.add(name)
            pending.extend(_refs(schemas[name]))
    doc["components"]["schemas"] = {name: schemas[name] for name in sorted(needed)}
    return doc


def coverage_gaps(doc: dict) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(routes of the URLconf neither in doc nor in UNDOCUMENTED, operations of doc with no route)."""
    ours = {(_shape(path), method): (path, method) for path, method in implemented_routes()}
    documented = {
        (_shape(path), method): (path, method)
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    skipped = {(_shape(path), method) for path, method in UNDOCUMENTED}
    missing = sorted(ours[key] for key in ours.keys() - documented.keys() - skipped)
    unserved = sorted(documented[key] for key in documented.keys() - ours.keys())
    return missing, unserved


@functools.cache
def _document_bytes() -> bytes:
    return json.dumps(document(), separators=(",", ":")).encode()


@require_safe
def openapi_json(request: HttpRequest) -> HttpResponse:
    """GET /api/public/openapi.json: public, like Langfuse's own published spec."""
    return HttpResponse(_document_bytes(), content_type="application/json")
