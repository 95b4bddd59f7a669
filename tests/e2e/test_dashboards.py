"""The dashboard in a real browser: charts drawn by plotly.js from the server's numbers, a range
change through htmx, and a click on a bar that opens the traces list filtered to it."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect

from accounts.models import Role
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, add_member, make_org, make_project, make_user
from tests.traces.dashboard_data import WINDOW, make_dashboard_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_viewer_with_data():
    org = make_org("Acme")
    project = make_project(org, "production")
    person = make_user("vic@acme.test")
    hasher = PBKDF2PasswordHasher()  # the server only knows the production hashers
    person.password = hasher.encode(PASSWORD, hasher.salt())
    person.save(update_fields=["password"])
    add_member(org, person, Role.VIEWER)
    make_dashboard_data(project)
    return person, project


def sign_in(page, person) -> None:
    page.goto("/auth/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/traces$"))


def test_viewer_reads_the_dashboard_narrows_the_range_and_clicks_through(page, live_server_process):
    person, project = make_viewer_with_data()
    sign_in(page, person)
    page.get_by_role("link", name="Dashboards").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()

    page.goto(f"/project/{project.id}/dashboards?{WINDOW}")
    expect(page.locator('[data-total="cost"] .value')).to_have_text("$2.375000")
    expect(page.locator('#chart-cost-by-model .plot[data-ready="true"]')).to_be_visible()
    expect(page.locator("#chart-cost-by-model .plot .legend")).to_contain_text("gpt-4o")
    expect(page.locator('#chart-cost-by-team .plot[data-ready="true"]')).to_be_visible()
    screenshot(page, "dashboard-window")

    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as answer:
        page.locator("#id_until").fill("2026-01-11T00:00:00")
        page.locator("#id_until").dispatch_event("change")
    assert answer.value.status == 200
    expect(page.locator('[data-total="cost"] .value')).to_have_text("$1.250000")
    expect(page).to_have_url(re.compile(r"until=2026-01-11T00%3A00%3A00"))
    expect(page.locator('#chart-cost-by-team .plot[data-ready="true"]')).to_be_visible()
    screenshot(page, "dashboard-narrowed")

    # The pointer goes where a person's would: Plotly's drag layer lies over the bars.
    bar = page.locator("#chart-cost-by-team .plot .bars .point").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#chart-cost-by-team .hoverlayer")).to_contain_text("$1.250000")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(r"/traces\?.*meta_key=team&meta_value=search"))
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(2)
    screenshot(page, "dashboard-click-through")

    page.go_back()
    page.locator("#chart-latency-by-model summary").click()
    page.locator('#chart-latency-by-model table a:text-is("claude")').click()
    expect(page).to_have_url(re.compile(r"/traces\?.*model=claude"))
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(1)
