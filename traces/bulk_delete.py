"""Delete the traces a person selected, or all traces matching a list filter, in batches.

Each batch is one call of traces.deletion.delete_traces: it commits before it returns, so a
reload between batches shows the rows already gone, and the observations, scores, comments
and media references of those traces go with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.http import QueryDict

from accounts.models import Role
from traces.deletion import delete_traces
from traces.forms import FILTER_FIELDS, TraceListForm, query_string
from traces.list_queries import matching_traces

BATCH_SIZE = 1000
# Deleting traces is for admins and owners, as Langfuse's traces:delete scope.
DELETE_ROLE = Role.ADMIN


def batch_size() -> int:
    return BATCH_SIZE


@dataclass
class DeletionScope:
    """Either explicit trace ids, or the filter part of a list state; as_of is when the person
    saw the count: time presets count back from it and traces stored after it are left alone,
    so the batches delete exactly the traces that were counted."""

    trace_ids: list[str]
    filter_query: str
    as_of: datetime

    @property
    def by_filter(self) -> bool:
        return not self.trace_ids


def filter_query(state: dict) -> str:
    return query_string(state, FILTER_FIELDS)


def filter_state(filter_query: str) -> dict:
    form = TraceListForm(QueryDict(filter_query))
    return form.state()


def scope_queryset(project, scope: DeletionScope) -> models.QuerySet:
    if scope.by_filter:
        traces = matching_traces(project, filter_state(scope.filter_query), scope.as_of)
    else:
        traces = matching_traces(project, {}, scope.as_of).filter(id__in=scope.trace_ids)
    return traces.filter(created_at__lte=scope.as_of)


def count_scope(project, scope: DeletionScope) -> int:
    return scope_queryset(project, scope).count()


def delete_batch(project, scope: DeletionScope, size: int | None = None) -> int:
    """Delete up to `size` traces of the scope (with everything attached); returns how many."""
    size = size or BATCH_SIZE
    ids = list(scope_queryset(project, scope).order_by().values_list("id", flat=True)[:size])
    if not ids:
        return 0
    return delete_traces(project, ids)


def delete_all(project, scope: DeletionScope) -> int:
    """Every batch until none is left (the path without JavaScript)."""
    total = 0
    while deleted := delete_batch(project, scope):
        total += deleted
    return total
