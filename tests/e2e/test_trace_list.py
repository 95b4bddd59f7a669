from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import make_person, sign_in
from tests.factories import PASSWORD, add_member, make_org, make_project
from traces.models import Observation, Score, Trace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_admin_with_traces(count: int = 80):
    org = make_org("Acme")
    project = make_project(org, "production")
    person = make_person("lin@acme.test")
    add_member(org, person, Role.ADMIN)
    now = timezone.now()
    names = ["chat-completion", "summarise-ticket", "rag-answer", "classify"]
    traces = [
        Trace(
            project=project,
            id=f"trace-{i:03d}",
            name=names[i % 4],
            user_id=["ada", "bob", "cyd"][i % 3],
            session_id=f"session-{i // 4}",
            tags=["beta"] if i % 5 == 0 else [],
            timestamp=now - timedelta(minutes=i),
            start_time=now - timedelta(minutes=i, seconds=3),
            end_time=now - timedelta(minutes=i) + timedelta(seconds=i % 7),
            input=[{"role": "user", "content": f"Question {i}: what is the weather in Zürich?"}],
            output={"role": "assistant", "content": f"Answer {i}: sunny."},
            total_tokens=100 + i,
            input_tokens=60 + i,
            output_tokens=40,
            total_cost=Decimal("0.0001") * (i + 1),
            observation_count=2,
            error_count=1 if i % 9 == 0 else 0,
            warning_count=1 if i % 11 == 0 else 0,
        )
        for i in range(count)
    ]
    Trace.objects.bulk_create(traces)
    Observation.objects.bulk_create(
        Observation(
            project=project, id=f"obs-{t.id}", trace_id=t.id, type="GENERATION", provided_model_name="gpt-4o"
        )
        for t in traces
    )
    Score.objects.bulk_create(
        Score(project=project, id=f"score-{t.id}", trace_id=t.id, name="quality", value=(i % 5) / 4)
        for i, t in enumerate(traces)
    )
    return person, project


def shown_ids(page) -> list[str]:
    return page.locator("#trace-rows tr[data-trace-id]").evaluate_all(
        "rows => rows.map(row => row.dataset.traceId)"
    )


def test_filter_then_share_the_url_and_page_through(page, live_server_process):
    person, _ = make_admin_with_traces()
    sign_in(page, person.email, PASSWORD)
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(50)
    screenshot(page, "trace-list")

    page.get_by_role("textbox", name="Name", exact=True).fill("chat-completion")
    page.get_by_role("textbox", name="User", exact=True).fill("ada")
    page.get_by_role("textbox", name="User", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"name=chat-completion&user=ada$"))
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(7)  # i % 12 == 0 below 80
    filtered = shown_ids(page)
    screenshot(page, "trace-list-filtered")

    shared = page.context.new_page()  # same person, the URL pasted into a new tab
    shared.goto(page.url)
    expect(shared.locator("#trace-rows tr[data-trace-id]")).to_have_count(7)
    assert shown_ids(shared) == filtered
    assert shared.get_by_role("textbox", name="Name", exact=True).input_value() == "chat-completion"
    shared.close()

    page.get_by_role("link", name="Reset").click()
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(50)
    first_page = shown_ids(page)
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"after="))
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(30)
    second_page = shown_ids(page)
    assert not set(first_page) & set(second_page)
    assert sorted(first_page + second_page) == [f"trace-{i:03d}" for i in range(80)]
    screenshot(page, "trace-list-page-2")
    page.get_by_role("link", name="← Previous").click()
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(50)
    assert shown_ids(page) == first_page

    page.get_by_role("link", name=re.compile("^Total cost")).click()
    expect(page).to_have_url(re.compile(r"sort=cost"))
    expect(page.locator("#trace-rows tr[data-trace-id]").first).to_have_attribute(
        "data-trace-id", "trace-079"
    )
    expect(page.get_by_label("Sort by")).to_have_value("cost")

    page.get_by_label("Search input and output").fill("Zürich")
    page.get_by_label("Search input and output").press("Enter")
    expect(page).to_have_url(re.compile(r"q=Z%C3%BCrich"))
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(50)


def test_live_mode_prepends_new_traces(page, live_server_process):
    person, project = make_admin_with_traces(3)
    sign_in(page, person.email, PASSWORD)
    page.get_by_role("checkbox", name=re.compile("Live")).check()
    expect(page).to_have_url(re.compile(r"live=1"))
    expect(page.locator("#live-poller")).to_have_count(1)
    Trace.objects.create(project=project, id="brand-new", name="arrived-live", timestamp=timezone.now())
    expect(page.locator("#trace-rows tr[data-trace-id]").first).to_have_attribute(
        "data-trace-id", "brand-new", timeout=12_000
    )
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(4)
    screenshot(page, "trace-list-live")


def test_bulk_delete_by_filter_and_by_selection_with_confirmation(page, live_server_process):
    person, project = make_admin_with_traces()
    sign_in(page, person.email, PASSWORD)

    page.get_by_role("textbox", name="User", exact=True).fill("bob")
    page.get_by_role("textbox", name="User", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"user=bob"))
    page.get_by_role("link", name="Delete all matching this filter…").click()
    expect(page.get_by_role("heading", name="Delete traces")).to_be_visible()
    expect(page.locator("#delete-count")).to_have_text("27")
    screenshot(page, "trace-delete-confirm")
    page.get_by_role("button", name="Delete 27 traces").click()
    expect(page.locator("#delete-progress")).to_contain_text("Deleted 27 traces")
    screenshot(page, "trace-delete-done")
    assert Trace.objects.filter(project=project, user_id="bob").count() == 0
    assert (
        Observation.objects.filter(
            project=project, trace_id__in=[f"trace-{i:03d}" for i in range(1, 80, 3)]
        ).count()
        == 0
    )
    page.get_by_role("link", name="Back to the traces", exact=True).click()
    expect(page).to_have_url(re.compile(r"user=bob"))
    expect(page.get_by_text("No traces match")).to_be_visible()

    page.get_by_role("link", name="Reset").click()
    expect(page.locator("#trace-rows tr[data-trace-id]")).to_have_count(50)
    first_two = shown_ids(page)[:2]
    for trace_id in first_two:
        page.locator(f'tr[data-trace-id="{trace_id}"] input[type=checkbox]').check()
    page.get_by_role("button", name="Delete selected…").click()
    expect(page.locator("#delete-count")).to_have_text("2")
    page.get_by_role("button", name="Delete 2 traces").click()
    expect(page.locator("#delete-progress")).to_contain_text("Deleted 2 traces")
    assert not Trace.objects.filter(project=project, id__in=first_two).exists()
    assert Trace.objects.filter(project=project).count() == 80 - 27 - 2


def test_sessions_and_users_pages(page, live_server_process):
    person, _ = make_admin_with_traces(24)
    sign_in(page, person.email, PASSWORD)
    page.get_by_role("link", name="Sessions", exact=True).click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    expect(page.locator("#session-table tbody tr")).to_have_count(6)
    screenshot(page, "sessions")
    page.get_by_role("link", name="session-0", exact=True).click()
    expect(page.locator("article.turn")).to_have_count(4)
    expect(page.locator("article.turn").first).to_contain_text("Question 3: what is the weather in Zürich?")
    screenshot(page, "session-conversation")

    page.get_by_role("link", name="Users", exact=True).first.click()
    expect(page.locator("#user-table tbody tr")).to_have_count(3)
    screenshot(page, "users")
    page.get_by_role("link", name="ada", exact=True).click()
    expect(page.locator("#user-traces tbody tr")).to_have_count(8)
    screenshot(page, "user-detail")
