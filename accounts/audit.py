"""The audit log: who did what, when. Entries are only ever inserted.

Every domain action writes its entry with `record(...)` inside the action's own transaction,
so an action and its entry commit or roll back together. Other apps call `record` the same way
(prompt label moved, traces deleted with the filter and count, retention changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ApiKey, AuditLog, Organization, OrganizationMembership, Project, User


class Action:
    """The actions written by this app; other apps may use their own short verbs."""

    CREATE = "create"
    UPDATE = "update"
    RENAME = "rename"
    DELETE = "delete"
    REVOKE = "revoke"
    ROTATE = "rotate"
    INVITE = "invite"
    ACCEPT = "accept"
    CANCEL = "cancel"
    ROLE_CHANGE = "roleChange"
    REMOVE = "remove"
    TRANSFER_OWNERSHIP = "transferOwnership"
    SIGN_IN = "signIn"


Actor = User | ApiKey | None


def record(
    *,
    action: str,
    resource_type: str,
    resource_id: str = "",
    actor: Actor = None,
    project: Project | None = None,
    organization: Organization | str | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditLog:
    """Write one entry. Call it inside the transaction of the action it describes.

    `actor` is the signed-in user or the API key that acted (None for the system). The
    organisation defaults to the project's, or the API key's.
    """
    org_id = getattr(organization, "pk", organization) or ""
    if not org_id and project is not None:
        org_id = project.organization_id
    entry = AuditLog(
        organization_id=org_id,
        project_id=project.pk if project is not None else "",
        resource_type=resource_type,
        resource_id=str(resource_id),
        action=action,
        before=before,
        after=after,
    )
    if isinstance(actor, ApiKey):
        entry.api_key_id = actor.pk
        if not entry.organization_id:
            entry.organization_id = actor.organization_id or actor.project.organization_id
    elif actor is not None and actor.is_authenticated:
        entry.user_id = actor.pk
        entry.user_email = actor.email
    entry.save()
    return entry


def record_sign_in(sender, request, user: User, **kwargs) -> None:
    """Receiver of django.contrib.auth's user_logged_in: one entry per organisation of the user,
    so each organisation's admins see their members' sign-ins (one entry without one if none)."""
    org_ids = list(
        OrganizationMembership.objects.filter(user=user).values_list("organization_id", flat=True)
    ) or [""]
    after = {"ip": request.META.get("REMOTE_ADDR", "")} if request is not None else None
    for org_id in org_ids:
        record(
            action=Action.SIGN_IN,
            resource_type="user",
            resource_id=str(user.pk),
            actor=user,
            organization=org_id,
            after=after,
        )


# --- Reading -------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    action: str = ""
    actor: str = ""
    resource_type: str = ""
    resource_id: str = ""
    since: date | None = None
    until: date | None = None


def entries(
    organization: Organization, filters: AuditFilters, project: Project | None = None
) -> QuerySet[AuditLog]:
    """The organisation's entries (or one project's), newest first, narrowed by the filters."""
    qs = AuditLog.objects.filter(organization_id=organization.pk)
    if project is not None:
        qs = qs.filter(project_id=project.pk)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.actor:
        qs = qs.filter(Q(user_email__icontains=filters.actor) | Q(api_key_id=filters.actor))
    if filters.resource_type:
        qs = qs.filter(resource_type=filters.resource_type)
    if filters.resource_id:
        qs = qs.filter(resource_id=filters.resource_id)
    if filters.since:
        qs = qs.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        qs = qs.filter(created_at__lt=_start_of(filters.until + timedelta(days=1)))
    return qs.order_by("-created_at", "-id")


def known_values(organization: Organization, field: str) -> list[str]:
    """The distinct actions or resource types seen in the organisation, for filter menus."""
    return list(
        AuditLog.objects.filter(organization_id=organization.pk)
        .order_by(field)
        .values_list(field, flat=True)
        .distinct()
    )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())
