"""Every /api/public/ route, called with one tenant's key against the other tenant's ids and names.

The table PROBES says, per route and method, what the attacker sends and what must happen:

- NOT_FOUND: 404; the same call with the attacker's own ids does not answer 404 (the control).
- HIDDEN: a list answers 200 with the attacker's rows and nothing of the victim (not even its tag).
- EMPTY: a filter by the victim's ids answers an empty list; by the attacker's own ids, a full one.
- OWN_WRITE: a write that names the victim's ids lands in the attacker's project (checked).
- NOTHING: a bulk action that names the victim's ids answers 2xx and touches nothing.
- REFUSED: 4xx, e.g. a score naming the victim's score config.

After every call the victim's rows, in every table, are exactly what they were. Both directions
run (bravo's key against alpha, alpha's key against bravo). A route of the URLconf without a probe
(or an exemption with a reason) fails the walk, and so does a method a route answers but no
probe sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import OrganizationMembership, Project
from prompts.models import Prompt
from tests.accounts.test_permission_matrix import ALL_URLS
from tests.isolation.conftest import DIRECTIONS, Tenant, changes, snapshot
from traces.models import Media, Observation, Score, ScoreConfig, Trace
from traces.storage import DOWNLOAD_SALT, UPLOAD_SALT, make_token

pytestmark = pytest.mark.django_db

NOT_FOUND, HIDDEN, EMPTY, OWN_WRITE, NOTHING, REFUSED = (
    "not-found",
    "hidden",
    "empty",
    "own-write",
    "nothing",
    "refused",
)
PROJECT_KEY, ORG_KEY, NO_KEY = "project", "organization", "none"

Build = Callable[[Tenant, Tenant], Any]  # (victim, attacker) -> value


@dataclass(frozen=True)
class Probe:
    route: str
    method: str
    expect: str
    kwargs: Build = lambda v, x: {}
    query: Build | None = None
    body: Build | None = None
    key: str = PROJECT_KEY
    check: Callable[[Tenant, Tenant, Any], None] | None = None  # after OWN_WRITE / NOTHING
    content_type: str = "application/json"
    control: bool = True
    label: str = ""
    exposes: str = ""  # why this answer may show the victim's content (a documented exception)

    @property
    def id(self) -> str:
        return f"{self.route}-{self.method}-{self.expect}{'-' + self.label if self.label else ''}"


# --- Builders ----------------------------------------------------------------------------------


def of(**attributes: str) -> Build:
    """URL kwargs or query parameters from the victim's attributes."""
    return lambda v, x: {name: _value(v, attr) for name, attr in attributes.items()}


def _value(tenant: Tenant, path: str):
    value = tenant
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ingestion_batch(v: Tenant, x: Tenant) -> dict:
    now = timezone.now()
    events = [
        ("trace-create", {"id": v.trace_id, "name": f"{x.tag}-overwrite", "userId": v.user_id}),
        ("span-update", {"id": v.span_id, "traceId": v.trace_id, "output": f"{x.tag} overwrite"}),
        ("generation-update", {"id": v.observation_id, "traceId": v.trace_id, "model": v.model_name}),
        ("score-create", {"id": v.score_id, "traceId": v.trace_id, "name": f"{x.tag}-score", "value": 1}),
    ]
    return {
        "batch": [
            {"id": f"evt-{i}", "type": kind, "timestamp": _iso(now), "body": body}
            for i, (kind, body) in enumerate(events)
        ]
    }


def landed_in_attacker(model, id_attr: str) -> Callable[[Tenant, Tenant, Any], None]:
    def check(v: Tenant, x: Tenant, response) -> None:
        row_id = _value(v, id_attr)
        assert model.objects.filter(project=x.project, id=row_id).exists(), (
            f"{model.__name__} {row_id} should now exist in {x.project.id} too"
        )

    return check


def ingestion_landed(v: Tenant, x: Tenant, response) -> None:
    assert response.json()["errors"] == []
    trace = Trace.objects.get(project=x.project, id=v.trace_id)
    assert trace.name == f"{x.tag}-overwrite"
    assert Observation.objects.filter(project=x.project, id=v.span_id).exists()
    generation = Observation.objects.get(project=x.project, id=v.observation_id)
    assert generation.total_cost is None, "the victim's custom model priced the attacker's generation"
    assert Score.objects.filter(project=x.project, id=v.score_id).exists()


def otlp_body(v: Tenant, x: Tenant) -> dict:
    start = int((timezone.now() - timedelta(minutes=1)).timestamp() * 1e9)
    span = {
        "traceId": v.hex_trace_id,
        "spanId": v.hex_observation_id,
        "name": f"{x.tag}-otel-span",
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 1_000_000),
        "attributes": [],
        "status": {"code": 0},
    }
    return {
        "resourceSpans": [
            {"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}
        ]
    }


def otlp_landed(v: Tenant, x: Tenant, response) -> None:
    assert Observation.objects.filter(project=x.project, id=v.hex_observation_id).exists()


def deleted_nothing(v: Tenant, x: Tenant, response) -> None:
    assert response.json()["deleted"] == 0


def media_body(v: Tenant, x: Tenant) -> dict:
    return {
        "traceId": v.trace_id,
        "field": "input",
        "contentType": "text/plain",
        "contentLength": 12,
        "sha256Hash": v.media_sha256,
    }


def media_landed(v: Tenant, x: Tenant, response) -> None:
    assert Media.objects.filter(project=x.project, sha256_hash=v.media_sha256).exists()
    assert response.json()["uploadUrl"], "the attacker's copy is not uploaded: it must ask for the bytes"


def token(salt: str) -> Build:
    """A genuinely signed media token for the attacker's project and the victim's media id."""
    return lambda v, x: {"token": make_token(Media(project_id=x.project.id, id=v.media_id), salt)}


def prompt_version_one(v: Tenant, x: Tenant, response) -> None:
    created = Prompt.objects.get(project=x.project, name=v.prompt_name)
    assert created.version == 1, "the attacker's prompt continued the victim's version numbers"


def joined_attacker_org(v: Tenant, x: Tenant, response) -> None:
    assert OrganizationMembership.objects.filter(organization=x.org, user=v.member).exists()


def project_created(v: Tenant, x: Tenant, response) -> None:
    assert Project.objects.filter(organization=x.org, name=f"{x.tag}-new-project").exists()


def config_created(v: Tenant, x: Tenant, response) -> None:
    assert ScoreConfig.objects.filter(project=x.project, name=f"{v.tag}-quality").exists()


PROBES: list[Probe] = [
    # accounts: the key's project, and the organisation API (organisation keys)
    Probe("api:projects", "GET", HIDDEN),
    Probe(
        "api:projects",
        "POST",
        OWN_WRITE,
        key=ORG_KEY,
        body=lambda v, x: {"name": f"{x.tag}-new-project"},
        check=project_created,
    ),
    Probe(
        "api:project",
        "PUT",
        NOT_FOUND,
        of(project_id="project.id"),
        body=lambda v, x: {"name": "x"},
        key=ORG_KEY,
    ),
    Probe("api:project", "DELETE", NOT_FOUND, of(project_id="project.id"), key=ORG_KEY),
    Probe("api:project-api-keys", "GET", NOT_FOUND, of(project_id="project.id"), key=ORG_KEY),
    Probe(
        "api:project-api-keys",
        "POST",
        NOT_FOUND,
        of(project_id="project.id"),
        body=lambda v, x: {},
        key=ORG_KEY,
    ),
    Probe(
        "api:project-api-key",
        "DELETE",
        NOT_FOUND,
        of(project_id="project.id", api_key_id="key.id"),
        key=ORG_KEY,
    ),
    Probe(
        "api:project-api-key",
        "DELETE",
        NOT_FOUND,
        lambda v, x: {"project_id": x.project.id, "api_key_id": v.key.id},
        key=ORG_KEY,
        label="own-project",
    ),
    Probe("api:project-memberships", "GET", NOT_FOUND, of(project_id="project.id"), key=ORG_KEY),
    Probe(
        "api:project-memberships",
        "PUT",
        NOT_FOUND,
        of(project_id="project.id"),
        body=lambda v, x: {"userId": str(v.member.pk), "role": "VIEWER"},
        key=ORG_KEY,
    ),
    Probe(
        "api:project-memberships",
        "DELETE",
        NOT_FOUND,
        of(project_id="project.id"),
        body=lambda v, x: {"userId": str(v.viewer.pk)},
        key=ORG_KEY,
    ),
    Probe(
        "api:project-memberships",
        "PUT",
        REFUSED,
        lambda v, x: {"project_id": x.project.id},
        body=lambda v, x: {"userId": str(v.member.pk), "role": "ADMIN"},
        key=ORG_KEY,
        label="victim-user",
    ),
    Probe("api:organization-memberships", "GET", HIDDEN, key=ORG_KEY),
    Probe(
        "api:organization-memberships",
        "DELETE",
        NOT_FOUND,
        body=lambda v, x: {"userId": str(v.member.pk)},
        key=ORG_KEY,
    ),
    Probe(
        "api:organization-memberships",
        "PUT",
        OWN_WRITE,
        body=lambda v, x: {"userId": str(v.member.pk), "role": "VIEWER"},
        key=ORG_KEY,
        check=joined_attacker_org,
        exposes="Langfuse's PUT adds any existing user, by id, to the caller's organisation (SCIM "
        "provisioning relies on it) and answers with the user's email and name; the victim's "
        "organisation is untouched. Listed in docs/reliability.md.",
    ),
    Probe("api:organization-projects", "GET", HIDDEN, key=ORG_KEY),
    Probe("api:organization-api-keys", "GET", HIDDEN, key=ORG_KEY),
    # ingestion: the victim's ids become the attacker's own rows
    Probe("api:ingestion", "POST", OWN_WRITE, body=ingestion_batch, check=ingestion_landed),
    Probe("api:otel-traces", "POST", OWN_WRITE, body=otlp_body, check=otlp_landed),
    Probe("api:otel-metrics", "POST", NOTHING, body=lambda v, x: {}),
    *[
        Probe(
            route,
            method,
            OWN_WRITE,
            body=lambda v, x, a=attr: {"id": _value(v, a), "traceId": v.trace_id, "name": f"{x.tag}-write"},
            check=landed_in_attacker(Observation, attr),
        )
        for route, method, attr in (
            ("api:spans", "POST", "span_id"),
            ("api:spans", "PATCH", "span_id"),
            ("api:generations", "POST", "observation_id"),
            ("api:generations", "PATCH", "observation_id"),
            ("api:events", "POST", "observation_id"),
        )
    ],
    # traces
    Probe("api:traces", "GET", HIDDEN),
    Probe("api:traces", "GET", EMPTY, query=of(userId="user_id"), label="user"),
    Probe("api:traces", "GET", EMPTY, query=of(sessionId="session_id"), label="session"),
    Probe("api:traces", "GET", EMPTY, query=lambda v, x: {"tags": f"{v.tag}-tag"}, label="tag"),
    Probe(
        "api:traces",
        "DELETE",
        NOTHING,
        body=lambda v, x: {"traceIds": [v.trace_id, v.hex_trace_id]},
        check=deleted_nothing,
        label="ids",
    ),
    Probe(
        "api:traces",
        "DELETE",
        NOTHING,
        body=lambda v, x: {"filter": {"userId": v.user_id}},
        check=deleted_nothing,
        label="filter",
    ),
    Probe(
        "api:traces",
        "POST",
        OWN_WRITE,
        body=lambda v, x: {"id": v.trace_id, "name": f"{x.tag}-legacy"},
        check=landed_in_attacker(Trace, "trace_id"),
    ),
    Probe("api:trace", "GET", NOT_FOUND, of(trace_id="trace_id")),
    Probe("api:trace", "DELETE", NOT_FOUND, of(trace_id="trace_id")),
    Probe("api:observations", "GET", HIDDEN),
    Probe("api:observations", "GET", EMPTY, query=of(traceId="trace_id"), label="trace"),
    Probe("api:observations", "GET", EMPTY, query=of(userId="user_id"), label="user"),
    Probe("api:observation", "GET", NOT_FOUND, of(observation_id="observation_id")),
    Probe("api:observations-v2", "GET", HIDDEN),
    Probe("api:observations-v2", "GET", EMPTY, query=of(traceId="trace_id")),
    Probe("api:sessions", "GET", HIDDEN),
    Probe("api:session", "GET", NOT_FOUND, of(session_id="session_id")),
    # scores and score configs
    Probe("api:scores", "GET", HIDDEN),
    Probe("api:scores", "GET", EMPTY, query=of(traceId="trace_id"), label="trace"),
    Probe("api:scores", "GET", EMPTY, query=of(configId="config_id"), label="config"),
    Probe(
        "api:scores",
        "POST",
        OWN_WRITE,
        body=lambda v, x: {"id": v.score_id, "traceId": v.trace_id, "name": f"{x.tag}-score", "value": 1},
        check=landed_in_attacker(Score, "score_id"),
    ),
    Probe(
        "api:scores",
        "POST",
        REFUSED,
        body=lambda v, x: {
            "traceId": x.trace_id,
            "name": f"{v.tag}-quality",
            "value": 5,
            "dataType": "NUMERIC",
            "configId": v.config_id,
        },
        label="victim-config",
    ),
    Probe("api:score", "GET", NOT_FOUND, of(score_id="score_id")),
    Probe("api:score", "DELETE", NOT_FOUND, of(score_id="score_id")),
    Probe("api:scores-v2", "GET", HIDDEN),
    Probe("api:scores-v2", "GET", EMPTY, query=of(scoreIds="score_id")),
    Probe("api:score-v2", "GET", NOT_FOUND, of(score_id="score_id")),
    Probe("api:scores-v3", "GET", HIDDEN),
    Probe("api:scores-v3", "GET", EMPTY, query=of(id="score_id"), label="id"),
    Probe("api:scores-v3", "GET", EMPTY, query=of(traceId="trace_id"), label="trace"),
    Probe("api:score-configs", "GET", HIDDEN),
    Probe(
        "api:score-configs",
        "POST",
        OWN_WRITE,
        body=lambda v, x: {"name": f"{v.tag}-quality", "dataType": "NUMERIC"},
        check=config_created,
    ),
    Probe("api:score-config", "GET", NOT_FOUND, of(config_id="config_id")),
    Probe(
        "api:score-config",
        "PATCH",
        NOT_FOUND,
        of(config_id="config_id"),
        body=lambda v, x: {"isArchived": True, "description": "x"},
    ),
    # models and daily metrics
    Probe("api:models", "GET", HIDDEN),
    Probe(
        "api:models",
        "POST",
        OWN_WRITE,
        body=lambda v, x: {"modelName": v.model_name, "matchPattern": f"^{v.model_name}$", "inputPrice": 1},
        check=lambda v, x, r: r.json()["id"] != v.model_id,
    ),
    Probe("api:model", "GET", NOT_FOUND, of(model_id="model_id")),
    Probe("api:model", "DELETE", NOT_FOUND, of(model_id="model_id")),
    Probe("api:metrics-daily", "GET", HIDDEN),
    Probe("api:metrics-daily", "GET", EMPTY, query=of(userId="user_id")),
    # media
    Probe("api:media", "POST", OWN_WRITE, body=media_body, check=media_landed),
    Probe("api:media-item", "GET", NOT_FOUND, of(media_id="media_id")),
    Probe(
        "api:media-item",
        "PATCH",
        NOT_FOUND,
        of(media_id="media_id"),
        body=lambda v, x: {"uploadedAt": _iso(timezone.now()), "uploadHttpStatus": 500},
    ),
    Probe(
        "api:media-upload",
        "PUT",
        NOT_FOUND,
        token(UPLOAD_SALT),
        body=lambda v, x: b"twelve bytes",
        content_type="text/plain",
        key=NO_KEY,
    ),
    # The control would need the bytes in the media folder; the 404 names the lookup that failed.
    Probe("api:media-download", "GET", NOT_FOUND, token(DOWNLOAD_SALT), key=NO_KEY, control=False),
    # prompts
    Probe("api:prompts", "GET", HIDDEN),
    Probe("api:prompts", "GET", EMPTY, query=of(name="prompt_name")),
    Probe(
        "api:prompts",
        "POST",
        OWN_WRITE,
        body=lambda v, x: {"name": v.prompt_name, "type": "text", "prompt": "x", "labels": ["production"]},
        check=prompt_version_one,
    ),
    Probe(
        "api:prompts",
        "POST",
        REFUSED,
        body=lambda v, x: {
            "name": f"{x.tag}-composed-2",
            "type": "text",
            "prompt": f"@@@langfusePrompt:name={v.prompt_name}|label=production@@@",
        },
        label="victim-reference",
    ),
    Probe("api:prompt", "GET", NOT_FOUND, of(name="prompt_name")),
    Probe(
        "api:prompt", "GET", NOT_FOUND, of(name="prompt_name"), query=lambda v, x: {"version": 1}, label="v1"
    ),
    Probe(
        "api:prompt",
        "GET",
        NOT_FOUND,
        of(name="prompt_name"),
        query=lambda v, x: {"label": "staging"},
        label="label",
    ),
    Probe("api:prompt", "DELETE", NOT_FOUND, of(name="prompt_name")),
    Probe(
        "api:prompt",
        "DELETE",
        NOT_FOUND,
        of(name="prompt_name"),
        query=lambda v, x: {"version": 2},
        label="v2",
    ),
    Probe(
        "api:prompt-version",
        "PATCH",
        NOT_FOUND,
        lambda v, x: {"name": v.prompt_name, "version": 1},
        body=lambda v, x: {"newLabels": ["production", "staging"]},
    ),
    # GET and DELETE here mean a prompt named "<name>/versions/<n>": no tenant has one, so no control.
    *[
        Probe("api:prompt-version", method, NOT_FOUND, of(name="prompt_name", version="one"), control=False)
        for method in ("GET", "DELETE")
    ],
    Probe("api:prompts-v1", "GET", NOT_FOUND, query=of(name="prompt_name")),
    Probe(
        "api:prompts-v1",
        "POST",
        OWN_WRITE,
        body=lambda v, x: {"name": v.prompt_name, "prompt": "x", "isActive": True},
        check=prompt_version_one,
    ),
]

# Routes that take no id and read no tenant's data.
EXEMPT: dict[str, str] = {
    "api:health": "liveness probe: no tenant data",
    "api:ready": "readiness probe: no tenant data",
    "api:openapi": "the OpenAPI document: no tenant data",
    "api:not-found": "the JSON 404 of unmatched /api/public/ paths: reads nothing",
}

API_URLS = {name: pattern for name, pattern in ALL_URLS if name.startswith("api:")}
LIVE_PROBES = [p for p in PROBES if p.route in API_URLS]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_every_public_api_route_has_probes_or_a_reason():
    probed = {p.route for p in PROBES}
    missing = sorted(set(API_URLS) - probed - set(EXEMPT))
    assert missing == [], (
        f"No isolation probe for {missing}: add rows to PROBES in {__name__.replace('.', '/')}.py "
        "(or to EXEMPT with the reason the route holds no tenant data)"
    )


def test_every_method_a_route_answers_is_probed(client, world):
    """Without a key, a method a route does not serve answers 405; every other method needs a probe."""
    unprobed = []
    for route in sorted(set(API_URLS) - set(EXEMPT)):
        probes = [p for p in LIVE_PROBES if p.route == route]
        if not probes:
            continue  # test_every_public_api_route_has_probes_or_a_reason names it
        url = reverse(route, kwargs=probes[0].kwargs(world.alpha, world.bravo))
        for method in METHODS:
            response = client.generic(method, url, b"{}", content_type="application/json")
            if response.status_code != 405 and method not in {p.method for p in probes}:
                unprobed.append(f"{method} {route} ({response.status_code})")
    assert unprobed == [], f"Methods these routes answer but no probe sends: {unprobed}"


def send(client, probe: Probe, victim: Tenant, attacker: Tenant):
    url = reverse(probe.route, kwargs=probe.kwargs(victim, attacker))
    if probe.query:
        url += "?" + urlencode(probe.query(victim, attacker), doseq=True)
    body = probe.body(victim, attacker) if probe.body else None
    data = body if isinstance(body, bytes) else (json.dumps(body) if body is not None else "")
    auth = {} if probe.key == NO_KEY else attacker.auth(probe.key)
    return client.generic(probe.method, url, data, content_type=probe.content_type, **auth)


def listed(response) -> list:
    body = response.json()
    for key in ("data", "memberships", "apiKeys", "projects"):
        if key in body:
            return body[key]
    raise AssertionError(f"no list in {sorted(body)}")


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("probe", LIVE_PROBES, ids=lambda p: p.id)
def test_other_tenant_cannot_reach(client, world, probe, direction):
    victim, attacker = world.pair(direction)
    response = send(client, probe, victim, attacker)
    where = f"{probe.method} {response.request['PATH_INFO']} with {attacker.tag}'s key"
    body = response.content.decode(errors="replace")
    if not probe.exposes:
        assert victim.secret not in body, f"{where} leaked {victim.tag}'s data: {body[:500]}"
    assert response.status_code < 500, f"{where}: {response.status_code} {body[:300]}"

    if probe.expect == NOT_FOUND:
        assert response.status_code == 404, f"{where}: expected 404, got {response.status_code} {body[:300]}"
    elif probe.expect == HIDDEN:
        assert response.status_code == 200, f"{where}: {response.status_code} {body[:300]}"
        assert victim.tag not in body, f"{where} lists {victim.tag}'s rows: {body[:500]}"
        assert attacker.tag in body, f"{where} lists nothing of its own: the probe proves nothing"
    elif probe.expect == EMPTY:
        assert response.status_code == 200, f"{where}: {response.status_code} {body[:300]}"
        assert listed(response) == [], f"{where} found {victim.tag}'s rows: {body[:500]}"
    elif probe.expect in (OWN_WRITE, NOTHING):
        assert 200 <= response.status_code < 300, f"{where}: {response.status_code} {body[:300]}"
    elif probe.expect == REFUSED:
        assert 400 <= response.status_code < 500, f"{where}: expected a 4xx, got {response.status_code}"
    if probe.check:
        probe.check(victim, attacker, response)

    if probe.method != "GET":  # reads are checked for leaks above; writes for changes here
        after = snapshot(victim)
        assert after == world.snapshots[victim.tag], (
            f"{where} changed {victim.tag}'s data: {changes(world.snapshots[victim.tag], after)}"
        )

    if probe.control and probe.expect in (NOT_FOUND, EMPTY):
        own = send(client, probe, attacker, attacker)
        assert own.status_code not in (401, 403, 404, 405), (
            f"control: {probe.method} {own.request['PATH_INFO']} with {attacker.tag}'s own ids answered "
            f"{own.status_code}, so the 404 above proves nothing: {own.content[:300]!r}"
        )
        if probe.expect == EMPTY:
            assert listed(own) != [], f"control: the filter by {attacker.tag}'s own ids finds nothing"
        if probe.method != "GET":  # deleting its own trace, project, key, ... leaves the victim alone
            after = snapshot(victim)
            assert after == world.snapshots[victim.tag], (
                f"control: {probe.method} {own.request['PATH_INFO']} changed {victim.tag}'s data: "
                f"{changes(world.snapshots[victim.tag], after)}"
            )
