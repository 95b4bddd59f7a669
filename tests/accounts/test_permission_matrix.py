"""Every URL in the URLconf, with every role: a new view cannot ship without a decision.

The walk resolves the whole URLconf recursively. Each URL name must appear in exactly one table:

- PAGES: HTML views, with the minimum role for GET and for POST (None = the method answers 405).
  Roles, lowest first: anonymous, outsider (signed in, not in the organisation), viewer, member,
  admin, owner. Below the minimum, an anonymous visitor is sent to the sign-in page, an outsider
  gets 404 (another tenant's ids leak nothing) and a member of the organisation gets 403.
- AUTH_FLOWS: django-allauth's sign-in pages; they manage their own state, so the walk only
  checks that no role makes them fail.
- API_KEY_ROUTES: /api/public/... routes authenticated by API keys, never by a session: without an
  Authorization header every method answers 401 (or 405), even for a signed-in owner.
- API_OPEN_ROUTES: public routes that need no key, with the reason.

To add a view: add its URL name to one table (and a value for any new URL parameter to KWARGS).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import api_keys, invitations
from accounts.models import ApiKey, OrganizationMembership, Role
from prompts.models import Prompt
from tests.factories import Team, make_project_with_roles
from traces.models import Media, Observation, SavedView, ScoreConfig, Trace

ROLES = ["anonymous", "outsider", "viewer", "member", "admin", "owner"]
RANK = {role: rank for rank, role in enumerate(ROLES)}

ANYONE, SIGNED_IN, VIEWER, MEMBER, ADMIN, OWNER = ROLES

# URL name -> (minimum role for GET, minimum role for POST); None: the method is not allowed.
PAGES: dict[str, tuple[str | None, str | None]] = {
    # accounts: home, organisations, members, invitations
    "accounts:home": (SIGNED_IN, None),
    "accounts:invitation-accept": (ANYONE, SIGNED_IN),
    "accounts:organization-create": (SIGNED_IN, SIGNED_IN),
    "accounts:organization-settings": (VIEWER, None),
    "accounts:organization-rename": (None, ADMIN),
    "accounts:project-create": (ADMIN, ADMIN),
    "accounts:organization-members": (MEMBER, None),
    "accounts:member-invite": (None, ADMIN),
    "accounts:member-role": (None, ADMIN),
    "accounts:member-remove": (None, ADMIN),
    "accounts:invitation-cancel": (None, ADMIN),
    "accounts:ownership-transfer": (None, OWNER),
    "accounts:organization-api-keys": (OWNER, OWNER),
    "accounts:organization-api-key-revoke": (None, OWNER),
    "accounts:organization-audit-log": (ADMIN, None),
    # accounts: project settings
    "accounts:project-settings": (VIEWER, None),
    "accounts:project-rename": (None, ADMIN),
    "accounts:project-delete": (None, OWNER),
    "accounts:project-api-keys": (ADMIN, ADMIN),
    "accounts:project-api-key-revoke": (None, ADMIN),
    "accounts:project-api-key-rotate": (None, ADMIN),
    "accounts:project-members": (MEMBER, None),
    "accounts:project-member-role": (None, ADMIN),
    "accounts:project-audit-log": (ADMIN, None),
    # traces
    "traces:list": (VIEWER, None),
    "traces:detail": (VIEWER, None),
    "traces:value": (VIEWER, None),
    "traces:media": (VIEWER, None),
    "traces:annotate-score": (None, MEMBER),
    "traces:annotate-comment": (None, MEMBER),
    "traces:save_view": (None, MEMBER),
    "traces:delete_view": (None, MEMBER),
    "traces:bulk_delete": (ADMIN, ADMIN),
    "traces:sessions": (VIEWER, None),
    "traces:session": (VIEWER, None),
    "traces:users": (VIEWER, None),
    "traces:user": (VIEWER, None),
    "traces:dashboard": (VIEWER, None),
    "traces:chart": (VIEWER, None),
    "traces:chart-csv": (VIEWER, None),
    "traces:plotly-js": (ANYONE, None),  # a versioned static asset
    "traces:export-csv": (VIEWER, None),
    "traces:export-jsonl": (VIEWER, None),
    "traces:export-job": (None, MEMBER),
    "traces:export-sessions-csv": (VIEWER, None),
    "traces:export-sessions-jsonl": (VIEWER, None),
    "traces:exports": (VIEWER, None),
    "traces:export-download": (VIEWER, None),
    "traces:export-schedule": (None, ADMIN),
    "traces:export-check": (None, ADMIN),
    "traces:media-settings": (ADMIN, ADMIN),
    "traces:retention": (ADMIN, ADMIN),
    "traces:storage": (ADMIN, None),
    "traces:playground": (VIEWER, MEMBER),
    "traces:llm-connections": (ADMIN, ADMIN),
    "traces:llm-connection-delete": (None, ADMIN),
    # prompts
    "prompts:list": (VIEWER, None),
    "prompts:new": (MEMBER, MEMBER),
    "prompts:detail": (VIEWER, MEMBER),
    "prompts:labels": (None, MEMBER),
    "prompts:compare": (VIEWER, None),
    "prompts:playground": (VIEWER, MEMBER),
    # budgets: organisation cost view, project budgets
    "budgets:organization-dashboard": (ADMIN, None),
    "budgets:organization-csv": (ADMIN, None),
    "budgets:settings": (ADMIN, ADMIN),
    "budgets:delete": (None, ADMIN),
}

AUTH_FLOWS: set[str] = {
    "account_login",
    "account_logout",
    "account_inactive",
    "account_signup",
    "account_reauthenticate",
    "account_request_reauthentication_code",
    "account_confirm_reauthentication_code",
    "account_email",
    "account_email_verification_sent",
    "account_change_password",
    "account_set_password",
    "account_reset_password",
    "account_request_login_code",
    "account_confirm_login_code",
    "account_confirm_email",
    "account_reset_password_from_key_done",
    "account_reset_password_from_key",
    "account_reset_password_done",
    # SSO (accounts/oidc.py, mozilla-django-oidc): 404 unless AUTH_CUSTOM_* are set
    "oidc_authentication_init",
    "oidc_authentication_callback",
    "oidc_logout",
}

API_KEY_ROUTES: set[str] = {
    "api:projects",
    "api:project",
    "api:project-api-keys",
    "api:project-api-key",
    "api:project-memberships",
    "api:organization-memberships",
    "api:organization-projects",
    "api:organization-api-keys",
    "api:ingestion",
    "api:otel-traces",
    "api:otel-metrics",
    "api:spans",
    "api:generations",
    "api:events",
    "api:traces",
    "api:trace",
    "api:observations",
    "api:observation",
    "api:observations-v2",
    "api:sessions",
    "api:session",
    "api:scores",
    "api:score",
    "api:scores-v2",
    "api:score-v2",
    "api:scores-v3",
    "api:score-configs",
    "api:score-config",
    "api:models",
    "api:model",
    "api:metrics-daily",
    "api:media",
    "api:media-item",
    "api:prompts",
    "api:prompt",
    "api:prompt-version",
    "api:prompts-v1",
}

API_OPEN_ROUTES: dict[str, str] = {
    "api:health": "liveness probe for load balancers",
    "api:ready": "readiness probe for orchestrators",
    "api:media-upload": "the URL carries a signed, expiring upload token",
    "api:media-download": "the URL carries a signed, expiring download token",
    "api:openapi": "the OpenAPI document of the public API, public like Langfuse's own",
    "api:not-found": "JSON 404 for any /api/public/ URL no route matches",
}


@dataclass
class World:
    team: Team
    key: ApiKey
    org_key: ApiKey
    invitation_id: str
    invitation_token: str
    trace_id: str = "trace-matrix"
    observation_id: str = "observation-matrix"
    session_id: str = "session-matrix"
    user_id: str = "user-matrix"
    media_id: str = "media-matrix"
    prompt_name: str = "greeting"
    view_id: str = ""
    score_config_id: str = ""


# URL parameter -> its value in the world. Parameters of other tenants' objects are not needed:
# the outsider is tested with the team's own ids.
KWARGS: dict[str, Callable[[World], str | int]] = {
    "project_id": lambda w: w.team.project.id,
    "org_id": lambda w: w.team.org.id,
    "key_id": lambda w: w.key.id,
    "api_key_id": lambda w: w.key.id,
    "membership_id": lambda w: OrganizationMembership.objects.get(user=w.team.member).pk,
    "member_id": lambda w: w.team.member.pk,
    "invitation_id": lambda w: w.invitation_id,
    "token": lambda w: w.invitation_token,
    "trace_id": lambda w: w.trace_id,
    "observation_id": lambda w: w.observation_id,
    "session_id": lambda w: w.session_id,
    "user_id": lambda w: w.user_id,
    "score_id": lambda w: "score-matrix",
    "config_id": lambda w: "config-matrix",
    "model_id": lambda w: "model-matrix",
    "media_id": lambda w: w.media_id,
    "view_id": lambda w: w.view_id,
    "name": lambda w: w.prompt_name,
    "version": lambda w: 1,
    "key": lambda w: "not-a-real-key",
    "uidb36": lambda w: "1",
    "connection_id": lambda w: llm_connection_id(w),
    "budget_id": lambda w: budget_id(w),
    "job_id": lambda w: export_job_id(w),
}

# Where one URL needs another value than KWARGS gives.
URL_KWARGS: dict[str, dict[str, Callable[[World], str | int]]] = {
    "accounts:organization-api-key-revoke": {"key_id": lambda w: w.org_key.id},
    "traces:chart": {"key": lambda w: first_chart()},
    "traces:chart-csv": {"key": lambda w: first_chart()},
    "traces:plotly-js": {"version": lambda w: plotly_version()},
    "budgets:organization-csv": {"key": lambda w: "projects"},
}


def llm_connection_id(world: World) -> str:
    from traces.llm_connections import create_connection

    return create_connection(
        world.team.project, name="matrix", base_url="http://127.0.0.1:9/v1", api_key=""
    ).id


def budget_id(world: World) -> int:
    from traces.budgets.models import Budget

    budget, _ = Budget.objects.get_or_create(
        project=world.team.project, team="matrix", defaults={"monthly_usd": 1}
    )
    return budget.pk


def export_job_id(world: World) -> str:
    from traces.models import ExportJob, ExportStatus

    job = ExportJob.objects.create(project=world.team.project, status=ExportStatus.DONE, object_key="k.csv")
    return job.id


def first_chart() -> str:
    from traces.dashboards.catalogue import CHARTS

    return next(iter(CHARTS))


def plotly_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


# The body a POST sends where an empty one would not reach the object (404) for allowed roles.
POST_DATA: dict[str, Callable[[World], dict]] = {
    "traces:annotate-score": lambda w: {"trace_id": w.trace_id, "config_id": w.score_config_id, "value": "1"},
    "traces:annotate-comment": lambda w: {"trace_id": w.trace_id},
}


def url_patterns(resolver: URLResolver | None = None, namespace: str = "") -> list[tuple[str, URLPattern]]:
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found.extend(url_patterns(pattern, inner))
        else:
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            found.append((name or f"<unnamed {pattern.pattern}>", pattern))
    return found


ALL_URLS = url_patterns()
DECLARED = set(PAGES) | AUTH_FLOWS | API_KEY_ROUTES | set(API_OPEN_ROUTES)


def test_every_url_in_the_urlconf_has_a_permission_decision():
    undecided = sorted({name for name, _ in ALL_URLS} - DECLARED)
    assert undecided == [], (
        f"No permission decision for {undecided}: add each to PAGES (minimum role for GET and POST), "
        "AUTH_FLOWS, API_KEY_ROUTES or API_OPEN_ROUTES in tests/accounts/test_permission_matrix.py"
    )


def test_every_declared_url_exists():
    stale = sorted(DECLARED - {name for name, _ in ALL_URLS})
    assert stale == [], f"Declared but not in the URLconf (remove them): {stale}"


def test_the_tables_do_not_overlap():
    tables = [set(PAGES), AUTH_FLOWS, API_KEY_ROUTES, set(API_OPEN_ROUTES)]
    assert sum(len(t) for t in tables) == len(DECLARED)


def make_world() -> World:
    team = make_project_with_roles()
    key = ApiKey.objects.get(public_key=team.public_key)
    invitation, token = invitations.invite(team.org, "invited@acme.test", Role.MEMBER, team.owner, Role.OWNER)
    org_key, _ = api_keys.create_api_key(organization=team.org)
    world = World(team=team, key=key, org_key=org_key, invitation_id=invitation.id, invitation_token=token)
    Trace.objects.create(
        project=team.project, id=world.trace_id, session_id=world.session_id, user_id=world.user_id
    )
    Observation.objects.create(project=team.project, id=world.observation_id, trace_id=world.trace_id)
    Media.objects.create(
        project=team.project,
        id=world.media_id,
        sha256_hash="h" * 44,
        content_type="text/plain",
        content_length=1,
        bucket_path="matrix/media",
        uploaded_at=timezone.now(),
        upload_http_status=200,
    )
    Prompt.objects.create(project=team.project, name=world.prompt_name, version=1, prompt="Hello {{name}}")
    world.score_config_id = ScoreConfig.objects.create(
        project=team.project, name="quality", data_type="NUMERIC"
    ).id
    world.view_id = SavedView.objects.create(project=team.project, name="errors").id
    return world


def url_of(name: str, world: World) -> str:
    pattern = dict(ALL_URLS)[name]
    params = list(pattern.pattern.converters) or list(pattern.pattern.regex.groupindex)
    missing = [p for p in params if p not in KWARGS]
    assert not missing, f"{name}: add a value for URL parameter(s) {missing} to KWARGS"
    values = KWARGS | URL_KWARGS.get(name, {})
    return reverse(name, kwargs={p: values[p](world) for p in params})


def sign_in(client, world: World, role: str) -> None:
    if role != ANYONE:
        client.force_login(getattr(world.team, role))


def call(client, method: str, url: str, data: dict | None = None):
    return client.get(url) if method == "GET" else client.post(url, data or {})


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)


PAGE_CASES = [
    pytest.param(name, method, role, id=f"{name}-{method}-{role}")
    for name in sorted(PAGES)
    for method in ("GET", "POST")
    for role in ROLES
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "role"), PAGE_CASES)
def test_page_answers_each_role_as_declared(client, name, method, role):
    world = make_world()
    url = url_of(name, world)
    sign_in(client, world, role)
    minimum = PAGES[name][0 if method == "GET" else 1]
    response = call(client, method, url, POST_DATA.get(name, lambda w: {})(world))
    where = f"{method} {url} as {role}"
    if minimum is None:
        assert response.status_code == 405, f"{where}: method should not be allowed"
    elif RANK[role] >= RANK[minimum]:
        assert response.status_code < 500, f"{where}: {response.status_code}"
        assert response.status_code not in (401, 403, 404, 405), f"{where}: denied ({response.status_code})"
        assert not is_login_redirect(response), f"{where}: sent to sign-in"
    elif role == ANYONE:
        assert is_login_redirect(response), (
            f"{where}: expected the sign-in redirect, got {response.status_code}"
        )
    elif role == SIGNED_IN:
        assert response.status_code == 404, f"{where}: an outsider should get 404, got {response.status_code}"
    else:
        assert response.status_code == 403, (
            f"{where}: expected 403 below {minimum}, got {response.status_code}"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(AUTH_FLOWS))
@pytest.mark.parametrize("role", [ANYONE, VIEWER])
def test_sign_in_flows_never_fail(client, name, role):
    world = make_world()
    url = url_of(name, world)
    sign_in(client, world, role)
    for method in ("GET", "POST"):
        response = call(client, method, url)
        assert response.status_code < 500, f"{method} {url} as {role}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(API_KEY_ROUTES))
@pytest.mark.parametrize("session_role", [ANYONE, OWNER])
def test_public_api_route_needs_a_key_not_a_session(client, name, session_role):
    world = make_world()
    url = url_of(name, world)
    sign_in(client, world, session_role)
    statuses = {
        method: client.generic(method, url, b"{}", content_type="application/json").status_code
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    }
    assert set(statuses.values()) <= {401, 405}, f"{url} as {session_role}: {statuses}"
    assert 401 in statuses.values(), f"{url}: no method asks for a key: {statuses}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(API_OPEN_ROUTES))
def test_open_public_routes_answer_without_a_key(client, name):
    world = make_world()
    response = client.get(url_of(name, world))
    assert response.status_code != 401
    assert response.status_code < 500
