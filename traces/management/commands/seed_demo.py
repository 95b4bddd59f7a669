"""manage.py seed_demo: deterministic, realistic demo data for one project (see traces/demo.py)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from accounts.models import Project
from traces.demo import DEFAULT_CHUNK, SeedResult, ensure_demo_project, seed_demo


class Command(BaseCommand):
    help = (
        "Insert demo traces, observations, scores and prompts into a project. The same --seed gives "
        "the same rows; running again skips traces that exist."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--project",
            metavar="ID",
            help="Project id (default: demo-project in demo-org, created if missing)",
        )
        parser.add_argument("--traces", type=int, default=200, help="Number of traces (default 200)")
        parser.add_argument(
            "--days", type=int, default=14, help="Spread them over the last N days (default 14)"
        )
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42)")
        parser.add_argument(
            "--now", help="End of the time window as an ISO timestamp (default: now); fixes the rows exactly"
        )
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help="Traces per transaction")

    def handle(
        self, *args, project: str | None, traces: int, days: int, seed: int, now: str | None, **options
    ):
        if traces < 0 or days < 1 or options["chunk_size"] < 1:
            raise CommandError("--traces must be 0 or more, --days and --chunk-size 1 or more")
        anchor = None
        if now:
            anchor = parse_datetime(now)
            if anchor is None or anchor.tzinfo is None:
                raise CommandError(f"--now {now!r} is not an ISO timestamp with a time zone")
        if project:
            target = Project.objects.filter(pk=project).first()
            if target is None:
                raise CommandError(f"No project with id {project!r}")
        else:
            target = ensure_demo_project()

        started = time.monotonic()

        def report(result: SeedResult) -> None:
            done = result.created + result.skipped
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"  {done:,}/{result.requested:,} traces ({rate:,.0f}/s)")

        self.stdout.write(
            f"Seeding {traces:,} demo traces over {days} days into project {target.pk} (seed {seed})"
        )
        result = seed_demo(
            target,
            traces=traces,
            days=days,
            seed=seed,
            now=anchor,
            chunk_size=options["chunk_size"],
            progress=report if options["verbosity"] >= 1 else None,
        )
        for name in result.missing_prices:
            self.stderr.write(f"No price found for model {name}: its generations have no cost")
        self.stdout.write(
            f"Done in {time.monotonic() - started:.1f}s: {result.created:,} traces created "
            f"({result.observations:,} observations, {result.scores:,} scores), "
            f"{result.skipped:,} already present."
        )
