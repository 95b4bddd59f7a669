"""POST /api/public/otel/v1/traces: recorded client requests through the real route."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from tests.factories import ensure_default_prices
from traces.models import Observation, Trace

pytestmark = pytest.mark.django_db
WIRE = Path(__file__).resolve().parent.parent / "fixtures" / "wire"


@pytest.fixture(autouse=True)
def prices(db):
    ensure_default_prices()


def auth(team) -> dict:
    token = base64.b64encode(f"{team.public_key}:{team.secret_key}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def post(client, team, body: bytes, content_type: str = "application/x-protobuf", **headers):
    return client.post("/api/public/otel/v1/traces", body, content_type=content_type, **auth(team), **headers)


def test_python_v5_gzip_protobuf_is_stored(client, team):
    body = gzip.compress((WIRE / "python-sdk-5.0.4/004-POST-api_public_otel_v1_traces.bin").read_bytes())
    response = post(client, team, body, HTTP_CONTENT_ENCODING="gzip", HTTP_X_LANGFUSE_INGESTION_VERSION="4")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-protobuf"
    assert Observation.objects.for_project(team.project).count() == 7
    gen = Observation.objects.get(project=team.project, name="llm-call")
    assert gen.type == "GENERATION"
    assert gen.provided_model_name == "gpt-4o-mini"
    # Sent as input 12 (cache reads included, as total 17 = 12 + 5 shows) plus 2 cache reads:
    # stored with the cache reads split out so they are not priced twice.
    assert gen.provided_usage_details["input"] == 12
    assert gen.usage_details == {"input": 10, "cache_read_input_tokens": 2, "output": 5, "total": 17}
    assert gen.prompt_name == "greeting" and gen.prompt_version == 1
    trace = Trace.objects.get(project=team.project, id=gen.trace_id)
    assert trace.name == "my-trace" and trace.user_id == "u1" and trace.session_id == "s1"
    assert trace.tags == ["t1", "t2"] and trace.environment == "staging" and trace.release == "rel-1.2.3"
    assert trace.metadata.get("tenant") == "acme"
    assert trace.total_cost == sum(
        o.total_cost or 0 for o in Observation.objects.for_project(team.project).in_trace(trace.id)
    )


def test_same_request_twice_is_idempotent(client, team):
    body = (WIRE / "python-sdk-4.18.0/004-POST-api_public_otel_v1_traces.bin").read_bytes()
    post(client, team, body)
    first = sorted(Observation.objects.for_project(team.project).values_list("id", "name", "total_cost"))
    post(client, team, body)
    assert (
        sorted(Observation.objects.for_project(team.project).values_list("id", "name", "total_cost")) == first
    )


def test_js_json_body_answers_json(client, team):
    body = (WIRE / "js-sdk-5.11.1/003-POST-api_public_otel_v1_traces.body.json").read_bytes()
    response = post(client, team, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {}
    assert Observation.objects.for_project(team.project).exists()


def test_litellm_roots_in_separate_requests_share_a_trace(client, team):
    for name in ("002", "003"):
        body = (
            WIRE / f"litellm-1.110.2-cb-langfuse-sdk4.18.0/{name}-POST-api_public_otel_v1_traces.bin"
        ).read_bytes()
        assert post(client, team, body).status_code == 200
    traces = Trace.objects.for_project(team.project)
    shared = [t for t in traces if t.observation_count > 1]
    assert shared, "two root generations of one LiteLLM session trace end up on one trace"


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "needle"),
    [
        (b"\x00\xff garbage", "application/x-protobuf", None, "protobuf"),
        (b"{not json", "application/json", None, "JSON"),
        (b"not gzip at all", "application/x-protobuf", "gzip", "gzip"),
    ],
)
def test_malformed_input_is_400_with_a_reason(client, team, body, content_type, encoding, needle):
    extra = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    response = post(client, team, body, content_type=content_type, **extra)
    assert response.status_code == 400
    assert needle.lower() in response.json()["message"].lower()


def test_wrong_key_is_401(client, team):
    body = (WIRE / "python-sdk-4.18.0/004-POST-api_public_otel_v1_traces.bin").read_bytes()
    response = client.post(
        "/api/public/otel/v1/traces",
        body,
        content_type="application/x-protobuf",
        HTTP_AUTHORIZATION="Basic eDp5",
    )
    assert response.status_code == 401
    assert not Observation.objects.exists()


def test_metrics_are_accepted_and_dropped(client, team):
    response = client.post(
        "/api/public/otel/v1/metrics", json.dumps({}), content_type="application/json", **auth(team)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "capture",
    [
        "python-sdk-5.0.4/004-POST-api_public_otel_v1_traces.bin",
        "python-sdk-5.0.4-langchain/001-POST-api_public_otel_v1_traces.bin",
        "litellm-1.110.2-cb-langfuse-sdk4.18.0/002-POST-api_public_otel_v1_traces.bin",
    ],
)
def test_totals_written_with_new_traces_equal_a_recount(client, team, capture):
    from tests.traces.test_ingestion import AGGREGATES
    from traces.ingest.writer import refresh_trace_aggregates

    post(client, team, (WIRE / capture).read_bytes())
    traces = Trace.objects.for_project(team.project)
    written = {t.id: [getattr(t, f) for f in AGGREGATES] for t in traces}
    refresh_trace_aggregates(team.project.id, sorted(written))
    assert written == {t.id: [getattr(t, f) for f in AGGREGATES] for t in traces.all()}
