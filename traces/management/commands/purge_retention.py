"""manage.py purge_retention: delete data older than each project's retention window."""

from __future__ import annotations

from dataclasses import asdict

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Project
from traces.retention import PurgeBusy, purge_all


class Command(BaseCommand):
    help = (
        "Delete traces, observations, scores and media older than each project's retention window "
        "(projects without one keep everything). Safe to run on several replicas: only one purges at a time."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", metavar="ID", help="Only this project")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing"
        )

    def handle(self, *args, project: str | None, dry_run: bool, **options) -> None:
        if project is not None:
            found = Project.objects.filter(pk=project).first()
            if found is None:
                raise CommandError(f"No project with id {project!r}")
            if not found.retention_days:
                self.stdout.write(
                    f"Project {project} keeps its data forever (no retention window); nothing to do"
                )
                return
        try:
            run = purge_all(project_id=project, dry_run=dry_run)
        except PurgeBusy as exc:
            raise CommandError(f"{exc}; try again when it has finished") from None
        verb = "would delete" if dry_run else "deleted"
        if not run.projects:
            self.stdout.write("No project has a retention window; nothing to do")
        for project_id, result in run.projects.items():
            counts = ", ".join(f"{value} {name}" for name, value in asdict(result).items())
            self.stdout.write(f"Project {project_id}: {verb} {counts}")
