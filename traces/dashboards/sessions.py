"""The most expensive sessions of a window without grouping every trace of the window by session.

Two tables, kept by rollups.refresh (migration traces/0019 explains them):

- dashboard_sessions: one row per session over ALL its traces: environment (NULL when its traces have
  several), first and last trace timestamp, traces, cost, tokens. A refresh of marked hours recomputes
  every session that has a trace in them now, or whose row spans one of them (a trace that left it);
- dashboard_session_hours (a rollups.TABLES entry): traces, cost and tokens of the traces that have a
  session, per project, hour and environment: the window's sum, for the "all others" row.

A session's row is exact once no trace of it lies in a marked hour and its row spans no marked hour
(any hour, in the window or not). Otherwise its current traces are a subset of the ones its row
counted, unchanged (each unmarked hour was last refreshed with the session as it is), so with costs
of zero or more its row's cost is still at least its cost now.

The reader walks the rows overlapping the window by cost, highest first, in chunks. It computes a
session's numbers inside the window from the raw traces when its row is not exact, straddles the
window's edges or (under an environment filter) mixes environments. A row's cost bounds its cost
inside the window, so the walk stops at the first row below the 20th cost found. The sessions with a
trace in a marked hour are left out of the walk; each is bounded by the cost of those traces plus its
row's cost, and computed raw, highest bound first, while its bound reaches the 20th cost. PostgreSQL
orders the candidates as the raw query does (cost, then session id in its collation). The "all
others" row is the window's sum of traces with a session minus the top rows.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from traces.dashboards import rollups
from traces.dashboards.base import Scope, fetch, hour_ranges

# The row of session (s.project_id, s.session_id) over all its traces (the trace_session_time index).
SESSION_ROW = """
SELECT CASE WHEN min(t0.environment) = max(t0.environment) THEN min(t0.environment) END,
       min(t0.timestamp), max(t0.timestamp), count(*), sum(t0.total_cost), sum(t0.total_tokens)::numeric
FROM traces t0 WHERE t0.project_id = s.project_id AND t0.session_id = s.session_id"""
SESSION_COLUMNS = "environment, first_ts, last_ts, traces, cost, tokens"
PAIRS = "unnest(%s::varchar[], %s::varchar[]) AS s(project_id, session_id)"
# Sessions with a trace in the (project, hour) pairs of `h`, or whose row spans one of them; both
# LATERAL per hour (as rollups.HOUR_TRACES): joined to `h`, the rows were hash-joined to every session
# row (24 hours at 296k sessions: 1.1 s instead of 0.08 s).
TOUCHED = """
SELECT t.project_id, t.session_id FROM h CROSS JOIN LATERAL (
    SELECT t0.project_id, t0.session_id FROM traces t0
    WHERE t0.project_id = h.project_id AND t0.timestamp >= h.hour AND t0.timestamp < h.hour + interval '1 hour'
          AND t0.session_id IS NOT NULL OFFSET 0) AS t
UNION
SELECT d.project_id, d.session_id FROM h CROSS JOIN LATERAL (
    SELECT d0.project_id, d0.session_id FROM dashboard_sessions d0
    WHERE tstzrange(d0.first_ts, d0.last_ts, '[]') && tstzrange(h.hour, h.hour + interval '1 hour')
          AND d0.project_id = h.project_id OFFSET 0) AS d"""


def refresh_sessions(cursor, projects: list[str], hours: list[datetime]) -> None:
    """Recompute the session rows the marked (project, hour) pairs touch (inside rollups.refresh)."""
    cursor.execute(f"WITH h AS ({rollups.HOURS}) {TOUCHED}", [projects, hours])
    touched = cursor.fetchall()
    if not touched:
        return
    pair = [list(column) for column in zip(*touched, strict=True)]
    cursor.execute(
        f"DELETE FROM dashboard_sessions d USING {PAIRS} "
        "WHERE d.project_id = s.project_id AND d.session_id = s.session_id",
        pair,
    )
    cursor.execute(
        f"""INSERT INTO dashboard_sessions SELECT s.project_id, s.session_id, a.*
            FROM {PAIRS} CROSS JOIN LATERAL ({SESSION_ROW}) AS a({SESSION_COLUMNS}) WHERE a.traces > 0""",
        pair,
    )


ALL_SESSIONS = f"""
SELECT s.project_id, s.session_id, a.*
FROM (SELECT DISTINCT project_id, session_id FROM traces WHERE session_id IS NOT NULL {{where}}) AS s
CROSS JOIN LATERAL ({SESSION_ROW}) AS a({SESSION_COLUMNS})"""


def rebuild_sessions(cursor) -> None:
    cursor.execute("DELETE FROM dashboard_sessions")
    cursor.execute(f"INSERT INTO dashboard_sessions {ALL_SESSIONS.format(where='')}")


def check_sessions(cursor, project_id: str | None, dirty: set[tuple]) -> list[rollups.Mismatch]:
    """Session rows against the raw traces, but those a marked hour makes stale (read raw)."""
    where = "AND project_id = %s" if project_id else ""
    params = [project_id] if project_id else []
    cursor.execute(ALL_SESSIONS.format(where=where), params)
    raw = {tuple(row[:2]): tuple(row[2:]) for row in cursor.fetchall()}
    cursor.execute(
        f"SELECT project_id, session_id, {SESSION_COLUMNS} FROM dashboard_sessions "
        f"WHERE true {where.replace('project_id', 'dashboard_sessions.project_id')}",
        params,
    )
    rolled = {tuple(row[:2]): tuple(row[2:]) for row in cursor.fetchall()}
    cursor.execute(
        f"""SELECT DISTINCT t.project_id, t.session_id FROM traces t JOIN dashboard_dirty_hours d
            ON d.project_id = t.project_id AND t.timestamp >= d.hour AND t.timestamp < d.hour + interval '1 hour'
            WHERE t.session_id IS NOT NULL {where.replace("project_id", "t.project_id")}""",
        params,
    )
    stale = set(cursor.fetchall())
    marked: dict[str, list[datetime]] = {}
    for project, hour in sorted(dirty):
        marked.setdefault(project, []).append(hour)
    found = []
    for key in sorted(raw.keys() | rolled.keys(), key=repr):
        row = rolled.get(key)
        if key in stale or (row and spans_marked(row[1], row[2], marked.get(key[0], []))):
            continue
        if raw.get(key) != row:
            found.append(rollups.Mismatch("dashboard_sessions", key, raw.get(key), row))
    return found


def spans_marked(first: datetime, last: datetime, dirty: list[datetime]) -> bool:
    """Whether [first, last] overlaps one of the (sorted) marked hours."""
    index = bisect_right(dirty, last)
    return index > 0 and dirty[index - 1] + rollups.HOUR > first


# The reader.

FIRST_CHUNK = 200
MAX_CHUNK = 5000
Totals = tuple[Decimal, int, int]  # cost, traces, tokens inside the window


def top_sessions(scope: Scope, top: int) -> list[tuple[str | None, bool, Decimal, int, int]] | None:
    """(session, other, cost, traces, tokens) rows as breakdowns.cost_by returns them, or None when
    the filters or the window need the raw rows."""
    with rollups.snapshot():
        span = rollups.span_of(scope)
        if span is None:
            return None
        found = _candidates(scope, span.environments, top)
        rows = _ranked(found, top)
        rest = _window_sums(scope, span)
        for _, cost, count, tokens in rows:
            rest = (rest[0] - cost, rest[1] - count, rest[2] - tokens)
        ranked = [(key, False, cost, count, tokens) for key, cost, count, tokens in rows]
        if rest[1] > 0:
            ranked.append((None, True, *rest))
        return ranked


def _candidates(scope: Scope, environments: list[str], top: int) -> dict[str, Totals]:
    """Sessions whose numbers inside the window include the top ones (cost, traces, tokens)."""
    project = scope.project_id
    dirty = [
        hour
        for (hour,) in fetch(
            "SELECT DISTINCT hour FROM dashboard_dirty_hours WHERE project_id = %s ORDER BY hour", [project]
        )
    ]
    marked = _marked_bounds(scope, dirty)
    found = _walk(scope, environments, top, dirty, set(marked))
    # Sessions with a trace in a marked hour, by their bound, while it can reach the top.
    pending = sorted(marked.items(), key=lambda item: item[1], reverse=True)
    size = FIRST_CHUNK
    while pending:
        kth = _kth(found, top)
        if kth is not None:
            pending = [(key, bound) for key, bound in pending if bound >= kth]
        chunk, pending = pending[:size], pending[size:]
        found.update(_in_window(scope, [key for key, _ in chunk]))
        size = min(size * 2, MAX_CHUNK)
    return found


def _marked_bounds(scope: Scope, dirty: list[datetime]) -> dict[str, Decimal]:
    """Sessions with a trace in a marked hour, each with a bound of its cost: the cost of those traces
    plus its row's (its traces in unmarked hours are among the row's, with their cost now)."""
    project, marked = scope.project_id, dict[str, Decimal]()
    for low, high in hour_ranges(dirty):
        for key, cost in fetch(
            "SELECT session_id, sum(total_cost) FROM traces WHERE project_id = %s AND timestamp >= %s "
            "AND timestamp < %s AND session_id IS NOT NULL GROUP BY session_id",
            [project, low, high],
        ):
            marked[key] = marked.get(key, Decimal(0)) + cost
    if marked:
        for key, cost in fetch(
            "SELECT session_id, cost FROM dashboard_sessions WHERE project_id = %s AND session_id = ANY(%s)",
            [project, list(marked)],
        ):
            marked[key] += cost
    return marked


def _kth(found: dict[str, Totals], top: int) -> Decimal | None:
    """The `top`-th highest cost found so far."""
    if len(found) < top:
        return None
    return sorted((cost for cost, _, _ in found.values()), reverse=True)[top - 1]


def _walk(
    scope: Scope, environments: list[str], top: int, dirty: list[datetime], seen: set[str]
) -> dict[str, Totals]:
    """The session rows overlapping the window by cost, until the next one's cannot reach the top
    (the sessions in `seen` left out)."""
    project, start, end = scope.project_id, scope.period.start, scope.period.end
    found: dict[str, Totals] = {}
    walk = "project_id = %s AND first_ts < %s AND last_ts >= %s"
    params: list[Any] = [project, end, start]
    if environments:
        walk += " AND (environment = ANY(%s) OR environment IS NULL)"
        params.append(environments)
    after: list[Any] = []
    size = FIRST_CHUNK
    while True:
        rows = fetch(
            f"""SELECT session_id, environment, first_ts, last_ts, cost, traces, tokens FROM dashboard_sessions
                WHERE {walk} {"AND (cost, session_id) < (%s, %s)" if after else ""}
                ORDER BY cost DESC, session_id DESC LIMIT %s""",
            [*params, *after, size],
        )
        raw = []
        for key, environment, first, last, cost, count, tokens in rows:
            if key in seen:
                continue
            seen.add(key)
            inside = first >= start and last < end and (environment is not None or not environments)
            if inside and not spans_marked(first, last, dirty):
                found[key] = (Decimal(cost), int(count), int(tokens))
            else:
                raw.append(key)
        found.update(_in_window(scope, raw))
        if len(rows) < size:
            return found
        bound, kth = rows[-1][4], _kth(found, top)
        if kth is not None and bound < kth:
            return found
        after = [bound, rows[-1][0]]
        size = min(size * 2, MAX_CHUNK)


def _in_window(scope: Scope, keys: Iterable[str]) -> dict[str, Totals]:
    """The numbers of these sessions inside the window, from the raw traces."""
    keys = list(keys)
    if not keys:
        return {}
    traces_sql, params = scope.traces_sql()
    rows = fetch(
        f"""WITH t AS ({traces_sql})
            SELECT session_id, sum(total_cost), count(*), sum(total_tokens) FROM t
            WHERE session_id = ANY(%s::varchar[]) GROUP BY session_id""",
        [*params, keys],
    )
    return {key: (Decimal(cost), int(count), int(tokens)) for key, cost, count, tokens in rows}


def _ranked(found: dict[str, Totals], top: int) -> list[tuple[str, Decimal, int, int]]:
    """The `top` candidates by cost, ties by session id as PostgreSQL orders them."""
    if not found:
        return []
    keys = list(found)
    columns = [list(column) for column in zip(*(found[key] for key in keys), strict=True)]
    rows = fetch(
        """SELECT key, cost, n, tokens
           FROM unnest(%s::varchar[], %s::numeric[], %s::bigint[], %s::numeric[]) AS c(key, cost, n, tokens)
           ORDER BY cost DESC, key LIMIT %s""",
        [keys, *columns, top],
    )
    return [(key, Decimal(cost), int(count), int(tokens)) for key, cost, count, tokens in rows]


def _window_sums(scope: Scope, span: rollups.Span) -> Totals:
    """Cost, traces and tokens of the window's traces that have a session."""
    rollup, params = rollups.where(span, scope.project_id)
    [(cost, count, tokens)] = rollups.with_edges(
        scope,
        span,
        f"""SELECT coalesce(sum(cost), 0), coalesce(sum(n), 0), coalesce(sum(tokens), 0)
            FROM (SELECT r.traces AS n, r.cost, r.tokens FROM dashboard_session_hours r WHERE {rollup}
                  UNION ALL
                  SELECT 1, total_cost, total_tokens FROM t WHERE session_id IS NOT NULL) AS x""",
        params,
    )
    return Decimal(cost), int(count), int(tokens)
