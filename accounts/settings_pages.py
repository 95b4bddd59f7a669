"""The sub-pages of project and organisation settings, as links for the settings navigation.

Another app adds its settings page by appending a SettingsPage here (for example retention or
models); a page whose URL name does not resolve is not linked, so no link ever leads nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from accounts.access import has_role
from accounts.models import Role


@dataclass(frozen=True)
class SettingsPage:
    label: str
    url_name: str
    minimum: Role


@dataclass(frozen=True)
class SettingsLink:
    label: str
    href: str
    current: bool


PROJECT_SETTINGS_PAGES: list[SettingsPage] = [
    SettingsPage("General", "accounts:project-settings", Role.VIEWER),
    SettingsPage("API keys", "accounts:project-api-keys", Role.ADMIN),
    SettingsPage("Members", "accounts:project-members", Role.MEMBER),
    SettingsPage("Audit log", "accounts:project-audit-log", Role.ADMIN),
    SettingsPage("Data retention", "traces:retention", Role.ADMIN),
    SettingsPage("Media", "traces:media-settings", Role.ADMIN),
    SettingsPage("Exports", "traces:exports", Role.VIEWER),
    SettingsPage("LLM connections", "traces:llm-connections", Role.ADMIN),
    SettingsPage("Budgets", "budgets:settings", Role.ADMIN),
]

ORGANIZATION_SETTINGS_PAGES: list[SettingsPage] = [
    SettingsPage("Projects", "accounts:organization-settings", Role.VIEWER),
    SettingsPage("Members", "accounts:organization-members", Role.MEMBER),
    SettingsPage("API keys", "accounts:organization-api-keys", Role.OWNER),
    SettingsPage("Audit log", "accounts:organization-audit-log", Role.ADMIN),
    SettingsPage("Storage", "traces:storage", Role.ADMIN),
    SettingsPage("Cost dashboard", "budgets:organization-dashboard", Role.ADMIN),
]


def links(request: HttpRequest, pages: list[SettingsPage], role: Role, **kwargs) -> list[SettingsLink]:
    found = []
    for page in pages:
        if not has_role(role, page.minimum):
            continue
        try:
            href = reverse(page.url_name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        found.append(SettingsLink(page.label, href, request.path == href))
    return found


def project_links(request: HttpRequest) -> list[SettingsLink]:
    return links(request, PROJECT_SETTINGS_PAGES, request.role, project_id=request.project.pk)


def organization_links(request: HttpRequest) -> list[SettingsLink]:
    return links(request, ORGANIZATION_SETTINGS_PAGES, request.org_role, org_id=request.organization.pk)
