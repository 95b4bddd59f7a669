"""Public API routes of accounts: the projects a key can see."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from accounts.access import AccessLevel, api_route
from accounts.models import Project


def project_json(project: Project) -> dict:
    return {
        "id": project.id,
        "name": project.name,
        "organization": {"id": project.organization_id, "name": project.organization.name},
        "metadata": project.metadata or {},
        "retentionDays": project.retention_days,
    }


@require_safe
@api_route(access=AccessLevel.PROJECT)
def projects(request: HttpRequest) -> JsonResponse:
    """GET /api/public/projects: the key's own project, in the shape every SDK's auth_check() parses."""
    return JsonResponse({"data": [project_json(request.project)]})
