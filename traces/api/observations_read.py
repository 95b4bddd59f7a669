"""GET /observations (offset), GET /observations/{id}, GET /v2/observations (cursor, field groups)."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, JsonResponse

from accounts.access import api_route
from traces.api.cursors import after_keyset, decode_cursor, encode_cursor
from traces.api.filters import OBSERVATION_COLUMNS, apply_conditions, filtered_columns, parse_conditions
from traces.api.params import (
    InvalidRequest,
    Params,
    answers_bad_request,
    field_groups,
    not_found,
    page_params,
)
from traces.api.serializers import V2_DEFAULT_GROUPS, V2_GROUPS, observation_v2_json, observation_view_json
from traces.models import Level, Observation, ObservationType, Trace
from traces.queries import models_by_id, traces_by_id

V2_MAX_LIMIT = 1000


def observations_matching(project, params: Params) -> models.QuerySet:
    """Simple parameters, then the advanced `filter` (which wins for the columns it names)."""
    conditions = parse_conditions(params.json_value("filter"))
    overridden = filtered_columns(conditions)
    qs = Observation.objects.for_project(project)
    simple = {
        "name": "name",
        "traceId": "trace_id",
        "version": "version",
    }
    for column, field_name in simple.items():
        value = params.get(column)
        if value is not None and column not in overridden:
            qs = qs.filter(**{field_name: value})
    kind = params.choice("type", ObservationType.values)
    if kind and "type" not in overridden:
        qs = qs.filter(type=kind)
    level = params.choice("level", Level.values)
    if level and "level" not in overridden:
        qs = qs.filter(level=level)
    if "parentObservationId" in params.source and "parentObservationId" not in overridden:
        parent = params.get("parentObservationId")
        qs = (
            qs.filter(parent_observation_id=parent)
            if parent
            else qs.filter(parent_observation_id__isnull=True)
        )
    root = params.boolean("isRootObservation")
    if root is not None and "isRootObservation" not in overridden:
        qs = qs.filter(parent_observation_id__isnull=root)
    environments = params.csv("environment")
    if environments and "environment" not in overridden:
        qs = qs.filter(environment__in=environments)
    if "startTime" not in overridden:
        start, end = params.timestamp("fromStartTime"), params.timestamp("toStartTime")
        if start is not None:
            qs = qs.filter(start_time__gte=start)
        if end is not None:
            qs = qs.filter(start_time__lt=end)
    trace_fields = {"userId": "user_id", "sessionId": "session_id"}
    for column, field_name in trace_fields.items():
        value = params.get(column)
        if value is not None and column not in overridden:
            traces = Trace.objects.filter(project_id=OuterRef("project_id"), id=OuterRef("trace_id"))
            qs = qs.filter(Exists(traces.filter(**{field_name: value})))
    return apply_conditions(qs, conditions, OBSERVATION_COLUMNS)


@api_route()
@answers_bad_request
def list_observations(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    page = page_params(params)
    matching = observations_matching(request.project, params)
    total = matching.count()
    rows = list(matching.order_by("-start_time", "-id")[page.offset : page.offset + page.limit])
    models_found = models_by_id(request.project, {o.internal_model_id for o in rows})
    data = [observation_view_json(o, models_found.get(o.internal_model_id)) for o in rows]
    return JsonResponse({"data": data, "meta": page.meta(total)})


@api_route()
@answers_bad_request
def get_observation(request: HttpRequest, observation_id: str) -> JsonResponse:
    observation = Observation.objects.for_project(request.project).filter(id=observation_id).first()
    if observation is None:
        return not_found("Observation")
    models_found = models_by_id(request.project, {observation.internal_model_id})
    return JsonResponse(observation_view_json(observation, models_found.get(observation.internal_model_id)))


@api_route()
@answers_bad_request
def list_observations_v2(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    if params.boolean("parseIoAsJson"):
        raise InvalidRequest("parseIoAsJson=true is no longer supported: input and output are raw strings")
    limit = params.integer("limit", 50, minimum=1)
    if limit > V2_MAX_LIMIT:
        raise InvalidRequest(f"limit must be at most {V2_MAX_LIMIT}, got {limit}")
    groups = field_groups(params, V2_GROUPS, V2_DEFAULT_GROUPS) | {"core"}
    expand = params.csv("expandMetadata")
    matching = observations_matching(request.project, params)
    cursor = params.get("cursor")
    if cursor:
        matching = matching.filter(after_keyset(decode_cursor(cursor), "start_time"))
    rows = list(matching.order_by("-start_time", "-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    traces = (
        traces_by_id(request.project, {o.trace_id for o in rows})
        if groups & {"basic", "trace_context"}
        else {}
    )
    models_found = (
        models_by_id(request.project, {o.internal_model_id for o in rows}) if "model" in groups else {}
    )
    data = [
        observation_v2_json(
            o,
            groups=groups,
            trace=traces.get(o.trace_id),
            model=models_found.get(o.internal_model_id),
            expand_metadata=expand,
        )
        for o in rows
    ]
    meta = {"cursor": encode_cursor(rows[-1].start_time, rows[-1].id)} if has_more else {}
    return JsonResponse({"data": data, "meta": meta})
