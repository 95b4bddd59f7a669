"""The Content-Security-Policy holds in a real browser: walking the main pages as an owner, with
charts drawn, the trace timeline shown and an htmx form swapped in, Chromium reports no violation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role
from prompts.models import Prompt
from tests.e2e.test_sign_in import make_person, sign_in
from tests.e2e.test_trace_detail import make_weather_trace
from tests.factories import PASSWORD, add_member, make_org, make_project
from tests.traces.dashboard_data import WINDOW, make_dashboard_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def test_the_main_pages_cause_no_policy_violation(page, live_server_process):
    org = make_org("Acme")
    project = make_project(org, "production")
    owner = make_person("olga@acme.test")
    add_member(org, owner, Role.OWNER)
    make_weather_trace(project)
    make_dashboard_data(project)
    Prompt.objects.create(
        project=project, name="greeting", version=1, prompt="Hello {{name}}", labels=["production"]
    )

    console = []
    page.on("console", lambda message: console.append(message.text))
    page.context.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, owner.email, PASSWORD)

    def url(name: str, *args) -> str:
        return reverse(name, args=args)

    p, o = project.id, org.id
    pages = [
        url("traces:list", p),
        url("traces:detail", p, "trace-umbrella") + "?observation=gen-answer",
        url("traces:detail", p, "trace-umbrella") + "?view=timeline",
        url("traces:sessions", p),
        url("traces:session", p, "session-7"),
        url("traces:users", p),
        url("traces:user", p, "user-42"),
        url("traces:playground", p),
        url("prompts:list", p),
        url("prompts:detail", p, "greeting"),
        url("accounts:project-settings", p),
        url("accounts:project-members", p),
        url("traces:llm-connections", p),
        url("traces:retention", p),
        url("budgets:settings", p),
        url("accounts:organization-settings", o),
        url("accounts:organization-members", o),
        url("accounts:organization-audit-log", o),
    ]
    visited = {}
    for address in pages:
        response = page.goto(address)
        assert response.status < 400, f"{address}: {response.status}"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        visited[address] = page.evaluate("window.__cspViolations")

    for address in (f"{url('traces:dashboard', p)}?{WINDOW}", url("budgets:organization-dashboard", o)):
        page.goto(address, timeout=60_000)  # plotly.js is 4.8 MB
        expect(page.locator('.plot[data-ready="true"]').first).to_be_visible(timeout=30_000)
        page.wait_for_load_state("networkidle")
        visited[address] = page.evaluate("window.__cspViolations")

    page.goto(url("accounts:project-api-keys", p))  # an htmx form swap
    page.get_by_label("Note").fill("csp check")
    page.get_by_role("button", name="Create API key").click()
    expect(page.locator("#new-secret-key")).to_be_visible()
    visited["api keys, after the htmx swap"] = page.evaluate("window.__cspViolations")

    violations = {address: found for address, found in visited.items() if found}
    reported = [text for text in console if "Content Security Policy" in text or "Refused to" in text]
    assert violations == {}, violations
    assert reported == [], reported
