"""Bulk delete from the traces list: confirm with the exact count, then delete in batches.

With htmx each POST deletes one batch and answers a progress partial that posts the next
batch as soon as it loads; without JavaScript one POST deletes every batch and redirects.
Only admins and owners may delete (Langfuse's traces:delete scope); others get 403.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.access import project_view
from langfuse_ui.htmx import render_page
from traces import bulk_delete
from traces.bulk_delete import DeletionScope
from traces.forms import TraceListForm, describe

TEMPLATE = "traces/trace_list_delete.html"
MAX_SELECTED = 1000


def list_url(request: HttpRequest, filter_query: str = "") -> str:
    base = f"/project/{request.project.id}/traces"
    return f"{base}?{filter_query}" if filter_query else base


def scope_from(data, as_of: datetime) -> DeletionScope:
    ids = [trace_id for trace_id in data.getlist("ids") if trace_id][:MAX_SELECTED]
    if ids:
        return DeletionScope(trace_ids=ids, filter_query="", as_of=as_of)
    if data.get("selection"):  # the row checkboxes' form, with no row ticked: never "everything"
        raise ValidationError("Tick at least one trace to delete.")
    filter_query = data.get("filter")
    if filter_query is None:
        filter_query = bulk_delete.filter_query(TraceListForm(data).state())
    return DeletionScope(trace_ids=[], filter_query=filter_query, as_of=as_of)


def parse_as_of(text: str | None) -> datetime:
    try:
        value = datetime.fromisoformat(text or "")
    except ValueError:
        raise ValidationError("as_of is not an ISO timestamp") from None
    return value if value.tzinfo else timezone.make_aware(value)


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(bulk_delete.DELETE_ROLE)
def delete_traces(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return confirm(request)
    try:
        scope = scope_from(request.POST, parse_as_of(request.POST.get("as_of")))
        total = int(request.POST.get("total", "0"))
        deleted = int(request.POST.get("deleted", "0"))
    except (ValidationError, ValueError):
        return HttpResponse("Damaged deletion request: start again from the traces list.", status=400)
    if not request.htmx:
        count = bulk_delete.delete_all(request.project, scope)
        messages.success(request, f"Deleted {count:,} traces with their observations and scores.")
        return redirect(list_url(request, scope.filter_query))
    batch = bulk_delete.delete_batch(request.project, scope)
    deleted += batch
    context = {
        "scope": scope,
        "total": max(total, deleted),
        "deleted": deleted,
        "done": batch < bulk_delete.batch_size(),
        "as_of": scope.as_of.isoformat(),
        "back": list_url(request, scope.filter_query),
    }
    return render_page(request, TEMPLATE, context, partial="delete-progress")


def confirm(request: HttpRequest) -> HttpResponse:
    as_of = timezone.now()
    try:
        scope = scope_from(request.GET, as_of)
    except ValidationError as error:
        messages.error(request, error.message)
        return redirect(list_url(request))
    context = {
        "scope": scope,
        "count": bulk_delete.count_scope(request.project, scope),
        "filters": describe(bulk_delete.filter_state(scope.filter_query)) if scope.by_filter else [],
        "as_of": as_of.isoformat(),
        "back": list_url(request, scope.filter_query),
        "batch_size": bulk_delete.batch_size(),
    }
    return render_page(request, TEMPLATE, context)
