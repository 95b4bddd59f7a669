"""Synchronous, verifiable deletion of traces and everything that hangs off them.

When these functions return, the transaction has committed and a query finds none of the
deleted traces, their observations, their scores, their comments or their media references;
media files that no remaining trace refers to are gone from the bucket (or folder) too.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import Q

from traces.media import release_media
from traces.models import Comment, CommentObjectType, MediaReference, Observation, Score, Trace


def delete_traces(project, trace_ids: list[str]) -> int:
    """Delete these traces of the project (ids of other projects are ignored); returns how many
    trace rows were deleted. Observations and scores carrying a listed trace id go too, even when
    the trace row itself never arrived."""
    return delete_traces_matching(
        project, Trace.objects.for_project(project).filter(id__in=trace_ids), trace_ids
    )


def delete_traces_matching(
    project, traces: models.QuerySet, extra_trace_ids: list[str] = (), *, release: bool = True
) -> int:
    """Delete the traces with everything attached. With `release` (the default), media that only
    these traces referred to is deleted afterwards, row and stored object; the retention purge
    passes False and releases media itself, counting it."""
    with transaction.atomic():
        ids = sorted(set(traces.values_list("id", flat=True)) | set(extra_trace_ids))
        if not ids:
            return 0
        observations = Observation.objects.for_project(project).filter(trace_id__in=ids)
        Comment.objects.for_project(project).filter(
            Q(object_type=CommentObjectType.TRACE, object_id__in=ids)
            | Q(object_type=CommentObjectType.OBSERVATION, object_id__in=observations.values("id"))
        ).delete()
        references = MediaReference.objects.for_project(project).filter(trace_id__in=ids)
        media_ids = set(references.values_list("media_id", flat=True)) if release else set()
        references.delete()
        Score.objects.for_project(project).filter(
            Q(trace_id__in=ids) | Q(observation_id__in=observations.values("id"))
        ).delete()
        observations.delete()
        deleted, _ = Trace.objects.for_project(project).filter(id__in=ids).delete()
    if media_ids:
        release_media(project, media_ids)
    return deleted
