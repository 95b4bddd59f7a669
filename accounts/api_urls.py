"""Public API routes of accounts, mounted under /api/public/ (namespace "api")."""

from __future__ import annotations

from django.urls import path

from accounts import api

urlpatterns = [
    path("projects", api.projects_route, name="projects"),
    path("projects/<str:project_id>", api.project_route, name="project"),
    path("projects/<str:project_id>/apiKeys", api.project_keys_route, name="project-api-keys"),
    path("projects/<str:project_id>/apiKeys/<str:api_key_id>", api.project_key_route, name="project-api-key"),
    path(
        "projects/<str:project_id>/memberships",
        api.project_memberships_route,
        name="project-memberships",
    ),
    path("organizations/memberships", api.memberships_route, name="organization-memberships"),
    path("organizations/projects", api.organization_projects_route, name="organization-projects"),
    path("organizations/apiKeys", api.organization_keys_route, name="organization-api-keys"),
]
