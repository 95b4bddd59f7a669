"""Totals per group over the whole window: cost by team, user, trace name, environment, release
and session; latency and time-to-first-token percentiles per model and per trace name; the most
expensive traces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from traces.dashboards import percentiles, rollups, sessions
from traces.dashboards.base import OBSERVATIONS, SECONDS, TOP, Scope, with_traces

# Grouping columns of the traces CTE, by the name the dashboard uses for them.
DIMENSIONS = {
    "team": "team",
    "user": "user_id",
    "name": "name",
    "environment": "environment",
    "release": "release",
    "session": "session_id",
}


# The hourly rollup table of each dimension it carries (team: the default team key only). Sessions
# have none (nearly a row per session and hour): the top sessions read a row per session (sessions.py).
ROLLUP_TABLES = {
    "name": "dashboard_trace_hours",
    "environment": "dashboard_trace_hours",
    "release": "dashboard_trace_hours",
    "user": "dashboard_user_hours",
    "team": "dashboard_team_hours",
}


@dataclass(frozen=True)
class Group:
    key: str | None  # None: traces without a value (or, with other=True, every group past the top)
    cost: Decimal
    traces: int
    tokens: int
    other: bool = False


def cost_by(scope: Scope, dimension: str, *, top: int = TOP, skip_empty: bool = False) -> list[Group]:
    """The `top` groups by cost (ties by key), then one row adding up the rest, so the rows sum
    to the window's totals. skip_empty leaves out traces without a value (top users, sessions)."""
    if dimension == "session" and skip_empty and (found := sessions.top_sessions(scope, top)) is not None:
        return [Group(key, cost, count, tokens, other) for key, other, cost, count, tokens in found]
    column = DIMENSIONS[dimension]
    where = f"WHERE {column} IS NOT NULL" if skip_empty else ""
    ranked = """SELECT CASE WHEN rank <= %s THEN key END, rank > %s AS other,
                       sum(cost), sum(traces), sum(tokens), min(rank)
                FROM (SELECT key, cost, traces, tokens,
                             row_number() OVER (ORDER BY cost DESC, key NULLS LAST) AS rank
                      FROM ({groups}) AS g0) AS g
                GROUP BY 1, 2 ORDER BY 2, 6"""
    team = dimension == "team"
    table = ROLLUP_TABLES.get(dimension) if not team or rollups.team_rolled_up(scope) else None
    span = rollups.span_of(scope) if table else None
    if span:
        groups, params = rollups.grouped_traces(scope, span, column, where.replace(column, "key"), table)
        rows = rollups.with_edges(scope, span, ranked.format(groups=groups), [top, top, *params], team=team)
    else:
        groups = f"""SELECT {column} AS key, sum(total_cost) AS cost, count(*) AS traces,
                            sum(total_tokens) AS tokens FROM t {where} GROUP BY {column}"""
        rows = with_traces(scope, ranked.format(groups=groups), [top, top], team=team)
    return [
        Group(key=key, cost=Decimal(cost), traces=int(count), tokens=int(tokens), other=other)
        for key, other, cost, count, tokens, _ in rows
    ]


@dataclass(frozen=True)
class Percentiles:
    key: str | None
    count: int
    p50: float | None
    p95: float | None
    p99: float | None


def _percentiles(
    scope: Scope, select: str, params: list, kind: percentiles.Kind, top: int
) -> list[Percentiles]:
    """From the daily rollup when the filters allow (the same numbers), else from the raw rows."""
    if days := percentiles.days_of(scope):
        found = percentiles.exact(scope, days, kind, percentiles.BY_KEY, percentiles.QUANTILES, top)
        return [Percentiles(row.group, row.count, *row.values) for row in found]
    rows = with_traces(scope, select, params)
    return [Percentiles(key, count, p50, p95, p99) for key, count, p50, p95, p99 in rows]


def _ordered(seconds: str) -> str:
    return ", ".join(
        f"percentile_cont({q}) WITHIN GROUP (ORDER BY {seconds})" for q in ("0.5", "0.95", "0.99")
    )


def latency_by_trace_name(scope: Scope, top: int = TOP) -> list[Percentiles]:
    """Trace latency percentiles for the `top` trace names by number of traces."""
    seconds = SECONDS.format(start="start_time", end="end_time")
    return _percentiles(
        scope,
        # OFFSET 0 keeps the planner from reading the window in trace-name index order (a random
        # heap read per trace: 78 s instead of 5 s at 1.3 M traces, docs/benchmarks.md).
        f"""SELECT name, count(*), {_ordered(seconds)}
            FROM (SELECT name, start_time, end_time FROM t
                  WHERE start_time IS NOT NULL AND end_time IS NOT NULL OFFSET 0) AS window_traces
            GROUP BY name ORDER BY count(*) DESC, name NULLS LAST LIMIT %s""",
        [top],
        percentiles.TRACE,
        top,
    )


def latency_by_model(scope: Scope, top: int = TOP) -> list[Percentiles]:
    """Duration percentiles of the observations that name a model (generations, embeddings, ...)."""
    seconds = SECONDS.format(start="o.start_time", end="o.end_time")
    return _percentiles(
        scope,
        f"""SELECT o.provided_model_name, count(*), {_ordered(seconds)}
            FROM t {OBSERVATIONS}
            WHERE o.provided_model_name IS NOT NULL AND o.end_time IS NOT NULL
            GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s""",
        [scope.project_id, top],
        percentiles.MODEL,
        top,
    )


def time_to_first_token(scope: Scope, top: int = TOP) -> list[Percentiles]:
    """Completion start minus start of generations that report when the first token came."""
    seconds = SECONDS.format(start="o.start_time", end="o.completion_start_time")
    return _percentiles(
        scope,
        f"""SELECT coalesce(o.provided_model_name, '(no model)'), count(*), {_ordered(seconds)}
            FROM t {OBSERVATIONS}
            WHERE o.type = 'GENERATION' AND o.completion_start_time IS NOT NULL
            GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s""",
        [scope.project_id, top],
        percentiles.TTFT,
        top,
    )


@dataclass(frozen=True)
class CostlyTrace:
    id: str
    name: str | None
    user_id: str | None
    session_id: str | None
    timestamp: datetime
    cost: Decimal
    tokens: int
    latency: float | None


def most_expensive_traces(scope: Scope, top: int = TOP) -> list[CostlyTrace]:
    seconds = SECONDS.format(start="start_time", end="end_time")
    rows = with_traces(
        scope,
        f"""SELECT id, name, user_id, session_id, timestamp, total_cost, total_tokens, {seconds}
            FROM t ORDER BY total_cost DESC, timestamp DESC, id LIMIT %s""",
        [top],
    )
    return [
        CostlyTrace(id, name, user, session, timestamp, Decimal(cost), int(tokens), latency)
        for id, name, user, session, timestamp, cost, tokens, latency in rows
    ]
