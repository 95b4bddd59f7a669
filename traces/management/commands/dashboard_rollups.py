"""manage.py dashboard_rollups: check, refresh or rebuild the dashboard's hourly rollups."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand

from traces.dashboards import rollups


class Command(BaseCommand):
    help = (
        "Compare the dashboard rollups with aggregates over the raw traces and observations (--check), "
        "recompute the hours writes have marked (--refresh) or recompute everything (--rebuild)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Exit 1 and list the keys that differ")
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Recompute every marked hour, the current one too (the server's thread does it every minute)",
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="Recompute both tables (writers wait meanwhile)"
        )
        parser.add_argument("--project", metavar="ID", help="Check one project only")

    def handle(self, *args, check: bool, refresh: bool, rebuild: bool, project: str | None, **options):
        if not (check or refresh or rebuild):
            check = True
        started = time.monotonic()
        if rebuild:
            rollups.rebuild()
            self.stdout.write(f"Rebuilt in {time.monotonic() - started:.1f}s")
        if refresh:
            hours = rollups.refresh(settled_only=False)
            self.stdout.write(
                f"Refreshed {hours:,} hours in {time.monotonic() - started:.1f}s; "
                f"{rollups.marked_hours():,} marked since"
            )
        if check:
            mismatches = rollups.check(project)
            if mismatches:
                for m in mismatches[:50]:
                    if m.raw is None and m.rollup is None:  # latency values: the rows differ
                        self.stderr.write(f"{m.table} {m.key}: the values differ from the raw rows")
                    else:
                        self.stderr.write(f"{m.table} {m.key}: raw {m.raw}, rollup {m.rollup}")
                self.stderr.write(f"{len(mismatches):,} keys differ; `--rebuild` recomputes them")
                sys.exit(1)
            self.stdout.write(f"Rollups agree with the raw rows ({time.monotonic() - started:.1f}s)")
