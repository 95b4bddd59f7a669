"""The playground in a real browser: replay a generation with another temperature; try a prompt version with its
variables filled in and find the run among the version's generations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from prompts import versions
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import make_person, sign_in
from tests.factories import PASSWORD, add_member, make_org, make_project
from tests.traces.api.factories import make_generation, make_trace
from tests.traces.fake_openai import REPLY, fake_openai
from traces import llm_connections
from traces.models import Observation, Trace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGES = [
    {"role": "system", "content": "You answer questions about the weather. Be brief."},
    {"role": "user", "content": "Should I take an umbrella in Paris today?"},
]


def test_person_replays_a_generation_with_another_temperature(page, live_server_process):
    org = make_org("Acme")
    project = make_project(org, "production")
    person = make_person("ada@acme.test")
    add_member(org, person, Role.MEMBER)
    trace = make_trace(project, "trace-umbrella", name="umbrella-advice")
    make_generation(
        trace,
        "gen-answer",
        name="answer",
        input=MESSAGES,
        output={"role": "assistant", "content": "Yes, take one: showers are likely."},
        provided_model_name="gpt-4o-mini",
        model_parameters={"temperature": 0.2, "max_tokens": 128},
    )
    with fake_openai() as fake:
        llm_connections.create_connection(
            project, name="litellm", base_url=fake.base_url, api_key="sk-proxy", default_model="gpt-4o-mini"
        )
        sign_in(page, person.email, PASSWORD)
        expect(page).to_have_url(re.compile(r"/traces$"))
        page.goto(f"/project/{project.id}/traces/{trace.id}?observation=gen-answer")
        expect(page.locator("#replay-link")).to_be_visible()
        screenshot(page, "trace-detail-replay-link")
        page.locator("#replay-link").click()

        expect(page).to_have_url(re.compile(r"/playground\?observation=gen-answer&trace=trace-umbrella$"))
        expect(page.get_by_label("Content of message 2")).to_have_value(MESSAGES[1]["content"])
        expect(page.locator("#pg-original")).to_contain_text("showers are likely")
        expect(page.locator("#pg-python")).to_contain_text("temperature=0.2")
        temperature = page.get_by_label("temperature", exact=True)
        expect(temperature).to_have_value("0.2")
        temperature.fill("0.9")
        screenshot(page, "playground")
        page.evaluate("window.beforeRun = true")  # gone if the run reloaded the page
        page.locator("#pg-run").click()

        answer = page.locator("#pg-answer")
        expect(answer).to_contain_text(REPLY)
        assert page.evaluate("window.beforeRun") is True  # only the results panel was swapped
        expect(page.locator("#pg-original")).to_contain_text("showers are likely")
        expect(page.get_by_label("temperature", exact=True)).to_have_value("0.9")
        screenshot(page, "playground-answer")
        assert fake.received[0]["temperature"] == 0.9
        assert fake.received[0]["messages"] == MESSAGES

        page.locator("#pg-replay-link").click()
        expect(page.get_by_role("heading", name="playground", level=1)).to_be_visible()
    replay = Trace.objects.get(project=project, name="playground")
    assert replay.metadata["replayOf"] == "gen-answer"


def test_person_tries_a_prompt_version_with_variables_and_finds_the_run_among_its_generations(
    page, live_server_process
):
    org = make_org("Acme")
    project = make_project(org, "production")
    person = make_person("lin@acme.test")
    add_member(org, person, Role.MEMBER)
    versions.create_version(project, "support/answer", "chat", [{"role": "user", "content": "{{question}}"}])
    versions.create_version(
        project,
        "support/answer",
        "chat",
        [
            {"role": "system", "content": "You answer for {{company}}. Be brief."},
            {"role": "user", "content": "{{question}}"},
        ],
        config={"model": "gpt-4o-mini", "temperature": 0.3, "max_tokens": 120},
    )
    with fake_openai(delay=1) as fake:
        llm_connections.create_connection(project, name="litellm", base_url=fake.base_url, api_key="sk-proxy")
        sign_in(page, person.email, PASSWORD)
        expect(page).to_have_url(re.compile(r"/traces$"))
        page.goto(f"/project/{project.id}/prompts/support/answer?version=2")
        page.locator("#open-playground").click()

        expect(page).to_have_url(re.compile(r"/prompt-playground/support/answer\?version=2$"))
        expect(page.locator("#pg-model")).to_have_value("gpt-4o-mini")
        expect(page.get_by_label("temperature", exact=True)).to_have_value("0.3")
        page.get_by_label("Variable company").fill("Acme Parcels")
        page.locator("#pg-run").click()
        expect(page.locator("#pg-error")).to_contain_text(
            "Fill in every variable before running: {{question}}"
        )
        assert fake.received == []

        page.get_by_label("Variable question").fill("Where is my parcel?")
        screenshot(page, "prompt-playground")
        page.evaluate("window.beforeRun = true")
        page.locator("#pg-run").click()
        expect(page.locator("#pg-run")).to_be_disabled()  # while the model answers (the fake waits 1 s)
        expect(page.locator("#pg-answer")).to_contain_text(REPLY)
        expect(page.locator("#pg-run")).to_be_enabled()
        expect(page.locator("#pg-error")).to_have_count(0)
        assert page.evaluate("window.beforeRun") is True  # no reload: only the results panel was swapped
        expect(page.locator("#pg-sent")).to_contain_text("You answer for Acme Parcels. Be brief.")
        expect(page.locator("#pg-python")).to_contain_text("Where is my parcel?")
        screenshot(page, "prompt-playground-answer")
        assert fake.received == [
            {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "You answer for Acme Parcels. Be brief."},
                    {"role": "user", "content": "Where is my parcel?"},
                ],
                "temperature": 0.3,
                "max_tokens": 120,
            }
        ]

        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.get_by_role("button", name="Copy as curl").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert "Where is my parcel?" in page.evaluate("navigator.clipboard.readText()")

        page.locator("#pg-version-link").click()
        expect(page).to_have_url(re.compile(r"/prompts/support/answer\?version=2#prompt-generations$"))
        generation = Observation.objects.get(project=project, prompt_name="support/answer")
        assert generation.prompt_version == 2
        row = page.locator(f'#prompt-generations tr[data-observation="{generation.id}"]')
        expect(row).to_contain_text("gpt-4o-mini")
        expect(page.locator('tr[data-version="2"] .metric-count')).to_have_text("1")
        row.get_by_role("link").click()
        expect(page.get_by_role("heading", name="playground", level=1)).to_be_visible()
