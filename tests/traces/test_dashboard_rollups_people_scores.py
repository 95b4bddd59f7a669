"""The rollups of cost by user and team and of the score charts (migration traces/0014).

Like tests/traces/test_dashboard_rollups.py (whose helpers these tests import): writes through the real
paths, `rollups.check` finds nothing before and after a refresh, and every chart reads the same with
and without the rollups, refreshed or not. Scores count in their trace's hour, so score writes mark it.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection

from tests.factories import ensure_default_prices, make_project
from tests.traces.test_dashboard_rollups import (
    T0,
    Ingest,
    assert_exact,
    assert_same_numbers,
    chart_tables,
    generation,
    in_thread,
    marked,
    trace,
    wait_until_blocked,
)
from traces.dashboards import breakdowns, rollups, scores, series
from traces.dashboards.base import Scope
from traces.dashboards.period import Period
from traces.dashboards.totals import totals
from traces.deletion import delete_traces
from traces.models import Score, Trace

pytestmark = pytest.mark.django_db

NEW_TABLES = [
    "dashboard_user_hours",
    "dashboard_team_hours",
    "dashboard_score_hours",
    "dashboard_score_label_hours",
    "dashboard_score_prompt_hours",
]


@pytest.fixture
def ingest(client, db):
    """An ingestion client for a new project (the shared module's Ingest)."""
    ensure_default_prices()
    return Ingest(client, make_project())


def score(score_id: str, trace_id: str, name: str, value, **fields) -> tuple[str, dict]:
    return "score-create", {"id": score_id, "traceId": trace_id, "name": name, "value": value, **fields}


def rows(table: str, project_id: str, columns: str) -> list[tuple]:
    """Columns of a rollup table's rows, once every marked hour is refreshed."""
    rollups.refresh(settled_only=False)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {table} WHERE project_id = %s ORDER BY {columns}", [project_id]
        )
        return cursor.fetchall()


def scope_of(project, start: datetime, end: datetime, team_key: str = "team", environment: str = "") -> Scope:
    filters = {"environment": environment, "team_key": team_key}
    return Scope(project.id, Period.spanning(start, end), filters, team_key, end)


def raw_and_rolled(scope: Scope) -> tuple:
    """Chart tables and totals with the rollups (one snapshot) and from the raw rows. The totals' p95
    comes from the daily latency rollup, compared in tests/traces/test_dashboard_percentiles.py."""

    def read() -> tuple:
        return chart_tables(scope), dataclasses.replace(totals(scope), p95_latency=None)

    with rollups.snapshot():
        rolled = read()
    with mock.patch.object(rollups, "span_of", return_value=None):
        raw = read()
    return rolled, raw


def people_and_scores(ingest) -> None:
    """Two hours of traces with users, teams, prompts and scores of every kind."""
    ingest.post(
        trace(
            "a", T0 + timedelta(minutes=5), userId="alice", metadata={"team": "search"}, environment="prod"
        ),
        generation("a-g", "a", T0 + timedelta(minutes=5), promptName="greet", promptVersion=1),
        generation("a-g2", "a", T0 + timedelta(minutes=6), promptName="greet", promptVersion=2),
        trace("b", T0 + timedelta(minutes=40), userId="bob", metadata={"team": "billing"}),
        generation("b-g", "b", T0 + timedelta(minutes=40), promptName="greet", promptVersion=1),
        trace("c", T0 + timedelta(hours=1, minutes=10), userId="alice", metadata={"group": "x"}),
        generation("c-g", "c", T0 + timedelta(hours=1, minutes=10)),
        # a: a trace score (counts for greet v1 and v2) and a generation score (v2 only).
        score("s1", "a", "quality", 0.5),
        score("s2", "a", "quality", 1, observationId="a-g2"),
        score("s3", "b", "quality", 0.25),
        score("s4", "b", "helpful", True, dataType="BOOLEAN"),
        score("s5", "c", "helpful", 0, dataType="BOOLEAN"),
        score("s6", "c", "tone", "friendly"),
        score("s7", "a", "tone", "friendly"),
        score("s8", "c", "quality", 0.125),
    )


def test_ingested_people_and_scores_roll_up_with_hand_checked_numbers(ingest):
    people_and_scores(ingest)
    project = ingest.project
    assert_exact(project)
    hour0, hour1 = T0, T0 + timedelta(hours=1)
    users = rows("dashboard_user_hours", project.id, "hour, environment, user_id, traces")
    assert users == [
        (hour0, "default", "bob", 1),
        (hour0, "prod", "alice", 1),
        (hour1, "default", "alice", 1),
    ]
    teams = rows("dashboard_team_hours", project.id, "hour, team, traces")
    assert teams == [(hour0, "billing", 1), (hour0, "search", 1), (hour1, None, 1)]
    averaged = rows("dashboard_score_hours", project.id, "hour, environment, name, value_sum, scores")
    assert averaged == [
        (hour0, "default", "helpful", 1, 1),
        (hour0, "default", "quality", 0.25, 1),
        (hour0, "prod", "quality", 1.5, 2),
        (hour1, "default", "helpful", 0, 1),
        (hour1, "default", "quality", 0.125, 1),
    ]
    labels = rows("dashboard_score_label_hours", project.id, "hour, name, label, scores")
    assert labels == [
        (hour0, "helpful", "true", 1),
        (hour0, "quality", "0.25", 1),
        (hour0, "quality", "0.50", 1),
        (hour0, "quality", "1.00", 1),
        (hour0, "tone", "friendly", 1),
        (hour1, "helpful", "false", 1),
        (hour1, "quality", "0.13", 1),
        (hour1, "tone", "friendly", 1),
    ]
    # s1 (trace score of a) counts once for v1 and once for v2; s2 for v2 only; s3, s4 for b's v1.
    columns = "hour, environment, name, prompt_name, prompt_version, value_sum, scores"
    prompts = rows("dashboard_score_prompt_hours", project.id, columns)
    assert prompts == [
        (hour0, "default", "helpful", "greet", 1, 1, 1),
        (hour0, "default", "quality", "greet", 1, 0.25, 1),
        (hour0, "prod", "quality", "greet", 1, 0.5, 1),
        (hour0, "prod", "quality", "greet", 2, 1.5, 2),
    ]

    # The charts over the two whole hours read the rollups only, and say the same numbers.
    scope = scope_of(project, hour0, hour0 + timedelta(hours=2))
    span = rollups.span_of(scope)
    assert span is not None and span.dirty == ()
    by_user = {group.key: (group.traces, group.other) for group in breakdowns.cost_by(scope, "user")}
    assert by_user == {"alice": (2, False), "bob": (1, False)}
    by_team = {group.key: group.traces for group in breakdowns.cost_by(scope, "team")}
    assert by_team == {"search": 1, "billing": 1, None: 1}
    averages = {line.name: line.values for line in series.score_averages(scope).lines}
    assert averages == {"helpful": [1.0, 0.0], "quality": [1.75 / 3, 0.125]}
    assert [(row.score, row.value, row.count) for row in scores.distribution(scope)] == [
        ("helpful", "false", 1),
        ("helpful", "true", 1),
        ("quality", "0.13", 1),
        ("quality", "0.25", 1),
        ("quality", "0.50", 1),
        ("quality", "1.00", 1),
        ("tone", "friendly", 2),
    ]
    by_prompt = [(r.score, r.prompt, r.version, r.average, r.count) for r in scores.by_prompt_version(scope)]
    assert by_prompt == [
        ("helpful", "greet", 1, 1.0, 1),
        ("quality", "greet", 1, 0.375, 2),
        ("quality", "greet", 2, 0.75, 2),
    ]
    rolled, raw = raw_and_rolled(scope)
    assert rolled == raw


def test_the_charts_read_the_new_rollup_tables(ingest):
    """A change to a rollup row shows in its chart: the charts do read them (and a team key the
    rollup does not carry reads the raw rows)."""
    people_and_scores(ingest)
    project = ingest.project
    rollups.refresh(settled_only=False)
    scope = scope_of(project, T0, T0 + timedelta(hours=2))
    before = chart_tables(scope)
    other_key = scope_of(project, T0, T0 + timedelta(hours=2), team_key="group")
    other_before = chart_tables(other_key)["cost-by-team"]
    assert {row[0].value for row in other_before[0]} == {"x", None}
    with connection.cursor() as cursor:
        for table, column in [
            ("dashboard_user_hours", "traces"),
            ("dashboard_team_hours", "traces"),
            ("dashboard_score_hours", "scores"),
            ("dashboard_score_label_hours", "scores"),
            ("dashboard_score_prompt_hours", "scores"),
        ]:
            cursor.execute(f"UPDATE {table} SET {column} = {column} + 10 WHERE project_id = %s", [project.id])
    after = chart_tables(scope)
    for key in ["cost-by-user", "cost-by-team", "scores", "score-distribution", "scores-by-prompt"]:
        assert after[key] != before[key], key
    assert chart_tables(other_key)["cost-by-team"] == other_before
    assert {mismatch.table for mismatch in rollups.check(project.id)} == set(NEW_TABLES)
    call_command("dashboard_rollups", "--rebuild")
    assert rollups.check(project.id) == []
    assert chart_tables(scope) == before


def test_score_writes_updates_and_deletes_mark_their_trace_hours(ingest, client):
    people_and_scores(ingest)
    project = ingest.project
    rollups.refresh(settled_only=False)
    hour1 = T0 + timedelta(hours=1)
    # An update of a score of c (hour 1) through ingestion: a new value.
    ingest.post(score("s8", "c", "quality", 0.875))
    assert set(marked(project.id)) == {hour1}
    assert_exact(project)
    # A score moved to another trace marks both traces' hours.
    ingest.post(score("s5", "a", "helpful", 1, dataType="BOOLEAN"))
    assert set(marked(project.id)) == {T0, hour1}
    assert_exact(project)
    # A score without a trace (session score) marks nothing and counts nowhere.
    ingest.post(("score-create", {"id": "s9", "sessionId": "sess", "name": "quality", "value": 9}))
    assert marked(project.id) == []
    # Deleting through the public API and directly.
    response = client.delete("/api/public/scores/s1", HTTP_AUTHORIZATION=ingest.header)
    assert response.status_code == 204
    assert set(marked(project.id)) == {T0}
    assert_exact(project)
    Score.objects.for_project(project).filter(id__in=["s6", "s8"]).delete()
    assert set(marked(project.id)) == {hour1}
    scope = scope_of(project, T0 - timedelta(minutes=3), T0 + timedelta(hours=2, minutes=1))
    rolled, raw = raw_and_rolled(scope)
    assert rolled == raw
    assert_exact(project)
    rolled_after, _ = raw_and_rolled(scope)
    assert rolled_after == raw
    # Hand check after the edits: quality is 1 (s2 on a) and 0.25 (b); s1, s8 are gone.
    averages = {
        line.name: [value for value in line.values if value is not None]
        for line in series.score_averages(scope).lines
    }
    assert averages == {"quality": [0.625], "helpful": [1.0]}


def test_deleting_and_moving_traces_take_their_scores_along(ingest):
    people_and_scores(ingest)
    project = ingest.project
    rollups.refresh(settled_only=False)
    delete_traces(project, ["b"])
    assert set(marked(project.id)) == {T0}
    assert_exact(project)
    assert ("billing",) not in rows("dashboard_team_hours", project.id, "team")
    # c moves from hour 1 to two hours before T0 (ingestion keeps the earliest timestamp).
    earlier = T0 - timedelta(hours=2)
    ingest.post(trace("c", earlier))
    assert set(marked(project.id)) == {earlier, T0 + timedelta(hours=1)}
    assert_same_numbers(project, earlier, T0 + timedelta(hours=2))
    assert_exact(project)
    assert rows("dashboard_score_label_hours", project.id, "hour, name, label") == [
        (earlier, "helpful", "false"),
        (earlier, "quality", "0.13"),
        (earlier, "tone", "friendly"),
        (T0, "quality", "0.50"),
        (T0, "quality", "1.00"),
        (T0, "tone", "friendly"),
    ]
    assert rows("dashboard_user_hours", project.id, "hour, user_id, traces") == [
        (earlier, "alice", 1),
        (T0, "alice", 1),
    ]


def test_random_people_and_score_writes_read_the_same_with_and_without_rollups(ingest):
    """Property-style: a seeded random mix of traces, generations with prompts, scores of each type,
    score updates and deletes, trace moves and deletes, with refreshes in between."""
    rng = random.Random(11)
    traces: set[str] = set()
    score_ids: list[str] = []
    obs = 0
    for step in range(45):
        op = rng.choice(
            ["trace", "obs", "score", "score", "rescore", "unscore", "retime", "delete", "refresh"]
        )
        at = T0 + timedelta(hours=rng.randrange(30), minutes=rng.randrange(60))
        trace_id = f"t{rng.randrange(10)}"
        if op == "trace":
            fields = {
                "userId": rng.choice(["u1", "u2", None]),
                "environment": rng.choice(["production", "dev"]),
            }
            if rng.random() < 0.7:
                fields["metadata"] = {"team": rng.choice(["red", "blue", 3])}
            ingest.post(trace(trace_id, at, **fields))
            traces.add(trace_id)
        elif op == "obs":
            obs += 1
            prompt = {"promptName": "p", "promptVersion": rng.randrange(1, 3)} if rng.random() < 0.7 else {}
            ingest.post(generation(f"{trace_id}-o{obs}", trace_id, at, **prompt))
            traces.add(trace_id)
        elif op in ("score", "rescore") and traces:
            if op == "rescore" and score_ids:
                score_id = rng.choice(score_ids)
            else:
                score_id = f"s{step}"
                score_ids.append(score_id)
            target = rng.choice(sorted(traces))
            kind = rng.choice(["NUMERIC", "BOOLEAN", "CATEGORICAL"])
            value = {"NUMERIC": rng.random(), "BOOLEAN": rng.randrange(2), "CATEGORICAL": rng.choice("ab")}
            fields = {"dataType": kind}
            if rng.random() < 0.3:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT id FROM observations WHERE project_id = %s AND trace_id = %s LIMIT 1",
                        [ingest.project.id, target],
                    )
                    found = cursor.fetchone()
                if found:
                    fields["observationId"] = found[0]
            ingest.post(score(score_id, target, rng.choice(["q", "r"]), value[kind], **fields))
        elif op == "unscore" and score_ids:
            Score.objects.for_project(ingest.project).filter(
                id=score_ids.pop(rng.randrange(len(score_ids)))
            ).delete()
        elif op == "retime" and traces:
            Trace.objects.for_project(ingest.project).filter(id=rng.choice(sorted(traces))).update(
                timestamp=at
            )
        elif op == "delete" and traces:
            doomed = rng.choice(sorted(traces))
            delete_traces(ingest.project, [doomed])
            traces.discard(doomed)
        elif op == "refresh":
            rollups.refresh(settled_only=False)
        assert rollups.check(ingest.project.id) == []
        start, end = T0 - timedelta(minutes=30), T0 + timedelta(hours=31, minutes=7)
        assert_same_numbers(ingest.project, start, end)
        assert_same_numbers(ingest.project, start, end, environment="dev")
    assert_exact(ingest.project)
    rolled, raw = raw_and_rolled(scope_of(ingest.project, T0, T0 + timedelta(hours=30)))
    assert rolled == raw
    assert rolled[0]["score-distribution"][0]  # the mix left scores to count


@pytest.mark.parametrize("days", [(10, 11), (10, 13), (8, 21)])
def test_the_hand_counted_data_set_reads_the_same_from_the_new_rollups(team, days):
    from tests.traces.dashboard_data import at, make_dashboard_data

    make_dashboard_data(team.project)
    rollups.refresh(settled_only=False)
    scope = scope_of(team.project, at(days[0], 0), at(days[1], 0))
    rolled, raw = raw_and_rolled(scope)
    assert rolled == raw
    if days == (10, 13):  # tests/traces/dashboard_data.py: t1..t4 in the window, "gone" deleted
        by_user = {group.key: (group.cost, group.traces) for group in breakdowns.cost_by(scope, "user")}
        assert by_user == {"alice": (1.5, 2), "bob": (0.75, 1), None: (0.125, 1)}
        by_team = {group.key: group.cost for group in breakdowns.cost_by(scope, "team")}
        assert by_team == {"search": 1.25, "billing": 1, None: 0.125}
        averages = {line.name: line.values for line in series.score_averages(scope).lines}
        assert averages == {"quality": [0.6, 1.0, None]}  # exactly (numeric), the deleted 0.0 gone
    assert_exact(team.project)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["score", "trace"])
def test_a_trace_moving_while_its_score_arrives_stays_exact(first):
    """One transaction adds a score, one moves its trace to another hour; whichever goes first,
    the other waits for it (the scores trigger locks the trace) and the moved hour counts it."""
    from django.db import transaction

    project = make_project()
    Trace.objects.create(project=project, id="x", timestamp=T0, environment="a")
    Score.objects.create(project=project, id="s1", trace_id="x", name="q", value=0.5)
    rollups.refresh(settled_only=False)
    committed, holding = threading.Event(), threading.Event()

    def add_score(hold: bool) -> None:
        with transaction.atomic():
            Score.objects.create(project=project, id="s2", trace_id="x", name="q", value=0.25)
            if hold:
                holding.set()
                committed.wait()

    def move_trace(hold: bool) -> None:
        with transaction.atomic():
            Trace.objects.filter(project=project, id="x").update(timestamp=T0 + timedelta(hours=3))
            if hold:
                holding.set()
                committed.wait()

    hold_first, then = (add_score, move_trace) if first == "score" else (move_trace, add_score)
    holder = in_thread(lambda: hold_first(True))
    holding.wait()
    waiter = in_thread(lambda: then(False))
    wait_until_blocked(waiter)
    committed.set()
    holder.join()
    waiter.join()
    assert_exact(project)
    assert rows("dashboard_score_hours", project.id, "hour, environment, name, value_sum, scores") == [
        (T0 + timedelta(hours=3), "a", "q", 0.75, 2)
    ]


def test_a_score_written_by_the_annotation_path_marks_its_hour(ingest):
    """Any write to scores marks (here an ORM insert, as annotations and evaluations write)."""
    ingest.post(trace("a", T0 + timedelta(minutes=1)))
    rollups.refresh(settled_only=False)
    Score.objects.create(project=ingest.project, id="ann", trace_id="a", name="q", value=1)
    assert marked(ingest.project.id) == [T0]
    assert_exact(ingest.project)


def test_project_delete_leaves_no_new_rollup_rows(ingest, team):
    from accounts.projects import delete_project

    people_and_scores(ingest)
    rollups.refresh(settled_only=False)
    other = Ingest(ingest.client, team.project)
    other.post(trace("x", T0, userId="u"), score("sx", "x", "q", 1))
    delete_project(ingest.project, team.owner)
    for table in NEW_TABLES:
        assert rows(table, ingest.project.id, "hour") == []
    assert rows("dashboard_user_hours", team.project.id, "user_id") == [("u",)]
    assert rows("dashboard_score_hours", team.project.id, "name, scores") == [("q", 1)]
    assert_exact()
