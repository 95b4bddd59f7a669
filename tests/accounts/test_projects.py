"""Organisations and projects: create, rename, delete with typed confirmation."""

from __future__ import annotations

import pytest

from accounts.models import (
    ApiKey,
    AuditLog,
    Organization,
    OrganizationMembership,
    Project,
    ProjectMembership,
    Role,
)
from prompts.models import Prompt
from tests.factories import make_key, make_user
from traces.models import Comment, Media, MediaReference, Observation, Score, Trace

pytestmark = pytest.mark.django_db


def test_any_signed_in_user_creates_an_organisation_and_becomes_its_owner(client):
    person = make_user()
    client.force_login(person)
    response = client.post("/organizations/new", {"name": "Initech"})
    org = Organization.objects.get(name="Initech")
    assert response["Location"] == f"/organization/{org.id}/projects/new"
    assert OrganizationMembership.objects.get(organization=org, user=person).role == Role.OWNER
    entry = AuditLog.objects.get(resource_type="organization", action="create")
    assert (entry.organization_id, entry.user_email) == (org.id, person.email)


def test_home_offers_to_create_an_organisation_when_the_user_has_no_project(client):
    client.force_login(make_user())
    assert b'href="/organizations/new"' in client.get("/").content


def test_an_admin_creates_projects_per_environment(client, team):
    client.force_login(team.admin)
    for name in ("staging", "dev"):
        response = client.post(f"/organization/{team.org.id}/projects/new", {"name": name})
        project = Project.objects.get(organization=team.org, name=name)
        assert response["Location"] == f"/project/{project.id}/settings/api-keys"
    page = client.get(f"/organization/{team.org.id}/settings").content.decode()
    assert all(name in page for name in ("production", "staging", "dev"))
    assert AuditLog.objects.filter(resource_type="project", action="create").count() == 2


def test_a_duplicate_project_name_is_refused_with_a_message(client, team):
    client.force_login(team.admin)
    response = client.post(f"/organization/{team.org.id}/projects/new", {"name": "production"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Project.objects.filter(organization=team.org, name="production").count() == 1


def test_a_member_cannot_create_projects(client, team):
    client.force_login(team.member)
    assert client.post(f"/organization/{team.org.id}/projects/new", {"name": "x"}).status_code == 403


def test_an_admin_renames_the_project_and_the_audit_log_keeps_both_names(client, team):
    client.force_login(team.admin)
    response = client.post(f"/project/{team.project.id}/settings/rename", {"name": "prod"})
    assert response.status_code == 302
    team.project.refresh_from_db()
    assert team.project.name == "prod"
    entry = AuditLog.objects.get(resource_type="project", action="rename")
    assert (entry.before, entry.after) == ({"name": "production"}, {"name": "prod"})


def test_rename_through_htmx_answers_with_the_partial(client, team):
    client.force_login(team.admin)
    response = client.post(
        f"/project/{team.project.id}/settings/rename",
        {"name": "prod"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="project-name",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="project-name"' in html
    assert 'value="prod"' in html


def test_an_admin_renames_the_organisation(client, team):
    client.force_login(team.admin)
    client.post(f"/organization/{team.org.id}/settings/rename", {"name": "Acme Corp"})
    team.org.refresh_from_db()
    assert team.org.name == "Acme Corp"


def fill_project(project):
    Trace.objects.create(project=project, id="t1")
    Observation.objects.create(project=project, id="o1", trace_id="t1")
    Score.objects.create(project=project, id="s1", trace_id="t1", name="quality", value=1)
    Comment.objects.create(project=project, id="c1", object_type="TRACE", object_id="t1", content="hi")
    Media.objects.create(
        project=project,
        id="m1",
        sha256_hash="a" * 44,
        content_type="image/png",
        content_length=1,
        bucket_path="x",
    )
    MediaReference.objects.create(project=project, media_id="m1", trace_id="t1", field="input")
    Prompt.objects.create(project=project, name="greeting", version=1, prompt="Hello")


DATA_MODELS = [Trace, Observation, Score, Comment, Media, MediaReference, Prompt]


def test_the_owner_deletes_a_project_and_all_its_rows_at_once(client, team):
    fill_project(team.project)
    fill_project(team.other_project)
    ProjectMembership.objects.create(project=team.project, user=team.viewer, role=Role.MEMBER)
    client.force_login(team.owner)
    response = client.post(f"/project/{team.project.id}/settings/delete", {"confirm": "production"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Project.objects.filter(pk=team.project.id).exists()
    for model in DATA_MODELS:
        assert not model.objects.filter(project_id=team.project.id).exists(), model.__name__
        assert model.objects.filter(project_id=team.other_project.id).exists(), model.__name__
    assert not ApiKey.objects.filter(project_id=team.project.id).exists()
    assert not ProjectMembership.objects.filter(project_id=team.project.id).exists()
    entry = AuditLog.objects.get(resource_type="project", action="delete")
    assert entry.resource_id == team.project.id
    assert entry.organization_id == team.org.id
    assert entry.before["name"] == "production"
    assert entry.before["rows"]["traces"] == 1


def test_deleting_in_small_batches_still_deletes_everything(client, team, monkeypatch):
    from accounts import projects

    monkeypatch.setattr(projects, "DELETE_BATCH_SIZE", 2)
    Trace.objects.bulk_create([Trace(project=team.project, id=f"t{i}") for i in range(7)])
    counts = projects.delete_project(team.project, team.owner)
    assert counts["traces"] == 7
    assert not Trace.objects.filter(project_id=team.project.id).exists()


def test_a_wrong_confirmation_deletes_nothing(client, team):
    fill_project(team.project)
    client.force_login(team.owner)
    response = client.post(f"/project/{team.project.id}/settings/delete", {"confirm": "Production"})
    assert response.status_code == 400
    assert "exactly" in response.content.decode()
    assert Trace.objects.filter(project=team.project).exists()


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_only_owners_delete_projects(client, team, role):
    client.force_login(getattr(team, role))
    response = client.post(f"/project/{team.project.id}/settings/delete", {"confirm": "production"})
    assert response.status_code == 403
    assert Project.objects.filter(pk=team.project.id).exists()


def test_a_deleted_projects_keys_stop_working(client, team):
    public, secret = make_key(team.project)
    from tests.accounts.test_api_auth import basic

    assert client.get("/api/public/projects", HTTP_AUTHORIZATION=basic(public, secret)).status_code == 200
    client.force_login(team.owner)
    client.post(f"/project/{team.project.id}/settings/delete", {"confirm": "production"})
    assert client.get("/api/public/projects", HTTP_AUTHORIZATION=basic(public, secret)).status_code == 401


def test_viewers_see_general_settings_without_the_rename_or_delete_forms(client, team):
    client.force_login(team.viewer)
    html = client.get(f"/project/{team.project.id}/settings").content.decode()
    assert team.project.id in html
    assert "/settings/rename" not in html
    assert "/settings/delete" not in html
    # Only pages the viewer may open are linked.
    assert f"/project/{team.project.id}/settings/api-keys" not in html
    assert f"/project/{team.project.id}/settings/audit-log" not in html


def test_owners_see_every_settings_page_linked(client, team):
    client.force_login(team.owner)
    html = client.get(f"/project/{team.project.id}/settings").content.decode()
    for page in ("api-keys", "members", "audit-log"):
        assert f'href="/project/{team.project.id}/settings/{page}"' in html
    assert "Type <strong>production</strong> to confirm" in html
