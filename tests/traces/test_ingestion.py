"""POST /api/public/ingestion: recorded client batches, merging, per-event errors, limits."""

from __future__ import annotations

import base64
import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import ensure_default_prices, make_key
from traces.models import Observation, Score, Trace

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def prices(db):
    ensure_default_prices()


WIRE = Path(__file__).resolve().parent.parent / "fixtures" / "wire"


def auth(public: str, secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()}


def post_batch(client, team, batch, **extra):
    body = json.dumps({"batch": batch, "metadata": {"sdk": "test"}})
    return client.post(
        "/api/public/ingestion",
        body,
        content_type="application/json",
        **auth(team.public_key, team.secret_key),
        **extra,
    )


def recorded(folder: str, name: str) -> list[dict]:
    return json.loads((WIRE / folder / name).read_text())["body_json"]["batch"]


def event(kind: str, body: dict, event_id: str | None = None, ts: str = "2026-01-01T00:00:00.000Z") -> dict:
    return {
        "id": event_id or f"evt-{kind}-{body.get('id')}-{len(json.dumps(body))}",
        "type": kind,
        "timestamp": ts,
        "body": body,
    }


def test_python_v2_batch_is_stored_with_every_field(client, team):
    response = post_batch(client, team, recorded("python-sdk-2.60.10", "004-POST-api_public_ingestion.json"))
    assert response.status_code == 207
    assert response.json()["errors"] == []
    assert len(response.json()["successes"]) == 12
    trace = Trace.objects.get(project=team.project, id="a08dd1bf-5449-43ee-8e95-4a8f3eea3f97")
    assert (trace.name, trace.user_id, trace.session_id) == ("v2-trace", "u1", "s1")
    assert (trace.release, trace.version, trace.environment) == ("rel-1.2.3", "app-v1", "staging")
    assert trace.tags == ["t1", "t2"]
    assert trace.metadata["tenant"] == "acme"
    assert trace.input == {"q": "hi"}
    assert trace.output == {"answer": "done"}

    observations = {o.name: o for o in Observation.objects.for_project(team.project).in_trace(trace.id)}
    assert set(observations) == {"child-span", "llm-call", "llm-call-2", "my-event"}
    span, gen, gen2, evt = (observations[n] for n in ("child-span", "llm-call", "llm-call-2", "my-event"))
    assert span.type == "SPAN" and span.level == "WARNING" and span.status_message == "slow"
    assert span.output == "child out" and span.end_time is not None
    assert gen.type == "GENERATION" and gen.parent_observation_id == span.id
    assert gen.provided_model_name == "gpt-4o-mini"
    assert gen.input == [{"role": "system", "content": "be nice"}, {"role": "user", "content": "Hello"}]
    assert gen.output == {"role": "assistant", "content": "Hi there!"}
    assert gen.usage_details == {"input": 12, "output": 5, "total": 17}
    # Costs sent by the client win over the price table.
    assert gen.cost_details == {"input": 0.0012, "output": 0.0005, "total": 0.0017}
    assert gen.total_cost == Decimal("0.0017")
    assert gen2.completion_start_time is not None
    assert evt.type == "EVENT" and evt.end_time == evt.start_time

    scores = {s.name: s for s in Score.objects.for_project(team.project)}
    assert scores["quality"].value == 0.9 and scores["quality"].comment == "great"
    assert scores["gen-score"].data_type == "BOOLEAN" and scores["gen-score"].observation_id == gen.id
    assert scores["category"].data_type == "CATEGORICAL" and scores["category"].string_value == "good"

    trace.refresh_from_db()
    assert trace.observation_count == 4
    assert trace.warning_count == 1
    assert trace.total_cost == sum(o.total_cost or 0 for o in observations.values())
    assert trace.start_time == min(o.start_time for o in observations.values())


def test_update_before_create_merges(client, team):
    """The legacy JS SDK sends a span-update ahead of its span-create inside one batch."""
    response = post_batch(
        client, team, recorded("js-legacy-langfuse-3.39.2", "002-POST-api_public_ingestion.json")
    )
    assert response.status_code == 207 and response.json()["errors"] == []
    child = Observation.objects.get(project=team.project, id="21914061-f304-4385-bfdf-f984c034a480")
    assert (child.name, child.input, child.output) == ("child-span", "child in", "child out")
    gen = Observation.objects.get(project=team.project, id="619536f5-3352-40d1-adcd-7ab07b487604")
    assert gen.type == "GENERATION" and gen.name == "llm-call"
    assert gen.prompt_name == "greeting" and gen.prompt_version == 1
    assert gen.usage_details["input"] == 12
    trace = Trace.objects.get(project=team.project, id="18b35780-3562-4a49-a49e-ab457e27cfe9")
    assert trace.name == "jsv3-trace" and trace.output == {"answer": "done"} and trace.input == {"q": "hi"}


def test_updates_in_a_later_request_merge_and_order_does_not_matter(client, team):
    create = event(
        "generation-create", {"id": "g1", "traceId": "t1", "name": "gen", "model": "gpt-4o", "input": "q"}
    )
    update = event(
        "generation-update",
        {"id": "g1", "traceId": "t1", "output": "a", "usageDetails": {"input": 1000, "output": 100}},
    )
    trace = event("trace-create", {"id": "t1", "name": "late trace", "metadata": {"a": 1}, "tags": ["x"]})
    for batch in ([update], [create], [trace]):
        assert post_batch(client, team, batch).json()["errors"] == []
    gen = Observation.objects.get(project=team.project, id="g1")
    assert (gen.name, gen.input, gen.output, gen.type) == ("gen", "q", "a", "GENERATION")
    # Priced from the default table: gpt-4o input $2.50 and output $10 per million tokens.
    assert gen.cost_details["input"] == pytest.approx(0.0025)
    assert gen.cost_details["output"] == pytest.approx(0.001)
    assert gen.internal_model_id
    stored = Trace.objects.get(project=team.project, id="t1")
    assert stored.name == "late trace" and stored.input_tokens == 1000 and stored.output_tokens == 100
    assert stored.total_cost == gen.total_cost
    more = event("trace-create", {"id": "t1", "metadata": {"b": 2}, "tags": ["y", "x"]})
    post_batch(client, team, [more])
    stored.refresh_from_db()
    assert stored.metadata == {"a": 1, "b": 2}
    assert stored.tags == ["x", "y"]


def test_same_batch_twice_changes_nothing(client, team):
    batch = recorded("python-sdk-2.60.10", "005-POST-api_public_ingestion.json")
    post_batch(client, team, batch)
    before = list(Observation.objects.for_project(team.project).order_by("id").values())
    post_batch(client, team, batch)
    after = list(Observation.objects.for_project(team.project).order_by("id").values())
    for row in before + after:
        row.pop("updated_at")
    assert before == after
    assert Trace.objects.for_project(team.project).count() == 2
    assert Score.objects.for_project(team.project).count() == 1


def test_one_bad_event_does_not_reject_its_neighbours(client, team):
    batch = [
        event("trace-create", {"id": "good-1", "name": "ok"}, "e1"),
        event("span-create", {"id": "s1", "traceId": "good-1", "startTime": "not a date"}, "e2"),
        {"id": "e3", "type": "no-such-type", "timestamp": "2026-01-01T00:00:00Z", "body": {}},
        "not even an object",
        event(
            "score-create",
            {"id": "sc1", "traceId": "good-1", "name": "q", "value": "x", "dataType": "NUMERIC"},
            "e5",
        ),
        event("span-create", {"id": "s2", "traceId": "good-1", "name": "fine", "level": "ERROR"}, "e6"),
    ]
    body = post_batch(client, team, batch).json()
    assert {s["id"] for s in body["successes"]} == {"e1", "e6"}
    errors = {e["id"]: e for e in body["errors"]}
    assert set(errors) == {"e2", "e3", "#3", "e5"}
    assert all(e["status"] == 400 for e in errors.values())
    assert "ISO-8601" in errors["e2"]["message"]
    assert "unknown event type" in errors["e3"]["message"]
    assert "NUMERIC" in errors["e5"]["message"]
    assert Trace.objects.get(project=team.project, id="good-1").error_count == 1
    assert not Observation.objects.filter(id="s1").exists()


def test_hostile_values_are_stored_not_crashed_on(client, team):
    nasty = {
        "text": "nul\x00byte",
        "emoji": "😀",
        "lone": "\ud800",
        "deep": {"a": [1, {"b": None}]},
        "big": "x" * 100_000,
    }
    batch = [
        event("trace-create", {"id": "odd \u2603 id", "name": "名前", "input": nasty, "metadata": nasty})
    ]
    assert post_batch(client, team, batch).json()["errors"] == []
    trace = Trace.objects.get(project=team.project, id="odd \u2603 id")
    assert trace.input["text"] == "nulbyte" and trace.input["emoji"] == "😀" and trace.name == "名前"


def test_body_must_hold_a_batch_list(client, team):
    response = client.post(
        "/api/public/ingestion",
        "{}",
        content_type="application/json",
        **auth(team.public_key, team.secret_key),
    )
    assert response.status_code == 400
    assert "batch" in response.json()["message"]
    response = client.post(
        "/api/public/ingestion",
        "not json",
        content_type="application/json",
        **auth(team.public_key, team.secret_key),
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_gzip_bodies_are_accepted(client, team):
    body = gzip.compress(json.dumps({"batch": [event("trace-create", {"id": "gz"})]}).encode())
    response = client.post(
        "/api/public/ingestion",
        body,
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
        **auth(team.public_key, team.secret_key),
    )
    assert response.status_code == 207
    assert Trace.objects.filter(project=team.project, id="gz").exists()


def test_oversized_body_is_413_naming_the_limit(client, team, settings):
    settings.INGESTION_MAX_BODY_BYTES = 2048
    response = post_batch(client, team, [event("trace-create", {"id": "big", "input": "x" * 5000})])
    assert response.status_code == 413
    assert "2048" in response.json()["message"]
    assert not Trace.objects.filter(id="big").exists()


def test_data_goes_to_the_keys_project_only(client, team):
    other_public, other_secret = make_key(team.other_project)
    batch = json.dumps({"batch": [event("trace-create", {"id": "shared-id", "name": "theirs"})]})
    client.post(
        "/api/public/ingestion", batch, content_type="application/json", **auth(other_public, other_secret)
    )
    post_batch(client, team, [event("trace-create", {"id": "shared-id", "name": "ours"})])
    assert Trace.objects.get(project=team.project, id="shared-id").name == "ours"
    assert Trace.objects.get(project=team.other_project, id="shared-id").name == "theirs"


def test_public_key_alone_may_only_send_scores(client, team):
    batch = [
        event("score-create", {"id": "s", "traceId": "t", "name": "thumbs", "value": 1}, "e1"),
        event("trace-create", {"id": "t"}, "e2"),
    ]
    response = client.post(
        "/api/public/ingestion",
        json.dumps({"batch": batch}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {team.public_key}",
    )
    body = response.json()
    assert [s["id"] for s in body["successes"]] == ["e1"]
    assert body["errors"][0]["id"] == "e2" and body["errors"][0]["status"] == 401


def test_environment_rules(client, team):
    batch = [
        event("trace-create", {"id": "env1", "environment": "Production"}),
        event("trace-create", {"id": "env2", "environment": "langfuse-prod"}),
        event("trace-create", {"id": "env3", "environment": "has spaces!"}),
        event("trace-create", {"id": "env4"}),
    ]
    post_batch(client, team, batch)
    envs = dict(Trace.objects.for_project(team.project).values_list("id", "environment"))
    assert envs == {"env1": "production", "env2": "prod", "env3": "default", "env4": "default"}


def test_usage_shapes_are_normalised(client, team):
    openai = {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "prompt_tokens_details": {"cached_tokens": 30},
    }
    batch = [
        event(
            "generation-create",
            {
                "id": "u1",
                "traceId": "tu",
                "usage": {"promptTokens": 5, "completionTokens": 6, "totalTokens": 11},
            },
        ),
        event("generation-create", {"id": "u2", "traceId": "tu", "usageDetails": openai, "model": "gpt-4o"}),
    ]
    post_batch(client, team, batch)
    u1 = Observation.objects.get(project=team.project, id="u1")
    assert u1.usage_details == {"input": 5, "output": 6, "total": 11}
    u2 = Observation.objects.get(project=team.project, id="u2")
    assert u2.usage_details["input"] == 70 and u2.usage_details["input_cached_tokens"] == 30
    # Cached tokens priced at the cached rate and not counted twice.
    expected = 70 * 2.5e-6 + 30 * 1.25e-6 + 20 * 10e-6
    assert float(u2.total_cost) == pytest.approx(expected)


def test_generations_link_to_the_prompt_version_they_name(client, team):
    from prompts.models import Prompt

    prompt = Prompt.objects.create(project=team.project, name="greeting", version=2, prompt="Hi {{name}}")
    batch = [
        event(
            "generation-create", {"id": "pg1", "traceId": "pt", "promptName": "greeting", "promptVersion": 2}
        ),
        event(
            "generation-create", {"id": "pg2", "traceId": "pt", "promptName": "greeting", "promptVersion": 9}
        ),
    ]
    post_batch(client, team, batch)
    assert Observation.objects.get(project=team.project, id="pg1").prompt_id == prompt.id
    unknown = Observation.objects.get(project=team.project, id="pg2")
    assert (unknown.prompt_name, unknown.prompt_version, unknown.prompt_id) == ("greeting", 9, None)


AGGREGATES = (
    "start_time",
    "end_time",
    "observation_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "input_cost",
    "output_cost",
    "total_cost",
    "error_count",
    "warning_count",
)


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("python-sdk-2.60.10", "004-POST-api_public_ingestion.json"),
        ("python-sdk-2.60.10", "005-POST-api_public_ingestion.json"),
        ("js-legacy-langfuse-3.39.2", "002-POST-api_public_ingestion.json"),
    ],
)
def test_totals_written_with_new_traces_equal_a_recount(client, team, folder, name):
    """New traces get their totals in Python at insert; they must equal the SQL recount."""
    from traces.ingest.writer import refresh_trace_aggregates

    post_batch(client, team, recorded(folder, name))
    traces = Trace.objects.for_project(team.project)
    written = {t.id: [getattr(t, f) for f in AGGREGATES] for t in traces}
    refresh_trace_aggregates(team.project.id, sorted(written))
    recounted = {t.id: [getattr(t, f) for f in AGGREGATES] for t in traces.all()}
    assert written == recounted
    assert any(values[2] > 0 for values in written.values())


@pytest.mark.django_db(transaction=True)
def test_a_lost_staging_table_is_made_again():
    """A pooler's DISCARD ALL drops session temp tables; the next write recreates them."""
    from django.db import connection

    from tests.factories import make_project
    from traces.ingest.records import Batch, ObservationRecord
    from traces.ingest.writer import store_batch

    ensure_default_prices()
    project = make_project()
    store_batch(project.id, Batch(observations=[ObservationRecord("o1", "t1", {"name": "first"})]))
    assert "stage_observations" in connection.connection.__dict__.get("langfuse_stages", set())
    with connection.cursor() as cursor:
        cursor.execute("DISCARD TEMP")
    store_batch(project.id, Batch(observations=[ObservationRecord("o2", "t1", {"name": "second"})]))
    assert Trace.objects.get(project=project, id="t1").observation_count == 2
