"""The trace page in a real browser: tree, selection by URL, timeline, annotation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import make_person, sign_in
from tests.factories import PASSWORD, add_member, make_org, make_project
from tests.traces.api.factories import at, make_generation, make_observation, make_score_config, make_trace
from traces.models import Comment, Score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGES = [
    {"role": "system", "content": "You answer questions about the weather. Be brief."},
    {"role": "user", "content": "Should I take an umbrella in Paris today?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_42",
                "type": "function",
                "function": {"name": "get_forecast", "arguments": '{"city": "Paris", "days": 1}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_42", "content": '{"rain_probability": 0.8, "summary": "showers"}'},
]


def make_weather_trace(project):
    trace = make_trace(
        project,
        "trace-umbrella",
        name="umbrella-advice",
        user_id="user-42",
        session_id="session-7",
        tags=["prod"],
        release="2024.05",
        input={"question": "Should I take an umbrella in Paris today?"},
        output="Yes, take an umbrella: showers are likely.",
    )
    make_observation(trace, "span-agent", name="agent", type="AGENT", start_time=at(0), end_time=at(3.2))
    make_generation(
        trace,
        "gen-plan",
        name="plan",
        parent_observation_id="span-agent",
        start_time=at(0.1),
        end_time=at(1.3),
        completion_start_time=at(0.45),
        input=MESSAGES[:2],
        output=MESSAGES[2],
        model_parameters={"temperature": 0},
    )
    make_observation(
        trace,
        "tool-forecast",
        name="get_forecast",
        type="TOOL",
        parent_observation_id="span-agent",
        start_time=at(1.35),
        end_time=at(2.1),
        input={"city": "Paris", "days": 1},
        output={"rain_probability": 0.8, "summary": "showers"},
    )
    make_generation(
        trace,
        "gen-answer",
        name="answer",
        parent_observation_id="span-agent",
        start_time=at(2.15),
        end_time=at(3.1),
        completion_start_time=at(2.4),
        input=MESSAGES,
        output={"role": "assistant", "content": "Yes, take an umbrella: showers are likely."},
        usage_details={"input": 210, "output": 14, "total": 224},
        cost_details={"input": 0.00052, "output": 0.00014, "total": 0.00066},
    )
    make_observation(
        trace,
        "retry-event",
        name="retry",
        type="EVENT",
        parent_observation_id="tool-forecast",
        start_time=at(1.6),
        level="WARNING",
        status_message="first attempt timed out",
    )
    return trace


def test_person_reads_a_trace_selects_nodes_switches_to_the_timeline_and_annotates(page, live_server_process):
    org = make_org("Acme")
    project = make_project(org, "production")
    person = make_person("ada@acme.test")
    add_member(org, person, Role.MEMBER)
    trace = make_weather_trace(project)
    make_score_config(project, name="helpfulness", min_value=0, max_value=5, description="0 to 5")
    make_score_config(
        project,
        name="verdict",
        data_type="CATEGORICAL",
        categories=[{"label": "wrong", "value": 0}, {"label": "right", "value": 1}],
    )
    sign_in(page, person.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/traces$"))

    trace_url = f"/project/{project.id}/traces/{trace.id}"
    page.goto(trace_url)
    expect(page.get_by_role("heading", name="umbrella-advice", level=1)).to_be_visible()
    tree = page.locator("#trace-nav .tree")
    expect(tree.locator(".node-link")).to_have_count(6)  # the trace and five observations
    expect(page.locator("#observation-pane")).to_contain_text("Should I take an umbrella in Paris today?")
    screenshot(page, "trace-detail")

    # collapse the agent node: its children hide; expand again
    agent = tree.locator("details.node").first
    expect(tree.get_by_role("link", name=re.compile("plan"))).to_be_visible()
    agent.locator("> summary").click(position={"x": 8, "y": 8})
    expect(tree.get_by_role("link", name=re.compile("plan"))).to_be_hidden()
    screenshot(page, "trace-detail-collapsed")
    agent.locator("> summary").click(position={"x": 8, "y": 8})
    expect(tree.get_by_role("link", name=re.compile("plan"))).to_be_visible()

    # select the answer generation: htmx swaps the pane and the URL changes
    with page.expect_response(lambda r: "observation=gen-answer" in r.url) as answer:
        tree.get_by_role("link", name=re.compile("answer")).click()
    assert answer.value.request.headers.get("hx-target") == "observation-pane"
    expect(page).to_have_url(re.compile(r"\?observation=gen-answer$"))
    pane = page.locator("#observation-pane")
    expect(pane.get_by_role("heading", name="answer")).to_be_visible()
    expect(pane.locator(".chat-message")).to_have_count(5)
    expect(pane.locator(".tool-name").first).to_have_text("get_forecast")
    expect(tree.locator('.node-link[aria-current="true"]')).to_contain_text("answer")
    expect(pane.locator("table.usage")).to_contain_text("224")
    screenshot(page, "trace-detail-generation")

    # the URL also works on a full page load
    page.reload()
    expect(page.locator("#observation-pane").get_by_role("heading", name="answer")).to_be_visible()

    # the timeline keeps the selection
    page.get_by_role("link", name="Timeline").click()
    expect(page).to_have_url(re.compile(r"observation=gen-answer&view=timeline$"))
    timeline = page.locator("#trace-nav .timeline")
    expect(timeline.locator(".tl-bar")).to_have_count(6)
    expect(timeline.locator(".tl-ttft")).to_have_count(2)
    expect(timeline.locator('.node-link[aria-current="true"]')).to_contain_text("answer")
    screenshot(page, "trace-timeline")
    timeline.get_by_role("link", name=re.compile("get_forecast")).click()
    expect(page).to_have_url(re.compile(r"observation=tool-forecast&view=timeline$"))
    expect(pane.get_by_role("heading", name="get_forecast")).to_be_visible()

    # annotate the tool call: a score and a comment
    pane.get_by_label("helpfulness", exact=True).fill("4")
    with page.expect_response(lambda r: "/annotations/score" in r.url):
        pane.locator("form.score-form").first.get_by_role("button", name="Save").click()
    expect(pane.locator("#pane-scores")).to_contain_text("helpfulness 4")
    pane.get_by_label("verdict", exact=True).select_option("right")
    pane.locator("form.score-form").nth(1).get_by_role("button", name="Save").click()
    expect(pane.locator("#pane-scores")).to_contain_text("verdict right")
    pane.get_by_placeholder("Add a comment on this observation").fill("The retry doubled the latency.")
    pane.get_by_role("button", name="Comment").click()
    expect(pane.locator("#pane-comments")).to_contain_text("The retry doubled the latency.")
    expect(pane.locator("#pane-comments")).to_contain_text("ada@acme.test")
    screenshot(page, "trace-annotated")
    assert Score.objects.filter(observation_id="tool-forecast", source="ANNOTATION").count() == 2
    assert Comment.objects.get().object_id == "tool-forecast"

    # a trace-level score shows in the header at once
    timeline.locator(".root-link").click()
    expect(page).to_have_url(re.compile(r"traces/trace-umbrella\?view=timeline$"))
    pane.get_by_label("helpfulness", exact=True).fill("5")
    pane.locator("form.score-form").first.get_by_role("button", name="Save").click()
    expect(page.locator("#trace-scores")).to_contain_text("helpfulness 5")
