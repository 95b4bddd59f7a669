"""HTML pages of accounts: home, organisations, members, invitations, project settings."""

from __future__ import annotations

from django.urls import path

from accounts.views import api_keys, audit_log, members, organizations, project_settings

app_name = "accounts"

ORG = "organization/<str:org_id>"
PROJECT_SETTINGS = "project/<str:project_id>/settings"

urlpatterns = [
    path("", organizations.home, name="home"),
    path("auth/invite/<str:token>", members.invitation_accept, name="invitation-accept"),
    # Organisations
    path("organizations/new", organizations.organization_create, name="organization-create"),
    path(f"{ORG}/settings", organizations.organization_settings, name="organization-settings"),
    path(f"{ORG}/settings/rename", organizations.organization_rename, name="organization-rename"),
    path(f"{ORG}/projects/new", organizations.project_create, name="project-create"),
    path(f"{ORG}/members", members.members, name="organization-members"),
    path(f"{ORG}/members/invite", members.invite, name="member-invite"),
    path(f"{ORG}/members/<int:membership_id>/role", members.member_role, name="member-role"),
    path(f"{ORG}/members/<int:membership_id>/remove", members.member_remove, name="member-remove"),
    path(
        f"{ORG}/invitations/<str:invitation_id>/cancel", members.invitation_cancel, name="invitation-cancel"
    ),
    path(f"{ORG}/transfer-ownership", members.ownership_transfer, name="ownership-transfer"),
    path(f"{ORG}/api-keys", api_keys.organization_keys, name="organization-api-keys"),
    path(
        f"{ORG}/api-keys/<str:key_id>/revoke",
        api_keys.organization_key_revoke,
        name="organization-api-key-revoke",
    ),
    path(f"{ORG}/audit-log", audit_log.organization_log, name="organization-audit-log"),
    # Project settings
    path(PROJECT_SETTINGS, project_settings.general, name="project-settings"),
    path(f"{PROJECT_SETTINGS}/rename", project_settings.rename, name="project-rename"),
    path(f"{PROJECT_SETTINGS}/delete", project_settings.delete, name="project-delete"),
    path(f"{PROJECT_SETTINGS}/api-keys", api_keys.project_keys, name="project-api-keys"),
    path(
        f"{PROJECT_SETTINGS}/api-keys/<str:key_id>/revoke",
        api_keys.project_key_revoke,
        name="project-api-key-revoke",
    ),
    path(
        f"{PROJECT_SETTINGS}/api-keys/<str:key_id>/rotate",
        api_keys.project_key_rotate,
        name="project-api-key-rotate",
    ),
    path(f"{PROJECT_SETTINGS}/members", project_settings.members, name="project-members"),
    path(
        f"{PROJECT_SETTINGS}/members/<int:member_id>/role",
        project_settings.member_role,
        name="project-member-role",
    ),
    path(f"{PROJECT_SETTINGS}/audit-log", audit_log.project_log, name="project-audit-log"),
]
