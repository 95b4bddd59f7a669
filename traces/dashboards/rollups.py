"""Hourly rollups: the dashboard's sums and counts without reading every trace and observation.

One row per key and hour (migrations traces/0010, 0012 and 0014 explain the invariant); every key
leads with the project, the hour of the trace timestamp and the trace's environment:

- dashboard_trace_hours (+ name, release): traces, traces with an error, cost, tokens;
- dashboard_obs_hours (+ model, usage type or NULL for cost): the sum and the number of observations;
- dashboard_user_hours (+ user id) and dashboard_team_hours (+ metadata #>> '{team}', the default
  team key only; another key reads the raw rows): traces, cost, tokens;
- dashboard_score_hours (+ score name): the sum (as numeric) and the number of numeric and boolean
  values, for averages;
- dashboard_score_label_hours (+ score name, label as scores.distribution labels it): scores;
- dashboard_score_prompt_hours (+ score name, prompt name, prompt version): the sum and the number of
  the distinct (score, prompt version) pairs scores.by_prompt_version averages. A score belongs to
  one trace, so its pairs all fall in one hour and the per-hour DISTINCT adds up exactly.
- dashboard_session_hours: traces, cost, tokens of the traces that have a session (sessions.py keeps
  one row per session in dashboard_sessions, refreshed with the hours).

Scores and observations count in their trace's hour. Averages are sum(value::numeric) / count, with
or without the rollups: a float sum depends on the order of its terms, a numeric one does not.

Writers do not maintain them: triggers on traces, observations and scores only mark the (project, hour)
they change in dashboard_dirty_hours, and `refresh` (a thread in `manage.py serve`, or
`manage.py dashboard_rollups --refresh`) recomputes the marked hours from the raw rows. Until then a
marked hour is read from the raw rows.

A query over a window [start, end) reads, in one snapshot, the unmarked whole hours inside it from the
rollups and the rest from the raw traces (`t`): the partial hours at either end and the marked hours,
the way the raw queries do, so every number equals the raw aggregate. Only windows whose filters the
rollups carry (none, or an environment list) use them; any other trace-list filter runs on the raw rows.

Percentiles are not sums: they come from day and hour rollups of the values themselves (percentiles.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from traces.dashboards import percentiles, sessions
from traces.dashboards.base import (
    OBSERVATIONS,
    Scope,
    fetch,
    hour_ranges,
    hours_marked,
    raw_parts,
    team_path,
    whole_hours,
)
from traces.dashboards.period import DEFAULT_TEAM_KEY, TRACE_FILTERS
from traces.list_queries import split_list

HOUR = timedelta(hours=1)
# pg_try_advisory_xact_lock key: one refresh at a time, across processes and replicas.
REFRESH_LOCK = 0x64617368  # "dash"
# Marked hours recomputed per transaction.
REFRESH_CHUNK = 24
# Filters the rollups carry (their key holds the trace's environment).
ROLLUP_FILTERS = {"environment"}


@dataclass(frozen=True)
class Span:
    """The whole hours [start, end) of a window, read from the rollups."""

    start: datetime
    end: datetime
    environments: list[str]
    dirty: tuple[datetime, ...] = ()

    def raw_ranges(self) -> list[tuple[datetime, datetime]]:
        return hour_ranges(self.dirty)


def span_of(scope: Scope) -> Span | None:
    """The rollup part of the scope's window, or None when the raw rows must answer."""
    if any(scope.filters.get(name) for name in TRACE_FILTERS if name not in ROLLUP_FILTERS):
        return None
    first, last = whole_hours(scope.period.start, scope.period.end)
    if first >= last:
        return None
    environments = split_list(scope.filters.get("environment"))
    return Span(first, last, environments, hours_marked(scope.project_id, first, last))


@contextmanager
def snapshot() -> Iterator[None]:
    """One snapshot for several queries, so the marked hours, the rollups and the raw rows agree
    while writers and refreshes go on (inside a transaction already, that transaction's rules hold)."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def with_edges(
    scope: Scope, span: Span, body: str, params: list[Any], *, team: bool = False, observations: bool = False
) -> list[tuple]:
    """Run `body` with the traces the rollups do not answer for as the CTE `t`: those of the
    window's partial hours and of the marked hours (with their `team` column when asked).

    With observations, `body` also gets the CTE `tobs`: the timestamp of each of those traces with
    its observations (EDGE_COLUMNS), read range by range as base.OBSERVATIONS reads a window (an
    index-only scan of obs_dashboard bounded by the range's traces), never across the gap between
    the window's two edges."""
    ranges = [(scope.period.start, span.start), *span.raw_ranges(), (span.end, scope.period.end)]
    sqls, raw_params = raw_parts(scope, ranges, team=team)
    names = [f"t{i}" for i in range(len(sqls))]
    ctes = [f"{name} AS ({sql})" for name, sql in zip(names, sqls, strict=True)]
    union = " UNION ALL ".join(f"SELECT * FROM {name}" for name in names)
    sql = f"WITH {', '.join(ctes)}, t AS ({union})"
    obs_params = []
    if observations:
        joined = " UNION ALL ".join(
            f"SELECT t.timestamp, {EDGE_COLUMNS} FROM {name} AS t "
            + OBSERVATIONS.replace("FROM t)", f"FROM {name})")
            for name in names
        )
        sql += f", tobs AS ({joined})"
        obs_params = [scope.project_id] * len(names)
    return fetch(f"{sql} {body}", [*raw_params, *obs_params, *params])


def where(span: Span, project_id: str) -> tuple[str, list[Any]]:
    """The rollup rows of the span (alias r) but the marked hours'."""
    sql = "r.project_id = %s AND r.hour >= %s AND r.hour < %s"
    params: list[Any] = [project_id, span.start, span.end]
    if span.dirty:
        sql += " AND r.hour <> ALL(%s)"
        params.append(list(span.dirty))
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


def team_rolled_up(scope: Scope) -> bool:
    """Whether the scope's team key is the one dashboard_team_hours carries."""
    return team_path(scope.team_key) == team_path(DEFAULT_TEAM_KEY)


def grouped_traces(
    scope: Scope, span: Span, column: str, where_key: str, table: str = "dashboard_trace_hours"
) -> tuple[str, list[Any]]:
    """SQL of (key, cost, traces, tokens) per trace `column` over the window, for breakdowns; the
    rollup `table` has a column of the same name."""
    rollup, params = where(span, scope.project_id)
    sql = f"""SELECT key, sum(cost) AS cost, sum(n) AS traces, sum(tokens) AS tokens
              FROM (SELECT r.{column} AS key, r.cost, r.traces AS n, r.tokens FROM {table} r
                    WHERE {rollup}
                    UNION ALL
                    SELECT {column}, total_cost, 1, total_tokens FROM t) AS x
              {where_key} GROUP BY key HAVING sum(n) > 0"""
    return sql, params


# The observation columns of `tobs` (see with_edges).
EDGE_COLUMNS = "o.provided_model_name, o.total_cost, o.usage_details"


def cost_by_model(scope: Scope, span: Span, no_model: str) -> list[tuple]:
    """(bucket, model, cost) rows, models of observations that have a cost."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT date_trunc(%s, at, 'UTC'), coalesce(model, %s), sum(amount)
            FROM (SELECT r.hour AS at, r.model, r.amount, r.observations AS n FROM dashboard_obs_hours r
                  WHERE {rollup} AND r.usage_key IS NULL
                  UNION ALL
                  SELECT o.timestamp, o.provided_model_name, o.total_cost, 1 FROM tobs o
                  WHERE o.total_cost IS NOT NULL) AS x
            GROUP BY 1, 2 HAVING sum(n) > 0""",
        [scope.period.bucket, no_model, *params],
        observations=True,
    )


def tokens_by_usage_type(scope: Scope, span: Span) -> list[tuple]:
    """(bucket, usage type, amount) rows of numeric usage values but `total`."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT date_trunc(%s, at, 'UTC'), key, sum(amount)
            FROM (SELECT r.hour AS at, r.usage_key AS key, r.amount, r.observations AS n
                  FROM dashboard_obs_hours r WHERE {rollup} AND r.usage_key IS NOT NULL
                  UNION ALL
                  SELECT o.timestamp, u.key, u.value::numeric, 1 FROM tobs o
                  CROSS JOIN LATERAL jsonb_each(o.usage_details) AS u(key, value)
                  WHERE o.usage_details <> '{{}}'::jsonb AND jsonb_typeof(u.value) = 'number'
                        AND u.key <> 'total') AS x
            GROUP BY 1, 2 HAVING sum(n) > 0""",
        [scope.period.bucket, *params],
        observations=True,
    )


# Scores of the traces in `t` (the one parameter is the project id).
SCORES = "JOIN scores s ON s.project_id = %s AND s.trace_id = t.id"
# The same for the few raw traces of a rollup read (edge and marked hours), trace by trace through the
# score_trace index: as a join the planner hashes the whole scores table (24 h ending mid-hour: 0.5 s).
EDGE_SCORES = """CROSS JOIN LATERAL (
    SELECT s0.id, s0.project_id, s0.trace_id, s0.observation_id, s0.name, s0.value, s0.string_value,
           s0.data_type FROM scores s0 WHERE s0.project_id = %s AND s0.trace_id = t.id OFFSET 0) AS s"""
# Values that have an average: numeric and boolean scores (booleans as 0/1).
AVERAGED = "s.value IS NOT NULL AND s.data_type <> 'CATEGORICAL'"
# The label scores.distribution counts a score under.
SCORE_LABEL = """CASE WHEN s.data_type = 'CATEGORICAL' THEN coalesce(s.string_value, '(none)')
                      WHEN s.data_type = 'BOOLEAN' THEN CASE WHEN s.value = 1 THEN 'true' ELSE 'false' END
                      ELSE coalesce(round(s.value::numeric, 2)::text, '(none)') END"""
# The distinct (score, prompt version) pairs of scores.by_prompt_version, over `t` joined to scores.
PROMPT_PAIRS = """JOIN observations o ON o.project_id = s.project_id AND o.trace_id = s.trace_id
                      AND o.prompt_name IS NOT NULL AND o.prompt_version IS NOT NULL
                      AND (s.observation_id IS NULL OR o.id = s.observation_id)"""


def score_averages(scope: Scope, span: Span) -> list[tuple]:
    """(bucket, score name, numeric average) rows."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT date_trunc(%s, at, 'UTC'), name, sum(total) / sum(n)
            FROM (SELECT r.hour AS at, r.name, r.value_sum AS total, r.scores AS n
                  FROM dashboard_score_hours r WHERE {rollup}
                  UNION ALL
                  SELECT t.timestamp, s.name, s.value::numeric, 1 FROM t {EDGE_SCORES} WHERE {AVERAGED}) AS x
            GROUP BY 1, 2 HAVING sum(n) > 0""",
        [scope.period.bucket, *params, scope.project_id],
    )


def score_labels(scope: Scope, span: Span) -> list[tuple]:
    """(score name, label, count) rows, ordered as scores.distribution orders them."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT name, label, sum(n)
            FROM (SELECT r.name, r.label, r.scores AS n FROM dashboard_score_label_hours r WHERE {rollup}
                  UNION ALL
                  SELECT s.name, {SCORE_LABEL}, 1 FROM t {EDGE_SCORES}) AS x
            GROUP BY 1, 2 HAVING sum(n) > 0 ORDER BY 1, 3 DESC, 2""",
        [*params, scope.project_id],
    )


def scores_by_prompt(scope: Scope, span: Span) -> list[tuple]:
    """(score name, prompt, version, numeric average, count) rows."""
    rollup, params = where(span, scope.project_id)
    return with_edges(
        scope,
        span,
        f"""SELECT name, prompt_name, prompt_version, sum(total) / sum(n), sum(n)
            FROM (SELECT r.name, r.prompt_name, r.prompt_version, r.value_sum AS total, r.scores AS n
                  FROM dashboard_score_prompt_hours r WHERE {rollup}
                  UNION ALL
                  SELECT name, prompt_name, prompt_version, value::numeric, 1
                  FROM (SELECT DISTINCT s.id, s.name, s.value, o.prompt_name, o.prompt_version
                        FROM t {EDGE_SCORES} {SCORE_PROMPTS} WHERE {AVERAGED}) AS linked) AS x
            GROUP BY 1, 2, 3 HAVING sum(n) > 0 ORDER BY 1, 2, 3""",
        [*params, scope.project_id],
    )


# Maintenance: refresh, rebuild and the consistency check (manage.py dashboard_rollups).

# The raw GROUP BYs the rollups hold, over the traces of the (project, hour) pairs in `h`.
HOURS = "SELECT * FROM unnest(%s::varchar[], %s::timestamptz[]) AS h(project_id, hour)"
# The traces of each hour and the observations of each trace, as LATERAL subqueries (OFFSET 0 keeps
# them apart) so each is an index range scan: as plain joins the planner cannot size the hours and
# hash-joins whole tables (1 marked hour at 10.8 M observations: 14 s as joins, 0.03 s so).
HOUR_TRACES = """FROM h CROSS JOIN LATERAL (
    SELECT t0.project_id, t0.id, t0.environment, t0.name, t0.release, t0.user_id, t0.metadata,
           t0.error_count, t0.total_cost, t0.total_tokens, t0.session_id
    FROM traces t0 WHERE t0.project_id = h.project_id AND t0.timestamp >= h.hour
         AND t0.timestamp < h.hour + interval '1 hour' OFFSET 0) AS t"""
TRACE_OBSERVATIONS = """CROSS JOIN LATERAL (
    SELECT o0.provided_model_name, o0.total_cost, o0.usage_details FROM observations o0
    WHERE o0.project_id = t.project_id AND o0.trace_id = t.id OFFSET 0) AS o"""
HOUR_SCORES = "JOIN scores s ON s.project_id = t.project_id AND s.trace_id = t.id"
# PROMPT_PAIRS per score, as a LATERAL index lookup.
SCORE_PROMPTS = """CROSS JOIN LATERAL (
    SELECT o0.prompt_name, o0.prompt_version FROM observations o0
    WHERE o0.project_id = s.project_id AND o0.trace_id = s.trace_id
          AND o0.prompt_name IS NOT NULL AND o0.prompt_version IS NOT NULL
          AND (s.observation_id IS NULL OR o0.id = s.observation_id) OFFSET 0) AS o"""
RAW_TRACE_HOURS = f"""
SELECT t.project_id, h.hour, t.environment, t.name, t.release, count(*)::numeric,
       count(*) FILTER (WHERE t.error_count > 0)::numeric, sum(t.total_cost), sum(t.total_tokens)::numeric
{HOUR_TRACES}
GROUP BY 1, 2, 3, 4, 5"""
RAW_OBS_HOURS = f"""
SELECT t.project_id, h.hour, t.environment, o.provided_model_name, NULL, sum(o.total_cost), count(*)::numeric
{HOUR_TRACES} {TRACE_OBSERVATIONS}
WHERE o.total_cost IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT t.project_id, h.hour, t.environment, o.provided_model_name, u.key, sum(u.value::numeric), count(*)::numeric
{HOUR_TRACES} {TRACE_OBSERVATIONS}
CROSS JOIN LATERAL jsonb_each(o.usage_details) AS u(key, value)
WHERE o.usage_details <> '{{}}'::jsonb AND jsonb_typeof(u.value) = 'number' AND u.key <> 'total'
GROUP BY 1, 2, 3, 4, 5"""
# Every (project, hour) that has traces, as `h` for a whole rebuild or check.
ALL_HOURS = "SELECT DISTINCT project_id, date_trunc('hour', timestamp, 'UTC') AS hour FROM traces {where}"
RAW_USER_HOURS = f"""
SELECT t.project_id, h.hour, t.environment, t.user_id, count(*), sum(t.total_cost), sum(t.total_tokens)
{HOUR_TRACES} GROUP BY 1, 2, 3, 4"""
# The default team key only (period.DEFAULT_TEAM_KEY, see team_rolled_up).
RAW_TEAM_HOURS = f"""
SELECT t.project_id, h.hour, t.environment, t.metadata #>> '{{team}}', count(*), sum(t.total_cost),
       sum(t.total_tokens)
{HOUR_TRACES} GROUP BY 1, 2, 3, 4"""
RAW_SCORE_HOURS = f"""
SELECT t.project_id, h.hour, t.environment, s.name, sum(s.value::numeric), count(*)
{HOUR_TRACES} {HOUR_SCORES} WHERE {AVERAGED} GROUP BY 1, 2, 3, 4"""
RAW_SCORE_LABEL_HOURS = f"""
SELECT t.project_id, h.hour, t.environment, s.name, {SCORE_LABEL}, count(*)
{HOUR_TRACES} {HOUR_SCORES} GROUP BY 1, 2, 3, 4, 5"""
RAW_SCORE_PROMPT_HOURS = f"""
SELECT project_id, hour, environment, name, prompt_name, prompt_version, sum(value::numeric), count(*)
FROM (SELECT DISTINCT t.project_id, h.hour, t.environment, s.id, s.name, s.value, o.prompt_name, o.prompt_version
      {HOUR_TRACES} {HOUR_SCORES} {SCORE_PROMPTS} WHERE {AVERAGED}) AS linked
GROUP BY 1, 2, 3, 4, 5, 6"""

# Traces that have a session, for the "all others" row of the top sessions (sessions.py).
RAW_SESSION_HOURS = f"""
SELECT t.project_id, h.hour, t.environment, count(*), sum(t.total_cost), sum(t.total_tokens)::numeric
{HOUR_TRACES} WHERE t.session_id IS NOT NULL GROUP BY 1, 2, 3"""


@dataclass(frozen=True)
class Rollup:
    """A rollup table: the SELECT of its rows from the raw rows, and how many columns lead as its key
    (the rest are the sums); the columns are in the table's order."""

    raw_sql: str
    key_columns: int


TABLES = {
    "dashboard_trace_hours": Rollup(RAW_TRACE_HOURS, 5),
    "dashboard_obs_hours": Rollup(RAW_OBS_HOURS, 5),
    "dashboard_user_hours": Rollup(RAW_USER_HOURS, 4),
    "dashboard_team_hours": Rollup(RAW_TEAM_HOURS, 4),
    "dashboard_score_hours": Rollup(RAW_SCORE_HOURS, 4),
    "dashboard_score_label_hours": Rollup(RAW_SCORE_LABEL_HOURS, 5),
    "dashboard_score_prompt_hours": Rollup(RAW_SCORE_PROMPT_HOURS, 6),
    "dashboard_session_hours": Rollup(RAW_SESSION_HOURS, 3),
}
# The tables whose rows the rollups are computed from (a rebuild holds their writers back).
SOURCES = "traces, observations, scores"


def refresh(*, settled_only: bool = True) -> int:
    """Recompute the rollup rows of the marked hours from the raw rows; the number of hours.

    With settled_only, the current hour and later ones stay marked (read raw): under steady
    ingestion they change all the time, and recomputing them on every round would cost more than
    reading them. Their duplicate markers are folded to one. One refresh runs at a time.
    """
    refreshed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [REFRESH_LOCK])
            if not cursor.fetchone()[0]:
                return refreshed
            cutoff = "date_trunc('hour', now(), 'UTC')" if settled_only else "'infinity'::timestamptz"
            # Markers first (their own statement, so the raw rows below are read in a later snapshot:
            # a write committed in between is both counted and still marked, never lost).
            cursor.execute(
                f"""WITH keys AS (SELECT DISTINCT project_id, hour FROM dashboard_dirty_hours
                                 WHERE hour < {cutoff} ORDER BY hour LIMIT %s)
                    DELETE FROM dashboard_dirty_hours d USING keys k
                    WHERE d.project_id = k.project_id AND d.hour = k.hour
                    RETURNING d.project_id, d.hour""",
                [REFRESH_CHUNK],
            )
            keys = sorted(set(cursor.fetchall()))
            if not keys:
                cursor.execute(
                    f"""WITH gone AS (DELETE FROM dashboard_dirty_hours WHERE hour >= {cutoff}
                                      RETURNING project_id, hour)
                        INSERT INTO dashboard_dirty_hours SELECT DISTINCT project_id, hour FROM gone"""
                )
                return refreshed
            projects, hours = [list(column) for column in zip(*keys, strict=True)]
            for table, rollup in TABLES.items():
                cursor.execute(
                    f"DELETE FROM {table} r USING ({HOURS}) AS h "
                    "WHERE r.project_id = h.project_id AND r.hour = h.hour",
                    [projects, hours],
                )
                cursor.execute(f"WITH h AS ({HOURS}) INSERT INTO {table} {rollup.raw_sql}", [projects, hours])
            # The latency values of these hours and days, and the sessions with a trace in them (or
            # that had one).
            percentiles.refresh_units(cursor, projects, hours)
            sessions.refresh_sessions(cursor, projects, hours)
            refreshed += len(keys)


def marked_hours() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT DISTINCT project_id, hour FROM dashboard_dirty_hours) AS d"
        )
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class Mismatch:
    table: str
    key: tuple
    raw: tuple | None
    rollup: tuple | None


def check(project_id: str | None = None) -> list[Mismatch]:
    """Every rollup key of the unmarked hours against a GROUP BY over their raw rows, in one
    snapshot; [] when they agree. (Marked hours are read raw, so they cannot disagree.)"""
    where = "WHERE project_id = %s" if project_id else ""
    params = [project_id] if project_id else []
    found: list[Mismatch] = []
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # one snapshot for both sides while writers go on
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(f"SELECT DISTINCT project_id, hour FROM dashboard_dirty_hours {where}", params)
        dirty = set(cursor.fetchall())
        hours = f"({ALL_HOURS.format(where=where)} UNION SELECT project_id, hour FROM {{table}} {where})"
        for table, rollup in TABLES.items():
            keys = rollup.key_columns
            cursor.execute(f"WITH h AS {hours.format(table=table)} {rollup.raw_sql}", params * 2)
            raw = {tuple(row[:keys]): tuple(row[keys:]) for row in cursor.fetchall()}
            cursor.execute(f"SELECT * FROM {table} {where}", params)
            rolled = {tuple(row[:keys]): tuple(row[keys:]) for row in cursor.fetchall()}
            for key in sorted(raw.keys() | rolled.keys(), key=repr):
                if key[:2] not in dirty and raw.get(key) != rolled.get(key):
                    found.append(Mismatch(table, key, raw.get(key), rolled.get(key)))
        found += sessions.check_sessions(cursor, project_id, dirty)
        if project_id:
            projects = [project_id]
        else:
            cursor.execute(
                "SELECT project_id FROM traces UNION SELECT project_id FROM dashboard_latency_hours "
                "UNION SELECT project_id FROM dashboard_latency_days"
            )
            projects = [row[0] for row in cursor.fetchall()]
        for project in projects:
            found += [
                Mismatch(table, (project, *key), None, None)
                for table, *key in percentiles.check(cursor, project)
            ]
    return found


def rebuild() -> None:
    """Recompute every rollup from the raw rows, holding writers back while it runs."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {SOURCES} IN SHARE MODE")
        cursor.execute("DELETE FROM dashboard_dirty_hours")
        for table, rollup in TABLES.items():
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(f"WITH h AS ({ALL_HOURS.format(where='')}) INSERT INTO {table} {rollup.raw_sql}")
        percentiles.rebuild(cursor)
        sessions.rebuild_sessions(cursor)
