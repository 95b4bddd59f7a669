"""API key pairs: generation, salted hashing, lookup, revocation."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiKey, ApiKeyScope, Organization, Project, User

PUBLIC_PREFIX = "pk-lf-"
SECRET_PREFIX = "sk-lf-"  # noqa: S105
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    """sha256(secret + sha256hex(SALT)): Langfuse's lookup hash, so keys can be carried over."""
    salt_digest = hashlib.sha256(settings.SALT.encode()).hexdigest()
    return hashlib.sha256((secret + salt_digest).encode()).hexdigest()


def display_secret(secret: str) -> str:
    return f"{secret[:8]}...{secret[-4:]}"


def generate_pair() -> tuple[str, str]:
    return f"{PUBLIC_PREFIX}{uuid.uuid4()}", f"{SECRET_PREFIX}{uuid.uuid4()}"


def create_api_key(
    *,
    project: Project | None = None,
    organization: Organization | None = None,
    note: str = "",
    created_by: User | None = None,
    public_key: str | None = None,
    secret_key: str | None = None,
    expires_at=None,
) -> tuple[ApiKey, str]:
    """Create a key pair; returns the row and the secret, which is never stored in plain text."""
    if (project is None) == (organization is None):
        raise ValueError("An API key belongs to exactly one project or one organisation")
    generated_public, generated_secret = generate_pair()
    public_key = public_key or generated_public
    secret_key = secret_key or generated_secret
    if not public_key.startswith(PUBLIC_PREFIX) or not secret_key.startswith(SECRET_PREFIX):
        raise ValueError(f"Public keys start with {PUBLIC_PREFIX} and secret keys with {SECRET_PREFIX}")
    key = ApiKey.objects.create(
        scope=ApiKeyScope.PROJECT if project else ApiKeyScope.ORGANIZATION,
        project=project,
        organization=organization,
        public_key=public_key,
        hashed_secret_key=hash_secret(secret_key),
        display_secret_key=display_secret(secret_key),
        note=note,
        created_by=created_by,
        expires_at=expires_at,
    )
    return key, secret_key


def find_key(public_key: str, secret_key: str) -> ApiKey | None:
    """The active key matching both halves, or None. Constant-time comparison of the hash."""
    hashed = hash_secret(secret_key)
    key = (
        ApiKey.objects.active()
        .select_related("project__organization", "organization")
        .filter(public_key=public_key)
        .first()
    )
    if key is None or not hmac.compare_digest(key.hashed_secret_key, hashed):
        return None
    return key


def find_public_key(public_key: str) -> ApiKey | None:
    """For score-only Bearer auth: the active project key with this public half."""
    return (
        ApiKey.objects.active()
        .select_related("project__organization")
        .filter(public_key=public_key, scope=ApiKeyScope.PROJECT)
        .first()
    )


def touch_last_used(key: ApiKey) -> None:
    """Record use, writing at most once a minute per key."""
    now = timezone.now()
    if key.last_used_at and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now


def revoke_api_key(key: ApiKey, *, when=None) -> None:
    """Revoke now (or at `when`, for a rotation grace period)."""
    when = when or timezone.now()
    if when <= timezone.now():
        key.revoked_at = when
        key.save(update_fields=["revoked_at"])
    else:
        key.expires_at = when
        key.save(update_fields=["expires_at"])
