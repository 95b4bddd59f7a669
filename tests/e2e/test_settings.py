"""Browser test of the settings pages: create an API key and see its secret once, revoke it,
invite a member."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from accounts.models import MembershipInvitation, Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import make_person, sign_in
from tests.factories import PASSWORD, add_member, make_org, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_key_sees_the_secret_once_revokes_it_and_invites_a_member(page, live_server_process):
    org = make_org("Acme")
    project = make_project(org, "production")
    admin = make_person("ada@acme.test")
    add_member(org, admin, Role.OWNER)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server_process.url)
    sign_in(page, admin.email, PASSWORD)
    expect(page).to_have_url(re.compile(rf"/project/{project.id}/traces"))

    page.get_by_role("navigation", name="Project").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="General")).to_be_visible()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    screenshot(page, "settings-api-keys-empty")

    page.get_by_label("Note").fill("checkout service")
    page.get_by_role("button", name="Create API key").click()
    secret_box = page.locator("#new-secret-key")
    expect(secret_box).to_have_value(re.compile(r"^sk-lf-"))
    secret = secret_box.input_value()
    public = page.locator("#new-public-key").input_value()
    expect(page.locator("#new-key-snippet")).to_contain_text(f'LANGFUSE_SECRET_KEY="{secret}"')
    expect(page.locator("#new-key-snippet")).to_contain_text(f'LANGFUSE_HOST="{live_server_process.url}"')
    page.locator('[data-copy="new-secret-key"]').click()
    expect(page.locator('[data-copy="new-secret-key"]')).to_have_attribute("data-copied", "true")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "settings-api-key-created")

    projects_api = f"{live_server_process.url}/api/public/projects"
    assert requests.get(projects_api, auth=(public, secret), timeout=10).status_code == 200

    page.reload()
    expect(page.locator("#api-key-table")).to_contain_text(public)
    expect(page.locator("#api-key-table")).to_contain_text("checkout service")
    assert secret not in page.content()
    expect(page.locator("#new-secret-key")).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Revoke {public}").click()
    expect(page.locator(".messages")).to_contain_text("revoked")
    expect(page.locator("#api-key-table")).not_to_contain_text(public)
    assert requests.get(projects_api, auth=(public, secret), timeout=10).status_code == 401
    screenshot(page, "settings-api-key-revoked")

    page.get_by_role("link", name="Organisation settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Members").click()
    page.get_by_label("Email").fill("grace@acme.test")
    page.get_by_label("Organisation role").select_option("VIEWER")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to grace@acme.test")
    expect(page.locator("#invitation-table")).to_contain_text("grace@acme.test")
    screenshot(page, "settings-members-invited")
    invitation = MembershipInvitation.objects.get(organization=org)
    assert (invitation.email, invitation.org_role) == ("grace@acme.test", Role.VIEWER)
