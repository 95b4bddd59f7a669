"""Server time of the project dashboard: the whole page and each chart partial.

Seed a scratch database first, then point this at it:

    createdb bench_dash   # any PostgreSQL, or the embedded one in .data/
    DEBUG=true DATABASE_URL=postgresql://...bench_dash python manage.py migrate
    DEBUG=true DATABASE_URL=... python manage.py seed_demo --traces 50000 --days 30 --now 2026-01-31T00:00:00Z
    DEBUG=true DATABASE_URL=... python bench/dashboard_bench.py --now 2026-01-31T00:00:00Z

At 10,000,000 observations (seed_demo writes ~400 traces/s on a busy machine; bench/clone_load.py
multiplies a seeded project inside PostgreSQL):

    DEBUG=true DATABASE_URL=... python manage.py seed_demo --traces 134000 --days 30 --now 2026-11-27T00:00:00Z
    DATABASE_URL=... python bench/clone_load.py --copies 9       # 1.34 M traces, 10.8 M observations
    DATABASE_URL=... python manage.py migrate                      # the rollup backfill, if not applied yet
    DATABASE_URL=... python bench/dashboard_bench.py --now 2026-11-27T00:00:00Z

It runs with production settings (DEBUG=false) and renders through Django's test client as a bench user with the Viewer role (created in the
project if missing), so the times include access checks, every query and template rendering;
not the network. Each figure is the median of --runs runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langfuse_ui.settings")
# Production settings: DEBUG=true keeps template debug data and logs every query.
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
os.environ.setdefault("SALT", "bench-only-salt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", default="demo-project")
    parser.add_argument("--now", help="ISO timestamp the presets count back from (seed_demo's --now)")
    parser.add_argument("--ranges", default="24h,7d,30d")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--extra", default="", help="more dashboard filters, e.g. '&environment=production'")
    parser.add_argument("--charts", help="comma list of chart keys (default: all)")
    parser.add_argument("--no-page", action="store_true", help="time the chart partials only")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each chart"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils.dateparse import parse_datetime

    from accounts.models import OrganizationMembership, Project, Role, User
    from traces.dashboards.catalogue import CHARTS
    from traces.models import Observation, Trace

    settings.ALLOWED_HOSTS = ["*"]
    project = Project.objects.get(pk=args.project)
    user, _ = User.objects.get_or_create(email="dashboard-bench@example.invalid")
    OrganizationMembership.objects.get_or_create(
        organization=project.organization, user=user, defaults={"role": Role.VIEWER}
    )
    client = Client()
    client.force_login(user)
    traces = Trace.objects.for_project(project).count()
    observations = Observation.objects.for_project(project).count()
    print(f"project {project.id}: {traces:,} traces, {observations:,} observations")

    def timed(url: str, **headers) -> float:
        samples = []
        for run in range(args.runs + 1):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if run:
                samples.append(elapsed)
        return statistics.median(samples)

    frozen = parse_datetime(args.now) if args.now else None
    patch = mock.patch("traces.dashboard_views.timezone.now", return_value=frozen) if frozen else None
    if patch:
        patch.start()
    base = f"/project/{project.id}/dashboards"
    keys = args.charts.split(",") if args.charts else list(CHARTS)

    def explain(url: str) -> None:
        with CaptureQueriesContext(connection) as captured:
            client.get(url, headers={"HX-Request": "true"})
        slowest = max(captured.captured_queries, key=lambda query: float(query["time"]))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            for (line,) in cursor.fetchall()[:40]:
                print(f"      {line}")

    for range_ in args.ranges.split(","):
        query = f"?range={range_}{args.extra}"
        if not args.no_page:
            page = timed(base + query)
            partial = timed(base + query, HX_Request="true", HX_Target="dashboard")
            print(f"\nrange {range_}: whole page {page:7.1f} ms, dashboard partial {partial:7.1f} ms")
        else:
            print(f"\nrange {range_}{args.extra}")
        for key in keys:
            url = f"{base}/charts/{key}{query}"
            print(f"  {key:22s} {timed(url, HX_Request='true'):7.1f} ms", flush=True)
            if args.explain:
                explain(url)
    if patch:
        patch.stop()


if __name__ == "__main__":
    main()
