"""Hourly rollups: the dashboard's sums and counts without reading every trace and observation.

Two delta tables, kept by statement-level triggers on traces and observations (migration
traces/0010_dashboard_rollups, which explains the invariant):

- dashboard_trace_hours (project, hour of the trace timestamp, environment, name, release):
  traces, traces with an error, cost, tokens;
- dashboard_obs_hours (project, hour of the trace timestamp, trace environment, model, usage type or
  NULL for cost): the sum and the number of observations.

A query over a window [start, end) reads the whole hours inside it from the rollups and the traces of
the partial hours at either end (`t`, at most two hours of raw rows) the way the raw queries do, so
every number equals the raw aggregate. Only windows whose filters the rollups carry (none, or an
environment list) use them; any other trace-list filter runs on the raw rows.

Percentiles are not sums: they always come from the raw rows (see docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from traces.dashboards.base import Scope, fetch
from traces.dashboards.period import TRACE_FILTERS, Period
from traces.list_queries import split_list

HOUR = timedelta(hours=1)
# Filters the rollups carry (their key holds the trace's environment).
ROLLUP_FILTERS = {"environment"}


@dataclass(frozen=True)
class Span:
    """The whole hours [start, end) of a window, read from the rollups."""

    start: datetime
    end: datetime
    environments: list[str]


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def span_of(scope: Scope) -> Span | None:
    """The rollup part of the scope's window, or None when the raw rows must answer."""
    if any(scope.filters.get(name) for name in TRACE_FILTERS if name not in ROLLUP_FILTERS):
        return None
    start, end = scope.period.start, scope.period.end
    first = floor_hour(start) if start == floor_hour(start) else floor_hour(start) + HOUR
    last = floor_hour(end)
    if first >= last:
        return None
    return Span(first, last, split_list(scope.filters.get("environment")))


def with_edges(scope: Scope, span: Span, body: str, params: list[Any]) -> list[tuple]:
    """Run `body` with the traces of the window's partial hours as the CTE `t`."""
    head = replace(scope, period=Period(scope.period.start, span.start, scope.period.bucket))
    tail = replace(scope, period=Period(span.end, scope.period.end, scope.period.bucket))
    head_sql, head_params = head.traces_sql()
    tail_sql, tail_params = tail.traces_sql()
    sql = f"WITH t AS (({head_sql}) UNION ALL ({tail_sql})) {body}"
    return fetch(sql, [*head_params, *tail_params, *params])


def where(span: Span, project_id: str) -> tuple[str, list[Any]]:
    """The rollup rows of the span (alias r)."""
    sql = "r.project_id = %s AND r.hour >= %s AND r.hour < %s"
    params: list[Any] = [project_id, span.start, span.end]
    if span.environments:
        sql += " AND r.environment = ANY(%s)"
        params.append(span.environments)
    return sql, params


def totals(scope: Scope, span: Span) -> tuple[int, Decimal, int, int]:
    """Traces, cost, tokens and traces with errors of the window."""
    rollup, params = where(span, scope.project_id)
    [(count, cost, tokens, errors)] = with_edges(
        scope,
        span,
        f"""SELECT coalesce(sum(n), 0), coalesce(sum(cost), 0), coalesce(sum(tokens), 0), coalesce(sum(e), 0)
            FROM (SELECT r.traces AS n, r.cost, r.tokens, r.errors AS e FROM dashboard_trace_hours r
                  WHERE {rollup}
                  UNION ALL
                  SELECT 1, total_cost, total_tokens, (error_count > 0)::int FROM t) AS x""",
        params,
    )
    return int(count), Decimal(cost), int(tokens), int(errors)


def trace_volume(scope: Scope, span: Span) -> list[tuple]:
    """(bucket, traces, traces with errors) rows."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT date_trunc(%s, at, 'UTC'), sum(n)::bigint, sum(e)::bigint
            FROM (SELECT r.hour AS at, r.traces AS n, r.errors AS e FROM dashboard_trace_hours r WHERE {rollup}
                  UNION ALL
                  SELECT timestamp, 1, (error_count > 0)::int FROM t) AS x
            GROUP BY 1 HAVING sum(n) > 0""",
        [scope.period.bucket, *params],
    )


def grouped_traces(scope: Scope, span: Span, column: str, where_key: str) -> tuple[str, list[Any]]:
    """SQL of (key, cost, traces, tokens) per trace `column` over the window, for breakdowns."""
    rollup, params = where(span, scope.project_id)
    sql = f"""SELECT key, sum(cost) AS cost, sum(n) AS traces, sum(tokens) AS tokens
              FROM (SELECT r.{column} AS key, r.cost, r.traces AS n, r.tokens FROM dashboard_trace_hours r
                    WHERE {rollup}
                    UNION ALL
                    SELECT {column}, total_cost, 1, total_tokens FROM t) AS x
              {where_key} GROUP BY key HAVING sum(n) > 0"""
    return sql, params


def cost_by_model(scope: Scope, span: Span, raw_join: str, no_model: str) -> list[tuple]:
    """(bucket, model, cost) rows, models of observations that have a cost."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT date_trunc(%s, at, 'UTC'), coalesce(model, %s), sum(amount)
            FROM (SELECT r.hour AS at, r.model, r.amount, r.observations AS n FROM dashboard_obs_hours r
                  WHERE {rollup} AND r.usage_key IS NULL
                  UNION ALL
                  SELECT t.timestamp, o.provided_model_name, o.total_cost, 1 FROM t {raw_join}
                  WHERE o.total_cost IS NOT NULL) AS x
            GROUP BY 1, 2 HAVING sum(n) > 0""",
        [scope.period.bucket, no_model, *params, scope.project_id],
    )


def tokens_by_usage_type(scope: Scope, span: Span, raw_join: str) -> list[tuple]:
    """(bucket, usage type, amount) rows of numeric usage values but `total`."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT date_trunc(%s, at, 'UTC'), key, sum(amount)
            FROM (SELECT r.hour AS at, r.usage_key AS key, r.amount, r.observations AS n
                  FROM dashboard_obs_hours r WHERE {rollup} AND r.usage_key IS NOT NULL
                  UNION ALL
                  SELECT t.timestamp, u.key, u.value::numeric, 1 FROM t {raw_join}
                  CROSS JOIN LATERAL jsonb_each(o.usage_details) AS u(key, value)
                  WHERE o.usage_details <> '{{}}'::jsonb AND jsonb_typeof(u.value) = 'number'
                        AND u.key <> 'total') AS x
            GROUP BY 1, 2 HAVING sum(n) > 0""",
        [scope.period.bucket, *params, scope.project_id],
    )


# Maintenance: compaction, rebuild and the consistency check (manage.py dashboard_rollups).


def compact() -> None:
    """Fold the delta rows into one row per key (exact whenever it runs, concurrent writers or not)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT dashboard_compact_rollups()")


def delta_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM dashboard_trace_hours) + (SELECT count(*) FROM dashboard_obs_hours)"
        )
        return cursor.fetchone()[0]


RAW_TRACE_HOURS = """
SELECT project_id, date_trunc('hour', timestamp, 'UTC'), environment, name, release, count(*)::numeric,
       count(*) FILTER (WHERE error_count > 0)::numeric, sum(total_cost), sum(total_tokens)::numeric
FROM traces {where} GROUP BY 1, 2, 3, 4, 5"""
ROLLUP_TRACE_HOURS = """
SELECT project_id, hour, environment, name, release, sum(traces), sum(errors), sum(cost), sum(tokens)
FROM dashboard_trace_hours {where} GROUP BY 1, 2, 3, 4, 5
HAVING sum(traces) <> 0 OR sum(errors) <> 0 OR sum(cost) <> 0 OR sum(tokens) <> 0"""
RAW_OBS_HOURS = """
SELECT t.project_id, date_trunc('hour', t.timestamp, 'UTC'), t.environment, o.provided_model_name, NULL,
       sum(o.total_cost), count(*)::numeric
FROM observations o JOIN traces t ON t.project_id = o.project_id AND t.id = o.trace_id
{where_t} AND o.total_cost IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT t.project_id, date_trunc('hour', t.timestamp, 'UTC'), t.environment, o.provided_model_name, u.key,
       sum(u.value::numeric), count(*)::numeric
FROM observations o JOIN traces t ON t.project_id = o.project_id AND t.id = o.trace_id
CROSS JOIN LATERAL jsonb_each(o.usage_details) AS u(key, value)
{where_t} AND jsonb_typeof(u.value) = 'number' AND u.key <> 'total' GROUP BY 1, 2, 3, 4, 5"""
ROLLUP_OBS_HOURS = """
SELECT project_id, hour, environment, model, usage_key, sum(amount), sum(observations)
FROM dashboard_obs_hours {where} GROUP BY 1, 2, 3, 4, 5 HAVING sum(amount) <> 0 OR sum(observations) <> 0"""


@dataclass(frozen=True)
class Mismatch:
    table: str
    key: tuple
    raw: tuple | None
    rollup: tuple | None


def check(project_id: str | None = None) -> list[Mismatch]:
    """Every rollup key against a GROUP BY over the raw rows, in one snapshot; [] when they agree."""
    params = [project_id] if project_id else []
    where_plain = "WHERE project_id = %s" if project_id else ""
    where_t = "WHERE t.project_id = %s" if project_id else "WHERE true"
    found: list[Mismatch] = []
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # one snapshot for both sides while writers go on
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for table, raw_sql, rollup_sql, raw_params, keys in [
            ("dashboard_trace_hours", RAW_TRACE_HOURS.format(where=where_plain),
             ROLLUP_TRACE_HOURS.format(where=where_plain), params, 5),
            ("dashboard_obs_hours", RAW_OBS_HOURS.format(where_t=where_t),
             ROLLUP_OBS_HOURS.format(where=where_plain), params * 2, 5),
        ]:  # fmt: skip
            cursor.execute(raw_sql, raw_params)
            raw = {tuple(row[:keys]): tuple(row[keys:]) for row in cursor.fetchall()}
            cursor.execute(rollup_sql, params)
            rolled = {tuple(row[:keys]): tuple(row[keys:]) for row in cursor.fetchall()}
            for key in sorted(raw.keys() | rolled.keys(), key=repr):
                if raw.get(key) != rolled.get(key):
                    found.append(Mismatch(table, key, raw.get(key), rolled.get(key)))
    return found


def rebuild() -> None:
    """Recompute both rollups from the raw rows, holding writers back while it runs."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE traces, observations IN SHARE MODE")
        cursor.execute("DELETE FROM dashboard_trace_hours")
        cursor.execute("DELETE FROM dashboard_obs_hours")
        cursor.execute("INSERT INTO dashboard_trace_hours " + RAW_TRACE_HOURS.format(where=""))
        cursor.execute(
            "SELECT dashboard_obs_delta_sql(%s)",
            [
                "SELECT t.project_id, date_trunc('hour', t.timestamp, 'UTC') AS hour, t.environment, "
                "1 AS sign, o.provided_model_name, o.total_cost, o.usage_details FROM observations o "
                "JOIN traces t ON t.project_id = o.project_id AND t.id = o.trace_id"
            ],
        )
        [(sql,)] = cursor.fetchall()
        cursor.execute(sql)
