"""GET /traces, GET /traces/{id}, DELETE /traces/{id}, DELETE /traces."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse

from accounts.access import api_route
from traces.api.filters import parse_conditions
from traces.api.params import (
    InvalidRequest,
    Params,
    answers_bad_request,
    field_groups,
    holds_nul,
    not_found,
    page_params,
)
from traces.api.serializers import observation_view_json, score_json, trace_with_details_json
from traces.deletion import delete_traces as delete_trace_rows
from traces.deletion import delete_traces_matching
from traces.models import Observation, Score, Trace
from traces.queries import (
    TRACE_ORDER_FIELDS,
    TraceFilters,
    ids_by_trace,
    models_by_id,
    order_traces,
    traces_matching,
)

TRACE_GROUPS = ("core", "io", "scores", "observations", "metrics")
ALL_TRACE_GROUPS = frozenset(TRACE_GROUPS)
MAX_DELETE_IDS = 1000


def trace_filters(params: Params) -> TraceFilters:
    return TraceFilters(
        user_id=params.get("userId"),
        name=params.get("name"),
        session_id=params.get("sessionId"),
        version=params.get("version"),
        release=params.get("release"),
        from_timestamp=params.timestamp("fromTimestamp"),
        to_timestamp=params.timestamp("toTimestamp"),
        tags=params.getlist("tags"),
        environments=params.csv("environment"),
        conditions=parse_conditions(params.json_value("filter")),
    )


def trace_order(params: Params) -> tuple[str, bool]:
    raw = params.get("orderBy") or "timestamp.desc"
    column, _, direction = raw.rpartition(".")
    if column not in TRACE_ORDER_FIELDS or direction not in ("asc", "desc"):
        raise InvalidRequest(
            f"orderBy must look like field.asc or field.desc with field one of {', '.join(TRACE_ORDER_FIELDS)}; "
            f"got {raw!r}"
        )
    return column, direction == "desc"


@api_route()
@answers_bad_request
def list_traces(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    page = page_params(params)
    groups = field_groups(params, TRACE_GROUPS, ALL_TRACE_GROUPS)
    column, descending = trace_order(params)
    matching = traces_matching(request.project, trace_filters(params))
    total = matching.count()
    rows = order_traces(matching, column, descending)
    if "io" not in groups:
        rows = rows.defer("input", "output", "metadata")
    traces = list(rows[page.offset : page.offset + page.limit])
    ids = [trace.id for trace in traces]
    observations = ids_by_trace(Observation, request.project, ids, "start_time") if ids else {}
    scores = ids_by_trace(Score, request.project, ids, "timestamp") if ids else {}
    data = [
        trace_with_details_json(
            trace,
            groups=groups,
            observation_ids=observations.get(trace.id, []),
            score_ids=scores.get(trace.id, []),
        )
        for trace in traces
    ]
    return JsonResponse({"data": data, "meta": page.meta(total)})


@api_route()
@answers_bad_request
def get_trace(request: HttpRequest, trace_id: str) -> JsonResponse:
    groups = field_groups(Params(request.GET), TRACE_GROUPS, ALL_TRACE_GROUPS)
    trace = Trace.objects.for_project(request.project).filter(id=trace_id).first()
    if trace is None:
        return not_found("Trace")
    data = trace_with_details_json(trace, groups=groups, observation_ids=[], score_ids=[])
    if "observations" in groups:
        observations = list(
            Observation.objects.for_project(request.project).in_trace(trace_id).order_by("start_time", "id")
        )
        models = models_by_id(request.project, {o.internal_model_id for o in observations})
        data["observations"] = [
            observation_view_json(o, models.get(o.internal_model_id)) for o in observations
        ]
    if "scores" in groups:
        scores = (
            Score.objects.for_project(request.project).filter(trace_id=trace_id).order_by("timestamp", "id")
        )
        data["scores"] = [score_json(score) for score in scores]
    return JsonResponse(data)


@api_route()
@answers_bad_request
def delete_trace(request: HttpRequest, trace_id: str) -> JsonResponse:
    project = request.project
    exists = (
        Trace.objects.for_project(project).filter(id=trace_id).exists()
        or Observation.objects.for_project(project).filter(trace_id=trace_id).exists()
    )
    if not exists:
        return not_found("Trace")
    deleted = delete_trace_rows(project, [trace_id])
    return JsonResponse({"message": "Trace deleted successfully", "deleted": deleted})


@api_route()
@answers_bad_request
def delete_traces(request: HttpRequest) -> JsonResponse:
    """Body {traceIds: [...]} as in Langfuse, or {filter: {...GET /traces parameters...}} (ours),
    or both (then a trace must be listed and match)."""
    body = _json_body(request)
    trace_ids = body.get("traceIds")
    raw_filter = body.get("filter")
    if trace_ids is None and raw_filter is None:
        raise InvalidRequest("Send traceIds (a list of trace ids) or filter (the parameters of GET /traces)")
    traces = Trace.objects.for_project(request.project)
    if raw_filter is not None:
        filters = _delete_filters(raw_filter)
        traces = traces_matching(request.project, filters)
    if trace_ids is not None:
        if not isinstance(trace_ids, list) or not all(isinstance(i, str) for i in trace_ids):
            raise InvalidRequest("traceIds must be a list of strings")
        if not 1 <= len(trace_ids) <= MAX_DELETE_IDS:
            raise InvalidRequest(
                f"traceIds must hold between 1 and {MAX_DELETE_IDS} ids, got {len(trace_ids)}"
            )
        if raw_filter is None:
            deleted = delete_trace_rows(request.project, trace_ids)
            return JsonResponse({"message": "Traces deleted successfully", "deleted": deleted})
        traces = traces.filter(id__in=trace_ids)
    deleted = delete_traces_matching(request.project, traces)
    return JsonResponse({"message": "Traces deleted successfully", "deleted": deleted})


def _delete_filters(raw_filter) -> TraceFilters:
    if isinstance(raw_filter, list):  # the advanced filter conditions on their own
        raw_filter = {"filter": raw_filter}
    if not isinstance(raw_filter, dict):
        raise InvalidRequest("filter must be an object with the parameters of GET /traces")
    unknown = set(raw_filter) - {
        "userId",
        "name",
        "sessionId",
        "version",
        "release",
        "fromTimestamp",
        "toTimestamp",
        "tags",
        "environment",
        "filter",
    }
    if unknown:
        raise InvalidRequest(f"Unknown filter parameter(s): {', '.join(sorted(unknown))}")
    filters = trace_filters(Params(raw_filter))
    if filters.is_empty():
        raise InvalidRequest("filter must hold at least one condition; refusing to delete every trace")
    return filters


def _json_body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest("The request body must be JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object")
    if holds_nul(body):
        raise InvalidRequest("The request body must not contain NUL characters")
    return body
