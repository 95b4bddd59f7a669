"""Two tenants with data of every kind, built once for the whole package and rolled back at its end.

Tenant "qalpha" and tenant "qbravo" each get an organisation, a project, four members, project and
organisation API keys, traces, observations, scores, score configs, a session, a user, comments,
media, prompts with versions, labels and a protected label, a custom model with prices, a saved
view, an LLM connection, a budget, an invitation and a per-project role override.

Every id of a tenant contains its tag ("qalpha-trace-1"), and every piece of content it stored
contains its secret marker ("qalpha-secret"): a response to the other tenant that holds the
marker leaked content; one that holds the tag (when no id of the tenant was sent) leaked anything.

`snapshot(tenant)` reads every row of the tenant, of every model of the project's apps, so a
test can prove that a request of the other tenant changed nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.test import Client
from django.utils import timezone

from accounts import api_keys, invitations
from accounts.models import (
    ApiKey,
    Organization,
    OrganizationMembership,
    Project,
    ProjectMembership,
    Role,
    User,
)
from prompts import versions
from prompts.models import ProtectedLabel
from tests.factories import make_user
from traces import annotations
from traces.budgets.models import Budget
from traces.llm_connections import create_connection
from traces.models import Media, SavedView, ScoreConfig, Trace, TraceSession

APPS = ("accounts", "traces", "prompts", "budgets", "langfuse_ui")


@dataclass
class Tenant:
    tag: str
    org: Organization
    project: Project
    owner: User
    admin: User
    member: User
    viewer: User
    public_key: str
    secret_key: str
    key: ApiKey
    org_key: ApiKey
    org_secret: str
    hex_trace_id: str
    hex_observation_id: str
    sibling: Project
    sibling_owner: User
    invitation_id: str = ""
    invitation_token: str = ""
    config_id: str = ""
    model_id: str = ""
    media_id: str = ""
    media_sha256: str = ""
    view_id: str = ""
    connection_id: str = ""
    budget_id: int = 0
    export_id: str = ""

    @property
    def secret(self) -> str:
        return f"{self.tag}-secret"

    @property
    def trace_id(self) -> str:
        return f"{self.tag}-trace-1"

    @property
    def observation_id(self) -> str:
        return f"{self.tag}-generation-1"

    @property
    def span_id(self) -> str:
        return f"{self.tag}-span-1"

    @property
    def score_id(self) -> str:
        return f"{self.tag}-score-1"

    @property
    def session_id(self) -> str:
        return f"{self.tag}-session"

    @property
    def user_id(self) -> str:
        return f"{self.tag}-user"

    @property
    def prompt_name(self) -> str:
        return f"{self.tag}-prompt"

    @property
    def model_name(self) -> str:
        return f"{self.tag}-model"

    @property
    def one(self) -> int:
        return 1

    @property
    def membership_id(self) -> int:
        return OrganizationMembership.objects.get(organization=self.org, user=self.member).pk

    def auth(self, scope: str = "project") -> dict:
        pair = (
            (self.public_key, self.secret_key)
            if scope == "project"
            else (self.org_key.public_key, self.org_secret)
        )
        token = base64.b64encode(":".join(pair).encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@dataclass
class World:
    alpha: Tenant
    bravo: Tenant
    snapshots: dict[str, dict]

    def pair(self, direction: str) -> tuple[Tenant, Tenant]:
        """(victim, attacker) for "qbravo->qalpha" (bravo attacks alpha) or "qalpha->qbravo"."""
        by_tag = {self.alpha.tag: self.alpha, self.bravo.tag: self.bravo}
        attacker, victim = direction.split("->")
        return by_tag[victim], by_tag[attacker]


DIRECTIONS = ["qbravo->qalpha", "qalpha->qbravo"]


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _event(kind: str, body: dict, when) -> dict:
    return {"id": f"evt-{kind}-{body['id']}", "type": kind, "timestamp": _iso(when), "body": body}


def _api(client: Client, tenant: Tenant, method: str, path: str, body) -> dict:
    response = client.generic(
        method, f"/api/public/{path}", json.dumps(body), content_type="application/json", **tenant.auth()
    )
    assert response.status_code < 300, f"{path}: {response.status_code} {response.content[:500]!r}"
    return response.json()


def make_tenant(tag: str, letter: str) -> Tenant:
    org = Organization.objects.create(id=f"org-{tag}", name=f"{tag}-secret organisation")
    project = Project.objects.create(id=f"proj-{tag}", organization=org, name=f"{tag}-secret-project")
    people = {}
    for role in (Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER):
        user = make_user(f"{role.lower()}@{tag}.test", name=f"{tag}-secret {role.lower()}")
        OrganizationMembership.objects.create(organization=org, user=user, role=role)
        people[role] = user
    ProjectMembership.objects.create(project=project, user=people[Role.VIEWER], role=Role.MEMBER)
    # A sibling project of the same organisation, owned by someone with no role in the organisation.
    sibling = Project.objects.create(id=f"proj-{tag}-sibling", organization=org, name=f"{tag}-sibling")
    sibling_owner = make_user(f"sibling-owner@{tag}.test")
    OrganizationMembership.objects.create(organization=org, user=sibling_owner, role=Role.NONE)
    ProjectMembership.objects.create(project=sibling, user=sibling_owner, role=Role.OWNER)
    key, secret = api_keys.create_api_key(project=project, note=f"{tag}-secret key")
    org_key, org_secret = api_keys.create_api_key(organization=org, note=f"{tag}-secret org key")
    tenant = Tenant(
        tag=tag,
        org=org,
        project=project,
        owner=people[Role.OWNER],
        admin=people[Role.ADMIN],
        member=people[Role.MEMBER],
        viewer=people[Role.VIEWER],
        public_key=key.public_key,
        secret_key=secret,
        key=key,
        org_key=org_key,
        org_secret=org_secret,
        hex_trace_id=letter * 32,
        hex_observation_id=letter * 16,
        sibling=sibling,
        sibling_owner=sibling_owner,
    )
    _fill(tenant)
    return tenant


def _fill(t: Tenant) -> None:
    client = Client()
    now = timezone.now()
    secret = t.secret
    model = _api(
        client,
        t,
        "POST",
        "models",
        {
            "modelName": t.model_name,
            "matchPattern": f"(?i)^{t.model_name}$",
            "unit": "TOKENS",
            "inputPrice": 0.001,
            "outputPrice": 0.002,
        },
    )
    t.model_id = model["id"]
    config = ScoreConfig.objects.create(
        project=t.project,
        name=f"{t.tag}-quality",
        data_type="NUMERIC",
        min_value=0,
        max_value=10,
        description=f"{secret} config",
    )
    t.config_id = config.id
    versions.create_version(
        t.project, name=t.prompt_name, type="text", prompt=f"{secret} v1 {{{{name}}}}", labels=["production"]
    )
    versions.create_version(
        t.project, name=t.prompt_name, type="text", prompt=f"{secret} v2 {{{{name}}}}", labels=["staging"]
    )
    versions.create_version(
        t.project,
        name=f"{t.tag}-composed",
        type="text",
        prompt=f"{secret} composed: @@@langfusePrompt:name={t.prompt_name}|label=production@@@",
        labels=["production"],
    )
    ProtectedLabel.objects.create(project=t.project, label="staging")
    start = now - timedelta(hours=1)
    batch = [
        _event(
            "trace-create",
            {
                "id": t.trace_id,
                "timestamp": _iso(start),
                "name": f"{secret}-trace",
                "userId": t.user_id,
                "sessionId": t.session_id,
                "input": {"question": f"{secret} input"},
                "output": {"answer": f"{secret} output"},
                "metadata": {"team": f"{t.tag}-team", "note": f"{secret} metadata"},
                "tags": [f"{t.tag}-tag"],
                "release": f"{t.tag}-release",
            },
            start,
        ),
        _event(
            "span-create",
            {
                "id": t.span_id,
                "traceId": t.trace_id,
                "name": f"{secret}-span",
                "startTime": _iso(start),
                "endTime": _iso(start + timedelta(seconds=2)),
                "input": f"{secret} span input",
            },
            start,
        ),
        _event(
            "generation-create",
            {
                "id": t.observation_id,
                "traceId": t.trace_id,
                "parentObservationId": t.span_id,
                "name": f"{secret}-generation",
                "model": t.model_name,
                "startTime": _iso(start),
                "endTime": _iso(start + timedelta(seconds=1)),
                "input": [{"role": "user", "content": f"{secret} prompt"}],
                "output": {"role": "assistant", "content": f"{secret} completion"},
                "usageDetails": {"input": 100, "output": 50},
                "promptName": t.prompt_name,
                "promptVersion": 1,
            },
            start,
        ),
        _event(
            "trace-create",
            {"id": t.hex_trace_id, "timestamp": _iso(start), "name": f"{secret}-hex-trace"},
            start,
        ),
        _event(
            "span-create",
            {"id": t.hex_observation_id, "traceId": t.hex_trace_id, "name": f"{secret}-hex-span"},
            start,
        ),
        _event(
            "score-create",
            {
                "id": t.score_id,
                "traceId": t.trace_id,
                "name": f"{t.tag}-quality",
                "value": 7,
                "dataType": "NUMERIC",
                "configId": t.config_id,
                "comment": f"{secret} score comment",
            },
            start,
        ),
    ]
    result = _api(client, t, "POST", "ingestion", {"batch": batch})
    assert result["errors"] == [], result["errors"]
    trace = Trace.objects.get(project=t.project, id=t.trace_id)
    annotations.add_comment(t.project, t.owner, trace=trace, observation=None, content=f"{secret} comment")
    annotations.add_score(t.project, t.member, trace=trace, observation=None, config=config, value="3")
    t.media_sha256 = base64.b64encode(hashlib.sha256(f"{t.tag} media".encode()).digest()).decode()
    media = _api(
        client,
        t,
        "POST",
        "media",
        {
            "traceId": t.trace_id,
            "field": "input",
            "contentType": "text/plain",
            "contentLength": 12,
            "sha256Hash": t.media_sha256,
        },
    )
    t.media_id = media["mediaId"]
    Media.objects.filter(project=t.project, id=t.media_id).update(uploaded_at=now, upload_http_status=200)
    t.view_id = SavedView.objects.create(
        project=t.project, name=f"{secret}-view", query_string=f"user={t.user_id}", created_by=t.owner
    ).id
    t.connection_id = create_connection(
        t.project,
        name=f"{secret}-connection",
        base_url=f"http://127.0.0.1:9/{t.tag}/v1",
        api_key=f"{secret}-llm-api-key",
        default_model=t.model_name,
    ).id
    t.budget_id = Budget.objects.create(
        project=t.project, team=f"{t.tag}-team", monthly_usd=10, created_by=t.owner
    ).pk
    TraceSession.objects.create(project=t.project, id=t.session_id, environment="default", bookmarked=True)
    _exports(t)
    invitation, token = invitations.invite(t.org, f"invitee@{t.tag}.test", Role.MEMBER, t.owner, Role.OWNER)
    t.invitation_id, t.invitation_token = invitation.id, token


def _exports(t: Tenant) -> None:
    """An export job and a daily export schedule, where this checkout has them."""
    try:
        job, schedule = apps.get_model("traces", "ExportJob"), apps.get_model("traces", "ExportSchedule")
    except LookupError:
        return
    t.export_id = job.objects.create(
        project=t.project, requested_by=t.owner, filter_query=f"user={t.user_id}", error=f"{t.secret} job"
    ).id
    schedule.objects.create(project=t.project, enabled=True, updated_by=t.owner)


# --- Snapshots -------------------------------------------------------------------------------

# Models that hold no tenant data, with the reason.
NOT_TENANT_DATA = {
    "langfuse_ui": "server-wide counters (rate limits), no tenant rows",
}


def tenant_rows(model: type[Model], t: Tenant) -> QuerySet | None:
    """Every row of `model` that belongs to the tenant, or None if the model holds no tenant rows."""
    names = {f.attname for f in model._meta.concrete_fields}
    if model is Organization:
        return model.objects.filter(pk=t.org.pk)
    if model is Project:
        return model.objects.filter(organization_id=t.org.pk)
    if model is User:
        return model.objects.filter(organization_memberships__organization_id=t.org.pk)
    match = Q()
    if "organization_id" in names:
        match |= Q(organization_id=t.org.pk)
    if "project_id" in names:
        match |= Q(project_id=t.project.pk)
    if match:
        return model.objects.filter(match)
    for fk in model._meta.concrete_fields:
        target = fk.related_model
        if (
            fk.many_to_one
            and target is not None
            and "project_id" in {f.attname for f in target._meta.concrete_fields}
        ):
            return model.objects.filter(**{f"{fk.name}__project_id": t.project.pk})
    return None


def tenant_models() -> list[type[Model]]:
    return [m for m in apps.get_models() if m._meta.app_label in APPS]


def snapshot(t: Tenant) -> dict[str, list[str]]:
    """Every row of the tenant, model by model, as sorted JSON texts; one query for all tables."""
    parts, params, found = [], [], {}
    for model in tenant_models():
        rows = tenant_rows(model, t)
        if rows is None:
            continue
        sql, values = rows.order_by().query.sql_with_params()
        parts.append(f"SELECT %s::text, row_to_json(r)::text FROM ({sql}) AS r")
        params += [model._meta.label, *values]
        found[model._meta.label] = []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for label, row in cursor.fetchall():
            found[label].append(row)
    return {label: sorted(rows) for label, rows in found.items()}


def changes(before: dict, after: dict) -> dict:
    """Models whose rows differ, with what appeared and what went."""
    diff = {}
    for label in sorted(set(before) | set(after)):
        old, new = set(before.get(label, [])), set(after.get(label, []))
        if old != new:
            diff[label] = {"gone": sorted(old - new)[:3], "new": sorted(new - old)[:3]}
    return diff


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    """Both tenants, in a transaction that the end of the package rolls back."""
    with django_db_blocker.unblock(), transaction.atomic():
        alpha = make_tenant("qalpha", "a")
        bravo = make_tenant("qbravo", "b")
        built = World(alpha=alpha, bravo=bravo, snapshots={t.tag: snapshot(t) for t in (alpha, bravo)})
        yield built
        transaction.set_rollback(True)
