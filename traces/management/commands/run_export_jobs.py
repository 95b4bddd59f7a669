"""Run the queued trace exports (and, with --daily, queue yesterday's scheduled exports first)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from traces import export_jobs


class Command(BaseCommand):
    help = (
        "Run every queued export job to the export bucket (LANGFUSE_S3_BATCH_EXPORT_*). "
        "--daily first queues the previous UTC day's export of each project with the schedule on."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--daily", action="store_true", help="queue the scheduled daily exports first")

    def handle(self, *args, daily: bool, **options) -> None:
        if daily:
            queued = export_jobs.queue_daily_exports()
            self.stdout.write(f"Queued {len(queued)} daily export(s)")
        jobs = export_jobs.run_pending()
        for job in jobs:
            line = f"{job.pk} ({job.project_id}): {job.status}, {job.rows_written} rows"
            if job.status == "done":
                self.stdout.write(f"{line} -> s3://{job.bucket}/{job.object_key}", self.style.SUCCESS)
            else:
                self.stdout.write(f"{line}: {job.error}", self.style.ERROR)
        if not jobs:
            self.stdout.write("No export job waiting")
        failed = [job for job in jobs if job.status != "done"]
        if failed:
            raise CommandError(f"{len(failed)} of {len(jobs)} export job(s) failed")
