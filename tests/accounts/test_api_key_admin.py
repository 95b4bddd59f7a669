"""The API key admin panel: create (secret shown once), list, revoke, rotate with a grace period."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey, AuditLog
from tests.accounts.test_api_auth import basic

pytestmark = pytest.mark.django_db


def keys_url(team) -> str:
    return f"/project/{team.project.id}/settings/api-keys"


def create(client, team, note="checkout service", htmx=False):
    client.force_login(team.admin)
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "api-keys"} if htmx else {}
    return client.post(keys_url(team), {"note": note}, **headers)


def secret_in(html: str) -> str:
    return re.search(r'id="new-secret-key"[^>]*value="(sk-lf-[^"]+)"', html).group(1)


def auth_status(client, key: ApiKey, secret: str) -> int:
    return client.get("/api/public/projects", HTTP_AUTHORIZATION=basic(key.public_key, secret)).status_code


def test_creating_a_key_shows_the_secret_once_with_the_sdk_snippet(client, team):
    response = create(client, team)
    html = response.content.decode()
    secret = secret_in(html)
    key = ApiKey.objects.get(note="checkout service")
    assert key.created_by == team.admin
    assert 'LANGFUSE_HOST="http://testserver"' in html
    assert f'LANGFUSE_PUBLIC_KEY="{key.public_key}"' in html
    assert f'LANGFUSE_SECRET_KEY="{secret}"' in html
    assert 'data-copy="new-secret-key"' in html
    assert "/static/js/copy.js" in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no inline script
    assert auth_status(client, key, secret) == 200
    again = client.get(keys_url(team)).content.decode()
    assert secret not in again
    assert key.display_secret_key in again
    assert key.public_key in again


def test_the_htmx_create_answers_with_the_keys_partial(client, team):
    html = create(client, team, htmx=True).content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="api-keys">')
    assert secret_in(html).startswith("sk-lf-")


def test_the_list_shows_creator_note_and_last_use(client, team):
    key_of_team = ApiKey.objects.get(public_key=team.public_key)
    client.get("/api/public/projects", HTTP_AUTHORIZATION=basic(team.public_key, team.secret_key))
    key_of_team.refresh_from_db()
    assert key_of_team.last_used_at is not None
    create(client, team)
    html = client.get(keys_url(team)).content.decode()
    row = re.search(rf'<tr id="key-{key_of_team.id}">.*?</tr>', html, re.S).group(0)
    assert "never" not in row
    assert key_of_team.last_used_at.strftime("%Y-%m-%d %H:%M") in row
    new_key = ApiKey.objects.get(note="checkout service")
    new_row = re.search(rf'<tr id="key-{new_key.id}">.*?</tr>', html, re.S).group(0)
    assert "checkout service" in new_row
    assert team.admin.email in new_row
    assert "never" in new_row


def test_a_revoked_key_gets_401_at_once(client, team):
    key = ApiKey.objects.get(public_key=team.public_key)
    assert auth_status(client, key, team.secret_key) == 200
    client.force_login(team.admin)
    response = client.post(f"{keys_url(team)}/{key.id}/revoke")
    assert response.status_code == 302
    assert auth_status(client, key, team.secret_key) == 401
    assert f'id="key-{key.id}"' not in client.get(keys_url(team)).content.decode()
    entry = AuditLog.objects.get(resource_type="apiKey", action="revoke")
    assert entry.resource_id == key.id
    assert entry.before["publicKey"] == key.public_key
    assert team.secret_key not in str(entry.before)


def test_rotating_with_a_grace_period_keeps_the_old_key_until_it_expires(client, team):
    old = ApiKey.objects.get(public_key=team.public_key)
    client.force_login(team.admin)
    html = client.post(f"{keys_url(team)}/{old.id}/rotate", {"grace": "1h"}).content.decode()
    new_secret = secret_in(html)
    new = ApiKey.objects.exclude(pk=old.pk).get(project=team.project)
    old.refresh_from_db()
    assert old.revoked_at is None
    assert timedelta(minutes=59) < old.expires_at - timezone.now() <= timedelta(hours=1)
    assert auth_status(client, old, team.secret_key) == 200
    assert auth_status(client, new, new_secret) == 200
    ApiKey.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert auth_status(client, old, team.secret_key) == 401
    entry = AuditLog.objects.get(action="rotate")
    assert entry.after["replacedBy"] == new.id
    assert entry.after["grace"] == "1h"


def test_rotating_now_revokes_the_old_key_immediately(client, team):
    old = ApiKey.objects.get(public_key=team.public_key)
    client.force_login(team.admin)
    client.post(f"{keys_url(team)}/{old.id}/rotate", {"grace": "now"})
    assert auth_status(client, old, team.secret_key) == 401


def test_an_unknown_grace_period_is_refused(client, team):
    old = ApiKey.objects.get(public_key=team.public_key)
    client.force_login(team.admin)
    client.post(f"{keys_url(team)}/{old.id}/rotate", {"grace": "forever"})
    assert ApiKey.objects.filter(project=team.project).count() == 1


def test_keys_of_another_project_answer_404(client, team):
    from tests.factories import make_key

    public, _ = make_key(team.other_project)
    other = ApiKey.objects.get(public_key=public)
    client.force_login(team.admin)
    assert client.post(f"{keys_url(team)}/{other.id}/revoke").status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_see_or_create_keys(client, team, role):
    client.force_login(getattr(team, role))
    assert client.get(keys_url(team)).status_code == 403
    assert client.post(keys_url(team), {"note": "x"}).status_code == 403
    assert ApiKey.objects.filter(project=team.project).count() == 1


def test_owners_create_organisation_keys_and_see_the_secret_once(client, team):
    client.force_login(team.owner)
    url = f"/organization/{team.org.id}/api-keys"
    html = client.post(url, {"note": "terraform"}).content.decode()
    secret = secret_in(html)
    key = ApiKey.objects.get(organization=team.org)
    assert "/api/public/organizations/projects" in html
    response = client.get(
        "/api/public/organizations/projects", HTTP_AUTHORIZATION=basic(key.public_key, secret)
    )
    assert response.status_code == 200
    assert secret not in client.get(url).content.decode()
    client.post(f"{url}/{key.id}/revoke")
    response = client.get(
        "/api/public/organizations/projects", HTTP_AUTHORIZATION=basic(key.public_key, secret)
    )
    assert response.status_code == 401


def test_admins_cannot_manage_organisation_keys(client, team):
    client.force_login(team.admin)
    assert client.get(f"/organization/{team.org.id}/api-keys").status_code == 403
