from __future__ import annotations

import re

import pytest
from django.test import override_settings

from accounts.models import ProjectMembership, Role
from tests.factories import PASSWORD, add_member, make_org, make_project, make_user

pytestmark = pytest.mark.django_db


def test_home_redirects_anonymous_visitors_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")


def test_home_sends_a_member_to_the_traces_of_their_first_project(client, team):
    client.force_login(team.member)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/project/{team.project.id}/traces"


def test_home_skips_projects_hidden_by_a_project_override(client, team):
    later = make_project(team.org, "staging")
    ProjectMembership.objects.create(project=team.project, user=team.member, role=Role.NONE)
    client.force_login(team.member)
    response = client.get("/")
    assert response["Location"] == f"/project/{later.id}/traces"


def test_home_explains_when_the_user_has_no_projects(client):
    client.force_login(make_user())
    response = client.get("/")
    assert response.status_code == 200
    assert b"No projects yet" in response.content


def test_login_page_renders_email_and_password_fields_without_inline_scripts(client):
    response = client.get("/auth/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="login"' in html
    assert 'type="password"' in html
    assert 'href="/auth/password/reset/"' in html
    # Scripts only from files, so a strict Content-Security-Policy can follow.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_login_with_email_and_password_signs_in(client, team):
    response = client.post("/auth/login/", {"login": team.viewer.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == f"/project/{team.project.id}/traces"


def test_login_with_a_wrong_password_shows_an_error(client, team):
    response = client.post("/auth/login/", {"login": team.viewer.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert b'class="alert error"' in response.content
    assert b"not correct" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_returns_to_login(client, team):
    client.force_login(team.member)
    response = client.post("/auth/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/"
    assert "_auth_user_id" not in client.session


def test_signup_page_is_open_by_default_and_creates_an_account(client):
    assert b'href="/auth/signup/"' in client.get("/auth/login/").content
    response = client.post(
        "/auth/signup/",
        {"email": "new@example.com", "password1": "a-long-new-password", "password2": "a-long-new-password"},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # signed in, no projects yet


@override_settings(ACCOUNT_ALLOW_REGISTRATION=False)
def test_signup_is_closed_when_registration_is_disabled(client):
    response = client.get("/auth/signup/")
    assert b"Sign-up is closed" in response.content
    assert b'name="password1"' not in response.content
    response = client.post(
        "/auth/signup/",
        {"email": "new@example.com", "password1": "a-long-new-password", "password2": "a-long-new-password"},
    )
    assert b"Sign-up is closed" in response.content
    assert b'href="/auth/signup/"' not in client.get("/auth/login/").content


def test_password_reset_page_uses_the_site_layout(client):
    response = client.get("/auth/password/reset/")
    assert response.status_code == 200
    assert b'class="entrance"' in response.content
    assert b'name="email"' in response.content


def test_switcher_lists_only_projects_the_user_can_see(client, team):
    staging = make_project(team.org, "staging")
    hidden = make_project(team.org, "secret")
    ProjectMembership.objects.create(project=hidden, user=team.member, role=Role.NONE)
    partner = make_org("Partner")
    add_member(partner, team.member, Role.VIEWER)
    shared = make_project(partner, "shared")
    client.force_login(team.member)

    html = client.get(f"/project/{team.project.id}/traces").content.decode()
    switcher = html[html.index('id="project-switcher"') : html.index("</details>")]
    for visible in (team.project, staging, shared):
        assert f'href="/project/{visible.id}/traces"' in switcher
    assert hidden.id not in switcher
    assert team.other_project.id not in switcher
    assert "Partner" in switcher and "Acme" in switcher
    assert f'href="/project/{team.project.id}/traces" aria-current="page"' in switcher


def test_project_override_can_grant_a_project_outside_the_users_organisations(client, team):
    ProjectMembership.objects.create(project=team.project, user=team.outsider, role=Role.VIEWER)
    client.force_login(team.outsider)
    html = client.get(f"/project/{team.other_project.id}/traces").content.decode()
    assert f'href="/project/{team.project.id}/traces"' in html


def test_layout_has_a_post_sign_out_button(client, team):
    client.force_login(team.member)
    html = client.get(f"/project/{team.project.id}/traces").content.decode()
    assert re.search(r'<form method="post" action="/auth/logout/">.*?Sign out</button>', html, re.S)
