"""API key administration: create, revoke and rotate key pairs, each with its audit entry."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import api_keys, audit
from accounts.audit import Action, Actor
from accounts.errors import ActionRefused
from accounts.models import ApiKey, Organization, Project, User

GRACE_PERIODS = {
    "now": ("old key ends now", timedelta(0)),
    "1h": ("old key works 1 more hour", timedelta(hours=1)),
    "24h": ("old key works 24 more hours", timedelta(hours=24)),
    "7d": ("old key works 7 more days", timedelta(days=7)),
}


def key_summary(key: ApiKey) -> dict:
    """What an audit entry says about a key: never the secret, not even its hash."""
    return {
        "publicKey": key.public_key,
        "displaySecretKey": key.display_secret_key,
        "note": key.note,
        "scope": key.scope,
        "expiresAt": key.expires_at.isoformat() if key.expires_at else None,
    }


def create_key(
    actor: Actor,
    *,
    project: Project | None = None,
    organization: Organization | None = None,
    note: str = "",
    public_key: str | None = None,
    secret_key: str | None = None,
) -> tuple[ApiKey, str]:
    """A new pair for a project or an organisation; returns the row and the secret (shown once)."""
    note = (note or "").strip()[:200]
    if (public_key is None) != (secret_key is None):
        raise ActionRefused("Give both publicKey and secretKey, or neither")
    try:
        with transaction.atomic():
            key, secret = api_keys.create_api_key(
                project=project,
                organization=organization,
                note=note,
                created_by=actor if isinstance(actor, User) else None,
                public_key=public_key,
                secret_key=secret_key,
            )
            audit.record(
                action=Action.CREATE,
                resource_type="apiKey",
                resource_id=key.pk,
                actor=actor,
                project=project,
                organization=organization,
                after=key_summary(key),
            )
    except ValueError as exc:
        raise ActionRefused(str(exc)) from None
    except IntegrityError:
        raise ActionRefused("That public or secret key is already in use") from None
    return key, secret


def revoke_key(key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke at once: the next request with this key answers 401."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            api_keys.revoke_api_key(key)
            audit.record(
                action=Action.REVOKE,
                resource_type="apiKey",
                resource_id=key.pk,
                actor=actor,
                project=key.project,
                organization=key.organization,
                before=key_summary(key),
            )
    return key


def rotate_key(key: ApiKey, grace: str, actor: Actor) -> tuple[ApiKey, str]:
    """A new pair with the same note; the old one stops working after the grace period."""
    if grace not in GRACE_PERIODS:
        raise ActionRefused(f"Choose a grace period among: {', '.join(GRACE_PERIODS)}")
    with transaction.atomic():
        old = ApiKey.objects.select_for_update().get(pk=key.pk)
        if not ApiKey.objects.active().filter(pk=old.pk).exists():
            raise ActionRefused("This key is already revoked or expired; create a new one instead")
        new, secret = api_keys.create_api_key(
            project=old.project,
            organization=old.organization,
            note=old.note,
            created_by=actor if isinstance(actor, User) else None,
        )
        api_keys.revoke_api_key(old, when=timezone.now() + GRACE_PERIODS[grace][1])
        audit.record(
            action=Action.ROTATE,
            resource_type="apiKey",
            resource_id=old.pk,
            actor=actor,
            project=old.project,
            organization=old.organization,
            before=key_summary(old) | {"revokedAt": old.revoked_at and old.revoked_at.isoformat()},
            after={"replacedBy": new.pk, "grace": grace, **key_summary(new)},
        )
    return new, secret
