from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, add_member, make_org, make_project, make_user
from traces.models import Trace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_person(email: str):
    """The tests hash with MD5 for speed; the server only knows the production hashers."""
    person = make_user(email)
    hasher = PBKDF2PasswordHasher()
    person.password = hasher.encode(PASSWORD, hasher.salt())
    person.save(update_fields=["password"])
    return person


def make_person_with_two_projects():
    org = make_org("Acme")
    production = make_project(org, "production")
    staging = make_project(org, "staging")
    production.created_at = staging.created_at - timedelta(days=1)
    production.save()
    person = make_person("ada@acme.test")
    add_member(org, person, Role.MEMBER)
    now = timezone.now()
    for i, name in enumerate(["chat-completion", "summarise-ticket", "rag-answer"]):
        Trace.objects.create(
            project=production,
            id=f"trace-{i}",
            name=name,
            user_id="user-42",
            session_id="session-7",
            timestamp=now - timedelta(minutes=i),
            start_time=now - timedelta(minutes=i, seconds=2),
            end_time=now - timedelta(minutes=i),
            total_tokens=120 * (i + 1),
            total_cost="0.00042",
            error_count=1 if i == 2 else 0,
        )
    return person, production, staging


def sign_in(page, email: str, password: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_person_signs_in_switches_project_sees_the_snippet_and_signs_out(page, live_server_process):
    person, production, staging = make_person_with_two_projects()

    page.goto("/auth/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "login")

    sign_in(page, person.email, PASSWORD)
    expect(page).to_have_url(f"{live_server_process.url}/project/{production.id}/traces")
    expect(page.get_by_role("heading", name="Traces")).to_be_visible()
    expect(page.locator("#trace-table tbody tr")).to_have_count(3)
    screenshot(page, "traces")

    page.locator("#project-switcher summary").click()
    expect(page.get_by_role("link", name="staging")).to_be_visible()
    screenshot(page, "switcher-open")
    page.get_by_role("link", name="staging").click()
    expect(page).to_have_url(f"{live_server_process.url}/project/{staging.id}/traces")
    expect(page.locator("#project-switcher summary")).to_contain_text("staging")
    expect(page.get_by_text("No traces yet")).to_be_visible()
    expect(page.locator("pre.snippet")).to_contain_text(f"LANGFUSE_HOST={live_server_process.url}")
    expect(page.locator("pre.snippet")).to_contain_text("LANGFUSE_PUBLIC_KEY=pk-lf-")
    screenshot(page, "traces-empty")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server_process.url}/auth/login/")
    page.goto(f"/project/{production.id}/traces")
    expect(page).to_have_url(re.compile(r"/auth/login/\?next="))


def test_wrong_password_shows_an_error(page):
    person = make_person("grace@acme.test")

    sign_in(page, person.email, "not-the-password")
    expect(page).to_have_url(re.compile(r"/auth/login/"))
    expect(page.locator(".alert.error")).to_contain_text("not correct")
    screenshot(page, "login-error")

    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    screenshot(page, "password-reset")
    page.get_by_role("link", name="Back to sign in").click()
    page.get_by_role("link", name="Create one").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    screenshot(page, "signup")


def test_refresh_swaps_the_table_through_htmx(page, live_server_process):
    person, production, _ = make_person_with_two_projects()
    sign_in(page, person.email, PASSWORD)
    expect(page.locator("#trace-table tbody tr")).to_have_count(3)
    Trace.objects.create(project=production, id="trace-new", name="fresh-trace")

    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as answer:
        page.get_by_role("link", name="Refresh").click()
    assert answer.value.status == 200
    expect(page.locator("#trace-table tbody tr")).to_have_count(4)
    expect(page.locator("#trace-table")).to_contain_text("fresh-trace")
    expect(page.locator("html")).to_have_count(1)
