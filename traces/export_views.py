"""Exports of the traces list: every trace matching the list's filter, as a CSV or JSON Lines
download, or as a background job writing to the export bucket (Settings > Exports)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django import forms
from django.contrib import messages
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts import audit
from accounts.access import has_role, project_view
from accounts.models import Role
from accounts.settings_pages import project_links
from langfuse_ui.config import ConfigError
from langfuse_ui.htmx import render_page
from traces.export_jobs import file_name, queue_export
from traces.export_jobs_bucket import (
    ExportBucket,
    ExportBucketError,
    check_connection,
    download_url,
    export_bucket,
)
from traces.export_jobs_worker import wake as worker_wake
from traces.exports import (
    as_async,
    csv_chunks,
    iter_session_chunks,
    iter_trace_chunks,
    jsonl_chunks,
    session_csv_chunks,
    session_jsonl_chunks,
)
from traces.forms import PeopleListForm, TraceListForm
from traces.models import ExportFormat, ExportJob, ExportSchedule, ExportSource, ExportStatus


def _download(
    request: HttpRequest,
    encode: Callable[[Iterator], Iterator[str]],
    extension: str,
    content_type: str,
    what: str = "traces",
):
    now = timezone.now()
    if what == "sessions":
        chunks = iter_session_chunks(request.project, PeopleListForm(request.GET).state())
    else:
        chunks = iter_trace_chunks(request.project, TraceListForm(request.GET).state(), now)
    blocks = encode(chunks)
    if isinstance(request, ASGIRequest):
        blocks = as_async(blocks)
    response = StreamingHttpResponse(blocks, content_type=content_type)
    filename = f"{what}-{request.project.pk}-{now:%Y%m%dT%H%M%SZ}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # let nginx pass chunks on as they come
    return response


@require_safe
@project_view()
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _download(request, csv_chunks, "csv", "text/csv; charset=utf-8")


@require_safe
@project_view()
def export_jsonl(request: HttpRequest) -> StreamingHttpResponse:
    return _download(request, jsonl_chunks, "jsonl", "application/x-ndjson; charset=utf-8")


@require_safe
@project_view()
def export_sessions_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _download(request, session_csv_chunks, "csv", "text/csv; charset=utf-8", "sessions")


@require_safe
@project_view()
def export_sessions_jsonl(request: HttpRequest) -> StreamingHttpResponse:
    return _download(
        request, session_jsonl_chunks, "jsonl", "application/x-ndjson; charset=utf-8", "sessions"
    )


# --- Exports to the bucket (background jobs) ------------------------------------------------

EXPORTS_TEMPLATE = "settings/exports.html"
JOBS_SHOWN = 50
# Who may do what (docs/permissions.md): viewers read the list and download finished exports
# (they may download the same rows from the traces list); members start exports, as Langfuse's
# batchExports:create; admins set the daily schedule and check the bucket connection.
EXPORT_ROLE = Role.MEMBER
SCHEDULE_ROLE = Role.ADMIN


class ExportJobForm(forms.Form):
    source = forms.ChoiceField(choices=ExportSource.choices, required=False)
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.CSV)
    query = forms.CharField(required=False, max_length=4000)


class ScheduleForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Export each day's traces to the bucket")
    format = forms.ChoiceField(choices=ExportFormat.choices, initial=ExportFormat.JSONL, label="Format")


def _bucket_or_message() -> tuple[ExportBucket | None, str]:
    try:
        target = export_bucket()
    except ConfigError as exc:
        return None, str(exc)
    if target is None:
        return None, (
            "Export to a bucket is off: set LANGFUSE_S3_BATCH_EXPORT_BUCKET and the LANGFUSE_S3_* "
            "endpoint and credentials (docs/operations.md)"
        )
    return target, ""


def _exports_context(request: HttpRequest, **extra) -> dict:
    project = request.project
    jobs = list(
        ExportJob.objects.for_project(project)
        .select_related("requested_by")
        .order_by("-created_at")[:JOBS_SHOWN]
    )
    schedule = ExportSchedule.objects.filter(project=project).first()
    target, bucket_message = _bucket_or_message()
    return {
        "settings_links": project_links(request),
        "jobs": jobs,
        "polling": any(not job.finished for job in jobs),
        "target": target,
        "bucket_message": bucket_message,
        "can_schedule": has_role(request.role, SCHEDULE_ROLE),
        "schedule": schedule,
        "schedule_form": ScheduleForm(
            initial={"enabled": schedule.enabled, "format": schedule.format} if schedule else None
        ),
        **extra,
    }


@require_POST
@project_view(EXPORT_ROLE)
def export_to_bucket(request: HttpRequest) -> HttpResponse:
    form = ExportJobForm(request.POST)
    target, message = _bucket_or_message()
    if not form.is_valid() or target is None:
        errors = message or "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        return HttpResponse(f"Cannot start the export: {errors}", status=400, content_type="text/plain")
    data = form.cleaned_data
    job = queue_export(
        request.project, request.user, data["query"], data["format"], data["source"] or ExportSource.TRACES
    )
    worker_wake()
    messages.success(request, f"Export {job.id} queued; it appears below when it finishes")
    return redirect(reverse("traces:exports", args=[request.project.pk]))


@require_safe
@project_view()
def exports_page(request: HttpRequest) -> HttpResponse:
    return render_page(request, EXPORTS_TEMPLATE, _exports_context(request))


@require_safe
@project_view()
def export_download(request: HttpRequest, job_id: str) -> HttpResponse:
    job = get_object_or_404(ExportJob.objects.for_project(request.project), pk=job_id)
    if job.status != ExportStatus.DONE:
        return HttpResponse(
            f"Export {job.id} is {job.status}; it can be downloaded when it is done",
            status=409,
            content_type="text/plain",
        )
    target, message = _bucket_or_message()
    if target is None:
        return HttpResponse(message, status=409, content_type="text/plain")
    return redirect(download_url(target, job.bucket or target.bucket, job.object_key, file_name(job)))


@require_POST
@project_view(SCHEDULE_ROLE)
def export_schedule(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        response = render_page(
            request, EXPORTS_TEMPLATE, _exports_context(request, schedule_form=form), "export-schedule"
        )
        response.status_code = 400
        return response
    with transaction.atomic():
        schedule, _ = ExportSchedule.objects.update_or_create(
            project=request.project,
            defaults={**form.cleaned_data, "updated_at": timezone.now(), "updated_by": request.user},
        )
        audit.record(
            action="update",
            resource_type="export-schedule",
            resource_id=request.project.pk,
            actor=request.user,
            project=request.project,
            after={"enabled": schedule.enabled, "format": schedule.format},
        )
    enabled = form.cleaned_data["enabled"]
    messages.success(request, "Daily export is on" if enabled else "Daily export is off")
    if request.htmx:
        return render_page(request, EXPORTS_TEMPLATE, _exports_context(request), "export-schedule")
    return redirect(reverse("traces:exports", args=[request.project.pk]))


@require_POST
@project_view(SCHEDULE_ROLE)
def export_check(request: HttpRequest) -> HttpResponse:
    target, message = _bucket_or_message()
    ok = False
    if target is not None:
        try:
            message, ok = check_connection(target), True
        except ExportBucketError as exc:
            message = str(exc)
    context = _exports_context(request, check={"ok": ok, "message": message})
    response = render_page(request, EXPORTS_TEMPLATE, context, "export-bucket")
    if not ok:
        response.status_code = 400 if target is None else 502
    return response
