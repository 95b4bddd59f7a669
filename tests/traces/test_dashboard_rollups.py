"""The hourly dashboard rollups equal GROUP BY over the raw rows after every kind of write.

Writes mark the hours they change and `rollups.refresh` recomputes them. `rollups.check` compares
each rollup key of the unmarked hours with a direct aggregate over traces and observations; these
tests write through the real paths (ingestion API, writer, every delete path) and assert it finds
nothing before and after a refresh, that a refresh racing a writer loses nothing, and that the
dashboard's numbers are the same with and without the rollups, refreshed or not.
"""

from __future__ import annotations

import base64
import json
import random
import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from accounts.projects import delete_project
from tests.factories import ensure_default_prices, make_key, make_project
from traces import retention
from traces.bulk_delete import DeletionScope, delete_all
from traces.dashboards import rollups
from traces.dashboards.base import Scope
from traces.dashboards.catalogue import CHARTS
from traces.dashboards.period import Period
from traces.dashboards.totals import totals
from traces.deletion import delete_traces
from traces.models import Observation, Trace

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Ingest:
    """Legacy batch API calls for one project."""

    def __init__(self, client, project):
        public, secret = make_key(project)
        self.client = client
        self.project = project
        self.header = "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()
        self.events = 0

    def post(self, *events: tuple[str, dict]) -> None:
        batch = []
        for kind, body in events:
            self.events += 1
            batch.append({"id": f"e{self.events}", "type": kind, "timestamp": iso(T0), "body": body})
        response = self.client.post(
            "/api/public/ingestion",
            json.dumps({"batch": batch}),
            content_type="application/json",
            HTTP_AUTHORIZATION=self.header,
        )
        assert response.status_code == 207, response.content
        assert all(item["status"] in (200, 201) for item in response.json()["successes"])
        assert response.json()["errors"] == []

    def api_delete(self, path: str, body: dict | None = None) -> None:
        response = self.client.delete(
            f"/api/public/{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            HTTP_AUTHORIZATION=self.header,
        )
        assert response.status_code == 200, response.content


def trace(trace_id: str, at: datetime, **fields) -> tuple[str, dict]:
    return "trace-create", {"id": trace_id, "timestamp": iso(at), **fields}


def generation(obs_id: str, trace_id: str, at: datetime, model: str = "gpt-4o", **fields) -> tuple[str, dict]:
    body = {
        "id": obs_id,
        "traceId": trace_id,
        "name": "llm",
        "startTime": iso(at),
        "endTime": iso(at + timedelta(seconds=2)),
        "model": model,
        "usageDetails": {"input": 100, "output": 40},
        **fields,
    }
    return "generation-create", body


@pytest.fixture
def ingest(client, db):
    ensure_default_prices()
    return Ingest(client, make_project())


def rollup_sums(project_id: str) -> dict:
    """The rollups' totals once every marked hour is refreshed."""
    rollups.refresh(settled_only=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(traces), 0), coalesce(sum(cost), 0), coalesce(sum(tokens), 0) "
            "FROM dashboard_trace_hours WHERE project_id = %s",
            [project_id],
        )
        traces, cost, tokens = cursor.fetchone()
        cursor.execute(
            "SELECT usage_key, sum(amount) FROM dashboard_obs_hours WHERE project_id = %s "
            "GROUP BY 1 HAVING sum(observations) <> 0",
            [project_id],
        )
        usage = dict(cursor.fetchall())
    return {"traces": traces, "cost": cost, "tokens": tokens, "usage": usage}


def assert_exact(project=None) -> None:
    """Exact for the hours not marked, then for every hour once the marked ones are refreshed."""
    mismatches = rollups.check(project.id if project else None)
    assert mismatches == [], mismatches[:5]
    rollups.refresh(settled_only=False)
    assert rollups.marked_hours() == 0
    mismatches = rollups.check(project.id if project else None)
    assert mismatches == [], mismatches[:5]


def test_ingested_rows_roll_up_by_the_hour_of_their_trace(ingest):
    ingest.post(
        trace("a", T0, name="chat", environment="production", release="v1"),
        generation("a1", "a", T0),
        generation("a2", "a", T0 + timedelta(minutes=70), model="claude-3-5-sonnet-20241022"),
        trace("b", T0 + timedelta(hours=1), name="chat", environment="staging"),
        generation(
            "b1",
            "b",
            T0 + timedelta(hours=1),
            usageDetails={"input": 7, "output": 3, "input_cached_tokens": 2},
        ),
        ("span-create", {"id": "b2", "traceId": "b", "startTime": iso(T0), "level": "ERROR"}),
    )
    assert_exact(ingest.project)
    sums = rollup_sums(ingest.project.id)
    assert sums["traces"] == 2
    assert sums["usage"] == {None: sums["usage"][None], "input": 207, "output": 83, "input_cached_tokens": 2}
    # a2 starts an hour after its trace, but counts in the trace's hour, as the dashboard buckets it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hour, environment, sum(amount) FROM dashboard_obs_hours "
            "WHERE project_id = %s AND usage_key = 'input' GROUP BY 1, 2 ORDER BY 1",
            [ingest.project.id],
        )
        assert cursor.fetchall() == [(T0, "production", 200), (T0 + timedelta(hours=1), "staging", 7)]


def test_updates_that_change_usage_cost_and_end_time_stay_exact(ingest):
    ingest.post(trace("a", T0), generation("a1", "a", T0))
    before = rollup_sums(ingest.project.id)
    ingest.post(
        ("generation-update", {"id": "a1", "traceId": "a", "usageDetails": {"input": 1000, "output": 1}}),
        ("generation-update", {"id": "a1", "traceId": "a", "endTime": iso(T0 + timedelta(seconds=30))}),
    )
    assert_exact(ingest.project)
    after = rollup_sums(ingest.project.id)
    assert after["usage"]["input"] == 1000 and after["usage"]["output"] == 1
    assert after["cost"] > before["cost"]
    ingest.post(
        ("generation-update", {"id": "a1", "traceId": "a", "costDetails": {"input": 1.5, "output": 0.5}})
    )
    assert_exact(ingest.project)


def test_a_late_trace_moves_its_observations_to_its_hour_and_environment(ingest):
    # Observations first: the writer makes a stub trace at the first observation's start.
    ingest.post(
        generation("g1", "late", T0 + timedelta(hours=5)), generation("g2", "late", T0 + timedelta(hours=5))
    )
    assert_exact(ingest.project)
    ingest.post(trace("late", T0, environment="production", name="agent"))
    assert_exact(ingest.project)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hour, environment, sum(amount) FROM dashboard_obs_hours WHERE project_id = %s "
            "AND usage_key = 'input' GROUP BY 1, 2 HAVING sum(observations) <> 0",
            [ingest.project.id],
        )
        assert cursor.fetchall() == [(T0, "production", 200)]
    # An observation arriving later still joins the trace's hour.
    ingest.post(generation("g3", "late", T0 + timedelta(days=2)))
    assert_exact(ingest.project)


def populate(ingest, count: int = 6) -> list[str]:
    ids = [f"t{i}" for i in range(count)]
    events = []
    for i, trace_id in enumerate(ids):
        at = T0 + timedelta(hours=i)
        events += [trace(trace_id, at, name=f"n{i % 2}"), generation(f"{trace_id}-g", trace_id, at)]
        events.append(("span-create", {"id": f"{trace_id}-s", "traceId": trace_id, "startTime": iso(at)}))
    ingest.post(*events)
    return ids


def test_deleting_traces_directly_stays_exact(ingest):
    ids = populate(ingest)
    delete_traces(ingest.project, ids[:2])
    assert_exact(ingest.project)
    assert rollup_sums(ingest.project.id)["traces"] == 4


def test_bulk_delete_by_filter_stays_exact(ingest):
    populate(ingest)
    scope = DeletionScope(trace_ids=[], filter_query="name=n0&range=", as_of=timezone.now())
    assert delete_all(ingest.project, scope) == 3
    assert_exact(ingest.project)
    assert rollup_sums(ingest.project.id)["traces"] == 3


def test_public_api_deletes_stay_exact(ingest):
    ids = populate(ingest)
    ingest.api_delete(f"traces/{ids[0]}")
    ingest.api_delete("traces", {"traceIds": ids[1:3]})
    assert_exact(ingest.project)
    assert rollup_sums(ingest.project.id)["traces"] == 3


def test_retention_purge_stays_exact(ingest):
    populate(ingest)
    project = ingest.project
    project.retention_days = 3
    project.save()
    recent = T0 + timedelta(days=4)
    ingest.post(trace("new", recent), generation("new-g", "new", recent))
    result = retention.purge_project(project, now=T0 + timedelta(days=5))
    assert result.total > 0
    assert_exact(project)
    assert rollup_sums(project.id)["traces"] == 1


def test_project_delete_leaves_no_rollup_rows(ingest, team):
    populate(ingest)
    other = Ingest(ingest.client, team.project)
    other.post(trace("x", T0), generation("x-g", "x", T0))
    delete_project(ingest.project, team.owner)
    assert rollup_sums(ingest.project.id) == {"traces": 0, "cost": 0, "tokens": 0, "usage": {}}
    assert_exact()
    assert rollup_sums(team.project.id)["traces"] == 1


def test_random_writes_updates_and_deletes_stay_exact(ingest):
    """Property-style: a seeded random mix of creates, updates, late traces and deletes."""
    rng = random.Random(7)
    traces: set[str] = set()
    observations: dict[str, str] = {}
    for step in range(40):
        op = rng.choice(["trace", "obs", "obs", "update", "retime", "delete", "refresh"])
        at = T0 + timedelta(hours=rng.randrange(48), minutes=rng.randrange(60))
        trace_id = f"t{rng.randrange(12)}"
        if op == "trace":
            env = rng.choice(["default", "production", "staging"])
            ingest.post(trace(trace_id, at, environment=env, name=rng.choice(["a", "b", None])))
            traces.add(trace_id)
        elif op == "obs":
            obs_id = f"o{step}"
            usage = {"input": rng.randrange(1000), "output": rng.randrange(100)}
            if rng.random() < 0.3:
                usage["output_reasoning_tokens"] = rng.randrange(50)
            model = rng.choice(["gpt-4o", "gpt-4o-mini", "unknown-model", None])
            ingest.post(generation(obs_id, trace_id, at, model=model, usageDetails=usage))
            observations[obs_id] = trace_id
            traces.add(trace_id)
        elif op == "update" and observations:
            obs_id = rng.choice(sorted(observations))
            body = {
                "id": obs_id,
                "traceId": observations[obs_id],
                "usageDetails": {"input": rng.randrange(9999)},
            }
            if rng.random() < 0.5:
                body["level"] = "ERROR"
            ingest.post(("generation-update", body))
        elif op == "retime" and traces:
            ingest.post(trace(rng.choice(sorted(traces)), at, environment=rng.choice(["production", "dev"])))
        elif op == "delete" and traces:
            doomed = rng.sample(sorted(traces), k=min(2, len(traces)))
            delete_traces(ingest.project, doomed)
            traces -= set(doomed)
            observations = {o: t for o, t in observations.items() if t not in doomed}
        elif op == "refresh":
            rollups.refresh(settled_only=False)
        # Some hours refreshed, some marked: the dashboard reads the same as from the raw rows.
        assert rollups.check(ingest.project.id) == []
        assert_same_numbers(ingest.project, T0 - timedelta(minutes=30), T0 + timedelta(hours=49, minutes=7))
    assert_exact(ingest.project)
    assert Trace.objects.for_project(ingest.project).count() == len(traces)
    assert Observation.objects.for_project(ingest.project).count() == len(observations)


def marked(project_id: str) -> list[datetime]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hour FROM dashboard_dirty_hours WHERE project_id = %s ORDER BY 1", [project_id]
        )
        return [hour for (hour,) in cursor.fetchall()]


def test_writes_mark_their_hours_and_a_refresh_recomputes_them(ingest):
    populate(ingest, count=3)
    assert sorted(set(marked(ingest.project.id))) == [T0 + timedelta(hours=i) for i in range(3)]
    rollups.refresh()  # every hour is in the past: all settled
    assert marked(ingest.project.id) == []
    assert rollup_sums(ingest.project.id)["traces"] == 3
    # An update marks only its trace's hour; the other hours keep their refreshed rows.
    ingest.post(("generation-update", {"id": "t1-g", "traceId": "t1", "usageDetails": {"input": 5}}))
    assert set(marked(ingest.project.id)) == {T0 + timedelta(hours=1)}
    assert rollups.check(ingest.project.id) == []
    assert_same_numbers(ingest.project, T0, T0 + timedelta(hours=3))
    assert rollup_sums(ingest.project.id)["usage"]["input"] == 205


def test_the_current_hour_stays_marked_and_its_markers_fold_to_one(ingest):
    now = timezone.now()
    for i in range(3):
        ingest.post(trace(f"c{i}", now), generation(f"c{i}-g", f"c{i}", now))
    ingest.post(trace("old", T0), generation("old-g", "old", T0))
    hour = now.replace(minute=0, second=0, microsecond=0)
    assert marked(ingest.project.id).count(hour) > 1
    assert rollups.refresh() == 1  # T0's hour only
    assert marked(ingest.project.id) == [hour]
    assert_same_numbers(ingest.project, hour - timedelta(hours=2), hour + timedelta(hours=1))
    assert rollups.refresh(settled_only=False) == 1
    assert marked(ingest.project.id) == []
    assert_exact(ingest.project)


@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_writer_leaves_its_hour_marked():
    """A refresh while a writer's rows are uncommitted cannot see them; their marker commits with
    them, so the hour is read raw and recomputed by the next refresh."""
    from django.db import transaction

    project = make_project()
    # As the writer keeps it: the trace spans its observations (the raw dashboard queries rely on it).
    Trace.objects.create(
        project=project, id="x", timestamp=T0, start_time=T0, end_time=T0 + timedelta(seconds=1)
    )
    Observation.objects.create(project=project, id="o1", trace_id="x", start_time=T0, total_cost=1)
    rollups.refresh(settled_only=False)
    written, committed = threading.Event(), threading.Event()

    def write() -> None:
        with transaction.atomic():
            Observation.objects.create(project=project, id="o2", trace_id="x", start_time=T0, total_cost=2)
            written.set()
            committed.wait()

    writer = in_thread(write)
    written.wait()
    refresher = in_thread(lambda: rollups.refresh(settled_only=False))
    refresher.join()
    committed.set()
    writer.join()
    assert marked(project.id) == [T0]
    assert rollups.check(project.id) == []
    assert_same_numbers(project, T0 - timedelta(hours=1), T0 + timedelta(hours=2))
    assert rollup_sums(project.id)["usage"] == {None: 3}  # the cost of both observations
    assert_exact(project)


def test_rebuild_and_the_check_command(ingest, capsys):
    populate(ingest)
    call_command("dashboard_rollups", "--refresh")
    assert "Refreshed 6 hours" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_trace_hours SET traces = traces + 1 WHERE project_id = %s", [ingest.project.id]
        )
    assert rollups.check(ingest.project.id)
    with pytest.raises(SystemExit):
        call_command("dashboard_rollups", "--check")
    assert "dashboard_trace_hours" in capsys.readouterr().err
    call_command("dashboard_rollups", "--rebuild")
    assert_exact()
    call_command("dashboard_rollups", "--check")
    assert "agree" in capsys.readouterr().out


def test_the_check_command_covers_the_latency_values(ingest, capsys):
    populate(ingest)
    call_command("dashboard_rollups", "--refresh")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE dashboard_latency_hours SET n = n + 1 WHERE project_id = %s AND kind = 'trace'",
            [ingest.project.id],
        )
        assert cursor.rowcount > 0
    with pytest.raises(SystemExit):
        call_command("dashboard_rollups", "--check")
    assert "dashboard_latency_hours" in capsys.readouterr().err
    call_command("dashboard_rollups", "--rebuild", "--check")
    assert "agree" in capsys.readouterr().out


def chart_tables(scope: Scope) -> dict:
    return {key: (build(scope).rows, build(scope).footer) for key, build in CHARTS.items()}


def assert_same_numbers(project, start: datetime, end: datetime, environment: str = "") -> None:
    """Every chart and the totals of [start, end) read the same with the rollups as without."""
    filters = {"environment": environment, "team_key": "team"}
    scope = Scope(project.id, Period.spanning(start, end), filters, "team", end)
    assert rollups.span_of(scope) is not None
    with rollups.snapshot():
        with_rollups = chart_tables(scope), totals(scope)
    with mock.patch.object(rollups, "span_of", return_value=None):
        raw = chart_tables(scope), totals(scope)
    assert with_rollups == raw


@pytest.mark.parametrize(
    "start, end, environment",
    [
        (T0 - timedelta(minutes=17), T0 + timedelta(hours=5, minutes=31), ""),
        (T0, T0 + timedelta(hours=6), ""),
        (T0 - timedelta(days=1, seconds=1), T0 + timedelta(days=2, minutes=1), "production,staging"),
        (T0 + timedelta(minutes=5), T0 + timedelta(minutes=50), ""),  # no whole hour: raw rows only
    ],
)
def test_dashboard_numbers_are_the_same_with_and_without_rollups(ingest, start, end, environment):
    rng = random.Random(3)
    events = []
    for i in range(30):
        at = T0 + timedelta(minutes=20 if i < 3 else rng.randrange(-90, 60 * 30))
        env = rng.choice(["production", "staging", "dev"])
        events.append(
            trace(f"r{i}", at, environment=env, name=rng.choice(["x", "y"]), release=rng.choice(["1", None]))
        )
        events.append(generation(f"r{i}-g", f"r{i}", at, model=rng.choice(["gpt-4o", "gpt-4o-mini"])))
        if i % 4 == 0:
            events.append(
                ("span-create", {"id": f"r{i}-s", "traceId": f"r{i}", "startTime": iso(at), "level": "ERROR"})
            )
    ingest.post(*events)
    filters = {"environment": environment, "team_key": "team"}
    scope = Scope(ingest.project.id, Period.spanning(start, end), filters, "team", end)
    assert (rollups.span_of(scope) is not None) == (end - start > timedelta(hours=1))
    with_rollups = chart_tables(scope), totals(scope)
    with mock.patch.object(rollups, "span_of", return_value=None):
        raw = chart_tables(scope), totals(scope)
    assert with_rollups == raw
    assert with_rollups[1].traces > 0
    rollups.refresh(settled_only=False)  # the same once every hour is read from the rollups
    assert (chart_tables(scope), totals(scope)) == raw


def test_refresh_interval_setting(monkeypatch):
    from langfuse_ui.config import ConfigError
    from traces.dashboards import refresher

    assert refresher.interval_seconds() == 60
    monkeypatch.setenv("LANGFUSE_DASHBOARD_REFRESH_SECONDS", "0")
    assert refresher.start(refresher.interval_seconds(), threading.Event()) is None
    monkeypatch.setenv("LANGFUSE_DASHBOARD_REFRESH_SECONDS", "often")
    with pytest.raises(ConfigError, match="LANGFUSE_DASHBOARD_REFRESH_SECONDS"):
        refresher.interval_seconds()


@pytest.mark.django_db(transaction=True)
def test_the_refresh_thread_recomputes_marked_hours_until_stopped():
    """The thread `serve` starts: it refreshes on its own connection, round after round, and ends
    when told to."""
    from traces.dashboards import refresher

    project = make_project()
    Trace.objects.create(project=project, id="x", timestamp=T0, total_cost=2)
    assert marked(project.id) == [T0]
    stop = threading.Event()

    def until_refreshed() -> None:
        for _ in range(300):  # a round a second; 30 s without one is a hang, not slowness
            if not marked(project.id):
                return
            stop.wait(0.1)
        raise AssertionError("the refresh thread left the hour marked")

    thread = refresher.start(1, stop)
    try:
        until_refreshed()
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(cost) FROM dashboard_trace_hours WHERE project_id = %s", [project.id])
            assert cursor.fetchone()[0] == 2
        Trace.objects.filter(project=project, id="x").update(total_cost=5)  # the next round sees it
        until_refreshed()
        assert rollups.check(project.id) == []
    finally:
        stop.set()
        thread.join()
    assert not thread.is_alive()


def wait_until_blocked(waiter: threading.Thread) -> None:
    """Until another backend waits for a lock, or the waiter finished without waiting (no timing:
    polls pg_stat_activity)."""
    while waiter.is_alive():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return


def in_thread(work) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["observation", "trace"])
def test_a_trace_moving_while_its_observations_arrive_stays_exact(first):
    """Two transactions: one adds an observation, one moves its trace to another hour and
    environment; whichever goes first, the other waits for it and sees its rows."""
    from django.db import transaction

    project = make_project()
    trace = Trace.objects.create(project=project, id="x", timestamp=T0, environment="a")
    Observation.objects.create(
        project=project, id="o1", trace_id="x", start_time=T0, usage_details={"input": 5}
    )
    committed = threading.Event()
    holding = threading.Event()

    def add_observation(hold: bool) -> None:
        with transaction.atomic():
            Observation.objects.create(
                project=project, id="o2", trace_id="x", start_time=T0, usage_details={"input": 7}
            )
            if hold:
                holding.set()
                committed.wait()

    def move_trace(hold: bool) -> None:
        with transaction.atomic():
            Trace.objects.filter(project=project, id="x").update(
                timestamp=T0 + timedelta(hours=3), environment="b"
            )
            if hold:
                holding.set()
                committed.wait()

    hold_first, then = (
        (add_observation, move_trace) if first == "observation" else (move_trace, add_observation)
    )
    holder = in_thread(lambda: hold_first(True))
    holding.wait()
    waiter = in_thread(lambda: then(False))
    wait_until_blocked(waiter)
    committed.set()
    holder.join()
    waiter.join()
    assert_exact(project)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hour, environment, sum(amount) FROM dashboard_obs_hours WHERE project_id = %s "
            "GROUP BY 1, 2",
            [project.id],
        )
        assert cursor.fetchall() == [(T0 + timedelta(hours=3), "b", 12)]
    assert trace.pk


@pytest.mark.parametrize("days", [(10, 11), (10, 13), (8, 21)])
def test_the_hand_counted_data_set_reads_the_same_from_the_rollups(team, days):
    """dashboard_data: an update that changes cost, a deleted trace, scores, several environments."""
    from tests.traces.dashboard_data import at, make_dashboard_data

    make_dashboard_data(team.project)
    start, end = at(days[0], 0), at(days[1], 0)
    scope = Scope(team.project.id, Period.spanning(start, end), {"team_key": "team"}, "team", end)
    assert rollups.span_of(scope) is not None
    with_rollups = chart_tables(scope), totals(scope)
    with mock.patch.object(rollups, "span_of", return_value=None):
        raw = chart_tables(scope), totals(scope)
    assert with_rollups == raw
    assert_exact(team.project)


@pytest.mark.django_db(transaction=True)
def test_the_migration_folds_the_delta_rows_of_the_old_triggers_into_refreshed_rollups():
    """0012 replaces 0010's delta triggers: rows written under the old triggers stay exact, and
    writes after it mark their hours."""
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target: str) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("traces", target)])

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("traces")[0][1]
    migrate("0011_export_job_source")
    try:
        project = make_project()  # the models have not changed since 0011
        Trace.objects.create(project=project, id="a", timestamp=T0, total_cost=2, total_tokens=10)
        Trace.objects.filter(project=project).update(total_cost=5)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM dashboard_trace_hours WHERE project_id = %s", [project.id])
            assert cursor.fetchone()[0] == 2  # the old triggers' deltas of the insert and the update
    finally:
        migrate(latest)
    assert rollups.marked_hours() == 0
    assert rollups.check(project.id) == []
    assert rollup_sums(project.id)["cost"] == 5
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dashboard_trace_hours WHERE project_id = %s", [project.id])
        assert cursor.fetchone()[0] == 1
    Trace.objects.filter(project=project).update(total_cost=7)
    assert marked(project.id) == [T0]
    assert_exact(project)
