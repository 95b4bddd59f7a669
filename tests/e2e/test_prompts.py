"""Prompt pages in a real browser: write a new version in the editor, promote it to production, view the diff;
follow a version's generations to a trace and compare two versions' metrics."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from prompts import versions
from prompts.models import Prompt
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, add_member, make_org, make_project, make_user
from traces.models import Observation, Score, Trace

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


def sign_in(page, person) -> None:
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/traces$"))


def test_admin_writes_a_version_promotes_it_and_compares_it(page, live_server_process):
    person, project = make_admin_with_a_prompt()
    sign_in(page, person)

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


def add_generations(project, version: int, count: int, latency: float, passes) -> None:
    """`count` traced generations of support/greeting `version`, each with a boolean `helpful` score."""
    start = timezone.now() - timedelta(hours=2)
    for i in range(count):
        key = f"v{version}-{i:02d}"
        begin = start + timedelta(minutes=i)
        Trace.objects.create(project=project, id=f"trace-{key}", name="support chat", timestamp=begin)
        Observation.objects.create(
            project=project,
            id=f"gen-{key}",
            trace_id=f"trace-{key}",
            type="GENERATION",
            name="greet",
            start_time=begin,
            end_time=begin + timedelta(seconds=latency + (i % 7) / 20),
            provided_model_name="gpt-4o-mini",
            usage_details={"input": 40, "output": 12, "total": 52},
            total_cost="0.000050",
            prompt_name="support/greeting",
            prompt_version=version,
        )
        Score.objects.create(
            project=project,
            id=f"score-{key}",
            trace_id=f"trace-{key}",
            observation_id=f"gen-{key}",
            name="helpful",
            data_type="BOOLEAN",
            value=1.0 if passes(i) else 0.0,
            string_value="True" if passes(i) else "False",
        )


def test_member_follows_a_generation_to_its_trace_and_compares_two_versions(page, live_server_process):
    person, project = make_admin_with_a_prompt()
    versions.create_version(project, "support/greeting", "text", "Hello {{name}}! What do you need?")
    add_generations(project, 1, 30, latency=1.2, passes=lambda i: i % 2 == 0)
    add_generations(project, 2, 30, latency=0.6, passes=lambda i: i % 10 != 0)
    versions.create_version(project, "support/greeting", "text", "Hey {{name}}, how can I help today?")
    sign_in(page, person)

    page.goto(f"/project/{project.id}/prompts/support/greeting?version=1")
    generations = page.locator("#prompt-generations")
    expect(generations).to_contain_text("Generations using v1")
    expect(generations.locator("tbody tr")).to_have_count(25)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        generations.get_by_role("link", name="Older →").click()
    expect(generations.locator("tbody tr")).to_have_count(5)
    expect(page).to_have_url(re.compile(r"version=1&after="))
    generations.locator('tr[data-observation="gen-v1-00"] a').click()
    expect(page).to_have_url(re.compile(r"/traces/trace-v1-00\?observation=gen-v1-00"))

    page.goto(f"/project/{project.id}/prompts/support/greeting")
    page.get_by_role("link", name="Compare metrics of two versions").click()
    expect(page.get_by_role("heading", name="Compare versions of support/greeting")).to_be_visible()
    expect(page.locator("#prompt-comparison h2")).to_have_text("v2 against v3")
    expect(page.locator("#prompt-comparison")).to_contain_text("Not enough data (n = 30 vs 0)")

    page.locator("#id_a").select_option("1")
    page.locator("#id_b").select_option("2")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as answer:
        page.get_by_role("button", name="Compare").click()
    assert answer.value.status == 200
    comparison = page.locator("#prompt-comparison")
    expect(comparison.locator("h2")).to_have_text("v1 against v2")
    expect(page).to_have_url(re.compile(r"a=1&b=2"))
    latency = comparison.locator('tr[data-metric="Latency"]')
    expect(latency).to_contain_text("significant")
    expect(latency).not_to_contain_text("not significant")
    expect(comparison.locator('li[data-metric="Latency"]')).to_contain_text(
        "Version 2 is 600 ms (44.4%) faster at the median than version 1; the difference is significant (p < 0.001"
    )
    expect(comparison.locator('li[data-metric="Cost"]')).to_contain_text("have the same average cost")
    expect(comparison.locator('tr[data-metric="helpful"]')).to_contain_text("+40.0 pp")
    expect(comparison.locator('li[data-metric="helpful"]')).to_contain_text(
        "Version 2 passes helpful 40.0 percentage points more often than version 1; the difference is significant"
    )
    screenshot(page, "prompt-compare")
