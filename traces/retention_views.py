"""Settings > Data retention: how many days a project keeps its traces (or forever)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.access import project_view
from accounts.errors import ActionRefused
from accounts.models import AuditLog, Role
from accounts.projects import MIN_RETENTION_DAYS, update_project
from accounts.settings_pages import project_links
from langfuse_ui.htmx import render_page
from traces.retention import AUDIT_RESOURCE
from traces.retention_schedule import interval_minutes

TEMPLATE = "settings/retention.html"
RETENTION_ROLE = Role.ADMIN


class RetentionForm(forms.Form):
    days = forms.IntegerField(
        required=False,
        min_value=0,
        label="Keep data for (days)",
        help_text=f"Empty or 0 keeps data forever; otherwise {MIN_RETENTION_DAYS} days or more.",
    )

    def clean_days(self) -> int | None:
        days = self.cleaned_data["days"]
        if days and days < MIN_RETENTION_DAYS:
            raise forms.ValidationError(f"Use 0 (keep forever) or at least {MIN_RETENTION_DAYS} days.")
        return days or None


def _context(request: HttpRequest, form: RetentionForm | None = None) -> dict:
    project = request.project
    last_purge = (
        AuditLog.objects.filter(project_id=project.pk, resource_type=AUDIT_RESOURCE)
        .order_by("-created_at")
        .first()
    )
    return {
        "settings_links": project_links(request),
        "form": form or RetentionForm(initial={"days": project.retention_days}),
        "last_purge": last_purge,
        "interval_minutes": interval_minutes(),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(RETENTION_ROLE)
def retention_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render_page(request, TEMPLATE, _context(request))
    form = RetentionForm(request.POST)
    if form.is_valid():
        try:
            update_project(request.project, request.user, retention_days=form.cleaned_data["days"])
        except ActionRefused as exc:
            form.add_error("days", str(exc))
    if not form.is_valid():
        response = render_page(request, TEMPLATE, _context(request, form), "retention-form")
        response.status_code = 400
        return response
    days = request.project.retention_days
    messages.success(request, f"Data is kept for {days} days" if days else "Data is kept forever")
    if request.htmx:
        return render_page(request, TEMPLATE, _context(request), "retention-form")
    return redirect(reverse("traces:retention", args=[request.project.pk]))
