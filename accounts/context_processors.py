"""The organisation and project switcher's data for the base layout."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Project


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    projects = list(
        Project.objects.visible_to(user).select_related("organization").order_by("organization__name", "name")
    )
    organizations: dict[str, dict] = {}
    for project in projects:
        entry = organizations.setdefault(
            project.organization_id, {"org": project.organization, "projects": []}
        )
        entry["projects"].append(project)
    return {
        "nav_organizations": list(organizations.values()),
        "current_project": getattr(request, "project", None),
    }
