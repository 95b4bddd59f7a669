"""Every UI URL that names a project, an organisation or an object, addressed by the owner of the
other tenant: the victim's project or organisation id, or the attacker's own project with the
victim's object ids (in the path, the query string or the form), must answer 404 for GET and POST
and change nothing of the victim.

The probes come from the permission matrix (tests/accounts/test_permission_matrix.py): every URL
name of PAGES whose pattern takes a project or organisation id, with each method PAGES allows.
EXTRA_PROBES adds the ids that travel in query strings and forms. Each probe has a control: the
same request with the attacker's own ids must succeed, and (for GET) show nothing of the victim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.access import project_role
from accounts.models import MembershipInvitation, Role
from prompts.models import Prompt
from tests.accounts.test_permission_matrix import ALL_URLS, PAGES, first_chart
from tests.isolation.conftest import DIRECTIONS, Tenant, changes, snapshot

pytestmark = pytest.mark.django_db

NOT_FOUND, SHOWN, NOTHING = "not-found", "shown", "nothing"
TENANT_PARAMS = ("project_id", "org_id")

Build = Callable[[Tenant, Tenant], Any]  # (victim, attacker) -> value

# URL parameter -> the tenant's value.
PARAMS: dict[str, Callable[[Tenant], Any]] = {
    "project_id": lambda t: t.project.id,
    "org_id": lambda t: t.org.id,
    "key_id": lambda t: t.key.id,
    "membership_id": lambda t: t.membership_id,
    "member_id": lambda t: t.member.pk,
    "invitation_id": lambda t: t.invitation_id,
    "trace_id": lambda t: t.trace_id,
    "observation_id": lambda t: t.observation_id,
    "session_id": lambda t: t.session_id,
    "user_id": lambda t: t.user_id,
    "media_id": lambda t: t.media_id,
    "view_id": lambda t: t.view_id,
    "name": lambda t: t.prompt_name,
    "version": lambda t: 1,
    "connection_id": lambda t: t.connection_id,
    "budget_id": lambda t: t.budget_id,
    "export_id": lambda t: t.export_id,
    "job_id": lambda t: t.export_id,
}
# Where one URL needs another value (a key of another kind), or a value that is no tenant's id.
URL_PARAMS: dict[str, dict[str, Callable[[Tenant], Any]]] = {
    "accounts:organization-api-key-revoke": {"key_id": lambda t: t.org_key.id},
    "traces:chart": {"key": lambda t: first_chart()},
    "traces:chart-csv": {"key": lambda t: first_chart()},
    "budgets:organization-csv": {"key": lambda t: "projects"},
}

# Pages that name no project, organisation or object, with the reason.
EXEMPT: dict[str, str] = {
    "accounts:home": "takes no id: sends the user to their own first project",
    "accounts:organization-create": "takes no id: creates a new organisation",
    "accounts:invitation-accept": "the signed token is the credential (anyone with the link sees it)",
    "traces:plotly-js": "a static asset",
}


def _now(v: Tenant, x: Tenant) -> str:
    return timezone.now().isoformat()


# A form that would change the victim if the request reached it. Builders get (victim, attacker);
# the control calls them with (attacker, attacker).
POST_DATA: dict[str, Build] = {
    "accounts:organization-rename": lambda v, x: {"name": "renamed"},
    "accounts:project-create": lambda v, x: {"name": "planted"},
    "accounts:member-invite": lambda v, x: {"email": "planted@example.com", "role": "MEMBER"},
    "accounts:member-role": lambda v, x: {"role": "ADMIN"},
    "accounts:ownership-transfer": lambda v, x: {"membership": v.membership_id},
    "accounts:organization-api-keys": lambda v, x: {"note": "planted"},
    "accounts:project-rename": lambda v, x: {"name": "renamed"},
    "accounts:project-delete": lambda v, x: {"confirm": v.project.name},
    "accounts:project-api-keys": lambda v, x: {"note": "planted"},
    "accounts:project-api-key-rotate": lambda v, x: {"grace": "now"},
    "accounts:project-member-role": lambda v, x: {"role": "ADMIN"},
    "traces:annotate-score": lambda v, x: {"trace_id": v.trace_id, "config_id": v.config_id, "value": "9"},
    "traces:annotate-comment": lambda v, x: {"trace_id": v.trace_id, "content": "planted"},
    "traces:save_view": lambda v, x: {"name": "planted", "query_string": "range=24h"},
    "traces:bulk_delete": lambda v, x: {"ids": [v.trace_id], "as_of": _now(v, x)},
    "traces:retention": lambda v, x: {"days": "30"},
    "traces:playground": lambda v, x: {"observation": v.observation_id, "action": "add_message"},
    "traces:llm-connections": lambda v, x: {"name": "planted", "base_url": "http://127.0.0.1:9/v1"},
    "prompts:new": lambda v, x: {"name": "planted", "type": "text", "text": "planted"},
    "prompts:detail": lambda v, x: {"type": "text", "text": "planted"},
    "prompts:labels": lambda v, x: {"version": 1, "label": "production", "action": "add"},
    "prompts:playground": lambda v, x: {"name": "planted"},
    "budgets:settings": lambda v, x: {"team": "", "monthly_usd": "5"},
}


@dataclass(frozen=True)
class UiProbe:
    route: str
    method: str
    expect: str
    case: str
    path: Build
    query: Build | None = None
    data: Build | None = None
    forbidden: Callable[[Tenant], list[str]] | None = None  # more than the secret marker
    check: Callable[[Tenant, Tenant], None] | None = None
    control: bool = True

    @property
    def id(self) -> str:
        return f"{self.route}-{self.method}-{self.case}"


def url_params(route: str) -> list[str]:
    pattern = dict(ALL_URLS)[route]
    return list(pattern.pattern.converters) or list(pattern.pattern.regex.groupindex)


def path_of(route: str, tenant_from: str, objects_from: str) -> Build:
    """URL kwargs: project/org id from one side, object ids from the other ("victim" or "attacker")."""

    def build(v: Tenant, x: Tenant) -> dict:
        sides = {"victim": v, "attacker": x}
        values = PARAMS | URL_PARAMS.get(route, {})
        return {
            p: values[p](sides[tenant_from if p in TENANT_PARAMS else objects_from])
            for p in url_params(route)
        }

    return build


def own(route: str) -> Build:
    """The attacker's own project with the attacker's own objects (the control's URL)."""
    return path_of(route, "attacker", "attacker")


def derived_probes() -> list[UiProbe]:
    probes = []
    for route, (get_role, post_role) in sorted(PAGES.items()):
        params = url_params(route)
        if route in EXEMPT or not set(params) & set(TENANT_PARAMS):
            continue
        objects = [p for p in params if p not in TENANT_PARAMS and p not in URL_PARAMS.get(route, {})]
        for method, role in (("GET", get_role), ("POST", post_role)):
            if role is None:
                continue
            data = POST_DATA.get(route) if method == "POST" else None
            probes.append(
                UiProbe(
                    route, method, NOT_FOUND, "victim-tenant", path_of(route, "victim", "victim"), data=data
                )
            )
            if objects:  # its control would repeat the one of the probe above
                victim_objects = path_of(route, "attacker", "victim")
                probes.append(
                    UiProbe(
                        route, method, NOT_FOUND, "victim-objects", victim_objects, data=data, control=False
                    )
                )
    return probes


def _base_url(t: Tenant) -> list[str]:
    return [f"127.0.0.1:9/{t.tag}/"]


def _no_invitation_to(v: Tenant, x: Tenant) -> None:
    assert not MembershipInvitation.objects.filter(project=v.project).exclude(organization=v.org).exists()


def _no_prompt_composed_of_victim(v: Tenant, x: Tenant) -> None:
    assert not Prompt.objects.filter(project=x.project, name=f"{x.tag}-composed-2").exists()


def on_own_page(route: str) -> Callable[..., UiProbe]:
    """A probe of the attacker's own page (own project, own objects) whose query or form names the victim."""
    return lambda method, expect, case, **kw: UiProbe(route, method, expect, case, own(route), **kw)


EXTRA_PROBES: list[UiProbe] = [
    # ids in query strings
    on_own_page("traces:detail")(
        "GET", NOT_FOUND, "victim-observation", query=lambda v, x: {"observation": v.observation_id}
    ),
    on_own_page("traces:value")(
        "GET", NOT_FOUND, "victim-trace", query=lambda v, x: {"trace": v.trace_id, "field": "input"}
    ),
    on_own_page("traces:value")(
        "GET",
        NOT_FOUND,
        "victim-observation",
        query=lambda v, x: {"trace": x.trace_id, "observation": v.observation_id, "field": "input"},
    ),
    on_own_page("traces:playground")(
        "GET", NOT_FOUND, "victim-observation", query=lambda v, x: {"observation": v.observation_id}
    ),
    on_own_page("traces:playground")(
        "GET",
        SHOWN,
        "victim-connection",
        query=lambda v, x: {"connection": v.connection_id},
        forbidden=_base_url,
    ),
    on_own_page("traces:playground")(
        "POST",
        SHOWN,
        "run-victim-connection",
        data=lambda v, x: {
            "connection": v.connection_id,
            "action": "run",
            "model": "m",
            "role": "user",
            "content": "hi",
        },
        forbidden=_base_url,
        control=False,  # the control would call the attacker's own connection
    ),
    on_own_page("prompts:playground")(
        "GET",
        SHOWN,
        "victim-connection",
        query=lambda v, x: {"connection": v.connection_id},
        forbidden=_base_url,
    ),
    on_own_page("traces:list")("GET", SHOWN, "victim-user", query=lambda v, x: {"user": v.user_id}),
    on_own_page("traces:list")("GET", SHOWN, "victim-session", query=lambda v, x: {"session": v.session_id}),
    on_own_page("traces:export-csv")("GET", SHOWN, "victim-user", query=lambda v, x: {"user": v.user_id}),
    on_own_page("traces:export-jsonl")("GET", SHOWN, "victim-user", query=lambda v, x: {"user": v.user_id}),
    on_own_page("traces:bulk_delete")("GET", SHOWN, "victim-ids", query=lambda v, x: {"ids": v.trace_id}),
    on_own_page("traces:dashboard")("GET", SHOWN, "victim-user", query=lambda v, x: {"user": v.user_id}),
    # ids in forms
    on_own_page("traces:bulk_delete")(
        "POST",
        NOTHING,
        "victim-ids",
        data=lambda v, x: {"ids": [v.trace_id, v.hex_trace_id], "as_of": _now(v, x)},
    ),
    on_own_page("traces:annotate-score")(
        "POST",
        NOT_FOUND,
        "victim-observation",
        data=lambda v, x: {
            "trace_id": x.trace_id,
            "observation_id": v.observation_id,
            "config_id": x.config_id,
            "value": "1",
        },
    ),
    on_own_page("traces:annotate-score")(
        "POST",
        NOT_FOUND,
        "victim-config",
        data=lambda v, x: {"trace_id": x.trace_id, "config_id": v.config_id, "value": "1"},
    ),
    on_own_page("traces:annotate-comment")(
        "POST",
        NOT_FOUND,
        "victim-observation",
        data=lambda v, x: {"trace_id": x.trace_id, "observation_id": v.observation_id, "content": "planted"},
    ),
    on_own_page("accounts:member-invite")(
        "POST",
        SHOWN,
        "victim-project",
        data=lambda v, x: {"email": "planted@example.com", "role": "MEMBER", "project": v.project.id},
        check=_no_invitation_to,
    ),
    on_own_page("prompts:new")(
        "POST",
        SHOWN,
        "victim-reference",
        data=lambda v, x: {
            "name": f"{x.tag}-composed-2",
            "type": "text",
            "text": f"@@@langfusePrompt:name={v.prompt_name}|label=production@@@",
        },
        check=_no_prompt_composed_of_victim,
    ),
    on_own_page("accounts:ownership-transfer")(
        "POST", NOT_FOUND, "victim-membership", data=lambda v, x: {"membership": v.membership_id}
    ),
]

PROBES = derived_probes() + [p for p in EXTRA_PROBES if p.route in PAGES]


def test_every_page_with_an_id_is_probed_or_exempt():
    tenant_pages = {p.route for p in PROBES}
    missing = sorted(set(PAGES) - tenant_pages - set(EXEMPT))
    assert missing == [], f"{missing}: give each a project or organisation parameter, or list it in EXEMPT"


def test_every_url_parameter_has_a_tenant_value():
    unknown = sorted(
        {
            f"{route}: {p}"
            for route in PAGES
            if route not in EXEMPT
            for p in url_params(route)
            if p not in PARAMS and p not in URL_PARAMS.get(route, {})
        }
    )
    assert unknown == [], f"Add the tenant's value of these URL parameters to PARAMS: {unknown}"


def send(client, probe: UiProbe, victim: Tenant, attacker: Tenant):
    url = reverse(probe.route, kwargs=probe.path(victim, attacker))
    if probe.query:
        url += "?" + urlencode(probe.query(victim, attacker), doseq=True)
    if probe.method == "GET":
        return client.get(url)
    return client.post(url, probe.data(victim, attacker) if probe.data else {})


def content(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)


# The direction: a user of tenant bravo against tenant alpha. (The API runs both directions;
# the views share their access code, so the mirror image would double the runtime for nothing.)
@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.id)
def test_owner_of_the_other_tenant_cannot_reach(client, world, probe):
    victim, attacker = world.pair(DIRECTIONS[0])
    client.force_login(attacker.owner)
    response = send(client, probe, victim, attacker)
    where = f"{probe.method} {response.request['PATH_INFO']} as the owner of {attacker.tag}"
    body = content(response)
    for needle in [victim.secret, *(probe.forbidden(victim) if probe.forbidden else [])]:
        assert needle not in body, f"{where} shows {victim.tag}'s {needle!r}: {body[:300]}"
    if probe.expect == NOT_FOUND:
        assert response.status_code == 404, f"{where}: expected 404, got {response.status_code}"
    else:
        assert response.status_code < 400, f"{where}: {response.status_code} {body[:300]}"
    if probe.check:
        probe.check(victim, attacker)
    if probe.method != "GET":
        after = snapshot(victim)
        assert after == world.snapshots[victim.tag], (
            f"{where} changed {victim.tag}'s data: {changes(world.snapshots[victim.tag], after)}"
        )
    if probe.control:
        mine = send(client, probe, attacker, attacker)
        status = mine.status_code
        assert status not in (401, 403, 404, 405) and not is_login_redirect(mine), (
            f"control: {probe.method} {mine.request['PATH_INFO']} with {attacker.tag}'s own ids answered "
            f"{status}, so the answer above proves nothing"
        )
        if probe.method == "GET":
            assert victim.tag not in content(mine), f"control: {attacker.tag}'s own page shows {victim.tag}"
        else:  # acting on its own objects (deleting its own project, ...) leaves the victim alone too
            after = snapshot(victim)
            assert after == world.snapshots[victim.tag], (
                f"control: {probe.method} {mine.request['PATH_INFO']} changed {victim.tag}'s data: "
                f"{changes(world.snapshots[victim.tag], after)}"
            )


SIBLING_PROBES = [p for p in PROBES if p.case == "victim-tenant"]


@pytest.mark.parametrize("probe", SIBLING_PROBES, ids=lambda p: p.id)
def test_owner_of_a_sibling_project_only_cannot_reach(client, world, probe):
    """An owner of another project of the same organisation, with no role in the organisation
    itself, addressing the main project, its objects and the organisation: 404, nothing changed."""
    victim = world.alpha
    client.force_login(
        victim.sibling_owner
    )  # a member of the victim's organisation: signing in is logged there
    assert project_role(victim.sibling_owner, victim.sibling) == Role.OWNER
    before = snapshot(victim) if probe.method != "GET" else None
    response = send(client, probe, victim, victim)
    where = f"{probe.method} {response.request['PATH_INFO']} as the owner of {victim.sibling.id} only"
    assert response.status_code == 404, f"{where}: expected 404, got {response.status_code}"
    assert victim.secret not in content(response)
    if before is not None:
        after = snapshot(victim)
        assert after == before, f"{where} changed: {changes(before, after)}"
