from __future__ import annotations

import json

import pytest

from tests.traces.api.factories import (
    T0,
    at,
    make_generation,
    make_model,
    make_observation,
    make_trace,
)

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["data"]]


@pytest.fixture
def tree(team):
    trace = make_trace(
        team.project, "t-1", user_id="u-1", session_id="s-1", name="chat", tags=["x"], release="r1"
    )
    make_observation(trace, "root", name="root", start_time=at(0), end_time=at(3), environment="prod")
    make_generation(
        trace,
        "gen",
        name="llm",
        parent_observation_id="root",
        start_time=at(1),
        end_time=at(2),
        completion_start_time=at(1.25),
        level="WARNING",
        version="v2",
        metadata={"long": "x" * 300, "short": "ok"},
        input={"messages": [{"role": "user", "content": "hi"}]},
        output="hello",
        model_parameters={"temperature": 0},
        prompt_name="greet",
        prompt_version=3,
        usage_pricing_tier_name="Standard",
    )
    make_observation(trace, "event", type="EVENT", parent_observation_id="root", start_time=at(2))
    other = make_trace(team.project, "t-2", user_id="u-2")
    make_observation(other, "elsewhere", start_time=at(5))
    return trace


def test_get_one_returns_the_observation_view(api, team, tree):
    body = api.get("observations/gen").json()
    assert body["id"] == "gen" and body["traceId"] == "t-1" and body["type"] == "GENERATION"
    assert body["startTime"] == "2024-05-01T12:00:01.123Z"
    assert body["latency"] == 1.0
    assert body["timeToFirstToken"] == 0.25
    assert body["usage"]["total"] == 15
    assert body["promptName"] == "greet" and body["promptVersion"] == 3


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["elsewhere", "event", "gen", "root"]),
        ({"traceId": "t-1"}, ["event", "gen", "root"]),
        ({"name": "llm"}, ["gen"]),
        ({"type": "EVENT"}, ["event"]),
        ({"level": "WARNING"}, ["gen"]),
        ({"userId": "u-2"}, ["elsewhere"]),
        ({"parentObservationId": "root"}, ["event", "gen"]),
        ({"environment": "prod"}, ["root"]),
        ({"version": "v2"}, ["gen"]),
        ({"fromStartTime": "2024-05-01T12:00:01.123Z"}, ["elsewhere", "event", "gen"]),
        ({"toStartTime": "2024-05-01T12:00:01.123Z"}, ["root"]),
    ],
)
def test_v1_list_filters(api, tree, params, expected):
    assert ids(api.get("observations", params)) == expected


def test_v1_list_pagination_meta(api, tree):
    body = api.get("observations", {"limit": 3}).json()
    assert body["meta"] == {"page": 1, "limit": 3, "totalItems": 4, "totalPages": 2}


def test_v1_bad_type_is_400(api, tree):
    assert api.get("observations", {"type": "BANANA"}).status_code == 400


def test_v2_default_groups_are_core_and_basic(api, team, tree):
    row = api.get("v2/observations", {"traceId": "t-1", "name": "llm"}).json()["data"][0]
    assert row == {
        "id": "gen",
        "traceId": "t-1",
        "startTime": "2024-05-01T12:00:01.123Z",
        "endTime": "2024-05-01T12:00:02.123Z",
        "projectId": team.project.id,
        "parentObservationId": "root",
        "type": "GENERATION",
        "modelId": None,
        "inputPrice": None,
        "outputPrice": None,
        "totalPrice": None,
        "name": "llm",
        "level": "WARNING",
        "statusMessage": None,
        "version": "v2",
        "environment": "default",
        "bookmarked": False,
        "public": False,
        "userId": "u-1",
        "sessionId": "s-1",
        "isRootObservation": False,
    }


def test_v2_field_groups(api, team, tree):
    make_model(team.project, "gpt-4o", id="m-1", prices={"input": 0.0000025, "output": 0.00001})
    from traces.models import Observation

    Observation.objects.filter(id="gen").update(internal_model_id="m-1")
    params = {"name": "llm", "fields": "io,metadata,model,usage,prompt,metrics,trace_context,time"}
    row = api.get("v2/observations", params).json()["data"][0]
    assert "name" not in row  # basic was not asked for
    assert row["input"] == '{"messages":[{"role":"user","content":"hi"}]}'
    assert row["output"] == "hello"
    assert row["metadata"] == {"long": "x" * 200, "short": "ok"}
    assert row["providedModelName"] == "gpt-4o" and row["modelParameters"] == {"temperature": 0}
    assert row["modelId"] == "m-1" and row["inputPrice"] == "0.0000025" and row["outputPrice"] == "0.00001"
    assert row["totalPrice"] is None
    assert row["usageDetails"] == {"input": 10, "output": 5, "total": 15}
    assert row["costDetails"] == {"input": 0.0001, "output": 0.0002, "total": 0.0003}
    assert row["totalCost"] == 0.0003 and row["usagePricingTierName"] == "Standard"
    assert (row["promptName"], row["promptVersion"], row["promptId"]) == ("greet", 3, None)
    assert row["latency"] == 1.0 and row["timeToFirstToken"] == 0.25
    assert (row["tags"], row["release"], row["traceName"]) == (["x"], "r1", "chat")
    assert row["completionStartTime"] == "2024-05-01T12:00:01.373Z"
    expanded = api.get("v2/observations", {"name": "llm", "fields": "metadata", "expandMetadata": "long"})
    assert expanded.json()["data"][0]["metadata"]["long"] == "x" * 300


def test_v2_advanced_filter(api, tree):
    conditions = [
        {"type": "string", "column": "traceName", "operator": "=", "value": "chat"},
        {"type": "number", "column": "latency", "operator": "<", "value": 2},
    ]
    assert ids(api.get("v2/observations", {"filter": json.dumps(conditions)})) == ["gen"]
    tags = [{"type": "arrayOptions", "column": "traceTags", "operator": "any of", "value": ["x"]}]
    assert ids(api.get("v2/observations", {"filter": json.dumps(tags)})) == ["event", "gen", "root"]
    tokens = [{"type": "number", "column": "inputTokens", "operator": ">=", "value": 10}]
    assert ids(api.get("v2/observations", {"filter": json.dumps(tokens)})) == ["gen"]
    roots = [{"type": "boolean", "column": "isRootObservation", "operator": "=", "value": True}]
    assert ids(api.get("v2/observations", {"filter": json.dumps(roots)})) == ["elsewhere", "root"]


def test_v2_cursor_walk_serves_every_row_exactly_once(api, team):
    trace = make_trace(team.project, "big")
    expected = set()
    for n in range(23):
        # Groups of three share a start time, so the id breaks ties.
        observation = make_observation(trace, f"o-{n:02d}", start_time=at(n // 3))
        expected.add(observation.id)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        body = api.get("v2/observations", params).json()
        seen += [row["id"] for row in body["data"]]
        pages += 1
        cursor = body["meta"].get("cursor")
        if not cursor:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == expected
    start_times = [api.get("observations/" + i).json()["startTime"] for i in seen[:4]]
    assert start_times == sorted(start_times, reverse=True)


def test_v2_cursor_is_not_offset_based(api, team):
    trace = make_trace(team.project, "live")
    for n in range(4):
        make_observation(trace, f"o-{n}", start_time=at(n))
    first = api.get("v2/observations", {"limit": 2}).json()
    assert [row["id"] for row in first["data"]] == ["o-3", "o-2"]
    make_observation(trace, "o-new", start_time=at(100))  # arrives at the head meanwhile
    second = api.get("v2/observations", {"limit": 2, "cursor": first["meta"]["cursor"]}).json()
    assert [row["id"] for row in second["data"]] == ["o-1", "o-0"]
    assert second["meta"] == {}


@pytest.mark.parametrize(
    "params",
    [{"limit": 1001}, {"cursor": "not-a-cursor"}, {"fields": "core,colour"}, {"parseIoAsJson": "true"}],
)
def test_v2_bad_input_is_400(api, tree, params):
    response = api.get("v2/observations", params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_other_project_key_sees_no_observations(other_api, tree):
    assert other_api.get("observations").json()["data"] == []
    assert other_api.get("v2/observations").json()["data"] == []
    assert other_api.get("observations/gen").status_code == 404


def test_lists_use_a_constant_number_of_queries(api, team):
    model = make_model(team.project, "gpt-4o", prices={"input": 1})
    trace = make_trace(team.project, "q")
    make_generation(trace, internal_model_id=model.id)
    few_v1 = api.count_queries("observations")
    few_v2 = api.count_queries("v2/observations", {"fields": "basic,model,trace_context"})
    for n in range(6):
        other = make_trace(team.project, f"q-{n}", timestamp=T0)
        make_generation(other, internal_model_id=model.id)
    assert api.count_queries("observations") == few_v1 == 6  # auth, count, page, model + tiers + prices
    assert api.count_queries("v2/observations", {"fields": "basic,model,trace_context"}) == few_v2 == 6
