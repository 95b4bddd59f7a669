"""Public API write routes: ingestion batches, OTLP, scores, and the legacy single-object routes.

A 2xx answer means the data is committed. Database trouble answers 503 (the middleware),
which every SDK retries; a 500 would make them drop the batch.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import AccessLevel, api_error, api_route
from traces.ingest.body import BodyError, read_body, read_json
from traces.ingest.fields import InvalidEvent
from traces.ingest.legacy import parse_batch, parse_observation, parse_score, parse_trace
from traces.ingest.records import Batch
from traces.ingest.writer import store_batch
from traces.scoring import check_score_configs

log = logging.getLogger(__name__)


def _body_error(exc: BodyError) -> JsonResponse:
    return api_error(str(exc), exc.status, "Payload Too Large" if exc.status == 413 else "Bad Request")


@require_POST
@api_route(access=AccessLevel.SCORES, allow_bearer=True)
def ingestion(request: HttpRequest) -> JsonResponse:
    """POST /api/public/ingestion: 207 with one success or error per event."""
    try:
        payload = read_json(request)
    except BodyError as exc:
        return _body_error(exc)
    events = payload.get("batch") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        return api_error(
            "Invalid request data: the body must be an object with a 'batch' list of events", 400
        )
    parsed = parse_batch(events, scores_only=request.caller.access == AccessLevel.SCORES)
    rejected = check_score_configs(request.project, parsed.batch.scores)
    if rejected:
        parsed.batch.scores = [s for s in parsed.batch.scores if s.id not in rejected]
        ids_by_score = {
            e.get("body", {}).get("id"): e.get("id")
            for e in events
            if isinstance(e, dict) and isinstance(e.get("body"), dict)
        }
        for score_id, message in rejected.items():
            event_id = ids_by_score.get(score_id, score_id)
            parsed.successes = [s for s in parsed.successes if s["id"] != event_id]
            parsed.fail(event_id, message)
    store_batch(request.project.id, parsed.batch)
    return JsonResponse({"successes": parsed.successes, "errors": parsed.errors}, status=207)


@require_POST
@api_route()
def otel_traces(request: HttpRequest) -> HttpResponse:
    """POST /api/public/otel/v1/traces: OTLP/HTTP, protobuf or JSON, gzip or not."""
    from traces.ingest.otel_mapping import map_spans
    from traces.ingest.otlp import OtlpDecodeError, decode_export_request

    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    try:
        body = read_body(request)
    except BodyError as exc:
        return _body_error(exc)
    try:
        spans = decode_export_request(body, content_type, None)
    except OtlpDecodeError as exc:
        return api_error(str(exc), 400, "Bad Request")
    store_batch(request.project.id, map_spans(spans))
    if content_type == "application/json":
        return JsonResponse({})
    return HttpResponse(b"", content_type="application/x-protobuf")


@require_POST
@api_route()
def otel_metrics(request: HttpRequest) -> HttpResponse:
    """POST /api/public/otel/v1/metrics: accepted and discarded, as Langfuse does."""
    return JsonResponse({})


@require_POST
@api_route(access=AccessLevel.SCORES, allow_bearer=True)
def create_scores(request: HttpRequest) -> JsonResponse:
    """POST /api/public/scores: one score object, or a list (Python SDK 5)."""
    try:
        payload = read_json(request)
    except BodyError as exc:
        return _body_error(exc)
    items = payload if isinstance(payload, list) else [payload]
    now = timezone.now()
    records, errors = [], []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise InvalidEvent("each score must be an object")
            records.append(parse_score(item, now))
        except InvalidEvent as exc:
            errors.append({"message": str(exc)})
    rejected = check_score_configs(request.project, records)
    errors += [{"message": message} for message in rejected.values()]
    records = [r for r in records if r.id not in rejected]
    if records:
        store_batch(request.project.id, Batch(scores=records))
    if not isinstance(payload, list):
        if errors:
            return api_error(f"Invalid request data: {errors[0]['message']}", 400)
        return JsonResponse({"id": records[0].id})
    if errors:
        return JsonResponse({"accepted": len(records), "rejected": len(errors), "errors": errors}, status=207)
    return JsonResponse({"message": "Accepted"}, status=202)


def _single(request: HttpRequest, kind: str, event_type: str) -> JsonResponse:
    try:
        body = read_json(request)
        if not isinstance(body, dict):
            raise InvalidEvent("the body must be a JSON object")
        now = timezone.now()
        if kind == "trace":
            record = parse_trace(body, now)
            batch = Batch(traces=[record])
        else:
            if request.method == "PATCH" and not body.get("id"):
                raise InvalidEvent("an update needs the id of the observation it updates")
            record = parse_observation(body, event_type, now)
            batch = Batch(observations=[record])
    except BodyError as exc:
        return _body_error(exc)
    except InvalidEvent as exc:
        return api_error(f"Invalid request data: {exc}", 400)
    store_batch(request.project.id, batch)
    return JsonResponse({"id": record.id})


@require_POST
@api_route()
def create_trace(request: HttpRequest) -> JsonResponse:
    """Legacy POST /api/public/traces."""
    return _single(request, "trace", "trace-create")


@require_http_methods(["POST", "PATCH"])
@api_route()
def spans(request: HttpRequest) -> JsonResponse:
    return _single(request, "observation", "span-create" if request.method == "POST" else "span-update")


@require_http_methods(["POST", "PATCH"])
@api_route()
def generations(request: HttpRequest) -> JsonResponse:
    event = "generation-create" if request.method == "POST" else "generation-update"
    return _single(request, "observation", event)


@require_POST
@api_route()
def events(request: HttpRequest) -> JsonResponse:
    return _single(request, "observation", "event-create")
