"""Score reads and deletes: GET /scores and /v2/scores (offset), GET /v3/scores (cursor),
GET /v2/scores/{id}, DELETE /scores/{id}."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.access import api_route
from traces.api.cursors import after_keyset, decode_cursor, encode_cursor
from traces.api.filters import SCORE_COLUMNS, apply_conditions, parse_conditions
from traces.api.params import (
    InvalidRequest,
    Params,
    answers_bad_request,
    field_groups,
    not_found,
    page_params,
)
from traces.api.serializers import SCORE_V3_GROUPS, score_json, score_trace_json, score_v3_json
from traces.models import Score, ScoreSource, Trace
from traces.queries import traces_by_id

V2_GROUPS = ("score", "trace")
V3_MAX_LIMIT = 100
VALUE_OPERATORS = {"<": "lt", ">": "gt", "<=": "lte", ">=": "gte", "=": "exact"}
DATA_TYPES = ("NUMERIC", "CATEGORICAL", "BOOLEAN", "TEXT", "CORRECTION")


def _trace_rows() -> models.QuerySet:
    return Trace.objects.filter(project_id=OuterRef("project_id"), id=OuterRef("trace_id"))


def scores_matching_v2(project, params: Params, groups: set[str]) -> models.QuerySet:
    qs = Score.objects.for_project(project)
    exact = {
        "name": "name",
        "configId": "config_id",
        "sessionId": "session_id",
        "datasetRunId": "dataset_run_id",
        "traceId": "trace_id",
        "queueId": "queue_id",
    }
    for param, field_name in exact.items():
        value = params.get(param)
        if value is not None:
            qs = qs.filter(**{field_name: value})
    source = params.choice("source", ScoreSource.values)
    if source:
        qs = qs.filter(source=source)
    data_type = params.choice("dataType", DATA_TYPES)
    if data_type:
        qs = qs.filter(data_type=data_type)
    start, end = params.timestamp("fromTimestamp"), params.timestamp("toTimestamp")
    if start is not None:
        qs = qs.filter(timestamp__gte=start)
    if end is not None:
        qs = qs.filter(timestamp__lt=end)
    for param, field_name in (
        ("environment", "environment"),
        ("scoreIds", "id"),
        ("observationId", "observation_id"),
    ):
        values = params.csv(param)
        if values:
            qs = qs.filter(**{f"{field_name}__in": values})
    qs = _value_comparison(qs, params)
    user_id, trace_tags = params.get("userId"), params.getlist("traceTags")
    if (user_id or trace_tags) and "trace" not in groups:
        raise InvalidRequest("Filtering by userId or traceTags needs the 'trace' field group in fields")
    if user_id:
        qs = qs.filter(Exists(_trace_rows().filter(user_id=user_id)))
    if trace_tags:
        qs = qs.filter(Exists(_trace_rows().filter(tags__contains=trace_tags)))
    return apply_conditions(qs, parse_conditions(params.json_value("filter")), SCORE_COLUMNS)


def _value_comparison(qs: models.QuerySet, params: Params) -> models.QuerySet:
    operator, value = params.get("operator"), params.decimal("value")
    if operator is None and value is None:
        return qs
    if operator is None or value is None:
        raise InvalidRequest("operator and value go together: e.g. operator=>= and value=0.5")
    if operator in ("!=", "<>"):
        return qs.exclude(value=value)
    if operator not in VALUE_OPERATORS:
        raise InvalidRequest(f"operator must be one of <, >, <=, >=, =, !=; got {operator!r}")
    return qs.filter(**{f"value__{VALUE_OPERATORS[operator]}": value})


@api_route()
@answers_bad_request
def list_scores(request: HttpRequest) -> JsonResponse:
    """GET /scores and GET /v2/scores: scores with their trace's user, tags, environment, session."""
    params = Params(request.GET)
    page = page_params(params)
    groups = field_groups(params, V2_GROUPS, frozenset(V2_GROUPS))
    matching = scores_matching_v2(request.project, params, groups)
    total = matching.count()
    rows = list(matching.order_by("-timestamp", "-id")[page.offset : page.offset + page.limit])
    traces = traces_by_id(request.project, {s.trace_id for s in rows}) if "trace" in groups else {}
    data = []
    for score in rows:
        item = score_json(score)
        if "trace" in groups:
            item["trace"] = score_trace_json(traces.get(score.trace_id))
        data.append(item)
    return JsonResponse({"data": data, "meta": page.meta(total)})


@api_route()
def get_score(request: HttpRequest, score_id: str) -> JsonResponse:
    score = Score.objects.for_project(request.project).filter(id=score_id).first()
    if score is None:
        return not_found("Score")
    return JsonResponse(score_json(score))


@api_route()
def delete_score(request: HttpRequest, score_id: str) -> HttpResponse:
    deleted, _ = Score.objects.for_project(request.project).filter(id=score_id).delete()
    if not deleted:
        return not_found("Score")
    return HttpResponse(status=204)


def scores_matching_v3(project, params: Params) -> models.QuerySet:
    qs = Score.objects.for_project(project)
    lists = {
        "id": "id",
        "name": "name",
        "environment": "environment",
        "configId": "config_id",
        "queueId": "queue_id",
        "traceId": "trace_id",
        "sessionId": "session_id",
        "observationId": "observation_id",
        "experimentId": "dataset_run_id",
    }
    for param, field_name in lists.items():
        values = params.csv(param)
        if values:
            qs = qs.filter(**{f"{field_name}__in": values})
    subjects = [name for name in ("traceId", "sessionId", "experimentId") if params.csv(name)]
    if len(subjects) > 1:
        raise InvalidRequest(
            f"{' and '.join(subjects)} are mutually exclusive: filter by one kind of subject"
        )
    if params.csv("observationId") and not params.csv("traceId"):
        raise InvalidRequest("observationId needs traceId (observation ids are scoped to a trace)")
    sources = [s.upper() for s in params.csv("source")]
    if sources:
        qs = qs.filter(source__in=sources)
    authors = params.csv("authorUserId")
    if authors:
        qs = qs.filter(author_user_id__in=[int(a) for a in authors if a.isdigit()])
    data_types = [t.upper() for t in params.csv("dataType")]
    unknown = [t for t in data_types if t not in DATA_TYPES]
    if unknown:
        raise InvalidRequest(f"Unknown dataType {', '.join(unknown)}; use {', '.join(DATA_TYPES)}")
    if data_types:
        qs = qs.filter(data_type__in=data_types)
    qs = _v3_values(qs, params, data_types)
    start, end = params.timestamp("fromTimestamp"), params.timestamp("toTimestamp")
    if start is not None:
        qs = qs.filter(timestamp__gte=start)
    if end is not None:
        qs = qs.filter(timestamp__lt=end)
    return qs


def _v3_values(qs: models.QuerySet, params: Params, data_types: list[str]) -> models.QuerySet:
    values = params.csv("value")
    low, high = params.decimal("valueMin"), params.decimal("valueMax")
    if (low is not None or high is not None) and data_types != ["NUMERIC"]:
        raise InvalidRequest("valueMin and valueMax need dataType=NUMERIC")
    if low is not None:
        qs = qs.filter(value__gte=low)
    if high is not None:
        qs = qs.filter(value__lte=high)
    if not values:
        return qs
    if len(data_types) != 1 or data_types[0] not in ("NUMERIC", "BOOLEAN", "CATEGORICAL"):
        raise InvalidRequest("value needs exactly one dataType: NUMERIC, BOOLEAN or CATEGORICAL")
    if data_types[0] == "CATEGORICAL":
        return qs.filter(string_value__in=values)
    if data_types[0] == "BOOLEAN":
        if any(v.lower() not in ("true", "false") for v in values):
            raise InvalidRequest("BOOLEAN values must be true or false")
        return qs.filter(value__in=[1.0 if v.lower() == "true" else 0.0 for v in values])
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        raise InvalidRequest("NUMERIC values must be numbers") from None
    return qs.filter(value__in=numbers)


@api_route()
@answers_bad_request
def list_scores_v3(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    limit = params.integer("limit", 50, minimum=1)
    if limit > V3_MAX_LIMIT:
        raise InvalidRequest(f"limit must be at most {V3_MAX_LIMIT}, got {limit}")
    groups = field_groups(params, SCORE_V3_GROUPS, frozenset())
    matching = scores_matching_v3(request.project, params)
    cursor = params.get("cursor")
    if cursor:
        matching = matching.filter(after_keyset(decode_cursor(cursor), "timestamp"))
    rows = list(matching.order_by("-timestamp", "-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    meta: dict = {"limit": limit}
    if has_more:
        meta["cursor"] = encode_cursor(rows[-1].timestamp, rows[-1].id)
    return JsonResponse({"data": [score_v3_json(score, groups) for score in rows], "meta": meta})
