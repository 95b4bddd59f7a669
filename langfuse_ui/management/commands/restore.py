"""`manage.py restore`: pg_restore a backup file (or bucket object) into the database."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from langfuse_ui import backups


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` (pg_restore --clean --if-exists)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="Backup file, or the object key when --bucket is given")
        parser.add_argument("--bucket", help="Download the backup from this bucket (LANGFUSE_S3_* settings)")
        parser.add_argument("--database-url", help="Restore into this database instead of the configured one")
        parser.add_argument("--yes", action="store_true", help="Replace the target's data without asking")

    def handle(self, *args, **options) -> None:
        url = options["database_url"]
        database = backups.Database.from_url(url) if url else backups.Database.from_settings()
        try:
            existing = backups.existing_data(database)
            if existing and not options["yes"]:
                figures = ", ".join(f"{count} {label}" for label, count in existing.items())
                raise CommandError(
                    f"Database {database.name!r} holds data ({figures}); the restore would replace it. "
                    "Run again with --yes to go ahead."
                )
            with tempfile.TemporaryDirectory(prefix="langfuse-restore-") as folder:
                path = Path(options["source"])
                if options["bucket"]:
                    path = backups.download(
                        options["bucket"], options["source"], Path(folder) / "backup.dump"
                    )
                backups.restore(database, path)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored {options['source']} into {database.name!r}")
