"""Organisation settings > Storage: rows, media and oldest data per project; database and table
sizes for the server's superusers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from accounts.access import organization_view
from accounts.models import Role
from accounts.settings_pages import organization_links
from langfuse_ui.htmx import render_page
from traces.storage_figures import database_size, project_figures, table_sizes

STORAGE_ROLE = Role.ADMIN


@require_safe
@organization_view(STORAGE_ROLE)
def storage(request: HttpRequest) -> HttpResponse:
    operator = request.user.is_superuser
    context = {
        "settings_links": organization_links(request),
        "projects": project_figures(request.organization),
        "operator": operator,
        "database_size": database_size() if operator else None,
        "tables": table_sizes() if operator else [],
    }
    return render_page(request, "settings/storage.html", context)
