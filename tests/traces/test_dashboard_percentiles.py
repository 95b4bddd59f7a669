"""The latency percentiles read from the daily rollup equal percentile_cont over the raw rows.

Every wired chart (totals p95 of the window and the one before, latency over time by day and week,
latency by trace name, by model, time to first token) is computed twice: through the rollup
(percentiles.days_of finds whole days) and with it switched off (the raw percentile_cont queries),
and the two must be equal with ==, before any refresh (every day marked, read raw), after a refresh,
with marked days, deletes, updates of end times and traces moving between days.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection, transaction

from tests.factories import make_project
from tests.traces.test_dashboard_rollups import in_thread
from traces.dashboards import breakdowns, percentiles, rollups, series
from traces.dashboards.base import Scope
from traces.dashboards.period import Period
from traces.dashboards.totals import p95_latency
from traces.models import Observation, Trace

pytestmark = pytest.mark.django_db

D0 = datetime(2026, 3, 2, tzinfo=UTC)
# Durations drawn often, so many values tie; the rest are random to the microsecond.
TIES = [0.0, 0.001, 0.5, 1.0, 1.0, 2.25, 30.0]


def duration(rng: random.Random) -> timedelta:
    if rng.random() < 0.5:
        return timedelta(seconds=rng.choice(TIES))
    return timedelta(microseconds=rng.randrange(0, 40_000_000))


def make_traces(project, rng: random.Random, count: int, days: int = 6, prefix: str = "t") -> None:
    """Traces over `days` days from D0; the ones with observations span them, as the writer keeps it."""
    traces, observations = [], []
    for i in range(count):
        trace_id = f"{prefix}{i}"
        at = D0 + timedelta(seconds=rng.randrange(days * 86400), microseconds=rng.randrange(10**6))
        name = rng.choice(["chat", "search", "search", None, "agent"])
        environment = rng.choice(["production", "staging"])
        spans = []
        for j in range(rng.choice([0, 1, 2, 3])):
            start = at + timedelta(milliseconds=rng.randrange(2000))
            end = start + duration(rng) if rng.random() < 0.85 else None
            generation = rng.random() < 0.6
            first = start + duration(rng) / 4 if generation and rng.random() < 0.7 else None
            observations.append(
                Observation(
                    project=project,
                    id=f"{trace_id}-{j}",
                    trace_id=trace_id,
                    type="GENERATION" if generation else "SPAN",
                    start_time=start,
                    end_time=end,
                    completion_start_time=first,
                    provided_model_name=rng.choice(["gpt-4o", "gpt-4o", "claude", None]),
                )
            )
            spans.append((start, end or start))
        if spans:
            start, end = min(s for s, _ in spans), max(e for _, e in spans)
        elif rng.random() < 0.8:  # no observation: any times, even an end before the start
            start = at
            end = at + duration(rng) if rng.random() < 0.9 else at - duration(rng)
        else:
            start = end = None
        traces.append(
            Trace(
                project=project,
                id=trace_id,
                timestamp=at,
                name=name,
                environment=environment,
                start_time=start,
                end_time=end,
            )
        )
    Trace.objects.bulk_create(traces)
    Observation.objects.bulk_create(observations)


def scope_of(project, start: datetime, end: datetime, environment: str = "") -> Scope:
    return Scope(project.id, Period.spanning(start, end), {"environment": environment}, "team", end)


def charts(scope: Scope, top: int) -> dict:
    return {
        "p95": p95_latency(scope),
        "p95 before": p95_latency(scope.previous),
        "over time": series.latency_percentiles(scope),
        "by name": breakdowns.latency_by_trace_name(scope, top),
        "by model": breakdowns.latency_by_model(scope, top),
        "ttft": breakdowns.time_to_first_token(scope, top),
    }


def assert_same(project, start: datetime, end: datetime, environment: str = "", top: int = 20) -> dict:
    scope = scope_of(project, start, end, environment)
    assert percentiles.days_of(scope) is not None  # the rollup path runs
    with rollups.snapshot():
        rolled = charts(scope, top)
    with mock.patch.object(percentiles, "days_of", return_value=None):
        raw = charts(scope, top)
    assert rolled == raw
    return rolled


def refresh() -> None:
    rollups.refresh(settled_only=False)
    assert rollups.marked_hours() == 0


def rows_of(project) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM dashboard_latency_days WHERE project_id = %s)"
            " + (SELECT count(*) FROM dashboard_latency_hours WHERE project_id = %s)",
            [project.id, project.id],
        )
        return cursor.fetchone()[0]


def check(project) -> list[tuple]:
    with connection.cursor() as cursor:
        return percentiles.check(cursor, project.id)


WINDOWS = [
    (D0, D0 + timedelta(days=6), ""),  # aligned days
    (D0 + timedelta(hours=3, minutes=17, seconds=5), D0 + timedelta(days=4, hours=5, minutes=1), ""),
    (D0 - timedelta(days=1, seconds=1), D0 + timedelta(days=5, hours=23), "production"),
    (D0 + timedelta(hours=12), D0 + timedelta(days=3, hours=1), "staging,production"),
    (D0 - timedelta(days=40), D0 + timedelta(days=60, hours=7), ""),  # week buckets
]


@pytest.mark.parametrize("start, end, environment", WINDOWS)
def test_random_data_reads_the_same_before_and_after_a_refresh(start, end, environment):
    project = make_project()
    make_traces(project, random.Random(11), 400)
    found = assert_same(project, start, end, environment)  # every day marked: read raw
    assert found["by name"] and found["p95"] is not None
    assert any(row.key is None for row in found["by name"])  # NULL trace names are a group
    assert_same(project, start, end, environment, top=2)  # the top cut, ties ordered as the raw query
    refresh()
    assert rows_of(project) > 0
    assert check(project) == []
    assert assert_same(project, start, end, environment) == found


def test_the_rollup_holds_each_value_once_with_its_count():
    project = make_project()
    make_traces(project, random.Random(5), 200)
    refresh()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT sum(n), sum((SELECT sum(c) FROM unnest(cnts) AS c)),
                      bool_and(cardinality(vals) = cardinality(cnts)),
                      bool_and(vals = ARRAY(SELECT DISTINCT v FROM unnest(vals) AS v ORDER BY v))
               FROM dashboard_latency_days WHERE project_id = %s AND kind = 'trace'""",
            [project.id],
        )
        counted, stored, aligned, sorted_distinct = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(DISTINCT end_time - start_time) FROM traces WHERE project_id = %s "
            "AND start_time IS NOT NULL AND end_time IS NOT NULL",
            [project.id],
        )
        traces, distinct = cursor.fetchone()
    assert counted == stored == traces and aligned and sorted_distinct
    assert distinct < traces  # the data has ties, stored once


def test_equal_to_percentile_cont_written_out():
    project = make_project()
    make_traces(project, random.Random(8), 300)
    refresh()
    start, end = D0 + timedelta(hours=5), D0 + timedelta(days=5, hours=2)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (end_time - start_time))::float8)
               FROM traces WHERE project_id = %s AND timestamp >= %s AND timestamp < %s
               AND start_time IS NOT NULL AND end_time IS NOT NULL""",
            [project.id, start, end],
        )
        [(expected,)] = cursor.fetchall()
    assert p95_latency(scope_of(project, start, end)) == expected


@pytest.mark.parametrize("latencies", [[1.5], [0.25, 0.25, 0.25], [3.0, -1.0], [0.0001, 5e6, 7.0, 7.0]])
def test_single_values_ties_and_extremes(latencies):
    project = make_project()
    Trace.objects.bulk_create(
        Trace(
            project=project,
            id=f"x{i}",
            timestamp=D0 + timedelta(days=1, hours=i),
            start_time=D0 + timedelta(days=1),
            end_time=D0 + timedelta(days=1, seconds=value),
        )
        for i, value in enumerate(latencies)
    )
    refresh()
    found = assert_same(project, D0, D0 + timedelta(days=3))
    assert found["by name"][0].count == len(latencies)
    if len(latencies) == 1:
        assert found["p95"] == latencies[0]


def test_writes_after_a_refresh_mark_their_day_raw_until_the_next_refresh():
    project = make_project()
    rng = random.Random(21)
    make_traces(project, rng, 300)
    refresh()
    window = (D0 + timedelta(hours=2), D0 + timedelta(days=5, hours=20))
    assert_same(project, *window)
    # A longer end time: the trace's day is marked and read raw.
    moved = Trace.objects.for_project(project).filter(end_time__isnull=False).order_by("id")[:5]
    for trace in moved:
        Trace.objects.for_project(project).filter(id=trace.id).update(
            end_time=trace.end_time + timedelta(seconds=900)
        )
    Observation.objects.for_project(project).filter(end_time__isnull=False, id__endswith="-0").update(
        end_time=D0 + timedelta(days=9)
    )
    scope = scope_of(project, *window)
    assert percentiles.days_of(scope).dirty_days
    assert_same(project, *window)
    # Traces move to other days, others are deleted, new ones arrive.
    for i, trace in enumerate(Trace.objects.for_project(project).order_by("id")[10:20]):
        Trace.objects.for_project(project).filter(id=trace.id).update(
            timestamp=trace.timestamp + timedelta(days=1 + i % 3, hours=5)
        )
    doomed = list(Trace.objects.for_project(project).order_by("-id").values_list("id", flat=True)[:30])
    Observation.objects.for_project(project).filter(trace_id__in=doomed).delete()
    Trace.objects.for_project(project).filter(id__in=doomed).delete()
    make_traces(project, rng, 40, prefix="n")
    assert_same(project, *window)
    assert check(project) == []  # the marked days are skipped, the others still agree
    refresh()
    assert not percentiles.days_of(scope).marked
    assert check(project) == []
    assert_same(project, *window)
    assert_same(project, D0, D0 + timedelta(days=12), "production")


def test_a_day_with_a_marked_hour_keeps_its_old_rows_until_its_last_marker_goes():
    project = make_project()
    make_traces(project, random.Random(2), 100, days=2)
    refresh()
    Trace.objects.bulk_create(
        [
            Trace(
                project=project,
                id="late",
                timestamp=D0 + timedelta(hours=23, minutes=30),
                start_time=D0,
                end_time=D0 + timedelta(seconds=4000),
            ),
            Trace(
                project=project,
                id="early",
                timestamp=D0 + timedelta(hours=1),
                start_time=D0,
                end_time=D0 + timedelta(seconds=4001),
            ),
        ]
    )
    # Refresh one of the day's two marked hours: the day is still marked, its rows stay as they were.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM dashboard_dirty_hours WHERE hour = %s RETURNING project_id, hour",
            [D0 + timedelta(hours=1)],
        )
        [(project_id, hour)] = set(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM dashboard_latency_days WHERE project_id = %s AND day = %s", [project.id, D0]
        )
        before = cursor.fetchone()[0]
        percentiles.refresh_units(cursor, [project_id], [hour])
        cursor.execute(
            "SELECT count(*) FROM dashboard_latency_days WHERE project_id = %s AND day = %s "
            "AND 4001 = ANY(vals)",
            [project.id, D0],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(  # the hour itself is recomputed
            "SELECT count(*) FROM dashboard_latency_hours WHERE project_id = %s AND hour = %s "
            "AND 4001 = ANY(vals)",
            [project.id, hour],
        )
        assert cursor.fetchone()[0] == 1
    assert_same(project, D0, D0 + timedelta(days=2))
    refresh()
    assert check(project) == []
    found = assert_same(project, D0, D0 + timedelta(days=2))
    assert before > 0 and found["p95"] is not None


def test_rebuild_recomputes_every_day():
    project = make_project()
    make_traces(project, random.Random(4), 150)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_latency_days")
        cursor.execute("DELETE FROM dashboard_latency_hours")
    rollups.rebuild()
    assert rollups.marked_hours() == 0
    assert rows_of(project) > 0
    assert check(project) == []
    assert_same(project, D0, D0 + timedelta(days=6))


def test_other_filters_and_short_windows_read_the_raw_rows():
    project = make_project()
    make_traces(project, random.Random(1), 50)
    refresh()
    short = scope_of(project, D0 + timedelta(minutes=3), D0 + timedelta(minutes=58))  # no whole hour
    assert percentiles.days_of(short) is None
    scope = Scope(project.id, Period.spanning(D0, D0 + timedelta(days=4)), {"name": "chat"}, "team", D0)
    assert percentiles.days_of(scope) is None


@pytest.mark.parametrize(
    "start, end",
    [
        (D0 + timedelta(hours=3, minutes=7), D0 + timedelta(hours=26, seconds=1)),  # no whole day
        (D0, D0 + timedelta(days=2)),
        (D0 + timedelta(days=1, hours=5), D0 + timedelta(days=1, hours=6)),
    ],
)
def test_hour_buckets_read_the_hour_rows(start, end):
    project = make_project()
    make_traces(project, random.Random(9), 300, days=3)
    assert_same(project, start, end)
    refresh()
    days = percentiles.days_of(scope_of(project, start, end), whole_days=False)
    assert days.day_start == days.day_end  # every hour from the hour rows
    found = assert_same(project, start, end)
    assert any(value is not None for line in found["over time"].lines for value in line.values)
    # Marked hours inside a window read raw, the others still from the hour rows.
    inside = Trace.objects.for_project(project).filter(timestamp__gte=start, timestamp__lt=end)
    first = inside.order_by("id").values_list("id", flat=True)[0]
    inside.filter(id=first).update(end_time=D0 + timedelta(days=4))
    assert percentiles.days_of(scope_of(project, start, end)).marked
    assert_same(project, start, end)
    assert check(project) == []


def test_deleting_every_trace_leaves_no_rows_after_a_refresh():
    project = make_project()
    make_traces(project, random.Random(6), 60)
    refresh()
    assert rows_of(project) > 0
    Observation.objects.for_project(project).delete()
    Trace.objects.for_project(project).delete()
    assert rows_of(project) > 0  # the days are marked: read raw until the refresh
    assert assert_same(project, D0, D0 + timedelta(days=6))["p95"] is None
    refresh()
    assert rows_of(project) == 0


@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_writer_leaves_its_day_read_raw_until_the_next_refresh():
    """The writer's marker commits with its rows, after the refresh: the refresh recomputed the
    day without them, but the marker keeps the day (and the hour) read raw."""
    project = make_project()
    make_traces(project, random.Random(13), 80, days=2)
    refresh()
    window = (D0, D0 + timedelta(days=2))
    before = assert_same(project, *window)
    written, committed = threading.Event(), threading.Event()

    def write() -> None:
        with transaction.atomic():
            Trace.objects.create(
                project=project,
                id="slow",
                timestamp=D0 + timedelta(hours=3),
                start_time=D0,
                end_time=D0 + timedelta(hours=5),
            )
            written.set()
            committed.wait()

    writer = in_thread(write)
    written.wait()
    # A committed write on the same day: the refresh recomputes the day while the writer is open.
    Trace.objects.create(
        project=project,
        id="other",
        timestamp=D0 + timedelta(hours=10),
        start_time=D0,
        end_time=D0 + timedelta(seconds=1234.5),
    )
    refresher = in_thread(lambda: rollups.refresh(settled_only=False))
    refresher.join()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_or(1234.5 = ANY(vals)), bool_or(18000 = ANY(vals)) FROM dashboard_latency_days "
            "WHERE project_id = %s AND day = %s AND kind = 'trace'",
            [project.id, D0],
        )
        assert cursor.fetchone() == (True, False)
    committed.set()
    writer.join()
    days = percentiles.days_of(scope_of(project, *window))
    assert days.marked == (D0 + timedelta(hours=3),) and days.dirty_days == [D0]
    after = assert_same(project, *window)
    assert after["by name"] != before["by name"]  # the slow trace counts
    refresh()
    assert check(project) == []
    assert assert_same(project, *window) == after
