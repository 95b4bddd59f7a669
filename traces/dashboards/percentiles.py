"""Exact latency percentiles from daily rollups of the sorted values.

percentile_cont needs every value, not a sum, so the rollup keeps the values themselves:
dashboard_latency_days (migration traces/0015) holds, per (project, day of the trace timestamp,
kind, trace environment, key, bucket), the number of values and the values sorted. The kinds:

- 'trace': key = trace name, value = trace latency (both times set);
- 'model': key = observation model, value = observation duration (model and end time set);
- 'ttft': key = coalesce(model, '(no model)'), value = completion start minus start of generations
  that have a completion start.

Observations count in their trace's day and environment, as everywhere on the dashboard. The bucket
is a fixed log-scale range of the value (ratio RATIO from 1 ms, smaller and negative values in 0),
monotonic in the value: sorting by (bucket, value) sorts by value.

A percentile over a window is found the way percentile_cont finds it (orderedsetaggs.c): with n
values, pos = p * (n - 1), the values of ranks floor(pos) and ceil(pos) in order, interpolated by
pos - floor(pos). One query counts the values per bucket (rollup rows of the window's clean whole
days plus the raw rows of the rest: partial days at the edges and days with a marked hour), which
gives each group's n and the bucket holding each rank; a second query sorts only the values of those
buckets, picks the ranks and interpolates them with percentile_cont itself over the one or two
values, so the float arithmetic is PostgreSQL's own.

The rows of a day are valid while none of its hours is marked in dashboard_dirty_hours: rollups.refresh
calls `refresh_days` for the days of the hours it refreshed, which recomputes a day once its last
marker is gone (the current day stays marked, hence raw).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from traces.dashboards.base import OBSERVATIONS, SECONDS, Scope, fetch
from traces.dashboards.period import TRACE_FILTERS, Period
from traces.list_queries import split_list

DAY = timedelta(days=1)
# Filters the day rows carry (their key holds the trace's environment).
FILTERS = {"environment"}
NO_MODEL = "(no model)"
# Bucket width ratio: each bucket covers [1 ms * RATIO**(b-1), 1 ms * RATIO**b).
RATIO = 1.02


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
MODEL = Kind(
    "model",
    "o.provided_model_name",
    f"SELECT {{g}} AS g, {OBS_SECONDS} AS v FROM t {OBSERVATIONS} WHERE {MODEL_WHERE}",
    True,
)
TTFT = Kind(
    "ttft", TTFT_KEY, f"SELECT {{g}} AS g, {TTFT_SECONDS} AS v FROM t {OBSERVATIONS} WHERE {TTFT_WHERE}", True
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
    """Per date_trunc(size) bucket of the trace timestamp; size is day or week."""
    return Grouping(
        "date_trunc(%s, r.day, 'UTC')",
        "date_trunc(%s, t.timestamp, 'UTC')",
        "timestamptz",
        "'epoch'::timestamptz",
        (size,),
    )


@dataclass(frozen=True)
class Days:
    """The whole days [start, end) of a window read from the rollup, but the marked ones."""

    start: datetime
    end: datetime
    environments: list[str]
    dirty: tuple[datetime, ...] = ()

    def raw_ranges(self) -> list[tuple[datetime, datetime]]:
        ranges: list[tuple[datetime, datetime]] = []
        for day in self.dirty:
            if ranges and ranges[-1][1] == day:
                ranges[-1] = (ranges[-1][0], day + DAY)
            else:
                ranges.append((day, day + DAY))
        return ranges


def floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def days_of(scope: Scope) -> Days | None:
    """The rollup part of the scope's window, or None when the raw rows must answer."""
    if any(scope.filters.get(name) for name in TRACE_FILTERS if name not in FILTERS):
        return None
    start, end = scope.period.start, scope.period.end
    first = floor_day(start) if start == floor_day(start) else floor_day(start) + DAY
    last = floor_day(end)
    if first >= last:
        return None
    rows = fetch(
        "SELECT DISTINCT date_trunc('day', hour, 'UTC') FROM dashboard_dirty_hours "
        "WHERE project_id = %s AND hour >= %s AND hour < %s ORDER BY 1",
        [scope.project_id, first, last],
    )
    return Days(first, last, split_list(scope.filters.get("environment")), tuple(day for (day,) in rows))


def edges(scope: Scope, days: Days) -> tuple[str, list[Any]]:
    """The traces CTE `t` of the rows the day rollup does not answer for."""
    ranges = [(scope.period.start, days.start), *days.raw_ranges(), (days.end, scope.period.end)]
    parts, params = [], []
    for start, end in ranges:
        if start < end or not parts:
            sql, part_params = replace(scope, period=Period(start, end, scope.period.bucket)).traces_sql()
            parts.append(f"({sql})")
            params += part_params
    return f"WITH t AS ({' UNION ALL '.join(parts)})", params


def rollup_where(scope: Scope, days: Days, kind: Kind) -> tuple[str, list[Any]]:
    sql = "r.project_id = %s AND r.kind = %s AND r.day >= %s AND r.day < %s"
    params: list[Any] = [scope.project_id, kind.name, days.start, days.end]
    if days.dirty:
        sql += " AND r.day <> ALL(%s)"
        params.append(list(days.dirty))
    if days.environments:
        sql += " AND r.environment = ANY(%s)"
        params.append(days.environments)
    return sql, params


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
    with_t, t_params = edges(scope, days)
    where, where_params = rollup_where(scope, days, kind)
    raw_group = grouping.raw or kind.key
    raw_values = kind.values.format(g=raw_group)
    raw_params = [*grouping.params, *([scope.project_id] if kind.observations else [])]
    head = f"{with_t}, raw AS ({raw_values})"
    head_params = [*t_params, *raw_params]
    limit = "LIMIT %s" if top is not None else ""
    counted = fetch(
        f"""{head},
        c AS (SELECT g IS NULL AS gnull, coalesce(g, {grouping.zero}) AS gv, b, sum(n)::bigint AS n
              FROM (SELECT {grouping.rollup} AS g, r.bucket AS b, r.n FROM dashboard_latency_days r
                    WHERE {where}
                    UNION ALL
                    SELECT g, {bucket("v")}, 1 FROM raw) AS x
              GROUP BY 1, 2, 3),
        g AS (SELECT gnull, gv, sum(n)::bigint AS total FROM c GROUP BY 1, 2
              ORDER BY total DESC, gnull, gv {limit})
        SELECT c.gnull, c.gv, g.total, c.b, c.n FROM c JOIN g USING (gnull, gv)
        ORDER BY g.total DESC, c.gnull, c.gv, c.b""",
        [*head_params, *grouping.params, *where_params, *([top] if top is not None else [])],
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
                 FROM (SELECT {grouping.rollup} AS g, r.bucket AS b, r.vals, r.cnts FROM dashboard_latency_days r
                       WHERE {where}) AS x
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
            *where_params,
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

DAY_ROWS = f"""
INSERT INTO dashboard_latency_days (project_id, day, kind, environment, key, bucket, n, vals, cnts)
SELECT project_id, day, kind, environment, key, b, sum(c), array_agg(v ORDER BY v), array_agg(c ORDER BY v)
FROM (SELECT project_id, day, kind, environment, key, {bucket("v")} AS b, v, count(*) AS c FROM (
    SELECT t.project_id, d.day, 'trace' AS kind, t.environment, t.name AS key, {TRACE_SECONDS} AS v
    FROM d JOIN traces t ON t.project_id = d.project_id AND t.timestamp >= d.day
                            AND t.timestamp < d.day + interval '1 day'
    WHERE t.start_time IS NOT NULL AND t.end_time IS NOT NULL
    UNION ALL
    SELECT t.project_id, d.day, k.kind, t.environment, k.key, k.v
    FROM d JOIN traces t ON t.project_id = d.project_id AND t.timestamp >= d.day
                            AND t.timestamp < d.day + interval '1 day'
    -- OFFSET 0: an index lookup per trace, not a scan of every observation of the project.
    CROSS JOIN LATERAL (SELECT * FROM observations o WHERE o.project_id = t.project_id AND o.trace_id = t.id
                        OFFSET 0) AS o
    CROSS JOIN LATERAL (VALUES
        ('model', o.provided_model_name, CASE WHEN {MODEL_WHERE} THEN {OBS_SECONDS} END),
        ('ttft', {TTFT_KEY}, CASE WHEN {TTFT_WHERE} THEN {TTFT_SECONDS} END)) AS k(kind, key, v)
    WHERE ({MODEL_WHERE}) OR ({TTFT_WHERE})
) AS x
WHERE v IS NOT NULL
GROUP BY project_id, day, kind, environment, key, b, v) AS y
GROUP BY project_id, day, kind, environment, key, b"""
# Every (project, day) that has traces, as `d`.
ALL_DAYS = "SELECT DISTINCT project_id, date_trunc('day', timestamp, 'UTC') AS day FROM traces"


def refresh_days(cursor, projects: list[str], hours: list[datetime]) -> None:
    """Recompute the days of these (project, hour) pairs that no longer have a marked hour; inside
    the refresh's transaction, after its marker DELETE (a day still marked stays read raw)."""
    cursor.execute(
        """SELECT DISTINCT h.project_id, date_trunc('day', h.hour, 'UTC') AS day
           FROM unnest(%s::varchar[], %s::timestamptz[]) AS h(project_id, hour)
           WHERE NOT EXISTS (SELECT 1 FROM dashboard_dirty_hours m WHERE m.project_id = h.project_id
                             AND m.hour >= date_trunc('day', h.hour, 'UTC')
                             AND m.hour < date_trunc('day', h.hour, 'UTC') + interval '1 day')""",
        [projects, hours],
    )
    clean = cursor.fetchall()
    if not clean:
        return
    days = [list(column) for column in zip(*clean, strict=True)]
    pairs = "SELECT * FROM unnest(%s::varchar[], %s::timestamptz[]) AS d(project_id, day)"
    cursor.execute(
        f"DELETE FROM dashboard_latency_days r USING ({pairs}) AS d "
        "WHERE r.project_id = d.project_id AND r.day = d.day",
        days,
    )
    cursor.execute(f"WITH d AS ({pairs}) {DAY_ROWS}", days)


def rebuild(cursor) -> None:
    """Every day's rows from the raw rows (writers held back by the caller)."""
    cursor.execute("DELETE FROM dashboard_latency_days")
    cursor.execute(f"WITH d AS ({ALL_DAYS}) {DAY_ROWS}")


def check(cursor, project_id: str) -> list[tuple]:
    """The (day, kind, environment, key, bucket) rows of unmarked days that differ from the raw
    rows; [] when they agree (call inside one snapshot)."""
    cursor.execute(
        f"""CREATE TEMP TABLE latency_days_check (LIKE dashboard_latency_days) ON COMMIT DROP;
            WITH d AS ({ALL_DAYS} WHERE project_id = %s)
            {DAY_ROWS.replace("INSERT INTO dashboard_latency_days", "INSERT INTO latency_days_check")}""",
        [project_id],
    )
    cursor.execute(
        """SELECT coalesce(a.day, b.day), coalesce(a.kind, b.kind), coalesce(a.environment, b.environment),
                  coalesce(a.key, b.key), coalesce(a.bucket, b.bucket)
           FROM (SELECT * FROM dashboard_latency_days WHERE project_id = %s) a
           FULL JOIN latency_days_check b
           ON a.day = b.day AND a.kind = b.kind AND a.environment = b.environment
              AND a.key IS NOT DISTINCT FROM b.key AND a.bucket = b.bucket
           WHERE (a.n, a.vals, a.cnts) IS DISTINCT FROM (b.n, b.vals, b.cnts)
             AND NOT EXISTS (SELECT 1 FROM dashboard_dirty_hours m WHERE m.project_id = %s
                             AND date_trunc('day', m.hour, 'UTC') = coalesce(a.day, b.day))""",
        [project_id, project_id],
    )
    found = cursor.fetchall()
    cursor.execute("DROP TABLE latency_days_check")
    return found
