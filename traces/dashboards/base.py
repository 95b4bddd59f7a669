"""The filtered traces every dashboard query starts from, as SQL to wrap in a CTE.

The traces list's own filter code (traces.list_queries.filter_traces) selects the traces, so a
click from a chart to the list shows exactly the traces the chart counted. Observation and score
aggregates join those traces by (project_id, trace_id) and put each row in the bucket of its
trace's timestamp: a deleted trace takes its observations and scores out of every chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL

from traces.dashboards.period import Period, trace_state, traces_link
from traces.list_queries import filter_traces
from traces.models import Trace

TRACE_COLUMNS = [
    "id",
    "timestamp",
    "name",
    "user_id",
    "session_id",
    "environment",
    "release",
    "start_time",
    "end_time",
    "total_cost",
    "total_tokens",
    "error_count",
]
TOP = 20


@dataclass(frozen=True)
class Scope:
    """One project, one window, one set of filters."""

    project_id: str
    period: Period
    filters: dict
    team_key: str
    now: datetime

    @property
    def list_state(self) -> dict:
        return trace_state(self.filters, self.period)

    @property
    def previous(self) -> Scope:
        return replace(self, period=self.period.previous)

    def traces_sql(self, *, team: bool = False) -> tuple[str, list[Any]]:
        """SELECT of the matching traces (the columns above, plus `team` when asked)."""
        qs = filter_traces(Trace.objects.for_project(self.project_id), self.list_state, self.now)
        columns = list(TRACE_COLUMNS)
        if team:
            qs = qs.annotate(team=RawSQL('"traces"."metadata" #>> %s', (team_path(self.team_key),)))
            columns.append("team")
        sql, params = qs.values(*columns).query.sql_with_params()
        return sql, list(params)

    def link(self, **narrower: Any) -> str:
        return traces_link(self.project_id, self.list_state, **narrower)

    def bucket_link(self, bucket_start: datetime, **narrower: Any) -> str:
        since, until = self.period.bucket_bounds(bucket_start)
        return self.link(since=since, until=until, **narrower)


def fetch(sql: str, params: list[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def with_traces(scope: Scope, body: str, params: list[Any] = (), *, team: bool = False) -> list[tuple]:
    """Run `body` with the scope's traces as the CTE `t`; `%(bucket)s` in body is the bucket
    size and observations or scores are joined on the scope's project."""
    traces_sql, traces_params = scope.traces_sql(team=team)
    sql = f"WITH t AS ({traces_sql}) {body}"
    return fetch(sql, [*traces_params, *params])


# The observations of the traces in `t`. Every observation starts inside its trace's
# [start_time, end_time] (the trace aggregates are kept from its observations), so bounding
# o.start_time by the traces' span changes no result and lets the obs_dashboard index serve a
# range scan. The one parameter is the project id.
OBSERVATIONS = """JOIN observations o ON o.project_id = %s AND o.trace_id = t.id
    AND o.start_time >= (SELECT min(start_time) FROM t) AND o.start_time <= (SELECT max(end_time) FROM t)"""

# PostgreSQL: seconds between two timestamps, as double precision for percentile_cont.
SECONDS = "EXTRACT(EPOCH FROM ({end} - {start}))::double precision"


def team_path(team_key: str) -> list[str]:
    """The metadata path of a team key (nested keys as a.b)."""
    return [key for key in team_key.split(".") if key]


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The first and the end of the whole hours inside [start, end) (first >= end: none)."""
    first = floor_hour(start) if start == floor_hour(start) else floor_hour(start) + timedelta(hours=1)
    return first, floor_hour(end)


def hours_marked(project_id: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The hours in [start, end) whose rollup rows wait for a refresh (dashboard_dirty_hours)."""
    rows = fetch(
        "SELECT DISTINCT hour FROM dashboard_dirty_hours WHERE project_id = %s AND hour >= %s AND hour < %s "
        "ORDER BY hour",
        [project_id, start, end],
    )
    return tuple(hour for (hour,) in rows)


def raw_parts(
    scope: Scope, ranges: list[tuple[datetime, datetime]], *, team: bool = False
) -> tuple[list[str], list[Any]]:
    """One SELECT of the scope's traces per non-empty range (at least one), and their parameters."""
    parts: list[str] = []
    params: list[Any] = []
    for start, end in ranges:
        if start < end or not parts:
            sql, part_params = replace(scope, period=Period(start, end, scope.period.bucket)).traces_sql(
                team=team
            )
            parts.append(sql)
            params += part_params
    return parts, params


def hour_ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted whole hours as [start, end) ranges, consecutive ones merged."""
    ranges: list[tuple[datetime, datetime]] = []
    for hour in hours:
        if ranges and ranges[-1][1] == hour:
            ranges[-1] = (ranges[-1][0], hour + timedelta(hours=1))
        else:
            ranges.append((hour, hour + timedelta(hours=1)))
    return ranges
