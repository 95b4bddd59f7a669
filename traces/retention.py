"""Data retention: delete a project's data older than its window, for real and in batches.

A project with `retention_days` set keeps traces whose timestamp falls inside the last N days.
`purge_project` removes older traces with their observations, scores, comments and media
references (through traces/deletion.py), then scores and observations older than the window
that belong to no kept trace (session scores, orphans), then media objects nobody refers to
any more: the row and the stored file. Each batch is its own short transaction, so ingestion
into the same tables is never blocked for long. When it returns, nothing older than the
window is left.

`purge_all` runs every project with a window under a PostgreSQL advisory lock, so replicas
that all run the periodic purge never work on the same data at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts import audit
from accounts.models import Project
from traces.deletion import delete_traces_matching
from traces.models import Media, MediaReference, Observation, Score, Trace
from traces.storage import delete_stored

log = logging.getLogger(__name__)

BATCH_SIZE = 5_000
RETENTION_LOCK = 7_201_002  # pg_advisory_lock key; serve.py's start-up lock is 7_201_001
AUDIT_ACTION = "purge"
AUDIT_RESOURCE = "retention"


@dataclass
class PurgeResult:
    traces: int = 0
    observations: int = 0
    scores: int = 0
    media: int = 0

    def add(self, other: PurgeResult) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def total(self) -> int:
        return self.traces + self.observations + self.scores + self.media


@dataclass
class PurgeRun:
    """What one run over all projects did, per project id."""

    projects: dict[str, PurgeResult] = field(default_factory=dict)


class PurgeBusy(Exception):
    """Another process holds the retention lock."""


def cutoff_for(project: Project, now: datetime | None = None) -> datetime | None:
    if not project.retention_days:
        return None
    return (now or timezone.now()) - timedelta(days=project.retention_days)


# --- What is old ----------------------------------------------------------------------------


def old_traces(project: Project, cutoff: datetime):
    return Trace.objects.for_project(project).filter(timestamp__lt=cutoff)


def _trace_exists():
    return Exists(Trace.objects.filter(project_id=OuterRef("project_id"), id=OuterRef("trace_id")))


def stray_observations(project: Project, cutoff: datetime):
    """Old observations whose trace row is gone or never arrived."""
    return (
        Observation.objects.for_project(project)
        .filter(start_time__lt=cutoff)
        .filter(Q(trace_id__isnull=True) | ~_trace_exists())
    )


def stray_scores(project: Project, cutoff: datetime):
    """Old scores that hang off no kept trace: session and dataset-run scores, orphans."""
    return (
        Score.objects.for_project(project)
        .filter(timestamp__lt=cutoff)
        .filter(Q(trace_id__isnull=True) | ~_trace_exists())
    )


def unreferenced_media(project: Project):
    references = MediaReference.objects.filter(project_id=OuterRef("project_id"), media_id=OuterRef("id"))
    return Media.objects.for_project(project).filter(~Exists(references))


# --- Counting (dry run) ---------------------------------------------------------------------


def count_project(project: Project, now: datetime | None = None) -> PurgeResult:
    """What purge_project would delete right now, without deleting anything."""
    cutoff = cutoff_for(project, now)
    if cutoff is None:
        return PurgeResult()
    old_ids = old_traces(project, cutoff).values("id")
    observations = Observation.objects.for_project(project).filter(trace_id__in=old_ids)
    kept_refs = MediaReference.objects.filter(
        project_id=OuterRef("project_id"), media_id=OuterRef("id")
    ).exclude(trace_id__in=old_ids)
    old_refs = MediaReference.objects.for_project(project).filter(trace_id__in=old_ids)
    media = (
        Media.objects.for_project(project)
        .filter(~Exists(kept_refs))
        .filter(Q(id__in=old_refs.values("media_id")) | Q(created_at__lt=cutoff))
    )
    scores = Score.objects.for_project(project).filter(
        Q(trace_id__in=old_ids) | Q(observation_id__in=observations.values("id"))
    )
    return PurgeResult(
        traces=old_traces(project, cutoff).count(),
        observations=observations.count() + stray_observations(project, cutoff).count(),
        scores=scores.count()
        + stray_scores(project, cutoff)
        .exclude(Q(trace_id__in=old_ids) | Q(observation_id__in=observations.values("id")))
        .count(),
        media=media.count(),
    )


# --- Deleting -------------------------------------------------------------------------------


def purge_project(
    project: Project, now: datetime | None = None, *, batch_size: int = BATCH_SIZE
) -> PurgeResult:
    """Delete the project's data older than its retention window; returns what went.

    A project without a window is left alone. The counts go into the audit log when anything
    was deleted.
    """
    cutoff = cutoff_for(project, now)
    result = PurgeResult()
    if cutoff is None:
        return result
    while batch := list(
        old_traces(project, cutoff).order_by("timestamp", "id").values_list("id", flat=True)[:batch_size]
    ):
        released_media: set[str] = set()
        result.add(_purge_trace_batch(project, batch, released_media))
        if released_media:  # media of this batch's traces that nothing else refers to
            result.media += purge_unreferenced_media(project, None, released_media, batch_size)
    result.observations += _delete_in_batches(stray_observations(project, cutoff), batch_size)
    result.scores += _delete_in_batches(stray_scores(project, cutoff), batch_size)
    result.media += purge_unreferenced_media(project, cutoff, batch_size=batch_size)
    if result.total:
        audit.record(
            action=AUDIT_ACTION,
            resource_type=AUDIT_RESOURCE,
            resource_id=project.pk,
            project=project,
            after={"cutoff": cutoff.isoformat(), "retentionDays": project.retention_days, **asdict(result)},
        )
    return result


def _purge_trace_batch(project: Project, trace_ids: list[str], released_media: set[str]) -> PurgeResult:
    """Delete one batch of traces with everything hanging off them; adds the ids of the media
    their references pointed at to released_media."""
    with transaction.atomic():
        released_media.update(
            MediaReference.objects.for_project(project)
            .filter(trace_id__in=trace_ids)
            .values_list("media_id", flat=True)
        )
        observations = Observation.objects.for_project(project).filter(trace_id__in=trace_ids)
        observation_count = observations.count()
        score_count = (
            Score.objects.for_project(project)
            .filter(Q(trace_id__in=trace_ids) | Q(observation_id__in=observations.values("id")))
            .count()
        )
        traces = delete_traces_matching(
            project, Trace.objects.for_project(project).filter(id__in=trace_ids), release=False
        )
    return PurgeResult(traces=traces, observations=observation_count, scores=score_count)


def _delete_in_batches(queryset, batch_size: int) -> int:
    """Delete the rows of a project-scoped queryset, batch_size ids per transaction."""
    deleted = 0
    while ids := list(queryset.order_by("id").values_list("id", flat=True)[:batch_size]):
        with transaction.atomic():
            count, _ = queryset.filter(id__in=ids).delete()
        deleted += count
        if not count:
            break
    return deleted


def purge_unreferenced_media(
    project: Project,
    cutoff: datetime | None,
    released: set[str] = frozenset(),
    batch_size: int = BATCH_SIZE,
) -> int:
    """Delete media rows (and their stored files) that no trace or observation refers to any
    more: the `released` ones (whose references a batch just removed) or, without those, any
    created before the cutoff. A younger upload without references is kept: its trace may
    still be on the way."""
    deleted = 0
    condition = Q(id__in=sorted(released)) if released else Q(created_at__lt=cutoff)
    candidates = unreferenced_media(project).filter(condition)
    while batch := list(candidates.order_by("id")[:batch_size]):
        with transaction.atomic():
            # Re-checked inside the delete: a reference may have arrived since the batch was read.
            gone_ids = set(
                unreferenced_media(project)
                .filter(id__in=[media.id for media in batch])
                .select_for_update()
                .values_list("id", flat=True)
            )
            Media.objects.for_project(project).filter(id__in=gone_ids).delete()
        for media in batch:
            if media.id in gone_ids:
                _delete_file(media)
        deleted += len(gone_ids)
        if not gone_ids:
            break
    return deleted


def _delete_file(media: Media) -> None:
    try:
        delete_stored(media)
    except Exception:  # the row is gone; a file left behind must not stop the purge
        log.exception("Could not delete the stored file of media %s/%s", media.project_id, media.id)


# --- Every project, under the lock ----------------------------------------------------------


@contextlib.contextmanager
def retention_lock() -> Iterator[None]:
    """Hold the retention advisory lock for the block; raise PurgeBusy when another session has it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RETENTION_LOCK])
        if not cursor.fetchone()[0]:
            raise PurgeBusy("Another retention purge is running")
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RETENTION_LOCK])


def projects_with_retention(project_id: str | None = None):
    projects = Project.objects.filter(retention_days__isnull=False, retention_days__gt=0)
    if project_id is not None:
        projects = projects.filter(pk=project_id)
    return projects.order_by("pk")


def purge_all(
    now: datetime | None = None, *, project_id: str | None = None, dry_run: bool = False
) -> PurgeRun:
    """Purge (or, dry run, count) every project with a retention window; raises PurgeBusy when
    another replica is already purging."""
    run = PurgeRun()
    with retention_lock():
        for project in projects_with_retention(project_id):
            run.projects[project.pk] = count_project(project, now) if dry_run else purge_project(project, now)
    return run
