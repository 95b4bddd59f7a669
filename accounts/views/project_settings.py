"""Project settings: general (rename, delete), members (per-project roles), audit log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from accounts import memberships, projects
from accounts.access import has_role, project_role, project_view
from accounts.errors import ActionRefused
from accounts.forms import DeleteProjectForm, NameForm, ProjectRoleForm
from accounts.models import ProjectMembership, Role, User
from accounts.settings_pages import project_links
from accounts.views.responses import after_action, refused
from langfuse_ui.htmx import render_page

GENERAL = "settings/general.html"
MEMBERS = "settings/members.html"


def _general_context(request: HttpRequest, rename_form=None, delete_form=None) -> dict:
    return {
        "settings_links": project_links(request),
        "rename_form": rename_form or NameForm(initial={"name": request.project.name}),
        "delete_form": delete_form or DeleteProjectForm(project=request.project),
        "may_rename": has_role(request.role, Role.ADMIN),
        "may_delete": has_role(request.role, Role.OWNER),
    }


@require_safe
@project_view(Role.VIEWER)
def general(request: HttpRequest) -> HttpResponse:
    return render_page(request, GENERAL, _general_context(request))


@require_POST
@project_view(Role.ADMIN)
def rename(request: HttpRequest) -> HttpResponse:
    form = NameForm(request.POST)
    url = reverse("accounts:project-settings", args=[request.project.pk])
    if not form.is_valid():
        return render_page(request, GENERAL, _general_context(request, rename_form=form), "project-name")
    try:
        projects.rename_project(request.project, form.cleaned_data["name"], request.user)
    except ActionRefused as exc:
        form.add_error("name", str(exc))
        return render_page(request, GENERAL, _general_context(request, rename_form=form), "project-name")
    return after_action(
        request, url, GENERAL, lambda: _general_context(request), "project-name", "Project renamed"
    )


@require_POST
@project_view(Role.OWNER)
def delete(request: HttpRequest) -> HttpResponse:
    form = DeleteProjectForm(request.POST, project=request.project)
    if not form.is_valid():
        response = render_page(request, GENERAL, _general_context(request, delete_form=form), "danger-zone")
        response.status_code = 400
        return response
    name = request.project.name
    projects.delete_project(request.project, request.user)
    messages.success(request, f"Project “{name}” and all its data were deleted")
    url = reverse("accounts:home")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _members_context(request: HttpRequest) -> dict:
    project = request.project
    overrides = {m.user_id: m.role for m in ProjectMembership.objects.filter(project=project)}
    rows = [
        {
            "membership": m,
            "override": overrides.get(m.user_id, ""),
            "effective": overrides.get(m.user_id) or m.role,
        }
        for m in memberships.members_of(project.organization)
    ]
    return {
        "settings_links": project_links(request),
        "rows": rows,
        "may_manage": has_role(request.role, Role.ADMIN),
        "role_choices": ProjectRoleForm().fields["role"].choices,
    }


@require_safe
@project_view(Role.MEMBER)
def members(request: HttpRequest) -> HttpResponse:
    return render_page(request, MEMBERS, _members_context(request))


@require_POST
@project_view(Role.ADMIN)
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    user = get_object_or_404(
        User, pk=member_id, organization_memberships__organization_id=request.project.organization_id
    )
    form = ProjectRoleForm(request.POST)
    url = reverse("accounts:project-members", args=[request.project.pk])
    context = lambda: _members_context(request)  # noqa: E731
    if not form.is_valid():
        return refused(request, url, MEMBERS, context, "project-members", "Choose a valid role")
    try:
        memberships.set_project_role(
            request.project, user, form.cleaned_data["role"] or None, request.user, request.role
        )
    except ActionRefused as exc:
        return refused(request, url, MEMBERS, context, "project-members", str(exc))
    if user == request.user and project_role(user, request.project) is None:
        return redirect("accounts:home")
    return after_action(request, url, MEMBERS, context, "project-members", f"Role of {user.email} updated")
