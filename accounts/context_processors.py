"""The organisation and project switcher's data for the base layout."""

from __future__ import annotations

from dataclasses import dataclass, field

from allauth.account.adapter import get_adapter
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.models import Organization, Project, User


@dataclass
class OrganizationEntry:
    org: Organization
    projects: list[Project] = field(default_factory=list)


def switcher_entries(user: User) -> list[OrganizationEntry]:
    """The projects the user may read, grouped by organisation, in one query."""
    projects = Project.objects.visible_to(user).select_related("organization")
    entries: dict[str, OrganizationEntry] = {}
    for project in projects.order_by("organization__name", "organization_id", "name"):
        entries.setdefault(project.organization_id, OrganizationEntry(project.organization))
        entries[project.organization_id].projects.append(project)
    return list(entries.values())


PROJECT_SECTIONS = [
    ("Traces", "traces"),
    ("Dashboards", "dashboards"),
    ("Sessions", "sessions"),
    ("Users", "users"),
    ("Prompts", "prompts"),
    ("Settings", "settings"),
]


@dataclass
class Section:
    label: str
    href: str
    current: bool


def project_sections(request: HttpRequest, project: Project | None) -> list[Section]:
    """The project's top-level pages, the one holding the current path marked current."""
    if project is None:
        return []
    base = f"/project/{project.id}/"
    return [
        Section(label, base + slug, request.path == base + slug or request.path.startswith(f"{base}{slug}/"))
        for label, slug in PROJECT_SECTIONS
    ]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"signup_open": get_adapter(request).is_open_for_signup(request)}
    return {
        # Lazy: htmx partials never render the switcher, so they never pay for its query.
        "nav_organizations": SimpleLazyObject(lambda: switcher_entries(user)),
        "current_project": getattr(request, "project", None),
        "project_sections": project_sections(request, getattr(request, "project", None)),
    }
