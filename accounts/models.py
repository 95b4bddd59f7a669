"""Users, organisations, projects, memberships with roles, API keys and the audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from langfuse_ui.ids import new_id


class Role(models.TextChoices):
    OWNER = "OWNER", "Owner"
    ADMIN = "ADMIN", "Admin"
    MEMBER = "MEMBER", "Member"
    VIEWER = "VIEWER", "Viewer"
    NONE = "NONE", "No access"


ROLE_RANK = {Role.NONE: 0, Role.VIEWER: 1, Role.MEMBER: 2, Role.ADMIN: 3, Role.OWNER: 4}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """A person who signs in; identified by email."""

    username = None
    first_name = None
    last_name = None
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name or self.email


class Organization(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> ProjectQuerySet:
        """Projects where the user's effective role is at least VIEWER."""
        org_ids = OrganizationMembership.objects.filter(user=user).values("organization_id")
        hidden = ProjectMembership.objects.filter(user=user, role=Role.NONE).values("project_id")
        direct = ProjectMembership.objects.filter(user=user).exclude(role=Role.NONE).values("project_id")
        in_org = models.Q(organization_id__in=org_ids) & ~models.Q(id__in=hidden)
        return self.filter(in_org | models.Q(id__in=direct))


class Project(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    retention_days = models.PositiveIntegerField(null=True, blank=True, help_text="Empty keeps data forever")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="project_name_unique_in_org")
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationMembership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="organization_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]


class ProjectMembership(models.Model):
    """An optional per-project role that overrides the organisation role."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="project_memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_project")]


class MembershipInvitation(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    org_role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True)
    project_role = models.CharField(max_length=10, choices=Role.choices, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="one_open_invitation_per_email",
            )
        ]


class ApiKeyScope(models.TextChoices):
    PROJECT = "PROJECT", "Project"
    ORGANIZATION = "ORGANIZATION", "Organization"


class ApiKeyQuerySet(models.QuerySet):
    def active(self) -> ApiKeyQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A public/secret key pair. The secret is kept only as a salted SHA-256 hash."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    scope = models.CharField(max_length=12, choices=ApiKeyScope.choices, default=ApiKeyScope.PROJECT)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    public_key = models.CharField(max_length=200, unique=True)
    hashed_secret_key = models.CharField(max_length=64, unique=True)
    display_secret_key = models.CharField(max_length=40)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(scope="PROJECT", project__isnull=False))
                | models.Q(scope="ORGANIZATION", organization__isnull=False),
                name="api_key_has_owner",
            )
        ]

    def __str__(self) -> str:
        return self.public_key


class AuditLog(models.Model):
    """Who did what, when. Rows are only ever inserted."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    organization_id = models.CharField(max_length=64, blank=True, db_index=True)
    project_id = models.CharField(max_length=64, blank=True, db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    user_email = models.CharField(max_length=254, blank=True)
    api_key_id = models.CharField(max_length=64, blank=True)
    resource_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=800, blank=True)
    action = models.CharField(max_length=40)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization_id", "-created_at"], name="audit_org_time")]

    def save(self, *args, **kwargs) -> None:
        """Insert only: an entry, once written, is never changed (a database trigger agrees)."""
        if not self._state.adding:
            raise AuditLogImmutable("Audit log entries cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutable("Audit log entries cannot be deleted")


class AuditLogImmutable(Exception):
    """Raised on any attempt to change or delete an audit log entry."""
