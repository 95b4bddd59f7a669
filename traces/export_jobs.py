"""Export jobs: traces matching a list filter (or one UTC day), or the sessions of the sessions
list, written to the export bucket.

A person queues a job from the traces list; a worker claims it with SELECT ... FOR UPDATE SKIP
LOCKED, so several replicas never run one job twice, and streams the rows in keyset chunks
(traces/exports.py) into a multipart upload, holding one part in memory at most. The worker
sends a heartbeat with the progress after every chunk; a job whose heartbeat is older than the
lease (its process died) is claimed again by the next worker, up to MAX_ATTEMPTS times.

Workers are a thread of `manage.py serve` (traces/export_jobs_worker.py) and `manage.py
run_export_jobs`. The scheduled daily export queues one job per enabled project and UTC day;
the unique (project, day) constraint and a fixed object key per day make it idempotent.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone

from accounts import audit
from traces.export_jobs_bucket import BucketWriter, ExportBucket, client, explain, export_bucket
from traces.exports import (
    csv_chunks,
    iter_session_chunks,
    iter_trace_chunks,
    jsonl_chunks,
    session_csv_chunks,
    session_jsonl_chunks,
)
from traces.forms import FILTER_FIELDS, PeopleListForm, TraceListForm, query_string
from traces.list_queries import matching_traces
from traces.models import (
    ExportFormat,
    ExportJob,
    ExportKind,
    ExportSchedule,
    ExportSource,
    ExportStatus,
    Trace,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a running job without a heartbeat for this long is claimed again
MAX_ATTEMPTS = 3
DAILY_LOCK = 7_201_003  # pg_advisory_lock key; 7_201_001 start-up, 7_201_002 retention
ENCODERS = {
    (ExportSource.TRACES, ExportFormat.CSV): csv_chunks,
    (ExportSource.TRACES, ExportFormat.JSONL): jsonl_chunks,
    (ExportSource.SESSIONS, ExportFormat.CSV): session_csv_chunks,
    (ExportSource.SESSIONS, ExportFormat.JSONL): session_jsonl_chunks,
}
CONTENT_TYPES = {ExportFormat.CSV: "text/csv; charset=utf-8", ExportFormat.JSONL: "application/x-ndjson"}
ORDER_FIELDS = [*FILTER_FIELDS, "sort", "order"]


class LeaseLost(Exception):
    """Another worker took the job over (or it was deleted with its project)."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- Queueing -------------------------------------------------------------------------------


def canonical_query(source: str, list_query: str) -> str:
    """The list's query string without paging and defaults: filters and order for traces, the
    search for sessions."""
    if source == ExportSource.SESSIONS:
        search = PeopleListForm(QueryDict(list_query)).state()["q"]
        return urlencode({"q": search}) if search else ""
    return query_string(TraceListForm(QueryDict(list_query)).state(), ORDER_FIELDS)


def queue_export(project, user, list_query: str, format: str, source: str = ExportSource.TRACES) -> ExportJob:
    """Queue an export of the rows the list shows for this query string."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            project=project,
            requested_by=user,
            source=source,
            format=format,
            filter_query=canonical_query(source, list_query),
            as_of=timezone.now(),
        )
        audit.record(
            action="create",
            resource_type="export",
            resource_id=job.id,
            actor=user,
            project=project,
            after={"source": source, "format": format, "filter": job.filter_query},
        )
    return job


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def queue_daily_exports(now: datetime | None = None) -> list[ExportJob]:
    """Queue the previous UTC day's export of every project with the schedule on; a day already
    queued is skipped. Runs under an advisory lock; another replica at it means nothing to do."""
    now = now or timezone.now()
    day = now.astimezone(UTC).date() - timedelta(days=1)
    queued: list[ExportJob] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [DAILY_LOCK])
        if not cursor.fetchone()[0]:
            return queued
        try:
            queued_already = ExportJob.objects.filter(
                project_id=OuterRef("project_id"), kind=ExportKind.DAILY, day=day
            )
            schedules = ExportSchedule.objects.filter(enabled=True).filter(~Exists(queued_already))
            for schedule in schedules.select_related("project"):
                try:
                    with transaction.atomic():
                        queued.append(
                            ExportJob.objects.create(
                                project=schedule.project,
                                kind=ExportKind.DAILY,
                                day=day,
                                format=schedule.format,
                                filter_query="sort=time&order=asc",
                                as_of=now,
                            )
                        )
                except IntegrityError:  # queued meanwhile by a caller without the lock
                    pass
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [DAILY_LOCK])
    return queued


# --- Claiming and progress ------------------------------------------------------------------


def claim_job(worker: str, now: datetime | None = None) -> ExportJob | None:
    """Take the oldest queued job, or a running one whose worker stopped sending heartbeats."""
    while True:
        now = now or timezone.now()
        with transaction.atomic():
            job = (
                ExportJob.objects.select_for_update(skip_locked=True)
                .filter(
                    Q(status=ExportStatus.QUEUED)
                    | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=now - LEASE)
                )
                .order_by("created_at")
                .first()
            )
            if job is None:
                return None
            if job.status == ExportStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
                job.status, job.finished_at = ExportStatus.FAILED, now
                job.error = (
                    f"The worker running this export stopped {job.attempts} times without finishing "
                    "(the server was restarted or ran out of memory); start the export again"
                )
                job.save(update_fields=["status", "finished_at", "error"])
                continue
            job.status, job.worker, job.attempts = ExportStatus.RUNNING, worker, job.attempts + 1
            job.started_at = job.heartbeat_at = now
            job.rows_written, job.error = 0, ""
            job.save(
                update_fields=[
                    "status",
                    "worker",
                    "attempts",
                    "started_at",
                    "heartbeat_at",
                    "rows_written",
                    "error",
                ]
            )
            return job


def _update(job: ExportJob, worker: str, **fields) -> None:
    """Write fields of a job this worker still holds; LeaseLost when it does not."""
    held = ExportJob.objects.filter(pk=job.pk, worker=worker, status=ExportStatus.RUNNING)
    if not held.update(heartbeat_at=timezone.now(), **fields):
        raise LeaseLost(job.pk)


def _finish(job: ExportJob, worker: str, status: str, **fields) -> None:
    ExportJob.objects.filter(pk=job.pk, worker=worker, status=ExportStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
    )


# --- Running --------------------------------------------------------------------------------


def object_key(job: ExportJob, target: ExportBucket) -> str:
    if job.kind == ExportKind.DAILY:
        return f"{target.prefix}{job.project_id}/daily/{job.source}-{job.day:%Y-%m-%d}.{job.format}"
    stamp = f"{job.created_at:%Y%m%dT%H%M%SZ}"
    return f"{target.prefix}{job.project_id}/{job.source}-{stamp}-{job.id}.{job.format}"


def file_name(job: ExportJob) -> str:
    return job.object_key.rsplit("/", 1)[-1]


@dataclass
class _Scope:
    estimate: int
    chunks: Iterator[list]


def job_scope(job: ExportJob) -> _Scope:
    """How many rows to expect, and the rows in chunks."""
    if job.source == ExportSource.SESSIONS:
        state = PeopleListForm(QueryDict(job.filter_query)).state()
        sessions = Trace.objects.for_project(job.project).filter(session_id__isnull=False)
        if state["q"]:
            sessions = sessions.filter(session_id__icontains=state["q"])
        estimate = sessions.values("session_id").distinct().count()
        return _Scope(estimate, iter_session_chunks(job.project, state))
    state = TraceListForm(QueryDict(job.filter_query)).state()
    where = None
    if job.kind == ExportKind.DAILY:
        start, end = day_bounds(job.day)
        where = Q(timestamp__gte=start, timestamp__lt=end)
    traces = matching_traces(job.project, state, job.as_of)
    if where is not None:
        traces = traces.filter(where)
    return _Scope(traces.count(), iter_trace_chunks(job.project, state, job.as_of, where=where))


def run_job(job: ExportJob, worker: str) -> None:
    """Stream the job's rows into its object; the job ends done (with the row count) or failed
    (with a message that names the setting to fix). LeaseLost leaves the job to its new worker."""
    writer = None
    try:
        target = export_bucket()
        if target is None:
            raise _Failure(
                "Export to a bucket is not configured: set LANGFUSE_S3_BATCH_EXPORT_BUCKET "
                "(and the LANGFUSE_S3_* endpoint and credentials)"
            )
        scope = job_scope(job)
        key = object_key(job, target)
        _update(job, worker, total_estimate=scope.estimate, bucket=target.bucket, object_key=key)
        writer = BucketWriter(client(target), target.bucket, key, CONTENT_TYPES[job.format])
        progress = _Progress(job, worker)
        for block in ENCODERS[(job.source, job.format)](progress.count(scope.chunks)):
            writer.write(block.encode())
            progress.beat()
        writer.close()
        _finish(job, worker, ExportStatus.DONE, rows_written=progress.rows)
    except LeaseLost:
        if writer:
            writer.abort()
        log.warning("Export job %s was taken over by another worker", job.pk)
    except _Failure as exc:
        _finish(job, worker, ExportStatus.FAILED, error=str(exc))
    except Exception as exc:
        if writer:
            writer.abort()
        message = _message(exc)
        log.warning("Export job %s failed: %s", job.pk, message)
        _finish(job, worker, ExportStatus.FAILED, error=message)


class _Failure(Exception):
    pass


def _message(exc: Exception) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, BotoCoreError | ClientError):
        try:
            target = export_bucket()
        except Exception:
            target = None
        if target is not None:
            return explain(exc, target)
    return f"The export failed: {exc.__class__.__name__}: {exc}"


class _Progress:
    def __init__(self, job: ExportJob, worker: str) -> None:
        self.job, self.worker, self.rows, self.reported = job, worker, 0, 0

    def count(self, chunks):
        for chunk in chunks:
            self.rows += len(chunk)
            yield chunk

    def beat(self) -> None:
        if self.rows != self.reported:
            _update(self.job, self.worker, rows_written=self.rows)
            self.reported = self.rows


def run_pending(worker: str | None = None, limit: int | None = None) -> list[ExportJob]:
    """Claim and run jobs until none is left (or `limit` ran); returns them as they ended."""
    worker = worker or worker_id()
    done: list[ExportJob] = []
    while limit is None or len(done) < limit:
        job = claim_job(worker)
        if job is None:
            break
        run_job(job, worker)
        job.refresh_from_db()
        done.append(job)
    return done
