"""Exact latency percentiles from rollups of the values themselves.

percentile_cont needs every value, not a sum, so the rollups keep the values: dashboard_latency_days
and dashboard_latency_hours (migrations traces/0015, 0017, 0018) hold, per (project, day or hour of
the trace timestamp, kind, trace environment, key, bucket), the distinct values sorted (vals), how
many rows have each (cnts) and their total (n). The kinds:

- 'trace': key = trace name, value = trace latency (both times set);
- 'model': key = observation model, value = observation duration (model and end time set);
- 'ttft': key = coalesce(model, '(no model)'), value = completion start minus start of generations
  that have a completion start.

Observations count in their trace's day and environment, as everywhere on the dashboard. The bucket
is a fixed log-scale range of the value (ratio RATIO from 1 ms, smaller and negative values in 0),
monotonic in the value: ordering by (bucket, value) orders by value.

A percentile over a window is found the way percentile_cont finds it (orderedsetaggs.c): with n
values, pos = p * (n - 1), the values of ranks floor(pos) and ceil(pos) in order, interpolated by
pos - floor(pos). One query counts the values per bucket, which gives each group's n and the bucket
holding each rank; a second one merges the distinct values of just those buckets, finds the ranks by
running sums of their counts and interpolates with percentile_cont itself over the one or two values,
so the float arithmetic is PostgreSQL's own. Both read the day rows of the window's whole days
without a marked hour, the hour rows of its other unmarked whole hours (every hour, for hour
buckets), and the raw rows of the rest: the partial hours at the edges and the marked hours.

Hour rows are valid while their hour is not marked in dashboard_dirty_hours, day rows while none of
their hours is: rollups.refresh calls `refresh_units` with the hours it refreshes, which recomputes
those hours and the days among theirs that no longer have a marked hour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction

from traces.dashboards.base import (
    OBSERVATIONS,
    SECONDS,
    Scope,
    fetch,
    hour_ranges,
    hours_marked,
    raw_parts,
    whole_hours,
)
from traces.dashboards.period import TRACE_FILTERS
from traces.list_queries import split_list

DAY = timedelta(days=1)
# Filters the day rows carry (their key holds the trace's environment).
FILTERS = {"environment"}
NO_MODEL = "(no model)"
# Bucket width ratio: each bucket covers [1 ms * RATIO**(b-1), 1 ms * RATIO**b).
RATIO = 1.02
# The percentiles the charts show: p50, p95, p99.
QUANTILES = (0.5, 0.95, 0.99)


def bucket(value: str) -> str:
    """SQL of the bucket of a float8 value (NaN and infinity in the last one)."""
    return (
        f"(CASE WHEN {value} < 0.001 THEN 0 "
        f"ELSE least(32000, 1 + floor(ln({value} * 1000) / ln({RATIO}))) END)::smallint"
    )


@dataclass(frozen=True)
class Kind:
    name: str
    key: str  # the group key of a raw row
    values: str  # SELECT {g} AS g, <seconds> AS v over the traces CTE `t`; {g} the group expression
    observations: bool  # values needs the project id (the observations join)


TRACE_SECONDS = SECONDS.format(start="t.start_time", end="t.end_time")
OBS_SECONDS = SECONDS.format(start="o.start_time", end="o.end_time")
TTFT_SECONDS = SECONDS.format(start="o.start_time", end="o.completion_start_time")
MODEL_WHERE = "o.provided_model_name IS NOT NULL AND o.end_time IS NOT NULL"
TTFT_WHERE = "o.type = 'GENERATION' AND o.completion_start_time IS NOT NULL"
TTFT_KEY = f"coalesce(o.provided_model_name, '{NO_MODEL}')"

TRACE = Kind(
    "trace",
    "t.name",
    f"SELECT {{g}} AS g, {TRACE_SECONDS} AS v FROM t WHERE t.start_time IS NOT NULL AND t.end_time IS NOT NULL",
    False,
)
# The observations of the raw traces in `t`, per contiguous range of the window (`t` is the union of
# the ranges `t0`, `t1`, ...): base.OBSERVATIONS bounds a range scan by the span of its traces, and
# the span of the window's two edges together is the whole window.
MODEL = Kind(
    "model",
    "o.provided_model_name",
    f"SELECT {{g}} AS g, {OBS_SECONDS} AS v FROM t {OBSERVATIONS} WHERE {MODEL_WHERE}",
    True,
)
TTFT = Kind(
    "ttft",
    TTFT_KEY,
    f"SELECT {{g}} AS g, {TTFT_SECONDS} AS v FROM t {OBSERVATIONS} WHERE {TTFT_WHERE}",
    True,
)


@dataclass(frozen=True)
class Grouping:
    """What a percentile is taken over: a rollup row's and a raw row's group, of one SQL type."""

    rollup: str
    raw: str | None  # None: the kind's key
    sql_type: str
    zero: str  # stands for NULL in joins (a NULL group is (true, zero))
    params: tuple = ()  # of `rollup` and of `raw` each


BY_KEY = Grouping("r.key", None, "text", "''")
WHOLE = Grouping("NULL::text", "NULL::text", "text", "''")


def by_time(size: str) -> Grouping:
    """Per date_trunc(size) bucket of the trace timestamp (hour, day or week)."""
    return Grouping(
        "date_trunc(%s, r.at, 'UTC')",
        "date_trunc(%s, t.timestamp, 'UTC')",
        "timestamptz",
        "'epoch'::timestamptz",
        (size,),
    )


@dataclass(frozen=True)
class Days:
    """The part of a window the rollups answer for: the whole hours [start, end), of which the whole
    days [day_start, day_end) without a marked hour come from the day rows, the other unmarked hours
    from the hour rows; the marked hours and the partial hours at the edges are read raw."""

    start: datetime
    end: datetime
    day_start: datetime
    day_end: datetime
    environments: list[str]
    marked: tuple[datetime, ...] = ()

    @property
    def dirty_days(self) -> list[datetime]:
        return sorted({floor_day(hour) for hour in self.marked if self.day_start <= hour < self.day_end})

    def raw_ranges(self) -> list[tuple[datetime, datetime]]:
        return hour_ranges(self.marked)


def floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def days_of(scope: Scope, *, whole_days: bool = True) -> Days | None:
    """The rollup part of the scope's window, or None when the raw rows must answer. Without
    whole_days (hour buckets) every hour comes from the hour rows."""
    if any(scope.filters.get(name) for name in TRACE_FILTERS if name not in FILTERS):
        return None
    first, last = whole_hours(scope.period.start.astimezone(UTC), scope.period.end.astimezone(UTC))
    if first >= last:
        return None
    day_start = floor_day(first) if first == floor_day(first) else floor_day(first) + DAY
    day_end = floor_day(last)
    if not whole_days or day_start >= day_end:
        day_start = day_end = first
    environments = split_list(scope.filters.get("environment"))
    return Days(first, last, day_start, day_end, environments, hours_marked(scope.project_id, first, last))


def edges(scope: Scope, days: Days) -> tuple[list[str], list[Any]]:
    """The traces the rollups do not answer for, one SELECT per contiguous range of the window."""
    ranges = [(scope.period.start, days.start), *days.raw_ranges(), (days.end, scope.period.end)]
    return raw_parts(scope, ranges)


def raw_values(parts: list[str], kind: Kind, grouping: Grouping, project_id: str) -> tuple[str, list[Any]]:
    """WITH the ranges t0, t1, ..., their union t and the raw (g, v) rows as `raw`."""
    ranges = ", ".join(f"t{i} AS ({sql})" for i, sql in enumerate(parts))
    union = " UNION ALL ".join(f"SELECT * FROM t{i}" for i in range(len(parts)))
    values = kind.values.format(g=grouping.raw or kind.key)
    params = [*grouping.params, *([project_id] if kind.observations else [])]
    if kind.observations:  # the observations joined range by range (see OBSERVATIONS)
        values = " UNION ALL ".join(f"(WITH t AS (SELECT * FROM t{i}) {values})" for i in range(len(parts)))
        params = params * len(parts)
    return f"WITH {ranges}, t AS ({union}), raw AS ({values})", params


def rollup_rows(scope: Scope, days: Days, kind: Kind) -> tuple[str, list[Any]]:
    """The rollup rows of the window as the subquery `r` (at, key, bucket, n, vals, cnts): day rows
    of the clean whole days, hour rows of the other unmarked whole hours."""
    environment = " AND r.environment = ANY(%s)" if days.environments else ""
    env_params = [days.environments] if days.environments else []
    columns = "r.key, r.bucket, r.n, r.vals, r.cnts"
    dirty_days = days.dirty_days
    parts = [
        f"""SELECT r.day AS at, {columns} FROM dashboard_latency_days r
            WHERE r.project_id = %s AND r.kind = %s AND r.day >= %s AND r.day < %s
                  AND r.day <> ALL(%s){environment}"""
    ]
    params: list[Any] = [scope.project_id, kind.name, days.day_start, days.day_end, dirty_days, *env_params]
    # Hours outside the clean days, one index range each: the edges and the marked days.
    hours: list[tuple[datetime, datetime]] = []
    for start, end in sorted(
        [(days.start, days.day_start), (days.day_end, days.end)] + [(d, d + DAY) for d in dirty_days]
    ):
        if start >= end:
            continue
        if hours and hours[-1][1] >= start:
            hours[-1] = (hours[-1][0], max(end, hours[-1][1]))
        else:
            hours.append((start, end))
    for start, end in hours:
        parts.append(
            f"""SELECT r.hour, {columns} FROM dashboard_latency_hours r
                WHERE r.project_id = %s AND r.kind = %s AND r.hour >= %s AND r.hour < %s
                      AND r.hour <> ALL(%s){environment}"""
        )
        params += [scope.project_id, kind.name, start, end, list(days.marked), *env_params]
    return f"({' UNION ALL '.join(parts)}) AS r", params


@dataclass(frozen=True)
class Result:
    group: Any  # the key (None for NULL), the time bucket, or None for the whole window
    count: int
    values: list[float]  # one per percentile asked


def exact(
    scope: Scope,
    days: Days,
    kind: Kind,
    grouping: Grouping,
    percentiles: Sequence[float],
    top: int | None = None,
) -> list[Result]:
    """percentile_cont of each group's values, groups by number of values (then group) descending.

    Equal to percentile_cont over the raw rows of the window: the values are the same, and the
    ranks, the values at them and the interpolation are computed as PostgreSQL computes them."""
    parts, t_params = edges(scope, days)
    rows_sql, rows_params = rollup_rows(scope, days, kind)
    head, raw_params = raw_values(parts, kind, grouping, scope.project_id)
    head_params = [*t_params, *raw_params]
    limit = "LIMIT %s" if top is not None else ""
    counted = fetch(
        f"""{head},
        c AS (SELECT g IS NULL AS gnull, coalesce(g, {grouping.zero}) AS gv, b, sum(n)::bigint AS n
              FROM (SELECT {grouping.rollup} AS g, r.bucket AS b, r.n FROM {rows_sql}
                    UNION ALL
                    SELECT g, {bucket("v")}, 1 FROM raw) AS x
              GROUP BY 1, 2, 3),
        g AS (SELECT gnull, gv, sum(n)::bigint AS total FROM c GROUP BY 1, 2
              ORDER BY total DESC, gnull, gv {limit})
        SELECT c.gnull, c.gv, g.total, c.b, c.n FROM c JOIN g USING (gnull, gv)
        ORDER BY g.total DESC, c.gnull, c.gv, c.b""",
        [*head_params, *grouping.params, *rows_params, *([top] if top is not None else [])],
    )
    groups: list[tuple[bool, Any, int, list[tuple[int, int]]]] = []
    for gnull, gv, total, b, n in counted:
        if not groups or groups[-1][:2] != (gnull, gv):
            groups.append((gnull, gv, total, []))
        groups[-1][3].append((b, n))
    if not groups:
        return []
    # The rank(s) each percentile needs, as (bucket, rank inside the bucket), as in
    # orderedsetaggs.c: first_row = floor(p * (n - 1)), second_row = ceil(...), proportion = pos - first_row.
    wants: list[tuple[int, bool, Any, int, int, float]] = []
    for index, (gnull, gv, total, buckets) in enumerate(groups):
        for which, p in enumerate(percentiles):
            pos = p * (total - 1)
            first, second = math.floor(pos), math.ceil(pos)
            proportion = pos - first
            for rank in sorted({first, second}):
                before = 0
                for b, n in buckets:
                    if rank < before + n:
                        wants.append(
                            (index * len(percentiles) + which, gnull, gv, b, rank - before, proportion)
                        )
                        break
                    before += n
    tids, gnulls, gvs, bs, ranks, proportions = (list(column) for column in zip(*wants, strict=True))
    need = sorted({(gnull, gv, b) for _, gnull, gv, b, _, _ in wants}, key=repr)
    picked = fetch(
        f"""{head},
        need AS (SELECT * FROM unnest(%s::boolean[], %s::{grouping.sql_type}[], %s::smallint[])
                 AS n(gnull, gv, b)),
        want AS (SELECT * FROM unnest(%s::int[], %s::boolean[], %s::{grouping.sql_type}[], %s::smallint[],
                                      %s::bigint[], %s::float8[]) AS w(tid, gnull, gv, b, r, proportion)),
        vals AS (SELECT n.gnull, n.gv, n.b, u.v, u.c
                 FROM (SELECT {grouping.rollup} AS g, r.bucket AS b, r.vals, r.cnts FROM {rows_sql}) AS x
                 JOIN need n ON (x.g IS NULL) = n.gnull AND coalesce(x.g, {grouping.zero}) = n.gv AND x.b = n.b
                 CROSS JOIN LATERAL unnest(x.vals, x.cnts) AS u(v, c)
                 UNION ALL
                 SELECT n.gnull, n.gv, n.b, raw.v, 1 FROM raw
                 JOIN need n ON (raw.g IS NULL) = n.gnull AND coalesce(raw.g, {grouping.zero}) = n.gv
                      AND {bucket("raw.v")} = n.b),
        merged AS (SELECT gnull, gv, b, v, sum(c) AS c FROM vals GROUP BY 1, 2, 3, 4),
        ranked AS (SELECT gnull, gv, b, v, c,
                          sum(c) OVER (PARTITION BY gnull, gv, b ORDER BY v) AS upto FROM merged)
        SELECT w.tid, percentile_cont(w.proportion) WITHIN GROUP (ORDER BY k.v)
        FROM want w JOIN ranked k ON k.gnull = w.gnull AND k.gv = w.gv AND k.b = w.b
                                    AND k.upto - k.c <= w.r AND w.r < k.upto
        GROUP BY w.tid, w.proportion""",
        [
            *head_params,
            [gnull for gnull, _, _ in need],
            [gv for _, gv, _ in need],
            [b for _, _, b in need],
            tids,
            gnulls,
            gvs,
            bs,
            ranks,
            proportions,
            *grouping.params,
            *rows_params,
        ],
    )
    found = dict(picked)
    return [
        Result(
            None if gnull else gv,
            total,
            [found[index * len(percentiles) + which] for which in range(len(percentiles))],
        )
        for index, (gnull, gv, total, _) in enumerate(groups)
    ]


# Maintenance: the rows of whole days, recomputed from the raw rows (rollups.refresh and rebuild).


def rows_sql(table: str, unit: str) -> str:
    """INSERT of the rows of `table` (day or hour rows) of the (project_id, at) units in `d`."""
    within = (
        f"t.project_id = d.project_id AND t.timestamp >= d.at AND t.timestamp < d.at + interval '1 {unit}'"
    )
    return f"""
INSERT INTO {table} (project_id, {unit}, kind, environment, key, bucket, n, vals, cnts)
SELECT project_id, at, kind, environment, key, b, sum(c), array_agg(v ORDER BY v), array_agg(c ORDER BY v)
FROM (SELECT project_id, at, kind, environment, key, {bucket("v")} AS b, v, count(*) AS c FROM (
    SELECT t.project_id, d.at, 'trace' AS kind, t.environment, t.name AS key, {TRACE_SECONDS} AS v
    FROM d JOIN traces t ON {within}
    WHERE t.start_time IS NOT NULL AND t.end_time IS NOT NULL
    UNION ALL
    SELECT t.project_id, d.at, k.kind, t.environment, k.key, k.v
    FROM d JOIN traces t ON {within}
    -- OFFSET 0: an index lookup per trace, not a scan of every observation of the project.
    CROSS JOIN LATERAL (SELECT * FROM observations o WHERE o.project_id = t.project_id AND o.trace_id = t.id
                        OFFSET 0) AS o
    CROSS JOIN LATERAL (VALUES
        ('model', o.provided_model_name, CASE WHEN {MODEL_WHERE} THEN {OBS_SECONDS} END),
        ('ttft', {TTFT_KEY}, CASE WHEN {TTFT_WHERE} THEN {TTFT_SECONDS} END)) AS k(kind, key, v)
    WHERE ({MODEL_WHERE}) OR ({TTFT_WHERE})
) AS x
WHERE v IS NOT NULL
GROUP BY project_id, at, kind, environment, key, b, v) AS y
GROUP BY project_id, at, kind, environment, key, b"""


DAY_ROWS = rows_sql("dashboard_latency_days", "day")
HOUR_ROWS = rows_sql("dashboard_latency_hours", "hour")
# Every (project, unit) that has traces, as `d`.
ALL_UNITS = "SELECT DISTINCT project_id, date_trunc('{unit}', timestamp, 'UTC') AS at FROM traces"
TABLES = {"dashboard_latency_days": ("day", DAY_ROWS), "dashboard_latency_hours": ("hour", HOUR_ROWS)}
PAIRS = "SELECT * FROM unnest(%s::varchar[], %s::timestamptz[]) AS d(project_id, at)"


# The day rows of the days in `d` from their hour rows: the distinct values of the day with their
# counts summed, the rows the raw GROUP BY of the day gives (valid when no hour of the day is marked).
DAY_FROM_HOURS = """
INSERT INTO dashboard_latency_days (project_id, day, kind, environment, key, bucket, n, vals, cnts)
SELECT project_id, day, kind, environment, key, bucket, sum(c), array_agg(v ORDER BY v), array_agg(c ORDER BY v)
FROM (SELECT h.project_id, d.at AS day, h.kind, h.environment, h.key, h.bucket, u.v, sum(u.c) AS c
      FROM d JOIN dashboard_latency_hours h ON h.project_id = d.project_id AND h.hour >= d.at
                                              AND h.hour < d.at + interval '1 day'
      CROSS JOIN LATERAL unnest(h.vals, h.cnts) AS u(v, c)
      GROUP BY 1, 2, 3, 4, 5, 6, 7) AS y
GROUP BY project_id, day, kind, environment, key, bucket"""


def refresh_units(cursor, projects: list[str], hours: list[datetime]) -> None:
    """Inside rollups.refresh's transaction, after its marker DELETE: recompute the hour rows of these
    (project, hour) pairs from the raw rows, then the day rows of their days that no longer have a
    marked hour from the hour rows (a day still marked is read from its hours)."""
    delete = (
        "DELETE FROM {table} r USING ({pairs}) AS d WHERE r.project_id = d.project_id AND r.{column} = d.at"
    )
    cursor.execute(
        delete.format(table="dashboard_latency_hours", pairs=PAIRS, column="hour"), [projects, hours]
    )
    cursor.execute(f"WITH d AS ({PAIRS}) {HOUR_ROWS}", [projects, hours])
    cursor.execute(
        """SELECT DISTINCT h.project_id, date_trunc('day', h.hour, 'UTC') AS day
           FROM unnest(%s::varchar[], %s::timestamptz[]) AS h(project_id, hour)
           WHERE NOT EXISTS (SELECT 1 FROM dashboard_dirty_hours m WHERE m.project_id = h.project_id
                             AND m.hour >= date_trunc('day', h.hour, 'UTC')
                             AND m.hour < date_trunc('day', h.hour, 'UTC') + interval '1 day')""",
        [projects, hours],
    )
    if clean := cursor.fetchall():
        days = [list(column) for column in zip(*clean, strict=True)]
        cursor.execute(delete.format(table="dashboard_latency_days", pairs=PAIRS, column="day"), days)
        cursor.execute(f"WITH d AS ({PAIRS}) {DAY_FROM_HOURS}", days)


def rebuild(cursor) -> None:
    """Every day's and hour's rows from the raw rows (writers held back by the caller)."""
    for table, (unit, rows) in TABLES.items():
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"WITH d AS ({ALL_UNITS.format(unit=unit)}) {rows}")


def check(cursor, project_id: str) -> list[tuple]:
    """The (table, day or hour, kind, environment, key, bucket) rows of unmarked days and hours that
    differ from the raw rows; [] when they agree (call inside one snapshot)."""
    with transaction.atomic():  # the temporary table lives until the commit
        return _check(cursor, project_id)


def _check(cursor, project_id: str) -> list[tuple]:
    found = []
    for table, (unit, rows) in TABLES.items():
        cursor.execute(
            f"""CREATE TEMP TABLE latency_check (LIKE {table}) ON COMMIT DROP;
                WITH d AS ({ALL_UNITS.format(unit=unit)} WHERE project_id = %s)
                {rows.replace(f"INSERT INTO {table}", "INSERT INTO latency_check")}""",
            [project_id],
        )
        cursor.execute(
            f"""SELECT %s, coalesce(a.{unit}, b.{unit}), coalesce(a.kind, b.kind),
                       coalesce(a.environment, b.environment), coalesce(a.key, b.key), coalesce(a.bucket, b.bucket)
                FROM (SELECT * FROM {table} WHERE project_id = %s) a
                FULL JOIN latency_check b
                ON a.{unit} = b.{unit} AND a.kind = b.kind AND a.environment = b.environment
                   AND a.key IS NOT DISTINCT FROM b.key AND a.bucket = b.bucket
                WHERE (a.n, a.vals, a.cnts) IS DISTINCT FROM (b.n, b.vals, b.cnts)
                  AND NOT EXISTS (SELECT 1 FROM dashboard_dirty_hours m WHERE m.project_id = %s
                                  AND date_trunc('{unit}', m.hour, 'UTC') = coalesce(a.{unit}, b.{unit}))""",
            [table, project_id, project_id],
        )
        found += cursor.fetchall()
        cursor.execute("DROP TABLE latency_check")
    return found
