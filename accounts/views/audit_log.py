"""The audit log pages (ADMIN+): read-only, filterable, paginated. There is no edit view."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts import audit
from accounts.access import organization_view, project_view
from accounts.forms import AuditFilterForm
from accounts.models import Role
from accounts.settings_pages import organization_links, project_links
from langfuse_ui.htmx import render_page

PAGE_SIZE = 50
TABLE = "settings/_audit_log.html"


def _context(request: HttpRequest, organization, project=None) -> dict:
    form = AuditFilterForm(request.GET)
    filters = audit.AuditFilters(**form.cleaned_data) if form.is_valid() else audit.AuditFilters()
    page = Paginator(audit.entries(organization, filters, project), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "actions": audit.known_values(organization, "action"),
        "resource_types": audit.known_values(organization, "resource_type"),
    }


@require_safe
@organization_view(Role.ADMIN)
def organization_log(request: HttpRequest) -> HttpResponse:
    context = _context(request, request.organization)
    context["settings_links"] = organization_links(request)
    return render_page(request, TABLE if request.htmx else "accounts/organization_audit_log.html", context)


@require_safe
@project_view(Role.ADMIN)
def project_log(request: HttpRequest) -> HttpResponse:
    context = _context(request, request.project.organization, request.project)
    context["settings_links"] = project_links(request)
    return render_page(request, TABLE if request.htmx else "settings/audit_log.html", context)
