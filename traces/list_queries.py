"""Read side of the traces list: filters, sort keys, keyset pages, live rows and score averages.

Every filter is chosen so an index can answer it: B-tree indexes lead with project_id and end
in the timestamp, tags and metadata use GIN (`&&`, `@>`), the text search uses the trigram
indexes on (project_id, input::text) and (project_id, output::text) through ILIKE, and the
model and score filters are EXISTS probes on observations and scores by trace id.

The filters whose index is not in time order (tags, metadata, model, score, cost, latency, search)
leave PostgreSQL two plans: walk the traces newest first and test each, fast while matches are
common, or collect every match through the filter's index and sort them, fast while they are rare.
It picks by its estimate of how many rows match, and the estimate can be far off (a tag it never
sampled counts as 0.5 % of the rows; a model used all last month but not this week looks common),
so a rare value walked all 1.34 M traces of the benchmark project (5 s). Such a page is therefore
fetched in up to two steps (`trace_page`): the walk, bounded to the next WALK_LIMIT traces; and only
when that does not fill the page, the collect-and-sort plan (forced by sorting on an expression no
index is ordered by) if PostgreSQL expects few matches in all, else the walk on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import models
from django.db.models import Avg, Count, Exists, ExpressionWrapper, F, Func, OuterRef, Q, Value
from django.db.models.functions import Cast, Coalesce

from traces.forms import split_list
from traces.keyset import Page, beyond, decode_cursor, keyset_page, parse_datetime_value
from traces.models import Observation, Score, ScoreDataType, Trace

PAGE_SIZE = 50
LIVE_LIMIT = 100
# The first step of a page sorted by time under a filter without a time-ordered index tests at most
# this many traces (see the module docstring).
WALK_LIMIT = 10_000
# ... and when that finds less than a page, the matches are collected and sorted if PostgreSQL
# expects at most this many of them (a bitmap heap scan of 20,000 rows: tens of milliseconds).
COLLECT_LIMIT = 20_000
UNORDERED_FILTERS = (
    "tags",
    "meta_key",
    "model",
    "score_name",
    "cost_min",
    "cost_max",
    "latency_min",
    "latency_max",
    "q",
)
RANGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
LIST_FIELDS = [
    "project_id",
    "id",
    "timestamp",
    "name",
    "user_id",
    "session_id",
    "release",
    "version",
    "environment",
    "tags",
    "start_time",
    "end_time",
    "observation_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "total_cost",
    "error_count",
    "warning_count",
]


class ILike(Func):
    """`lhs ILIKE pattern`: unlike Django's icontains (UPPER(...) LIKE) a trigram index serves it."""

    output_field = models.BooleanField()
    arg_joiner = " ILIKE "
    template = "(%(expressions)s)"


def like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def latency_key() -> Any:
    """Seconds from the first observation's start to the last one's end; -1 when unknown.
    The trace_latency index is built on exactly this expression."""
    duration = models.ExpressionWrapper(F("end_time") - F("start_time"), output_field=models.DurationField())
    seconds = Func(
        duration, template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=models.DecimalField()
    )
    return Coalesce(seconds, Value(-1), output_field=models.DecimalField())


@dataclass(frozen=True)
class SortKey:
    expression: Any
    parse: Any


SORT_KEYS = {
    "time": SortKey(lambda: F("timestamp"), parse_datetime_value),
    "latency": SortKey(latency_key, Decimal),
    "cost": SortKey(lambda: F("total_cost"), Decimal),
    "tokens": SortKey(lambda: F("total_tokens"), int),
}


def time_bounds(state: dict, now: datetime) -> tuple[datetime | None, datetime | None]:
    """A preset range counts back from now; explicit from/to narrow it further."""
    start, end = state.get("since"), state.get("until")
    if state.get("range") in RANGES:
        preset = now - RANGES[state["range"]]
        start = max(start, preset) if start else preset
    return start, end


def metadata_containment(path: str, value: str) -> Q:
    """metadata @> {"a": {"b": value}} for the path a.b; a value that reads as JSON (a number,
    true/false) also matches its typed form."""
    keys = [key for key in path.split(".") if key]
    candidates: list[Any] = [value]
    try:
        typed = json.loads(value)
    except ValueError:
        typed = None
    if isinstance(typed, int | float | bool) and typed is not None:
        candidates.append(typed)
    condition = Q()
    for candidate in candidates:
        nested: Any = candidate
        for key in reversed(keys):
            nested = {key: nested}
        condition |= Q(metadata__contains=nested)
    return condition


def score_condition(state: dict) -> Exists:
    scores = Score.objects.filter(
        project_id=OuterRef("project_id"), trace_id=OuterRef("id"), name=state["score_name"]
    )
    raw = (state.get("score_value") or "").strip()
    if raw:
        try:
            number = float(raw)
        except ValueError:
            scores = scores.filter(string_value=raw)
        else:
            lookup = {">=": "gte", "<=": "lte", "=": "exact", ">": "gt", "<": "lt"}[state["score_op"]]
            scores = scores.filter(**{f"value__{lookup}": number})
    return Exists(scores)


def filter_traces(qs: models.QuerySet, state: dict, now: datetime) -> models.QuerySet:
    """Apply every filter of a traces-list state; they combine with AND."""
    start, end = time_bounds(state, now)
    qs = qs.between(start, end)
    for field_name, key in [
        ("name", "name"),
        ("user_id", "user"),
        ("session_id", "session"),
        ("release", "release"),
        ("version", "version"),
    ]:
        if state.get(key):
            qs = qs.filter(**{field_name: state[key]})
    if environments := split_list(state.get("environment")):
        qs = qs.filter(environment__in=environments)
    if tags := split_list(state.get("tags")):
        qs = (
            qs.filter(tags__contains=tags)
            if state.get("tags_mode") == "all"
            else qs.filter(tags__overlap=tags)
        )
    level = state.get("level")
    if level == "ERROR":
        qs = qs.filter(error_count__gt=0)
    elif level == "WARNING":
        qs = qs.filter(error_count=0, warning_count__gt=0)
    elif level == "DEFAULT":
        qs = qs.filter(error_count=0, warning_count=0)
    if state.get("model"):
        used = Observation.objects.filter(
            project_id=OuterRef("project_id"), trace_id=OuterRef("id"), provided_model_name=state["model"]
        )
        qs = qs.filter(Exists(used))
    if state.get("meta_key") and state.get("meta_value") is not None and state.get("meta_value") != "":
        qs = qs.filter(metadata_containment(state["meta_key"], state["meta_value"]))
    if state.get("cost_min") is not None:
        qs = qs.filter(total_cost__gte=state["cost_min"])
    if state.get("cost_max") is not None:
        qs = qs.filter(total_cost__lte=state["cost_max"])
    if state.get("latency_min") is not None or state.get("latency_max") is not None:
        qs = qs.alias(latency_filter=latency_key())
        if state.get("latency_min") is not None:
            qs = qs.filter(latency_filter__gte=Decimal(str(state["latency_min"])))
        if state.get("latency_max") is not None:
            qs = qs.filter(latency_filter__lte=Decimal(str(state["latency_max"])), latency_filter__gte=0)
    if state.get("score_name"):
        qs = qs.filter(score_condition(state))
    if term := (state.get("q") or "").strip():
        pattern = Value(like_pattern(term))
        qs = qs.filter(
            ILike(Cast("input", models.TextField()), pattern)
            | ILike(Cast("output", models.TextField()), pattern)
        )
    return qs


def matching_traces(project, state: dict, now: datetime) -> models.QuerySet:
    return filter_traces(Trace.objects.for_project(project), state, now)


def trace_page(project, state: dict, now: datetime, size: int = PAGE_SIZE) -> Page:
    """One page of the list in the chosen order, after or before the state's cursor."""
    sort = SORT_KEYS[state["sort"]]
    qs = matching_traces(project, state, now).only(*LIST_FIELDS)

    def page(rows: models.QuerySet, key: Any) -> Page:
        return keyset_page(
            rows.annotate(sort_key=key),
            key="sort_key",
            parse=sort.parse,
            descending=state["order"] == "desc",
            after=state.get("after"),
            before=state.get("before"),
            size=size,
        )

    if state["sort"] != "time" or not any(state.get(name) not in (None, "") for name in UNORDERED_FILTERS):
        return page(qs, sort.expression())
    # Which way the page walks the time order, from which cursor: as keyset_page decides it.
    backwards = bool(state.get("before")) and not state.get("after")
    cursor = decode_cursor(state.get("before") if backwards else state.get("after"), sort.parse)
    backwards = backwards and cursor is not None
    downwards = (state["order"] == "desc") != backwards
    bound = walk_bound(project, state, now, cursor, downwards)
    if bound is None:  # fewer traces than WALK_LIMIT to walk past: the walk is short
        return page(qs, F("timestamp"))
    # The traces up to the bound are the first ones of the walk: a full page among them (and one row
    # more) is the page.
    walked = page(qs.filter(**{"timestamp__gte" if downwards else "timestamp__lte": bound}), F("timestamp"))
    if (walked.previous_cursor if backwards else walked.next_cursor) is not None:
        return walked
    # Sparse among the newest traces. Collecting is the fast plan for a value that is rare overall;
    # for one common in older traces (a model no longer used) it would sort them all, and walking on
    # to them is faster. PostgreSQL's estimate tells them apart: it errs for rare values, but upwards
    # only as far as its default guesses (a tag it never sampled: 0.5 % of the rows).
    if estimated_rows(qs) <= COLLECT_LIMIT:
        return page(qs, unordered_timestamp())
    return page(qs, F("timestamp"))


def estimated_rows(qs: models.QuerySet) -> float:
    """How many rows PostgreSQL expects the query to return (it plans, runs nothing)."""
    return json.loads(qs.explain(format="json"))[0]["Plan"]["Plan Rows"]


def walk_bound(project, state: dict, now: datetime, cursor, downwards: bool) -> datetime | None:
    """The timestamp of the WALK_LIMIT-th trace a page walks past from its cursor in the time window
    (before any other filter); None when there are fewer."""
    qs = Trace.objects.for_project(project).between(*time_bounds(state, now))
    if cursor is not None:
        qs = qs.filter(beyond("timestamp", "id", cursor[0], cursor[1], downwards))
    ordered = qs.order_by("-timestamp" if downwards else "timestamp").values_list("timestamp", flat=True)
    return next(iter(ordered[WALK_LIMIT : WALK_LIMIT + 1]), None)


def unordered_timestamp() -> Any:
    """timestamp + 0 seconds: the timestamp, but no index is in its order, so PostgreSQL collects the
    matching rows through the filter's own index and sorts them instead of walking trace_time."""
    return ExpressionWrapper(F("timestamp") + Value(timedelta(0)), output_field=models.DateTimeField())


def newer_traces(project, state: dict, now: datetime) -> list[Trace]:
    """Live mode: traces after the newest one shown, newest first."""
    cursor = decode_cursor(state.get("newer"), parse_datetime_value)
    qs = matching_traces(project, state, now).only(*LIST_FIELDS).annotate(sort_key=F("timestamp"))
    if cursor is not None:
        value, trace_id = cursor
        qs = qs.filter(Q(timestamp__gte=value) & (Q(timestamp__gt=value) | Q(id__gt=trace_id)))
    return list(qs.order_by("-timestamp", "-id")[:LIVE_LIMIT])


@dataclass
class ScoreSummary:
    name: str
    average: float | None
    count: int
    labels: list[str] = field(default_factory=list)


def scores_by_trace(project, trace_ids: list[str]) -> dict[str, list[ScoreSummary]]:
    """Per trace, each score name with its average value (and labels of categorical ones),
    for a page of traces in one query."""
    grouped: dict[str, list[ScoreSummary]] = defaultdict(list)
    if not trace_ids:
        return grouped
    rows = (
        Score.objects.for_project(project)
        .filter(trace_id__in=trace_ids)
        .values("trace_id", "name")
        .annotate(
            average=Avg("value"),
            count=Count("id"),
            labels=ArrayAgg(
                "string_value",
                distinct=True,
                filter=Q(data_type=ScoreDataType.CATEGORICAL, string_value__isnull=False),
                default=Value([]),
            ),
        )
        .order_by("trace_id", "name")
    )
    for row in rows:
        grouped[row["trace_id"]].append(
            ScoreSummary(row["name"], row["average"], row["count"], sorted(row["labels"])[:3])
        )
    return grouped
