"""Home, organisations and their projects."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import projects
from accounts.access import has_role, organization_view
from accounts.errors import ActionRefused
from accounts.forms import NameForm, ProjectCreateForm
from accounts.models import Organization, Project, Role
from accounts.settings_pages import organization_links
from accounts.views.responses import after_action
from langfuse_ui.htmx import render_page

ORG_PAGE = "accounts/organization_settings.html"


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to their first project's traces, or explain that they have none."""
    project = Project.objects.visible_to(request.user).order_by("created_at", "id").first()
    if project:
        return redirect("traces:list", project_id=project.id)
    organizations = Organization.objects.filter(memberships__user=request.user).order_by("name")
    return render(request, "accounts/no_projects.html", {"organizations": organizations})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    """Any signed-in user may create an organisation and becomes its owner."""
    form = NameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = projects.create_organization(form.cleaned_data["name"], request.user)
        except ActionRefused as exc:
            form.add_error("name", str(exc))
        else:
            return redirect("accounts:project-create", org_id=org.pk)
    return render(request, "accounts/organization_create.html", {"form": form})


def _org_context(request: HttpRequest, rename_form=None) -> dict:
    org = request.organization
    return {
        "settings_links": organization_links(request),
        "projects": Project.objects.visible_to(request.user).filter(organization=org).order_by("name"),
        "rename_form": rename_form or NameForm(initial={"name": org.name}),
        "may_manage": has_role(request.org_role, Role.ADMIN),
    }


@require_safe
@organization_view(Role.VIEWER)
def organization_settings(request: HttpRequest) -> HttpResponse:
    return render_page(request, ORG_PAGE, _org_context(request))


@require_POST
@organization_view(Role.ADMIN)
def organization_rename(request: HttpRequest) -> HttpResponse:
    form = NameForm(request.POST)
    if not form.is_valid():
        return render_page(request, ORG_PAGE, _org_context(request, rename_form=form), "organization-name")
    projects.rename_organization(request.organization, form.cleaned_data["name"], request.user)
    url = reverse("accounts:organization-settings", args=[request.organization.pk])
    return after_action(
        request, url, ORG_PAGE, lambda: _org_context(request), "organization-name", "Organisation renamed"
    )


@require_http_methods(["GET", "HEAD", "POST"])
@organization_view(Role.ADMIN)
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = projects.create_project(request.organization, form.cleaned_data["name"], request.user)
        except ActionRefused as exc:
            form.add_error("name", str(exc))
        else:
            return redirect("accounts:project-api-keys", project_id=project.pk)
    context = {"form": form, "settings_links": organization_links(request)}
    return render(request, "accounts/project_create.html", context)
