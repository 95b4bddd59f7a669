"""Headless initialisation from LANGFUSE_INIT_* variables."""

from __future__ import annotations

import base64

import pytest

from accounts.models import ApiKey, Organization, OrganizationMembership, Project, Role, User
from accounts.provisioning import initialize_from_env

pytestmark = pytest.mark.django_db

FULL = {
    "LANGFUSE_INIT_ORG_ID": "org-1",
    "LANGFUSE_INIT_ORG_NAME": "Acme",
    "LANGFUSE_INIT_PROJECT_ID": "proj-1",
    "LANGFUSE_INIT_PROJECT_NAME": "production",
    "LANGFUSE_INIT_PROJECT_RETENTION": "30",
    "LANGFUSE_INIT_PROJECT_PUBLIC_KEY": "pk-lf-given",
    "LANGFUSE_INIT_PROJECT_SECRET_KEY": "sk-lf-given-secret",
    "LANGFUSE_INIT_USER_EMAIL": "Admin@Acme.test",
    "LANGFUSE_INIT_USER_NAME": "Ada Admin",
    "LANGFUSE_INIT_USER_PASSWORD": "s3cret-pass-word",
}


def snapshot() -> tuple:
    return (
        list(Organization.objects.values_list("id", "name")),
        list(Project.objects.values_list("id", "name", "retention_days", "organization_id")),
        list(ApiKey.objects.values_list("public_key", "hashed_secret_key", "project_id", "revoked_at")),
        list(User.objects.values_list("email", "name", "password")),
        list(OrganizationMembership.objects.values_list("organization_id", "user__email", "role")),
    )


def test_creates_everything_the_variables_name(client):
    result = initialize_from_env(FULL)
    assert result.warnings == []
    org = Organization.objects.get(pk="org-1")
    project = Project.objects.get(pk="proj-1")
    assert (org.name, project.name, project.organization_id, project.retention_days) == (
        "Acme",
        "production",
        "org-1",
        30,
    )
    user = User.objects.get(email="admin@acme.test")
    assert user.name == "Ada Admin" and user.check_password("s3cret-pass-word")
    assert OrganizationMembership.objects.get(user=user, organization=org).role == Role.OWNER
    # The given keys work as given.
    header = "Basic " + base64.b64encode(b"pk-lf-given:sk-lf-given-secret").decode()
    response = client.get("/api/public/projects", HTTP_AUTHORIZATION=header)
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == "proj-1"


def test_running_twice_changes_nothing(settings):
    initialize_from_env(FULL)
    first = snapshot()
    result = initialize_from_env(FULL)
    assert result.warnings == []
    assert snapshot() == first
    assert ApiKey.objects.count() == 1


def test_changed_variables_update_in_place():
    initialize_from_env(FULL)
    initialize_from_env(
        {**FULL, "LANGFUSE_INIT_ORG_NAME": "Acme Inc", "LANGFUSE_INIT_PROJECT_SECRET_KEY": "sk-lf-rotated"}
    )
    assert Organization.objects.get(pk="org-1").name == "Acme Inc"
    key = ApiKey.objects.get(public_key="pk-lf-given")
    from accounts.api_keys import hash_secret

    assert key.hashed_secret_key == hash_secret("sk-lf-rotated")
    assert ApiKey.objects.count() == 1


def test_nothing_happens_without_an_org_id():
    result = initialize_from_env({k: v for k, v in FULL.items() if k != "LANGFUSE_INIT_ORG_ID"})
    assert result.organization is None
    assert not Organization.objects.exists() and not User.objects.exists()


@pytest.mark.parametrize(
    ("change", "warning"),
    [
        ({"LANGFUSE_INIT_PROJECT_SECRET_KEY": ""}, "both"),
        ({"LANGFUSE_INIT_PROJECT_RETENTION": "two"}, "RETENTION"),
        ({"LANGFUSE_INIT_PROJECT_ID": ""}, "PROJECT_ID"),
    ],
)
def test_partial_configuration_warns(change, warning):
    result = initialize_from_env({**FULL, **change})
    assert any(warning in w for w in result.warnings)


def test_a_key_of_another_project_is_left_alone():
    initialize_from_env(FULL)
    other = {**FULL, "LANGFUSE_INIT_PROJECT_ID": "proj-2", "LANGFUSE_INIT_PROJECT_NAME": "staging"}
    result = initialize_from_env(other)
    assert any("another project" in w for w in result.warnings)
    assert ApiKey.objects.get(public_key="pk-lf-given").project_id == "proj-1"
