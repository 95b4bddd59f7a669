"""Headless initialisation from LANGFUSE_INIT_* variables; idempotent across restarts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from accounts import api_keys
from accounts.models import ApiKey, Organization, OrganizationMembership, Project, Role, User

log = logging.getLogger(__name__)


@dataclass
class InitResult:
    organization: Organization | None = None
    project: Project | None = None
    user: User | None = None
    public_key: str | None = None
    secret_key: str | None = None
    warnings: list[str] | None = None


def initialize_from_env(env: Mapping[str, str]) -> InitResult:
    """Create or update the organisation, project, key pair and user that the variables name.

    Nothing happens without LANGFUSE_INIT_ORG_ID, as in Langfuse. Running it again with the
    same variables changes nothing; the given keys work as given.
    """
    result = InitResult(warnings=[])
    org_id = env.get("LANGFUSE_INIT_ORG_ID", "").strip()
    if not org_id:
        return result
    with transaction.atomic():
        org, _ = Organization.objects.get_or_create(pk=org_id, defaults={"name": org_id})
        org_name = env.get("LANGFUSE_INIT_ORG_NAME", "").strip()
        if org_name and org.name != org_name:
            org.name = org_name
            org.save(update_fields=["name", "updated_at"])
        result.organization = org

        project_id = env.get("LANGFUSE_INIT_PROJECT_ID", "").strip()
        if project_id:
            result.project = _ensure_project(org, project_id, env, result.warnings)
        elif any(env.get(k) for k in ("LANGFUSE_INIT_PROJECT_NAME", "LANGFUSE_INIT_PROJECT_PUBLIC_KEY")):
            result.warnings.append("LANGFUSE_INIT_PROJECT_ID is not set: no project or keys were created")

        email = env.get("LANGFUSE_INIT_USER_EMAIL", "").strip().lower()
        if email:
            result.user = _ensure_user(org, email, env, result.warnings)
        elif env.get("LANGFUSE_INIT_USER_PASSWORD"):
            result.warnings.append("LANGFUSE_INIT_USER_EMAIL is not set: no user was created")

    if result.project:
        result.public_key = env.get("LANGFUSE_INIT_PROJECT_PUBLIC_KEY") or None
        result.secret_key = env.get("LANGFUSE_INIT_PROJECT_SECRET_KEY") or None
    for warning in result.warnings:
        log.warning("headless initialisation: %s", warning)
    return result


def _ensure_project(
    org: Organization, project_id: str, env: Mapping[str, str], warnings: list[str]
) -> Project:
    name = env.get("LANGFUSE_INIT_PROJECT_NAME", "").strip() or project_id
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        project = Project.objects.create(id=project_id, organization=org, name=name)
    elif project.name != name and env.get("LANGFUSE_INIT_PROJECT_NAME"):
        project.name = name
        project.save(update_fields=["name", "updated_at"])
    retention = env.get("LANGFUSE_INIT_PROJECT_RETENTION", "").strip()
    if retention:
        if retention.isdigit() and int(retention) >= 3:
            if project.retention_days != int(retention):
                project.retention_days = int(retention)
                project.save(update_fields=["retention_days", "updated_at"])
        else:
            warnings.append(
                f"LANGFUSE_INIT_PROJECT_RETENTION={retention!r} ignored: use a whole number of days, 3 or more"
            )

    public_key = env.get("LANGFUSE_INIT_PROJECT_PUBLIC_KEY", "").strip()
    secret_key = env.get("LANGFUSE_INIT_PROJECT_SECRET_KEY", "").strip()
    if bool(public_key) != bool(secret_key):
        warnings.append(
            "set both LANGFUSE_INIT_PROJECT_PUBLIC_KEY and LANGFUSE_INIT_PROJECT_SECRET_KEY, or neither"
        )
    elif public_key:
        existing = ApiKey.objects.filter(public_key=public_key).first()
        if existing is None:
            api_keys.create_api_key(
                project=project, public_key=public_key, secret_key=secret_key, note="Provisioned at start-up"
            )
        elif existing.project_id != project.id:
            warnings.append(f"the public key {public_key} already belongs to another project; left unchanged")
        elif existing.hashed_secret_key != api_keys.hash_secret(secret_key) or existing.revoked_at:
            existing.hashed_secret_key = api_keys.hash_secret(secret_key)
            existing.display_secret_key = api_keys.display_secret(secret_key)
            existing.revoked_at = None
            existing.save(update_fields=["hashed_secret_key", "display_secret_key", "revoked_at"])
    return project


def _ensure_user(org: Organization, email: str, env: Mapping[str, str], warnings: list[str]) -> User:
    user = User.objects.filter(email=email).first()
    name = env.get("LANGFUSE_INIT_USER_NAME", "").strip()
    password = env.get("LANGFUSE_INIT_USER_PASSWORD", "")
    if user is None:
        if not password:
            warnings.append(
                "LANGFUSE_INIT_USER_PASSWORD is not set: the user can sign in only after a password reset"
            )
        user = User.objects.create_user(email=email, password=password or None, name=name)
    else:
        changed = []
        if name and user.name != name:
            user.name = name
            changed.append("name")
        if password and not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
    OrganizationMembership.objects.update_or_create(
        organization=org, user=user, defaults={"role": Role.OWNER}
    )
    return user
