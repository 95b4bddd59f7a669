from __future__ import annotations

import base64

import pytest
from django.db import connection

from accounts import api_keys
from accounts.models import ApiKey
from tests.factories import make_key, make_project

pytestmark = pytest.mark.django_db


def basic(public: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()


def get_projects(client, header: str | None):
    headers = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    return client.get("/api/public/projects", **headers)


def test_projects_returns_the_shape_the_sdks_parse(client, team):
    response = get_projects(client, basic(team.public_key, team.secret_key))
    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "id": team.project.id,
                "name": "production",
                "organization": {"id": team.org.id, "name": "Acme"},
                "metadata": {},
                "retentionDays": None,
            }
        ]
    }


def test_key_sees_only_its_own_project(client, team):
    public, secret = make_key(team.other_project)
    data = get_projects(client, basic(public, secret)).json()["data"]
    assert [p["id"] for p in data] == [team.other_project.id]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic",
        "Basic not-base64!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe").decode(),
        "Digest abc",
        "Bearer pk-lf-whatever",
    ],
)
def test_malformed_or_missing_header_is_401_json(client, team, header):
    response = get_projects(client, header)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"]


def test_wrong_secret_is_401(client, team):
    response = get_projects(client, basic(team.public_key, "sk-lf-wrong"))
    assert response.status_code == 401
    assert "Invalid credentials" in response.json()["message"]


def test_unknown_public_key_is_401(client, team):
    assert get_projects(client, basic("pk-lf-unknown", team.secret_key)).status_code == 401


def test_revoked_key_is_401_at_once(client, team):
    key = ApiKey.objects.get(public_key=team.public_key)
    assert get_projects(client, basic(team.public_key, team.secret_key)).status_code == 200
    api_keys.revoke_api_key(key)
    assert get_projects(client, basic(team.public_key, team.secret_key)).status_code == 401


def test_expired_key_is_401(client, team):
    from datetime import timedelta

    from django.utils import timezone

    ApiKey.objects.filter(public_key=team.public_key).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert get_projects(client, basic(team.public_key, team.secret_key)).status_code == 401


def test_use_updates_last_used(client, team):
    assert ApiKey.objects.get(public_key=team.public_key).last_used_at is None
    get_projects(client, basic(team.public_key, team.secret_key))
    assert ApiKey.objects.get(public_key=team.public_key).last_used_at is not None


def test_no_row_holds_a_secret_in_plain_text(team):
    project = make_project()
    secrets = [team.secret_key, make_key(project)[1]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(k)::text FROM accounts_apikey k")
        rows = " ".join(row[0] for row in cursor.fetchall())
    for secret in secrets:
        assert secret not in rows
        assert secret[6:] not in rows  # not even without the sk-lf- prefix
        assert api_keys.hash_secret(secret) in rows


def test_hash_depends_on_salt(settings):
    first = api_keys.hash_secret("sk-lf-x")
    settings.SALT = "another-salt"
    assert api_keys.hash_secret("sk-lf-x") != first


def test_organization_key_is_refused_on_project_routes(client, team):
    key, secret = api_keys.create_api_key(organization=team.org)
    response = get_projects(client, basic(key.public_key, secret))
    assert response.status_code == 403
    assert "project API key" in response.json()["message"]
