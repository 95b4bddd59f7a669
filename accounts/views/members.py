"""Organisation members: list, invite, change role, remove, transfer ownership; accept an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import invitations, memberships
from accounts.access import has_role, organization_view
from accounts.errors import ActionRefused
from accounts.forms import InviteForm, OrgRoleForm, TransferOwnershipForm
from accounts.models import MembershipInvitation, OrganizationMembership, Project, Role
from accounts.settings_pages import organization_links
from accounts.views.api_keys import public_base_url
from accounts.views.responses import after_action, refused
from langfuse_ui.htmx import render_page

PAGE = "accounts/organization_members.html"


def _invite_form(request: HttpRequest, data=None) -> InviteForm:
    projects = list(Project.objects.filter(organization=request.organization).order_by("name"))
    return InviteForm(data, projects=projects)


def _context(request: HttpRequest, invite_form=None) -> dict:
    org = request.organization
    members = memberships.members_of(org)
    return {
        "settings_links": organization_links(request),
        "members": members,
        "invitations": invitations.pending(org),
        "invite_form": invite_form or _invite_form(request),
        "role_choices": OrgRoleForm().fields["role"].choices,
        "may_manage": has_role(request.org_role, Role.ADMIN),
        "is_owner": request.org_role == Role.OWNER,
        "transfer_candidates": [m for m in members if m.user_id != request.user.pk],
    }


def _url(request: HttpRequest) -> str:
    return reverse("accounts:organization-members", args=[request.organization.pk])


@require_http_methods(["GET", "HEAD"])
@organization_view(Role.MEMBER)
def members(request: HttpRequest) -> HttpResponse:
    return render_page(request, PAGE, _context(request))


@require_POST
@organization_view(Role.ADMIN)
def invite(request: HttpRequest) -> HttpResponse:
    form = _invite_form(request, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            invitation, token = invitations.invite(
                request.organization,
                data["email"],
                data["role"],
                request.user,
                request.org_role,
                project=form.chosen_project(),
                project_role=data["project_role"] or None,
            )
        except ActionRefused as exc:
            form.add_error("email", str(exc))
        else:
            invitations.send_invitation_email(invitation, token, public_base_url(request))
            return after_action(
                request,
                _url(request),
                PAGE,
                lambda: _context(request),
                "organization-members",
                f"Invitation sent to {invitation.email}",
            )
    return render_page(request, PAGE, _context(request, invite_form=form), "organization-members")


def _membership(request: HttpRequest, membership_id: int) -> OrganizationMembership:
    return get_object_or_404(
        OrganizationMembership.objects.select_related("user"),
        pk=membership_id,
        organization=request.organization,
    )


@require_POST
@organization_view(Role.ADMIN)
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    form = OrgRoleForm(request.POST)
    context = lambda: _context(request)  # noqa: E731
    if not form.is_valid():
        return refused(request, _url(request), PAGE, context, "organization-members", "Choose a valid role")
    try:
        memberships.change_role(membership, form.cleaned_data["role"], request.user, request.org_role)
    except ActionRefused as exc:
        return refused(request, _url(request), PAGE, context, "organization-members", str(exc))
    if membership.user_id == request.user.pk:
        request.org_role = Role(form.cleaned_data["role"])
        if not has_role(request.org_role, Role.MEMBER):
            return redirect("accounts:organization-settings", org_id=request.organization.pk)
    return after_action(
        request,
        _url(request),
        PAGE,
        context,
        "organization-members",
        f"Role of {membership.user.email} updated",
    )


@require_POST
@organization_view(Role.ADMIN)
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    context = lambda: _context(request)  # noqa: E731
    try:
        memberships.remove_member(membership, request.user, request.org_role)
    except ActionRefused as exc:
        return refused(request, _url(request), PAGE, context, "organization-members", str(exc))
    if membership.user_id == request.user.pk:
        return redirect("accounts:home")
    return after_action(
        request, _url(request), PAGE, context, "organization-members", f"{membership.user.email} removed"
    )


@require_POST
@organization_view(Role.ADMIN)
def invitation_cancel(request: HttpRequest, invitation_id: str) -> HttpResponse:
    invitation = get_object_or_404(
        MembershipInvitation, pk=invitation_id, organization=request.organization, accepted_at__isnull=True
    )
    invitations.cancel(invitation, request.user)
    return after_action(
        request,
        _url(request),
        PAGE,
        lambda: _context(request),
        "organization-members",
        f"Invitation for {invitation.email} cancelled",
    )


@require_POST
@organization_view(Role.OWNER)
def ownership_transfer(request: HttpRequest) -> HttpResponse:
    form = TransferOwnershipForm(request.POST)
    context = lambda: _context(request)  # noqa: E731
    if not form.is_valid():
        return refused(request, _url(request), PAGE, context, "organization-members", "Choose the new owner")
    target = _membership(request, form.cleaned_data["membership"])
    try:
        memberships.transfer_ownership(request.organization, target, request.user)
    except ActionRefused as exc:
        return refused(request, _url(request), PAGE, context, "organization-members", str(exc))
    messages.success(request, f"{target.user.email} now owns {request.organization.name}; you are an admin")
    return redirect(_url(request))


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone with the link sees the invitation; a signed-in user with the invited address joins."""
    invitation = invitations.open_invitation(token)
    context = {"invitation": invitation, "next": request.path}
    if invitation is None or request.method != "POST":
        return render(request, "accounts/invitation_accept.html", context, status=200 if invitation else 404)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={request.path}")
    try:
        membership = invitations.accept(token, request.user)
    except ActionRefused as exc:
        context["error"] = str(exc)
        return render(request, "accounts/invitation_accept.html", context, status=400)
    messages.success(request, f"You joined {membership.organization.name}")
    if invitation.project_id and invitation.project_role != Role.NONE:
        return redirect("traces:list", project_id=invitation.project_id)
    return redirect("accounts:home")
