"""`manage.py backup`: pg_dump of the configured database to a file or an S3/MinIO bucket."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from langfuse_ui import backups


class Command(BaseCommand):
    help = "Dump the database (pg_dump, custom format) to a file or to an S3/MinIO bucket."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output", type=Path, help="File to write (default .data/backups/langfuse-<UTC>.dump)"
        )
        parser.add_argument(
            "--bucket", help="Upload to this bucket (LANGFUSE_S3_* settings) instead of a file"
        )
        parser.add_argument(
            "--prefix", default=backups.DEFAULT_PREFIX, help="Object key prefix in the bucket"
        )
        parser.add_argument("--database-url", help="Dump this database instead of the configured one")

    def handle(self, *args, **options) -> None:
        database = self._database(options["database_url"])
        try:
            if options["bucket"]:
                key = backups.backup_to_bucket(database, options["bucket"], options["prefix"])
                self.stdout.write(f"Backed up {database.name!r} to s3://{options['bucket']}/{key}")
            else:
                path = backups.dump(database, options["output"] or backups.default_output())
                self.stdout.write(f"Backed up {database.name!r} to {path}")
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None

    def _database(self, url: str | None) -> backups.Database:
        return backups.Database.from_url(url) if url else backups.Database.from_settings()
