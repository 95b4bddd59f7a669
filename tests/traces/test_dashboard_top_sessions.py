"""The most expensive sessions read from a row per session (traces/dashboards/sessions.py, migration 0019).

Like tests/traces/test_dashboard_rollups.py (whose helpers these tests import): writes go through the
real paths, the chart equals the raw query's (span_of mocked to None) with every hour marked, after a
refresh and in between, and `rollups.check` covers dashboard_sessions and dashboard_session_hours.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from tests.factories import ensure_default_prices, make_project
from tests.traces.test_dashboard_rollups import T0, Ingest, assert_exact, generation, trace
from tests.traces.test_dashboard_rollups_people_scores import scope_of
from traces.dashboards import breakdowns, rollups, sessions
from traces.dashboards.catalogue import CHARTS
from traces.deletion import delete_traces

pytestmark = pytest.mark.django_db

# Windows over the two days of traces: edges inside sessions, whole hours, wider than the data, one hour.
WINDOWS = [
    (T0 + timedelta(hours=5, minutes=17), T0 + timedelta(hours=29, minutes=41)),
    (T0 + timedelta(hours=10), T0 + timedelta(hours=20)),
    (T0 - timedelta(days=1), T0 + timedelta(days=3)),
    (T0 + timedelta(hours=30, minutes=59), T0 + timedelta(hours=32, minutes=1)),
]


@pytest.fixture
def ingest(client, db):
    ensure_default_prices()
    return Ingest(client, make_project())


def costly(trace_id: str, at: datetime, cost: str, session: str | None, environment: str = "production"):
    """A trace whose one generation costs `cost` (so equal costs tie exactly)."""
    return [
        trace(trace_id, at, sessionId=session, environment=environment),
        generation(f"{trace_id}-g", trace_id, at, costDetails={"input": float(cost), "output": 0}),
    ]


def sessions_data(ingest, seed: int = 5, count: int = 70) -> list[str]:
    """Traces in 30 sessions over two days: long and short sessions, two environments, costs from a
    few values (ties), some traces without a session."""
    rng = random.Random(seed)
    events, ids = [], []
    for i in range(count):
        session = rng.choice([*(f"s{n:02d}" for n in range(30)), None])
        at = T0 + timedelta(hours=rng.randrange(48), minutes=rng.randrange(60))
        environment = "staging" if rng.random() < 0.15 else "production"
        events += costly(f"t{i}", at, rng.choice(["0.5", "1", "1.5", "2", "0"]), session, environment)
        ids.append(f"t{i}")
    ingest.post(*events)
    return ids


def raw_cost_by(scope, top: int) -> list[breakdowns.Group]:
    with mock.patch.object(rollups, "span_of", return_value=None):
        return breakdowns.cost_by(scope, "session", top=top, skip_empty=True)


def assert_same_sessions(
    project, windows=WINDOWS, environments=("", "staging", "production,staging")
) -> None:
    """The session breakdown (top 1, 3, 20) and the chart read the same from the session rows as raw."""
    for start, end in windows:
        for environment in environments:
            scope = scope_of(project, start, end, environment=environment)
            for top, chunk in [(1, 1), (3, 1), (3, 2), (20, 3), (20, sessions.FIRST_CHUNK)]:
                # Small chunks: the walk stops on its bound (ties at the bound included).
                with rollups.snapshot(), mock.patch.object(sessions, "FIRST_CHUNK", chunk):
                    assert sessions.top_sessions(scope, top) is not None
                    fast = breakdowns.cost_by(scope, "session", top=top, skip_empty=True)
                assert fast == raw_cost_by(scope, top), (start, end, environment, top, chunk)
            chart = CHARTS["top-sessions"]
            fast_chart = chart(scope).rows
            with mock.patch.object(rollups, "span_of", return_value=None):
                assert fast_chart == chart(scope).rows


def test_top_sessions_equal_the_raw_query_marked_refreshed_and_in_between(ingest):
    ids = sessions_data(ingest)
    scope = scope_of(ingest.project, *WINDOWS[0])
    groups = raw_cost_by(scope, 3)
    assert len(groups) == 4 and groups[-1].other and groups[-1].traces > 0  # a real "all others" row
    assert len({group.cost for group in raw_cost_by(scope, 20)}) < 20  # ties
    assert_same_sessions(ingest.project)  # every hour marked: raw sessions
    rollups.refresh(settled_only=False)
    assert rollups.marked_hours() == 0
    assert_same_sessions(ingest.project)
    assert_exact(ingest.project)
    # Some hours marked again: a trace deleted, one moved to another hour and session, a cost raised.
    delete_traces(ingest.project, ids[:3])
    ingest.post(trace(ids[5], T0 + timedelta(hours=40, minutes=3), sessionId="s07"))
    ingest.post(
        ("generation-update", {"id": f"{ids[8]}-g", "traceId": ids[8], "costDetails": {"input": 9.0}})
    )
    assert rollups.marked_hours() > 0
    assert rollups.check(ingest.project.id) == []
    assert_same_sessions(ingest.project)
    assert_exact(ingest.project)
    assert_same_sessions(ingest.project)


def test_random_session_writes_read_the_same_as_raw(ingest):
    rng = random.Random(11)
    ids = set(sessions_data(ingest, seed=2, count=40))
    rollups.refresh(settled_only=False)
    for step in range(25):
        op = rng.choice(["create", "move", "cost", "delete", "resession", "refresh"])
        at = T0 + timedelta(hours=rng.randrange(48), minutes=rng.randrange(60))
        session = rng.choice([f"s{n:02d}" for n in range(30)])
        if op == "create":
            ingest.post(*costly(f"n{step}", at, rng.choice(["1", "2", "3"]), session))
            ids.add(f"n{step}")
        elif op == "move":
            ingest.post(trace(rng.choice(sorted(ids)), at))
        elif op == "cost":
            trace_id = rng.choice(sorted(ids))
            body = {
                "id": f"{trace_id}-g",
                "traceId": trace_id,
                "costDetails": {"input": rng.choice([0.5, 7.0])},
            }
            ingest.post(("generation-update", body))
        elif op == "delete":
            doomed = rng.choice(sorted(ids))
            delete_traces(ingest.project, [doomed])
            ids.discard(doomed)
        elif op == "resession":
            ingest.post(trace(rng.choice(sorted(ids)), at, sessionId=rng.choice([session, None])))
        else:
            rollups.refresh(settled_only=False)
        assert rollups.check(ingest.project.id) == []
        assert_same_sessions(ingest.project, windows=WINDOWS[:2], environments=("", "staging"))
    assert_exact(ingest.project)


def test_a_session_longer_than_the_window_counts_only_its_traces_inside(ingest):
    # s-long: 5.0 in total, 1.0 inside the window; s-in: 2.0 inside; s-tie-a/b tie at 1.0.
    ingest.post(
        *costly("a", T0 - timedelta(hours=3), "4", "s-long"),
        *costly("b", T0 + timedelta(hours=2), "1", "s-long"),
        *costly("c", T0 + timedelta(hours=1), "2", "s-in"),
        *costly("d", T0 + timedelta(hours=3), "1", "s-tie-b"),
        *costly("e", T0 + timedelta(hours=3, minutes=5), "1", "s-tie-a"),
        *costly("f", T0 + timedelta(hours=1), "3", None),
    )
    rollups.refresh(settled_only=False)
    scope = scope_of(ingest.project, T0, T0 + timedelta(hours=5))
    found = breakdowns.cost_by(scope, "session", top=3, skip_empty=True)
    assert [(group.key, group.cost, group.traces, group.other) for group in found] == [
        ("s-in", Decimal(2), 1, False),
        ("s-long", Decimal(1), 1, False),
        ("s-tie-a", Decimal(1), 1, False),
        (None, Decimal(1), 1, True),
    ]
    assert found == raw_cost_by(scope, 3)


def test_the_reader_uses_the_session_rows_and_check_covers_them(ingest):
    sessions_data(ingest)
    rollups.refresh(settled_only=False)
    scope = scope_of(ingest.project, *WINDOWS[2])  # every session inside: read from its row
    top = raw_cost_by(scope, 3)[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_sessions SET cost = cost + 100 WHERE project_id = %s AND session_id = %s",
            [ingest.project.id, top.key],
        )
    assert breakdowns.cost_by(scope, "session", top=3, skip_empty=True)[0].cost == top.cost + 100
    assert [mismatch.table for mismatch in rollups.check(ingest.project.id)] == ["dashboard_sessions"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_session_hours SET traces = traces + 1 WHERE project_id = %s",
            [ingest.project.id],
        )
    assert "dashboard_session_hours" in {mismatch.table for mismatch in rollups.check(ingest.project.id)}
    rollups.rebuild()
    assert rollups.check(ingest.project.id) == []
    assert breakdowns.cost_by(scope, "session", top=3, skip_empty=True) == raw_cost_by(scope, 3)


def test_a_deleted_session_leaves_no_row(ingest):
    ids = sessions_data(ingest, count=20)
    rollups.refresh(settled_only=False)
    delete_traces(ingest.project, ids)
    rollups.refresh(settled_only=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dashboard_sessions WHERE project_id = %s", [ingest.project.id])
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM dashboard_session_hours WHERE project_id = %s", [ingest.project.id]
        )
        assert cursor.fetchone()[0] == 0
