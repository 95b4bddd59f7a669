#!/usr/bin/env python3
"""Traces list benchmark: server time of /project/<id>/traces for the default view, each single
filter, each sort, full-text search and a deep page (page 100), as p50/p95 over repeated requests.

Seeds --traces demo traces (manage.py seed_demo, about ten observations each) into a project of
its own in a scratch embedded PostgreSQL (.data/bench-postgres, database bench_tracelist) unless
--database-url names one; seeding is idempotent, so a second run with the same --traces reuses
the rows. Requests go through Django's test client in this process: the time is the view, its
queries and the template, without network or a server's worker model. Run by hand; never from
the test suite.

  .venv/bin/python bench/trace_list_bench.py --traces 50000
  .venv/bin/python bench/trace_list_bench.py --traces 1000000 --repeat 20 --explain

--project uses an existing project as it is (no seeding, no moving of the data); --now then freezes
the clock at the end of its data (seed_demo's --now) so the time presets find rows:

  .venv/bin/python bench/trace_list_bench.py --database-url ... --project demo-project \
      --now 2026-11-27T00:00:00Z --big-trace

--big-trace adds (once) a trace with 1,000 observations to the project and times its page.

--rare adds (once) 20 traces spread evenly over the project's time span, each with values no other
trace has (name, user, release, version, environment, tag, metadata, a model, a score name, an
error), and times each filter on them: the worst case of a filter is a value so rare that the list
must look through the whole project to show its few rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.utils import timezone  # reads settings only when called

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "bench_tracelist"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traces", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30, help="spread the traces over this many days")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--database-url", help="default: a scratch embedded PostgreSQL")
    parser.add_argument(
        "--explain", action="store_true", help="print the plan of the list query per scenario"
    )
    parser.add_argument("--only", help="run only scenarios whose name contains this text")
    parser.add_argument("--project", help="an existing project, used as it is (no seeding)")
    parser.add_argument("--now", help="ISO time the clock is frozen at (with --project)")
    parser.add_argument("--big-trace", action="store_true", help="time a trace with 1,000 observations")
    parser.add_argument(
        "--rare", action="store_true", help="time each filter on a value 20 traces spread over the data have"
    )
    return parser.parse_args()


def setup_django(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        from langfuse_ui import embedded_db

        pgdata = embedded_db.data_dir("bench-postgres")
        embedded_db.acquire(pgdata, DATABASE)
        import atexit

        atexit.register(embedded_db.release, pgdata)
        os.environ["DATABASE_URL"] = embedded_db.database_url(pgdata, DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langfuse_ui.settings")
    # Production settings: DEBUG=true makes templates keep debug data and log every query.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SALT", "bench-only-salt")
    import django

    django.setup()


def prepare(traces: int, days: int):
    """Migrate, make the bench project and its owner, seed the traces, refresh statistics."""
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Organization, OrganizationMembership, Project, Role, User
    from traces.models import Trace

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(id="bench-org", defaults={"name": "Bench"})
    project, _ = Project.objects.get_or_create(
        id="bench-tracelist", defaults={"organization": org, "name": "bench"}
    )
    user = User.objects.filter(email="bench@bench.test").first() or User.objects.create_user(
        "bench@bench.test", "x"
    )
    OrganizationMembership.objects.get_or_create(organization=org, user=user, defaults={"role": Role.OWNER})
    have = Trace.objects.filter(project=project).count()
    if have < traces:
        started = time.monotonic()
        print(f"seeding {traces - have:,} traces ...", flush=True)
        call_command(
            "seed_demo", project=project.id, traces=traces, days=days, now=timezone.now().isoformat()
        )
        print(f"seeded in {time.monotonic() - started:.0f}s", flush=True)
    shift_to_now(project)
    with connection.cursor() as cursor:
        for table in ("traces", "observations", "scores"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return project, user


def existing(project_id: str):
    """The project as it is, with a bench owner."""
    from accounts.models import OrganizationMembership, Project, Role, User

    project = Project.objects.get(pk=project_id)
    user = User.objects.filter(email="bench@bench.test").first() or User.objects.create_user(
        "bench@bench.test", "x"
    )
    OrganizationMembership.objects.get_or_create(
        organization=project.organization, user=user, defaults={"role": Role.OWNER}
    )
    return project, user


BIG_TRACE = "bench-trace-1000-observations"


def big_trace(project) -> str:
    """A trace with 1,000 nested observations (10 spans of 99 generations/events), made once."""
    from traces.models import Observation, Trace

    if not Trace.objects.filter(project=project, id=BIG_TRACE).exists():
        start = (
            Trace.objects.filter(project=project)
            .order_by("-timestamp")
            .values_list("timestamp", flat=True)[0]
        )
        rows = []
        for span in range(10):
            span_id = f"{BIG_TRACE}-s{span}"
            rows.append(
                Observation(
                    project=project,
                    id=span_id,
                    trace_id=BIG_TRACE,
                    type="SPAN",
                    name=f"step {span}",
                    start_time=start + timedelta(seconds=span),
                    end_time=start + timedelta(seconds=span + 1),
                    input={"step": span},
                )
            )
            for child in range(99):
                at = start + timedelta(seconds=span, milliseconds=child * 10)
                rows.append(Observation(
                    project=project, id=f"{span_id}-{child}", trace_id=BIG_TRACE, parent_observation_id=span_id,
                    type="GENERATION" if child % 3 == 0 else "EVENT", name=f"call {child}", start_time=at,
                    end_time=at + timedelta(milliseconds=8), provided_model_name="gpt-4o-mini",
                    usage_details={"input": 120, "output": 30, "total": 150},
                    input=[{"role": "user", "content": f"question {child}"}], output={"content": "answer"},
                ))  # fmt: skip
        Trace.objects.create(project=project, id=BIG_TRACE, timestamp=start, name="big", start_time=start,
                             end_time=start + timedelta(seconds=10), observation_count=len(rows))  # fmt: skip
        Observation.objects.bulk_create(rows)
    return BIG_TRACE


RARE = "bench-rare"
RARE_TRACES = 20


def rare_traces(project) -> None:
    """RARE_TRACES traces spread evenly from the project's oldest trace to its newest, with values
    of their own, one generation of a model of its own and one score of a name of its own each;
    made once, then the statistics are refreshed."""
    from django.db import connection
    from django.db.models import Max, Min

    from traces.models import Observation, Score, Trace

    if Trace.objects.filter(project=project, id__startswith=f"{RARE}-").exists():
        return
    span = Trace.objects.filter(project=project).aggregate(first=Min("timestamp"), last=Max("timestamp"))
    step = (span["last"] - span["first"]) / (RARE_TRACES - 1)
    traces, observations, scores = [], [], []
    for i in range(RARE_TRACES):
        at = span["first"] + step * i - timedelta(milliseconds=1)
        trace_id = f"{RARE}-{i:02d}"
        traces.append(Trace(
            project=project, id=trace_id, timestamp=at, name=f"{RARE}-name", user_id=f"{RARE}-user",
            release=f"{RARE}-release", version=f"{RARE}-version", environment=f"{RARE}-env",
            tags=[f"{RARE}-tag"], metadata={"bench": RARE}, start_time=at, end_time=at + timedelta(seconds=1),
            observation_count=1, error_count=1,
        ))  # fmt: skip
        observations.append(Observation(
            project=project, id=f"{trace_id}-gen", trace_id=trace_id, type="GENERATION", name="rare call",
            start_time=at, end_time=at + timedelta(seconds=1), provided_model_name=f"{RARE}-model", level="ERROR",
        ))  # fmt: skip
        scores.append(Score(project=project, id=f"{trace_id}-score", trace_id=trace_id, name=f"{RARE}-score",
                            value=0.5, timestamp=at))  # fmt: skip
    Trace.objects.bulk_create(traces)
    Observation.objects.bulk_create(observations)
    Score.objects.bulk_create(scores)
    with connection.cursor() as cursor:
        for table in ("traces", "observations", "scores"):
            cursor.execute(f"ANALYZE {table}")


def rare_scenarios() -> list[tuple[str, dict]]:
    return [
        (f"rare {name}", params)
        for name, params in [
            ("name", {"name": f"{RARE}-name"}),
            ("user", {"user": f"{RARE}-user"}),
            ("release", {"release": f"{RARE}-release"}),
            ("version", {"version": f"{RARE}-version"}),
            ("environment", {"environment": f"{RARE}-env"}),
            ("tag", {"tags": f"{RARE}-tag"}),
            ("model", {"model": f"{RARE}-model"}),
            ("metadata", {"meta_key": "bench", "meta_value": RARE}),
            ("score name", {"score_name": f"{RARE}-score"}),
            ("score value", {"score_name": f"{RARE}-score", "score_op": "<=", "score_value": "0.5"}),
            ("no match: model", {"model": f"{RARE}-no-such-model"}),
            ("no match: version", {"version": f"{RARE}-no-such-version"}),
        ]
    ]


def shift_to_now(project) -> None:
    """Move the data so its newest trace is two minutes old: the 1h/24h presets count back from
    now, and a database seeded days ago would otherwise find nothing in them."""
    from django.db import connection
    from django.db.models import Max

    from traces.models import Trace

    newest = Trace.objects.filter(project=project).aggregate(newest=Max("timestamp"))["newest"]
    if newest is None or timezone.now() - newest < timedelta(hours=1):
        return
    delta = timezone.now() - timedelta(minutes=2) - newest
    print(f"moving the data {delta} forward ...", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE traces SET timestamp = timestamp + %s, start_time = start_time + %s, "
            "end_time = end_time + %s WHERE project_id = %s",
            [delta, delta, delta, project.id],
        )
        cursor.execute(
            "UPDATE observations SET start_time = start_time + %s, end_time = end_time + %s, "
            "completion_start_time = completion_start_time + %s WHERE project_id = %s",
            [delta, delta, delta, project.id],
        )
        cursor.execute(
            "UPDATE scores SET timestamp = timestamp + %s WHERE project_id = %s", [delta, project.id]
        )


def common_values(project) -> dict:
    """Real filter values from the data: the most frequent of each, so filters match rows."""
    from django.db.models import Count

    from traces.models import Observation, Score, Trace

    traces = Trace.objects.filter(project=project)

    def top(field: str, qs=traces):
        row = (
            qs.exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(n=Count("*"))
            .order_by("-n")
            .first()
        )
        return row and row[field]

    sample = (
        traces.exclude(metadata={}).order_by("-timestamp").values_list("metadata", flat=True).first() or {}
    )
    meta_key, meta_value = next(((k, v) for k, v in sample.items() if isinstance(v, str)), ("", ""))
    tag_row = traces.exclude(tags=[]).order_by("-timestamp").values_list("tags", flat=True).first() or [""]
    return {
        "name": top("name"),
        "user": top("user_id"),
        "session": traces.exclude(session_id=None)
        .order_by("-timestamp")
        .values_list("session_id", flat=True)
        .first(),
        "environment": top("environment"),
        "release": top("release"),
        "version": top("version"),
        "tag": tag_row[0],
        "model": top("provided_model_name", Observation.objects.filter(project=project)),
        "score": top("name", Score.objects.filter(project=project)),
        "meta_key": meta_key,
        "meta_value": meta_value,
    }


def scenarios(values: dict) -> list[tuple[str, dict]]:

    now = timezone.now()
    week = {
        "since": (now - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M"),
        "until": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    listed = [
        ("default (newest first)", {}),
        ("time range 24h", {"range": "24h"}),
        ("time range custom 7 days", week),
        ("name", {"name": values["name"]}),
        ("user", {"user": values["user"]}),
        ("session", {"session": values["session"]}),
        ("tags any", {"tags": values["tag"]}),
        ("tags all (2)", {"tags": f"{values['tag']},beta", "tags_mode": "all"}),
        ("environment", {"environment": values["environment"]}),
        ("release", {"release": values["release"]}),
        ("version", {"version": values["version"]}),
        ("level ERROR", {"level": "ERROR"}),
        ("level WARNING", {"level": "WARNING"}),
        ("model (EXISTS observations)", {"model": values["model"]}),
        ("metadata key = value", {"meta_key": values["meta_key"], "meta_value": values["meta_value"]}),
        ("cost >= 0.01", {"cost_min": "0.01"}),
        ("latency >= 5 s", {"latency_min": "5"}),
        ("score name", {"score_name": values["score"]}),
        ("score value >= 0.8", {"score_name": values["score"], "score_op": ">=", "score_value": "0.8"}),
        ("sort latency desc", {"sort": "latency"}),
        ("sort cost desc", {"sort": "cost"}),
        ("sort tokens asc", {"sort": "tokens", "order": "asc"}),
        ("search common word", {"q": "order"}),
        ("search rare word", {"q": "zzqx-not-there"}),
        ("search non-English", {"q": "Привет"}),
    ]
    return [(name, params) for name, params in listed if all(v not in (None, "") for v in params.values())]


def deep_cursor(project, page: int, size: int = 50) -> str:
    """The cursor the 'next' link of page `page - 1` carries (found once with OFFSET, outside the timing)."""
    from traces.keyset import encode_cursor
    from traces.models import Trace

    row = (
        Trace.objects.filter(project=project)
        .order_by("-timestamp", "-id")
        .values_list("timestamp", "id")[(page - 1) * size - 1]
    )
    return encode_cursor(*row)


def measure(client, url: str, params: dict, repeat: int) -> tuple[list[float], list[float], int, int]:
    """Wall time of each request and the time its SQL took (DEBUG query log), rows, queries."""
    from django.db import connection

    for _ in range(2):
        client.get(url, params)
    times, sql_times = [], []
    connection.force_debug_cursor = True  # time each query, as DEBUG would
    for _ in range(repeat):
        connection.queries_log.clear()
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        sql_times.append(sum(float(query["time"]) for query in connection.queries_log) * 1000)
    assert response.status_code == 200, response.status_code
    rows = response.content.decode().count("data-trace-id=")
    return times, sql_times, rows, len(connection.queries_log)


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def explain(project, params: dict) -> str:
    """The plan of each query the page runs (a page sorted by time under a filter without a
    time-ordered index runs up to three: traces/list_queries.trace_page)."""
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from traces.forms import TraceListForm
    from traces.list_queries import trace_page

    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = value
    state = TraceListForm(query).state()
    with CaptureQueriesContext(connection) as captured:
        trace_page(project, state, timezone.now())
    lines = []
    with connection.cursor() as cursor:
        for number, run in enumerate(captured.captured_queries, 1):
            lines.append(f"      -- query {number} of {len(captured.captured_queries)}")
            if run["sql"].startswith("EXPLAIN"):  # the planner's estimate of the matches
                lines.append(f"      {run['sql'][:100]}...")
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {run['sql']}")
            lines += [f"      {line}" for (line,) in cursor.fetchall()]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    from django.test import Client

    if args.now:
        from unittest import mock

        from django.utils.dateparse import parse_datetime

        frozen = parse_datetime(args.now)
        mock.patch("django.utils.timezone.now", return_value=frozen).start()
    project, user = existing(args.project) if args.project else prepare(args.traces, args.days)
    from traces.models import Observation, Trace

    client = Client()
    client.force_login(user)
    url = f"/project/{project.id}/traces"
    total = Trace.objects.filter(project=project).count()
    observations = Observation.objects.filter(project=project).count()
    print(
        f"\n{total:,} traces, {observations:,} observations in project {project.id}; {args.repeat} requests each\n"
    )
    runs = scenarios(common_values(project))
    if total > 100 * 50:
        runs.append(("page 100 (keyset cursor)", {"after": deep_cursor(project, 100)}))
    if args.rare:
        rare_traces(project)
        runs += rare_scenarios()
    if args.big_trace:
        runs.append(("trace with 1,000 observations", {"_path": f"{url}/{big_trace(project)}"}))
    if args.only:
        runs = [(name, params) for name, params in runs if args.only in name]
    header = ("scenario", "p50 ms", "p95 ms", "max ms", "sql p50", "sql p95", "rows", "queries")
    print(f"{header[0]:30}" + "".join(f"{title:>9}" for title in header[1:]))
    for name, params in runs:
        params = dict(params)
        path = params.pop("_path", url)
        times, sql_times, rows, queries = measure(client, path, params, args.repeat)
        figures = [p50(times), p95(times), max(times), p50(sql_times), p95(sql_times)]
        print(
            f"{name:30}" + "".join(f"{value:9.1f}" for value in figures) + f"{rows:9}{queries:9}", flush=True
        )
        if args.explain and path == url:
            print(explain(project, params))


if __name__ == "__main__":
    main()
