"""Prompt pages in a real browser: write a new version in the editor, promote it to production, view the diff."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect

from accounts.models import Role
from prompts import versions
from prompts.models import Prompt
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, add_member, make_org, make_project, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_admin_with_a_prompt():
    org = make_org("Acme")
    project = make_project(org, "production")
    person = make_user("lin@acme.test")
    hasher = PBKDF2PasswordHasher()  # the server only knows the production hashers
    person.password = hasher.encode(PASSWORD, hasher.salt())
    person.save(update_fields=["password"])
    add_member(org, person, Role.ADMIN)
    versions.create_version(
        project,
        "support/greeting",
        "text",
        "Hi {{name}}.\nHow can I help?",
        {"temperature": 0.2},
        ["production"],
        None,
        "first draft",
    )
    versions.create_version(project, "summarise", "chat", [{"role": "user", "content": "Summarise {{text}}"}])
    return person, project


def test_admin_writes_a_version_promotes_it_and_compares_it(page, live_server_process):
    person, project = make_admin_with_a_prompt()
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/traces$"))

    page.goto(f"/project/{project.id}/prompts")
    expect(page.locator('tbody[data-folder="support"]')).to_contain_text("greeting")
    screenshot(page, "prompts-list")
    page.get_by_role("link", name="support/greeting").click()
    expect(page.get_by_role("heading", name="support/greeting")).to_be_visible()
    expect(page.locator("#prompt-variables")).to_contain_text("name")

    editor = page.locator("#version-editor")
    editor.get_by_label("Prompt text").fill("Hi {{name}}.\nWelcome to {{place}}!\nHow can I help?")
    editor.get_by_label("Config (JSON)").fill('{"temperature": 0.7}')
    editor.get_by_label("Commit message").fill("warmer welcome")
    screenshot(page, "prompt-editor")
    editor.get_by_role("button", name="Save new version").click()
    expect(page).to_have_url(re.compile(r"\?version=2$"))
    expect(page.locator(".messages")).to_contain_text("Saved version 2")
    expect(page.locator("#prompt-variables")).to_contain_text("place")
    expect(page.locator('#prompt-versions tr[data-version="2"]')).to_contain_text("warmer welcome")

    page.get_by_role("button", name="Promote to production").click()
    expect(page.locator(".messages")).to_contain_text("Moved production to version 2")
    expect(page.locator('#prompt-versions tr[data-version="2"]')).to_contain_text("production")
    expect(page.locator('#prompt-versions tr[data-version="1"]')).not_to_contain_text("production")
    assert "production" in Prompt.objects.get(project=project, name="support/greeting", version=2).labels
    screenshot(page, "prompt-promoted")

    page.locator("#id_base").select_option("1")
    page.locator("#id_compare").select_option("2")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as answer:
        page.get_by_role("button", name="Show diff").click()
    assert answer.value.status == 200
    expect(page.locator("#prompt-diff .diff-add").first).to_contain_text("Welcome to {{place}}!")
    expect(page.locator("#prompt-diff")).to_contain_text('"temperature": 0.7')
    expect(page).to_have_url(re.compile(r"base=1&compare=2"))
    screenshot(page, "prompt-diff")
