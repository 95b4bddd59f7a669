"""Read-side queries shared by the public API and the UI: trace filters, sessions, daily metrics.

Every function takes the project first and never reads outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import Count, F, FloatField, Max, Min, OuterRef, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate

from traces.api.filters import TRACE_COLUMNS, apply_conditions, filtered_columns, seconds
from traces.models import LlmModel, Observation, Trace


@dataclass
class TraceFilters:
    """The filters of GET /traces (and of DELETE /traces with a filter)."""

    user_id: str | None = None
    name: str | None = None
    session_id: str | None = None
    version: str | None = None
    release: str | None = None
    from_timestamp: datetime | None = None
    to_timestamp: datetime | None = None
    tags: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    conditions: list[dict] = field(default_factory=list)  # the advanced `filter` JSON

    def is_empty(self) -> bool:
        return not any(
            [
                self.user_id,
                self.name,
                self.session_id,
                self.version,
                self.release,
                self.from_timestamp,
                self.to_timestamp,
                self.tags,
                self.environments,
                self.conditions,
            ]
        )


def traces_matching(project, filters: TraceFilters) -> models.QuerySet:
    """The project's traces that pass every filter; an advanced condition on a column wins over
    the simple parameter for the same column, as in Langfuse."""
    qs = Trace.objects.for_project(project)
    overridden = filtered_columns(filters.conditions)
    simple = {
        "userId": ("user_id", filters.user_id),
        "name": ("name", filters.name),
        "sessionId": ("session_id", filters.session_id),
        "version": ("version", filters.version),
        "release": ("release", filters.release),
    }
    for column, (field_name, value) in simple.items():
        if value is not None and column not in overridden:
            qs = qs.filter(**{field_name: value})
    if "timestamp" not in overridden:
        qs = qs.between(filters.from_timestamp, filters.to_timestamp)
    if filters.tags and "tags" not in overridden:
        qs = qs.filter(tags__contains=filters.tags)
    if filters.environments and "environment" not in overridden:
        qs = qs.filter(environment__in=filters.environments)
    return apply_conditions(qs, filters.conditions, TRACE_COLUMNS)


TRACE_ORDER_FIELDS = {
    "id": "id",
    "timestamp": "timestamp",
    "name": "name",
    "userId": "user_id",
    "sessionId": "session_id",
    "release": "release",
    "version": "version",
    "public": "public",
    "bookmarked": "bookmarked",
    "environment": "environment",
    "latency": "latency_order",
    "totalCost": "total_cost",
    "inputCost": "input_cost",
    "outputCost": "output_cost",
    "totalTokens": "total_tokens",
    "inputTokens": "input_tokens",
    "outputTokens": "output_tokens",
}


def order_traces(qs: models.QuerySet, column: str, descending: bool) -> models.QuerySet:
    field_name = TRACE_ORDER_FIELDS[column]
    if field_name == "latency_order":
        qs = qs.annotate(latency_order=seconds("start_time", "end_time"))
    expression = F(field_name).desc(nulls_last=True) if descending else F(field_name).asc(nulls_last=True)
    return qs.order_by(expression, "-id" if descending else "id")


def ids_by_trace(
    model: type[models.Model], project, trace_ids: list[str], order: str
) -> dict[str, list[str]]:
    """{trace_id: [ids of its observations or scores]} for a page of traces, in one query."""
    grouped: dict[str, list[str]] = {trace_id: [] for trace_id in trace_ids}
    rows = model.objects.for_project(project).filter(trace_id__in=trace_ids).order_by(order, "id")
    for trace_id, row_id in rows.values_list("trace_id", "id"):
        grouped[trace_id].append(row_id)
    return grouped


# --- Sessions ---------------------------------------------------------------------------


def sessions(
    project,
    *,
    from_timestamp: datetime | None = None,
    to_timestamp: datetime | None = None,
    environments: list[str] | None = None,
) -> models.QuerySet:
    """Sessions as rows {session_id, created_at, environment}: traces grouped by session id,
    created at their first trace; newest first."""
    traces = Trace.objects.for_project(project).filter(session_id__isnull=False)
    if environments:
        traces = traces.filter(environment__in=environments)
    grouped = traces.values("session_id").annotate(
        created_at=Min("timestamp"), environment=Max("environment")
    )
    if from_timestamp is not None:
        grouped = grouped.filter(created_at__gte=from_timestamp)
    if to_timestamp is not None:
        grouped = grouped.filter(created_at__lt=to_timestamp)
    return grouped.order_by("-created_at", "-session_id")


# --- Daily metrics ----------------------------------------------------------------------


@dataclass
class ModelUsage:
    model: str | None
    input_usage: int = 0
    output_usage: int = 0
    total_usage: int = 0
    count_traces: int = 0
    count_observations: int = 0
    total_cost: float = 0.0


@dataclass
class DailyMetrics:
    day: date
    count_traces: int = 0
    count_observations: int = 0
    total_cost: float = 0.0
    usage: list[ModelUsage] = field(default_factory=list)


def _usage(key: str) -> Any:
    return Coalesce(Sum(Cast(KeyTextTransform(key, "usage_details"), FloatField())), 0.0)


def daily_days(traces: models.QuerySet) -> models.QuerySet:
    """Days that have traces, newest first, with their counts and costs from trace aggregates."""
    return (
        traces.annotate(day=TruncDate("timestamp"))
        .values("day")
        .annotate(
            count_traces=Count("id"),
            count_observations=Coalesce(Sum("observation_count"), 0),
            total_cost=Coalesce(Sum("total_cost"), 0, output_field=models.DecimalField()),
        )
        .order_by("-day")
    )


def daily_metrics(project, traces: models.QuerySet, days: list[dict]) -> list[DailyMetrics]:
    """Fill in usage per model for the given day rows (one query for all of them)."""
    wanted = [row["day"] for row in days]
    result = {
        row["day"]: DailyMetrics(
            day=row["day"],
            count_traces=row["count_traces"],
            count_observations=row["count_observations"],
            total_cost=float(row["total_cost"]),
        )
        for row in days
    }
    if not wanted:
        return []
    trace_day = Trace.objects.filter(project_id=OuterRef("project_id"), id=OuterRef("trace_id")).annotate(
        day=TruncDate("timestamp")
    )
    usage_rows = (
        Observation.objects.for_project(project)
        .filter(trace_id__in=traces.values("id"))
        .annotate(day=Subquery(trace_day.values("day")[:1]))
        .filter(day__in=wanted)
        .values("day", "provided_model_name")
        .annotate(
            input_usage=_usage("input"),
            output_usage=_usage("output"),
            total_usage=_usage("total"),
            count_traces=Count("trace_id", distinct=True),
            count_observations=Count("id"),
            total_cost=Coalesce(Sum("total_cost"), 0, output_field=models.DecimalField()),
        )
        .filter(provided_model_name__isnull=False)
        .order_by("day", "provided_model_name")
    )
    for row in usage_rows:
        result[row["day"]].usage.append(
            ModelUsage(
                model=row["provided_model_name"],
                input_usage=int(row["input_usage"]),
                output_usage=int(row["output_usage"]),
                total_usage=int(row["total_usage"]),
                count_traces=row["count_traces"],
                count_observations=row["count_observations"],
                total_cost=float(row["total_cost"]),
            )
        )
    return [result[day] for day in wanted]


def models_by_id(project, model_ids: set[str | None]) -> dict[str, LlmModel]:
    """The matched models (defaults or the project's own) of a page of observations, with
    their tiers and prices, in a fixed number of queries."""
    wanted = {model_id for model_id in model_ids if model_id}
    if not wanted:
        return {}
    found = LlmModel.objects.available_to(project).filter(id__in=wanted)
    return {model.id: model for model in found.prefetch_related("pricing_tiers__prices")}


def traces_by_id(project, trace_ids: set[str | None]) -> dict[str, Trace]:
    wanted = {trace_id for trace_id in trace_ids if trace_id}
    if not wanted:
        return {}
    found = Trace.objects.for_project(project).filter(id__in=wanted).defer("input", "output", "metadata")
    return {trace.id: trace for trace in found}
