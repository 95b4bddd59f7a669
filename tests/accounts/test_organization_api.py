"""The organisation API of Langfuse's spec, with organisation-scoped keys."""

from __future__ import annotations

import json

import pytest

from accounts import api_keys
from accounts.models import ApiKey, AuditLog, OrganizationMembership, Project, Role
from tests.accounts.test_api_auth import basic
from traces.models import Trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_auth(team) -> str:
    key, secret = api_keys.create_api_key(organization=team.org, note="automation")
    return basic(key.public_key, secret)


def call(client, method: str, url: str, auth: str, body: dict | None = None):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, url, data, content_type="application/json", HTTP_AUTHORIZATION=auth)


def test_get_projects_with_a_project_key_keeps_its_sdk_shape(client, team):
    response = call(client, "GET", "/api/public/projects", basic(team.public_key, team.secret_key))
    assert response.json()["data"][0]["id"] == team.project.id


def test_get_projects_with_an_organisation_key_points_to_the_organisation_route(client, org_auth):
    response = call(client, "GET", "/api/public/projects", org_auth)
    assert response.status_code == 403
    assert "organisation key" in response.json()["message"]


def test_organisation_routes_refuse_project_keys(client, team):
    response = call(
        client, "GET", "/api/public/organizations/projects", basic(team.public_key, team.secret_key)
    )
    assert response.status_code == 403


def test_create_update_and_delete_a_project(client, team, org_auth):
    response = call(client, "POST", "/api/public/projects", org_auth, {"name": "staging", "retention": 0})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "staging"
    assert body["organization"] == {"id": team.org.id, "name": "Acme"}
    assert body["metadata"] == {}
    project_id = body["id"]

    response = call(
        client,
        "PUT",
        f"/api/public/projects/{project_id}",
        org_auth,
        {"name": "stage", "metadata": {"team": "ml"}, "retention": 30},
    )
    assert response.json()["name"] == "stage"
    assert response.json()["metadata"] == {"team": "ml"}
    assert response.json()["retentionDays"] == 30

    Trace.objects.create(project_id=project_id, id="t1")
    response = call(client, "DELETE", f"/api/public/projects/{project_id}", org_auth)
    assert response.status_code == 202
    assert response.json()["success"] is True
    assert not Project.objects.filter(pk=project_id).exists()
    assert not Trace.objects.filter(project_id=project_id).exists()
    actions = list(
        AuditLog.objects.filter(resource_id=project_id)
        .order_by("created_at")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]
    assert AuditLog.objects.filter(resource_id=project_id).exclude(api_key_id="").count() == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "name is required"),
        ({"name": "x", "retention": 2}, "at least 3 days"),
        ({"name": "production"}, "already exists"),
        ({"name": "x", "metadata": [1]}, "metadata must be an object"),
    ],
)
def test_invalid_project_requests_answer_400_with_a_reason(client, org_auth, body, message):
    response = call(client, "POST", "/api/public/projects", org_auth, body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_projects_of_another_organisation_are_not_found(client, team, org_auth):
    response = call(
        client, "PUT", f"/api/public/projects/{team.other_project.id}", org_auth, {"name": "mine"}
    )
    assert response.status_code == 404
    response = call(client, "DELETE", f"/api/public/projects/{team.other_project.id}", org_auth)
    assert response.status_code == 404
    assert Project.objects.filter(pk=team.other_project.id).exists()


def test_project_api_keys_are_created_listed_and_deleted(client, team, org_auth):
    url = f"/api/public/projects/{team.project.id}/apiKeys"
    created = call(client, "POST", url, org_auth, {"note": "ci"}).json()
    assert set(created) == {"id", "createdAt", "publicKey", "secretKey", "displaySecretKey", "note"}
    assert created["note"] == "ci"
    auth = basic(created["publicKey"], created["secretKey"])
    assert call(client, "GET", "/api/public/projects", auth).status_code == 200

    listed = call(client, "GET", url, org_auth).json()["apiKeys"]
    assert {k["publicKey"] for k in listed} == {team.public_key, created["publicKey"]}
    assert all("secretKey" not in k for k in listed)

    response = call(client, "DELETE", f"{url}/{created['id']}", org_auth)
    assert response.json() == {"success": True}
    assert call(client, "GET", "/api/public/projects", auth).status_code == 401
    assert AuditLog.objects.filter(
        resource_type="apiKey", action="revoke", resource_id=created["id"]
    ).exists()


def test_predefined_key_pairs_are_accepted(client, team, org_auth):
    url = f"/api/public/projects/{team.project.id}/apiKeys"
    body = {"publicKey": "pk-lf-fixed-public", "secretKey": "sk-lf-fixed-secret"}
    assert call(client, "POST", url, org_auth, body).json()["publicKey"] == "pk-lf-fixed-public"
    assert (
        call(
            client, "GET", "/api/public/projects", basic("pk-lf-fixed-public", "sk-lf-fixed-secret")
        ).status_code
        == 200
    )
    response = call(client, "POST", url, org_auth, {"publicKey": "pk-lf-only-half"})
    assert response.status_code == 400


def test_memberships_are_listed_created_changed_and_removed(client, team, org_auth):
    url = "/api/public/organizations/memberships"
    listed = call(client, "GET", url, org_auth).json()["memberships"]
    assert {(m["email"], m["role"]) for m in listed} >= {
        (team.owner.email, "OWNER"),
        (team.viewer.email, "VIEWER"),
    }
    assert set(listed[0]) == {"userId", "role", "email", "name"}

    body = {"userId": str(team.outsider.pk), "role": "MEMBER"}
    assert call(client, "PUT", url, org_auth, body).json()["role"] == "MEMBER"
    assert OrganizationMembership.objects.get(organization=team.org, user=team.outsider).role == Role.MEMBER
    body["role"] = "ADMIN"
    assert call(client, "PUT", url, org_auth, body).json()["role"] == "ADMIN"

    response = call(client, "DELETE", url, org_auth, {"userId": str(team.outsider.pk)})
    assert response.json() == {"message": "Membership deleted", "userId": str(team.outsider.pk)}
    assert not OrganizationMembership.objects.filter(organization=team.org, user=team.outsider).exists()


def test_the_last_owner_cannot_be_demoted_through_the_api(client, team, org_auth):
    body = {"userId": str(team.owner.pk), "role": "VIEWER"}
    response = call(client, "PUT", "/api/public/organizations/memberships", org_auth, body)
    assert response.status_code == 400
    assert "at least one owner" in response.json()["message"]


def test_unknown_users_and_roles_are_refused(client, org_auth):
    url = "/api/public/organizations/memberships"
    assert call(client, "PUT", url, org_auth, {"userId": "999999", "role": "MEMBER"}).status_code == 404
    assert call(client, "PUT", url, org_auth, {"userId": "1", "role": "NONE"}).status_code in (400, 404)


def test_organisation_projects_and_keys_are_listed(client, team, org_auth):
    projects = call(client, "GET", "/api/public/organizations/projects", org_auth).json()["projects"]
    assert [p["name"] for p in projects] == ["production"]
    assert set(projects[0]) == {"id", "name", "metadata", "createdAt", "updatedAt"}
    keys = call(client, "GET", "/api/public/organizations/apiKeys", org_auth).json()["apiKeys"]
    assert [k["note"] for k in keys] == ["automation"]
    assert ApiKey.objects.get(pk=keys[0]["id"]).last_used_at is not None


def test_project_roles_are_listed_set_and_removed(client, team, org_auth):
    url = f"/api/public/projects/{team.project.id}/memberships"
    before = {m["email"] for m in call(client, "GET", url, org_auth).json()["memberships"]}

    body = {"userId": str(team.viewer.pk), "role": "ADMIN"}
    response = call(client, "PUT", url, org_auth, body)
    assert response.json() == {
        "userId": str(team.viewer.pk),
        "role": "ADMIN",
        "email": team.viewer.email,
        "name": team.viewer.name,
    }
    assert team.project.memberships.get(user=team.viewer).role == Role.ADMIN
    listed = call(client, "GET", url, org_auth).json()["memberships"]
    assert (team.viewer.email, "ADMIN") in {(m["email"], m["role"]) for m in listed}
    assert {m["email"] for m in listed} == before | {team.viewer.email}
    assert AuditLog.objects.filter(resource_type="projectMembership", resource_id=team.viewer.email).exists()

    response = call(client, "DELETE", url, org_auth, {"userId": str(team.viewer.pk)})
    assert response.json() == {"message": "Membership deleted", "userId": str(team.viewer.pk)}
    assert not team.project.memberships.filter(user=team.viewer).exists()
    assert call(client, "DELETE", url, org_auth, {"userId": str(team.viewer.pk)}).status_code == 404


def test_project_roles_need_an_organisation_member_and_a_known_role(client, team, org_auth):
    url = f"/api/public/projects/{team.project.id}/memberships"
    response = call(client, "PUT", url, org_auth, {"userId": str(team.outsider.pk), "role": "MEMBER"})
    assert response.status_code == 400
    assert "invite them first" in response.json()["message"]
    response = call(client, "PUT", url, org_auth, {"userId": str(team.viewer.pk), "role": "ROOT"})
    assert response.status_code == 400
    assert not team.project.memberships.filter(user=team.viewer).exists()


def test_project_roles_of_another_organisation_are_not_found(client, team, org_auth):
    for project_id in (team.other_project.id, "no-such-project"):
        url = f"/api/public/projects/{project_id}/memberships"
        assert call(client, "GET", url, org_auth).status_code == 404
        body = {"userId": str(team.outsider.pk), "role": "VIEWER"}
        assert call(client, "PUT", url, org_auth, body).status_code == 404
    assert not team.other_project.memberships.exists()


def test_out_of_range_and_mistyped_values_are_refused_with_a_reason(client, team, org_auth):
    response = call(client, "POST", "/api/public/projects", org_auth, {"name": "huge", "retention": 10**30})
    assert response.status_code == 400
    assert "at most 36500 days" in response.json()["message"]
    assert not Project.objects.filter(name="huge").exists()

    url = f"/api/public/projects/{team.project.id}/apiKeys"
    response = call(client, "POST", url, org_auth, {"note": {"team": "ml"}})
    assert response.status_code == 400
    assert response.json()["message"] == "note must be a string"
    assert ApiKey.objects.filter(project=team.project).count() == 1

    nested = "[" * 100_000 + "]" * 100_000
    response = client.generic(
        "POST", "/api/public/projects", nested, content_type="application/json", HTTP_AUTHORIZATION=org_auth
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]
