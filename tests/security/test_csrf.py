"""Every state change in the UI needs the CSRF token; the key-authenticated public API is exempt.

Walks the whole URLconf with the tables of tests/accounts/test_permission_matrix.py, as an owner
(the role allowed to do the most), with a client that enforces CSRF checks like a browser does.
"""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tests.accounts.test_permission_matrix import (
    API_KEY_ROUTES,
    AUTH_FLOWS,
    OWNER,
    PAGES,
    POST_DATA,
    make_world,
    url_of,
)

pytestmark = pytest.mark.django_db

UI_URLS = sorted(set(PAGES) | AUTH_FLOWS)
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def csrf_client(world, signed_in: bool = True) -> Client:
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(world.team.owner)
    return client


@pytest.mark.parametrize("name", UI_URLS)
def test_ui_state_changes_without_a_token_get_403(name):
    world = make_world()
    url = url_of(name, world)
    client = csrf_client(world)
    for method in UNSAFE_METHODS:
        response = client.generic(method, url, "", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 403, f"{method} {url} without a CSRF token: {response.status_code}"
        assert b"CSRF" in response.content, f"{method} {url}: 403 for another reason than CSRF"


@pytest.mark.parametrize("name", sorted(n for n, (_, post) in PAGES.items() if post is not None))
def test_the_same_post_with_the_token_passes_the_check(name):
    """The check is what refuses the requests above: with the token the owner gets through."""
    world = make_world()
    url = url_of(name, world)
    client = csrf_client(world)
    client.get(f"/project/{world.team.project.id}/traces")  # renders a form: sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    data = POST_DATA.get(name, lambda w: {})(world)
    response = client.post(url, data, HTTP_X_CSRFTOKEN=token)
    assert response.status_code != 403, f"POST {url} as {OWNER} with the token: 403"


def test_sign_in_without_a_token_is_refused():
    response = Client(enforce_csrf_checks=True).post(
        "/auth/login/", {"login": "ada@acme.test", "password": "whatever-it-is"}
    )
    assert response.status_code == 403


# Health and readiness probes only read; a POST there meets the CSRF check like any other page.
EXEMPT = API_KEY_ROUTES | {"api:media-upload"}


@pytest.mark.parametrize("name", sorted(EXEMPT))
def test_the_public_api_is_exempt_by_design(name):
    """Browsers never hold an API key (and upload URLs carry a signed token), so a forged
    cross-site request has no credential to ride on."""
    world = make_world()
    url = url_of(name, world)
    client = csrf_client(world)
    for method in UNSAFE_METHODS:
        response = client.generic(method, url, b"{}", content_type="application/json")
        assert response.status_code != 403 or b"CSRF" not in response.content, f"{method} {url}"


def test_ingestion_with_a_key_needs_no_token():
    world = make_world()
    token = base64.b64encode(f"{world.team.public_key}:{world.team.secret_key}".encode()).decode()
    response = Client(enforce_csrf_checks=True).post(
        "/api/public/ingestion",
        {
            "batch": [
                {
                    "id": "e1",
                    "type": "trace-create",
                    "timestamp": "2026-01-01T00:00:00Z",
                    "body": {"id": "t1"},
                }
            ]
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )
    assert response.status_code == 207
    assert response.json()["successes"] == [{"id": "e1", "status": 201}]
