"""Organisations and projects: create, rename, update, delete. Each action writes its audit entry
in its own transaction."""

from __future__ import annotations

from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from accounts import audit
from accounts.audit import Action, Actor
from accounts.errors import ActionRefused
from accounts.models import ApiKey, Organization, OrganizationMembership, Project, Role, User

DELETE_BATCH_SIZE = 5_000
MIN_RETENTION_DAYS = 3
MAX_RETENTION_DAYS = 36_500  # a hundred years; 0 keeps data forever


def create_organization(name: str, creator: User) -> Organization:
    """A new organisation whose creator is its first OWNER."""
    name = _clean_name(name, "organisation")
    with transaction.atomic():
        org = Organization.objects.create(name=name)
        OrganizationMembership.objects.create(organization=org, user=creator, role=Role.OWNER)
        audit.record(
            action=Action.CREATE,
            resource_type="organization",
            resource_id=org.pk,
            actor=creator,
            organization=org,
            after={"name": name},
        )
    return org


def rename_organization(org: Organization, name: str, actor: Actor) -> Organization:
    name = _clean_name(name, "organisation")
    with transaction.atomic():
        before = org.name
        org.name = name
        org.save(update_fields=["name", "updated_at"])
        audit.record(
            action=Action.RENAME,
            resource_type="organization",
            resource_id=org.pk,
            actor=actor,
            organization=org,
            before={"name": before},
            after={"name": name},
        )
    return org


def create_project(
    organization: Organization,
    name: str,
    actor: Actor,
    *,
    metadata: dict | None = None,
    retention_days: int | None = None,
) -> Project:
    name = _clean_name(name, "project")
    retention_days = check_retention(retention_days)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                organization=organization, name=name, metadata=metadata or {}, retention_days=retention_days
            )
            audit.record(
                action=Action.CREATE,
                resource_type="project",
                resource_id=project.pk,
                actor=actor,
                project=project,
                after={"name": name, "retentionDays": retention_days},
            )
    except IntegrityError:
        raise ActionRefused(f"A project named “{name}” already exists in this organisation") from None
    return project


_UNSET = object()


def update_project(
    project: Project, actor: Actor, *, name: str | None = None, metadata=_UNSET, retention_days=_UNSET
) -> Project:
    """Rename and/or change metadata and retention; one audit entry with before and after."""
    changes: dict = {}
    if name is not None:
        changes["name"] = _clean_name(name, "project")
    if metadata is not _UNSET:
        changes["metadata"] = metadata or {}
    if retention_days is not _UNSET:
        changes["retention_days"] = check_retention(retention_days)
    changes = {field: value for field, value in changes.items() if getattr(project, field) != value}
    if not changes:
        return project
    before = {field: getattr(project, field) for field in changes}
    action = Action.RENAME if set(changes) == {"name"} else Action.UPDATE
    try:
        with transaction.atomic():
            for field, value in changes.items():
                setattr(project, field, value)
            project.save(update_fields=[*changes, "updated_at"])
            audit.record(
                action=action,
                resource_type="project",
                resource_id=project.pk,
                actor=actor,
                project=project,
                before=before,
                after=changes,
            )
    except IntegrityError:
        for field, value in before.items():
            setattr(project, field, value)
        raise ActionRefused(
            f"A project named “{changes['name']}” already exists in this organisation"
        ) from None
    return project


def rename_project(project: Project, name: str, actor: Actor) -> Project:
    return update_project(project, actor, name=name)


def delete_project(project: Project, actor: Actor) -> dict[str, int]:
    """Delete the project and every row that carries its id; returns rows deleted per table.

    Data tables (traces, observations, scores, ...) have no database foreign key to the
    project: they are deleted by project_id in batches of DELETE_BATCH_SIZE rows, each batch
    its own transaction, so a large project never holds one huge lock. The project row, its
    keys, prompts and memberships then go in one last transaction with the audit entry. When
    this returns, a query finds nothing of the project.
    """
    # Keys stop working first, so no new data arrives while the batches run.
    ApiKey.objects.filter(project=project, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # Media files in the bucket (or folder) go before their rows, which say where they are.
    from traces.media import delete_project_media_files

    delete_project_media_files(project)
    counts: dict[str, int] = {}
    for model in _bulk_deleted_models():
        counts[model._meta.db_table] = _delete_in_batches(model, project.pk)
    with transaction.atomic():
        project_id = project.pk
        # Rows that arrived while the batches ran (ingestion does not stop for us).
        for model in _bulk_deleted_models():
            counts[model._meta.db_table] += _delete_in_batches(model, project_id)
        _, cascaded = Project.objects.filter(pk=project_id).delete()
        for label, n in cascaded.items():
            counts[label] = counts.get(label, 0) + n
        summary = {"name": project.name, "rows": {t: n for t, n in counts.items() if n}}
        audit.record(
            action=Action.DELETE,
            resource_type="project",
            resource_id=project_id,
            actor=actor,
            organization=project.organization_id,
            before=summary,
        )
    return counts


def check_retention(days: int | None) -> int | None:
    """None or 0 keeps data forever; otherwise at least MIN_RETENTION_DAYS (as in Langfuse)."""
    if days in (None, 0, ""):
        return None
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ActionRefused("Retention must be a whole number of days") from None
    if days < MIN_RETENTION_DAYS:
        raise ActionRefused(f"Retention must be 0 (keep forever) or at least {MIN_RETENTION_DAYS} days")
    if days > MAX_RETENTION_DAYS:
        raise ActionRefused(
            f"Retention must be at most {MAX_RETENTION_DAYS} days; use 0 to keep data forever"
        )
    return days


def _clean_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ActionRefused(f"The {what} needs a name")
    if len(name) > 200:
        raise ActionRefused(f"The {what} name is too long (200 characters at most)")
    return name


def _bulk_deleted_models() -> list[type[models.Model]]:
    """Models whose `project` foreign key has no database constraint and no cascade: the data
    tables of every app (traces, observations, scores, comments, media, ...), found by looking,
    so a table added later is deleted too."""
    found = []
    for model in apps.get_models():
        field = next((f for f in model._meta.concrete_fields if f.name == "project"), None)
        if (
            field is not None
            and field.is_relation
            and field.related_model is Project
            and field.remote_field.on_delete is models.DO_NOTHING
        ):
            found.append(model)
    return sorted(found, key=lambda m: m._meta.db_table)


def _delete_in_batches(model: type[models.Model], project_id: str) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field("project").column)
    sql = (
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} WHERE {column} = %s LIMIT %s))"
    )
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [project_id, DELETE_BATCH_SIZE])
            deleted = cursor.rowcount
        total += deleted
        if deleted < DELETE_BATCH_SIZE:
            return total
