"""Replay in a real browser: from the trace page to the playground, edit the temperature, run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.e2e.conftest import screenshot
from tests.e2e.test_sign_in import make_person, sign_in
from tests.factories import PASSWORD, add_member, make_org, make_project
from tests.traces.api.factories import make_generation, make_trace
from tests.traces.fake_openai import REPLY, fake_openai
from traces import llm_connections
from traces.models import Trace

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
        page.locator("#pg-run").click()

        answer = page.locator("#pg-answer")
        expect(answer).to_contain_text(REPLY)
        expect(page.locator("#pg-original")).to_contain_text("showers are likely")
        expect(page.get_by_label("temperature", exact=True)).to_have_value("0.9")
        screenshot(page, "playground-answer")
        assert fake.received[0]["temperature"] == 0.9
        assert fake.received[0]["messages"] == MESSAGES

        page.locator("#pg-replay-link").click()
        expect(page.get_by_role("heading", name="playground", level=1)).to_be_visible()
    replay = Trace.objects.get(project=project, name="playground")
    assert replay.metadata["replayOf"] == "gen-answer"
