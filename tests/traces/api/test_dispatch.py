from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "traces"), ("POST", "observations"), ("DELETE", "v2/scores"), ("PATCH", "models/x")],
)
def test_unsupported_methods_are_405_json(api, method, path):
    response = api.request(method, path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert method in response.json()["message"]
    assert "GET" in response["Allow"]


def test_head_is_answered_like_get(api):
    assert api.request("HEAD", "traces").status_code == 200


def test_delete_needs_no_csrf_token(client, team):
    from django.test import Client

    from tests.traces.api.conftest import basic

    strict = Client(enforce_csrf_checks=True)
    response = strict.delete(
        "/api/public/traces/nope", HTTP_AUTHORIZATION=basic(team.public_key, team.secret_key)
    )
    assert response.status_code == 404
