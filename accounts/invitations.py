"""Inviting people by email: a link with a secret token (stored only as its hash) that makes
them a member once they sign in or sign up with the invited address."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import audit
from accounts.audit import Action
from accounts.errors import ActionRefused
from accounts.memberships import ORG_ROLES, PROJECT_ROLES, check_may_grant
from accounts.models import (
    MembershipInvitation,
    Organization,
    OrganizationMembership,
    Project,
    ProjectMembership,
    Role,
    User,
)

INVITATION_LIFETIME = timedelta(days=7)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    org: Organization,
    email: str,
    org_role: Role,
    actor: User,
    actor_role: Role | None,
    *,
    project: Project | None = None,
    project_role: Role | None = None,
) -> tuple[MembershipInvitation, str]:
    """Create (or renew) the open invitation for this address; returns it and the token for the link.

    Renewing replaces the token, so an earlier link stops working.
    """
    email = User.objects.normalize_email(email or "").strip().lower()
    if "@" not in email:
        raise ActionRefused("Enter the email address of the person to invite")
    org_role = Role(org_role)
    if org_role not in ORG_ROLES:
        raise ActionRefused(f"Organisation roles are {', '.join(ORG_ROLES)}")
    check_may_grant(actor_role, org_role)
    if project_role:
        project_role = Role(project_role)
        if project is None or project.organization_id != org.pk or project_role not in PROJECT_ROLES:
            raise ActionRefused("A project role needs a project of this organisation")
        check_may_grant(actor_role, project_role)
    if OrganizationMembership.objects.filter(organization=org, user__email__iexact=email).exists():
        raise ActionRefused(f"{email} is already a member of {org.name}")
    token = secrets.token_urlsafe(32)
    fields = {
        "org_role": org_role,
        "project": project if project_role else None,
        "project_role": project_role or "",
        "token_hash": hash_token(token),
        "invited_by": actor,
        "created_at": timezone.now(),
        "expires_at": timezone.now() + INVITATION_LIFETIME,
    }
    with transaction.atomic():
        invitation, created = MembershipInvitation.objects.update_or_create(
            organization=org, email=email, accepted_at__isnull=True, defaults=fields
        )
        audit.record(
            action=Action.INVITE,
            resource_type="membershipInvitation",
            resource_id=email,
            actor=actor,
            organization=org,
            after={
                "orgRole": org_role,
                "projectId": project.pk if project_role else None,
                "projectRole": project_role or None,
                "renewed": not created,
            },
        )
    return invitation, token


def send_invitation_email(invitation: MembershipInvitation, token: str, base_url: str) -> None:
    """Email the accept link (SMTP from the environment; the console backend in development)."""
    context = {
        "invitation": invitation,
        "inviter": invitation.invited_by,
        "url": f"{base_url.rstrip('/')}/auth/invite/{token}",
    }
    subject = f"You are invited to {invitation.organization.name} on Langfuse UI"
    body = render_to_string("accounts/invitation_email.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def open_invitation(token: str) -> MembershipInvitation | None:
    """The unaccepted, unexpired invitation for this token, or None."""
    return (
        MembershipInvitation.objects.select_related("organization", "project", "invited_by")
        .filter(token_hash=hash_token(token), accepted_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


def accept(token: str, user: User) -> OrganizationMembership:
    """Make the signed-in user a member as the invitation says; the addresses must match."""
    with transaction.atomic():
        invitation = open_invitation(token)
        if invitation is None:
            raise ActionRefused("This invitation link is invalid, expired or already used")
        invitation = MembershipInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise ActionRefused("This invitation link is invalid, expired or already used")
        if invitation.email.lower() != user.email.lower():
            raise ActionRefused(
                f"This invitation is for {invitation.email}; you are signed in as {user.email}. "
                "Sign out and sign in (or sign up) with the invited address."
            )
        membership, created = OrganizationMembership.objects.get_or_create(
            organization_id=invitation.organization_id, user=user, defaults={"role": invitation.org_role}
        )
        if invitation.project_id and invitation.project_role:
            ProjectMembership.objects.update_or_create(
                project_id=invitation.project_id, user=user, defaults={"role": invitation.project_role}
            )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit.record(
            action=Action.ACCEPT,
            resource_type="membershipInvitation",
            resource_id=invitation.email,
            actor=user,
            organization=invitation.organization_id,
            after={"orgRole": membership.role, "alreadyMember": not created},
        )
    return membership


def cancel(invitation: MembershipInvitation, actor: User) -> None:
    with transaction.atomic():
        deleted, _ = MembershipInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()
        if deleted:
            audit.record(
                action=Action.CANCEL,
                resource_type="membershipInvitation",
                resource_id=invitation.email,
                actor=actor,
                organization=invitation.organization_id,
            )


def pending(org: Organization) -> list[MembershipInvitation]:
    return list(
        MembershipInvitation.objects.filter(organization=org, accepted_at__isnull=True)
        .select_related("invited_by", "project")
        .order_by("email")
    )
