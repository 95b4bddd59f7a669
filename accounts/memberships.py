"""Members and roles: organisation roles, per-project overrides, removal, ownership transfer.

Rules every action keeps: an organisation never loses its last OWNER; only an OWNER grants,
changes or removes the OWNER role (an ADMIN manages everyone else).
"""

from __future__ import annotations

from django.db import transaction

from accounts import audit
from accounts.audit import Action, Actor
from accounts.errors import ActionRefused
from accounts.models import (
    ROLE_RANK,
    Organization,
    OrganizationMembership,
    Project,
    ProjectMembership,
    Role,
    User,
)

ORG_ROLES = [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER]
PROJECT_ROLES = [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER, Role.NONE]


def check_may_grant(actor_role: Role | None, role: Role, current: Role | None = None) -> None:
    """Nobody grants more than they hold, and only owners touch the OWNER role."""
    if actor_role is None:
        return  # the system (an organisation API key) acts as owner
    if Role.OWNER in (role, current) and actor_role != Role.OWNER:
        raise ActionRefused("Only an owner can grant, change or remove the Owner role")
    if ROLE_RANK[role] > ROLE_RANK[actor_role]:
        raise ActionRefused(f"You cannot grant a role above your own ({actor_role.label})")


def _lock_owners(org: Organization) -> list[int]:
    owners = OrganizationMembership.objects.select_for_update().filter(organization=org, role=Role.OWNER)
    return [m.user_id for m in owners]


def _check_keeps_an_owner(org: Organization, leaving_user_id: int) -> None:
    owners = _lock_owners(org)
    if owners == [leaving_user_id]:
        raise ActionRefused(
            "The organisation needs at least one owner: make someone else owner first (transfer ownership)"
        )


def add_member(
    org: Organization, user: User, role: Role, actor: Actor, actor_role: Role | None = None
) -> OrganizationMembership:
    """Create or change the user's organisation membership (the organisation API's PUT)."""
    role = Role(role)
    if role not in ORG_ROLES:
        raise ActionRefused(f"Organisation roles are {', '.join(ORG_ROLES)}")
    membership = OrganizationMembership.objects.filter(organization=org, user=user).first()
    if membership is not None:
        return change_role(membership, role, actor, actor_role)
    check_may_grant(actor_role, role)
    with transaction.atomic():
        membership = OrganizationMembership.objects.create(organization=org, user=user, role=role)
        audit.record(
            action=Action.CREATE,
            resource_type="orgMembership",
            resource_id=user.email,
            actor=actor,
            organization=org,
            after={"role": role},
        )
    return membership


def change_role(
    membership: OrganizationMembership, role: Role, actor: Actor, actor_role: Role | None = None
) -> OrganizationMembership:
    role = Role(role)
    if role not in ORG_ROLES:
        raise ActionRefused(f"Organisation roles are {', '.join(ORG_ROLES)}")
    with transaction.atomic():
        membership = (
            OrganizationMembership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        )
        before = Role(membership.role)
        if before == role:
            return membership
        check_may_grant(actor_role, role, before)
        if before == Role.OWNER:
            _check_keeps_an_owner(membership.organization, membership.user_id)
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            action=Action.ROLE_CHANGE,
            resource_type="orgMembership",
            resource_id=membership.user.email,
            actor=actor,
            organization=membership.organization_id,
            before={"role": before},
            after={"role": role},
        )
    return membership


def set_project_role(
    project: Project, user: User, role: Role | None, actor: Actor, actor_role: Role | None = None
) -> ProjectMembership | None:
    """Override the user's organisation role in one project; None removes the override."""
    org_membership = OrganizationMembership.objects.filter(
        organization_id=project.organization_id, user=user
    ).first()
    if org_membership is None:
        raise ActionRefused("Only members of the organisation can have a project role; invite them first")
    role = Role(role) if role else None
    if role is not None and role not in PROJECT_ROLES:
        raise ActionRefused(f"Project roles are {', '.join(PROJECT_ROLES)}")
    with transaction.atomic():
        current = ProjectMembership.objects.select_for_update().filter(project=project, user=user).first()
        before = Role(current.role) if current else None
        if before == role:
            return current
        check_may_grant(actor_role, role or Role.NONE, before)
        if role is None:
            current.delete()
            result = None
        elif current is None:
            result = ProjectMembership.objects.create(project=project, user=user, role=role)
        else:
            current.role = role
            current.save(update_fields=["role"])
            result = current
        audit.record(
            action=Action.ROLE_CHANGE,
            resource_type="projectMembership",
            resource_id=user.email,
            actor=actor,
            project=project,
            before={"role": before},
            after={"role": role},
        )
    return result


def remove_member(membership: OrganizationMembership, actor: Actor, actor_role: Role | None = None) -> None:
    """Remove the user from the organisation and from all its projects."""
    with transaction.atomic():
        membership = (
            OrganizationMembership.objects.select_for_update().select_related("user").get(pk=membership.pk)
        )
        role = Role(membership.role)
        if role == Role.OWNER:
            check_may_grant(actor_role, Role.VIEWER, role)
            _check_keeps_an_owner(membership.organization, membership.user_id)
        ProjectMembership.objects.filter(
            project__organization_id=membership.organization_id, user_id=membership.user_id
        ).delete()
        membership.delete()
        audit.record(
            action=Action.REMOVE,
            resource_type="orgMembership",
            resource_id=membership.user.email,
            actor=actor,
            organization=membership.organization_id,
            before={"role": role},
        )


def transfer_ownership(org: Organization, new_owner: OrganizationMembership, actor: User) -> None:
    """The target becomes OWNER; the acting owner steps down to ADMIN."""
    with transaction.atomic():
        _lock_owners(org)
        mine = OrganizationMembership.objects.select_for_update().get(organization=org, user=actor)
        target = (
            OrganizationMembership.objects.select_for_update()
            .select_related("user")
            .get(pk=new_owner.pk, organization=org)
        )
        if mine.role != Role.OWNER:
            raise ActionRefused("Only an owner can transfer ownership")
        if target.pk == mine.pk:
            raise ActionRefused("You already own this organisation; choose another member")
        before = target.role
        target.role = Role.OWNER
        target.save(update_fields=["role"])
        mine.role = Role.ADMIN
        mine.save(update_fields=["role"])
        audit.record(
            action=Action.TRANSFER_OWNERSHIP,
            resource_type="organization",
            resource_id=org.pk,
            actor=actor,
            organization=org,
            before={"owner": actor.email, "newOwnerRole": before},
            after={"owner": target.user.email, "previousOwnerRole": Role.ADMIN},
        )


def members_of(org: Organization) -> list[OrganizationMembership]:
    return list(
        OrganizationMembership.objects.filter(organization=org).select_related("user").order_by("user__email")
    )
