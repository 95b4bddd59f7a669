from __future__ import annotations

import json

import pytest

from tests.traces.api.factories import (
    at,
    make_generation,
    make_model,
    make_observation,
    make_score,
    make_trace,
)

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["data"]]


@pytest.fixture
def full_trace(team):
    trace = make_trace(
        team.project,
        "t-1",
        name="chat",
        user_id="u-1",
        session_id="s-1",
        release="r-1",
        version="v-1",
        environment="production",
        tags=["a", "b"],
        metadata={"tier": "gold"},
        input={"q": "hi"},
        output="hello",
    )
    make_observation(trace, "o-root", name="root", start_time=at(0), end_time=at(2))
    make_generation(trace, "o-gen", parent_observation_id="o-root", start_time=at(0.5), end_time=at(1.5))
    make_score(team.project, "sc-1", trace_id="t-1", name="quality", value=0.9)
    trace.refresh_from_db()
    return trace


def test_list_returns_the_langfuse_trace_shape(api, team, full_trace):
    body = api.get("traces").json()
    assert body["meta"] == {"page": 1, "limit": 50, "totalItems": 1, "totalPages": 1}
    assert body["data"] == [
        {
            "id": "t-1",
            "projectId": team.project.id,
            "timestamp": "2024-05-01T12:00:00.123Z",
            "name": "chat",
            "userId": "u-1",
            "sessionId": "s-1",
            "release": "r-1",
            "version": "v-1",
            "tags": ["a", "b"],
            "public": False,
            "bookmarked": False,
            "environment": "production",
            "externalId": None,
            "createdAt": "2024-05-01T12:00:00.123Z",
            "updatedAt": "2024-05-01T12:00:00.123Z",
            "input": {"q": "hi"},
            "output": "hello",
            "metadata": {"tier": "gold"},
            "htmlPath": f"/project/{team.project.id}/traces/t-1",
            "latency": 2.0,
            "totalCost": 0.0003,
            "observations": ["o-root", "o-gen"],
            "scores": ["sc-1"],
        }
    ]


def test_get_embeds_observations_and_scores(api, team, full_trace):
    make_model(team.project, "gpt-4o", id="m-1", prices={"input": 0.00001, "output": 0.00003})
    from traces.models import Observation

    Observation.objects.filter(id="o-gen").update(internal_model_id="m-1")
    body = api.get("traces/t-1").json()
    assert body["htmlPath"] == f"/project/{team.project.id}/traces/t-1"
    assert body["latency"] == 2.0
    assert body["totalCost"] == 0.0003
    assert [o["id"] for o in body["observations"]] == ["o-root", "o-gen"]
    generation = body["observations"][1]
    assert generation == {
        "id": "o-gen",
        "projectId": team.project.id,
        "traceId": "t-1",
        "type": "GENERATION",
        "name": None,
        "startTime": "2024-05-01T12:00:00.623Z",
        "endTime": "2024-05-01T12:00:01.623Z",
        "completionStartTime": None,
        "model": "gpt-4o",
        "modelParameters": None,
        "input": None,
        "output": None,
        "metadata": {},
        "version": None,
        "level": "DEFAULT",
        "statusMessage": None,
        "parentObservationId": "o-root",
        "environment": "default",
        "usage": {
            "input": 10,
            "output": 5,
            "total": 15,
            "unit": None,
            "inputCost": 0.0001,
            "outputCost": 0.0002,
            "totalCost": 0.0003,
        },
        "usageDetails": {"input": 10, "output": 5, "total": 15},
        "costDetails": {"input": 0.0001, "output": 0.0002, "total": 0.0003},
        "promptId": None,
        "promptName": None,
        "promptVersion": None,
        "modelId": "m-1",
        "inputPrice": 0.00001,
        "outputPrice": 0.00003,
        "totalPrice": None,
        "calculatedInputCost": 0.0001,
        "calculatedOutputCost": 0.0002,
        "calculatedTotalCost": 0.0003,
        "latency": 1.0,
        "timeToFirstToken": None,
        "createdAt": "2024-05-01T12:00:00.623Z",
        "updatedAt": "2024-05-01T12:00:00.623Z",
    }
    assert body["scores"] == [
        {
            "id": "sc-1",
            "projectId": team.project.id,
            "traceId": "t-1",
            "sessionId": None,
            "observationId": None,
            "datasetRunId": None,
            "name": "quality",
            "source": "API",
            "dataType": "NUMERIC",
            "value": 0.9,
            "timestamp": "2024-05-01T12:00:00.123Z",
            "createdAt": "2024-05-01T12:00:00.123Z",
            "updatedAt": "2024-05-01T12:00:00.123Z",
            "authorUserId": None,
            "comment": None,
            "metadata": {},
            "configId": None,
            "queueId": None,
            "environment": "default",
        }
    ]


def test_fields_trim_the_response(api, full_trace):
    row = api.get("traces", {"fields": "core"}).json()["data"][0]
    assert "input" not in row and "metadata" not in row
    assert row["observations"] == [] and row["scores"] == []
    assert row["latency"] == -1 and row["totalCost"] == -1
    row = api.get("traces", {"fields": "core,io,metrics"}).json()["data"][0]
    assert row["input"] == {"q": "hi"} and row["latency"] == 2.0 and row["observations"] == []
    detail = api.get("traces/t-1", {"fields": "core,scores"}).json()
    assert detail["observations"] == [] and len(detail["scores"]) == 1


def test_unknown_field_group_is_400(api, full_trace):
    response = api.get("traces", {"fields": "core,bogus"})
    assert response.status_code == 400
    assert "bogus" in response.json()["message"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"userId": "u-1"}, ["t-a"]),
        ({"name": "beta"}, ["t-b"]),
        ({"sessionId": "s-2"}, ["t-b"]),
        ({"version": "v2"}, ["t-c"]),
        ({"release": "r1"}, ["t-a"]),
        ({"tags": ["x", "y"]}, ["t-a"]),
        ({"tags": ["x"]}, ["t-b", "t-a"]),
        ({"environment": ["staging", "dev"]}, ["t-c", "t-b"]),
        ({"fromTimestamp": "2024-05-01T12:00:10.123Z"}, ["t-c", "t-b"]),
        ({"toTimestamp": "2024-05-01T12:00:10.123Z"}, ["t-a"]),
        ({"fromTimestamp": "2024-05-01T12:00:05Z", "toTimestamp": "2024-05-01T12:00:15Z"}, ["t-b"]),
    ],
)
def test_it_filters(api, team, params, expected):
    make_trace(
        team.project, "t-a", name="alpha", user_id="u-1", tags=["x", "y"], release="r1", timestamp=at(0)
    )
    make_trace(
        team.project,
        "t-b",
        name="beta",
        session_id="s-2",
        tags=["x"],
        environment="staging",
        timestamp=at(10),
    )
    make_trace(team.project, "t-c", name="gamma", version="v2", environment="dev", timestamp=at(20))
    assert ids(api.get("traces", params)) == expected


def test_order_by_latency_and_cost(api, team):
    fast = make_trace(team.project, "fast", timestamp=at(0))
    make_generation(fast, start_time=at(0), end_time=at(1), cost_details={"total": 0.5})
    slow = make_trace(team.project, "slow", timestamp=at(1))
    make_generation(slow, start_time=at(0), end_time=at(9), cost_details={"total": 0.1})
    make_trace(team.project, "empty", timestamp=at(2))
    assert ids(api.get("traces", {"orderBy": "latency.asc"})) == ["fast", "slow", "empty"]
    assert ids(api.get("traces", {"orderBy": "latency.desc"})) == ["slow", "fast", "empty"]
    assert ids(api.get("traces", {"orderBy": "totalCost.desc"})) == ["fast", "slow", "empty"]
    assert ids(api.get("traces", {"orderBy": "timestamp.asc"})) == ["fast", "slow", "empty"]
    assert ids(api.get("traces")) == ["empty", "slow", "fast"]


@pytest.mark.parametrize("order", ["colour.asc", "timestamp", "timestamp.sideways"])
def test_bad_order_by_is_400(api, order):
    response = api.get("traces", {"orderBy": order})
    assert response.status_code == 400
    assert "orderBy" in response.json()["message"]


def test_pagination_meta(api, team):
    for n in range(5):
        make_trace(team.project, f"p-{n}", timestamp=at(n))
    body = api.get("traces", {"page": 2, "limit": 2}).json()
    assert body["meta"] == {"page": 2, "limit": 2, "totalItems": 5, "totalPages": 3}
    assert [row["id"] for row in body["data"]] == ["p-2", "p-1"]
    assert api.get("traces", {"page": 4, "limit": 2}).json()["data"] == []


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"page": 0}, {"page": "x"}])
def test_bad_pagination_is_400(api, params):
    assert api.get("traces", params).status_code == 400


def test_bad_timestamp_is_400(api):
    response = api.get("traces", {"fromTimestamp": "yesterday"})
    assert response.status_code == 400
    assert "fromTimestamp" in response.json()["message"]


def advanced(api, conditions) -> list[str]:
    return ids(api.get("traces", {"filter": json.dumps(conditions), "orderBy": "id.asc"}))


@pytest.fixture
def scored_traces(team):
    cheap = make_trace(team.project, "cheap", metadata={"tier": "free", "n": 3}, tags=["a"], user_id="u1")
    make_generation(cheap, cost_details={"total": 0.001}, start_time=at(0), end_time=at(1))
    pricey = make_trace(team.project, "pricey", metadata={"tier": "gold", "n": 12}, tags=["a", "b"])
    make_generation(pricey, cost_details={"total": 0.5}, level="ERROR", start_time=at(0), end_time=at(5))
    make_score(team.project, trace_id="cheap", name="verdict", data_type="CATEGORICAL", string_value="good")
    make_score(team.project, trace_id="pricey", name="verdict", data_type="CATEGORICAL", string_value="bad")
    make_score(team.project, trace_id="pricey", name="accuracy", value=0.2)
    make_score(team.project, trace_id="pricey", name="accuracy", value=0.4)
    make_score(team.project, trace_id="cheap", name="correct", data_type="BOOLEAN", value=1)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([{"type": "number", "column": "totalCost", "operator": ">=", "value": 0.01}], ["pricey"]),
        ([{"type": "number", "column": "latency", "operator": "<", "value": 2}], ["cheap"]),
        (
            [{"type": "stringObject", "column": "metadata", "key": "tier", "operator": "=", "value": "gold"}],
            ["pricey"],
        ),
        (
            [{"type": "numberObject", "column": "metadata", "key": "n", "operator": ">", "value": 5}],
            ["pricey"],
        ),
        ([{"type": "arrayOptions", "column": "tags", "operator": "all of", "value": ["a", "b"]}], ["pricey"]),
        ([{"type": "arrayOptions", "column": "tags", "operator": "none of", "value": ["b"]}], ["cheap"]),
        ([{"type": "string", "column": "level", "operator": "=", "value": "ERROR"}], ["pricey"]),
        ([{"type": "string", "column": "id", "operator": "starts with", "value": "CH"}], ["cheap"]),
        ([{"type": "stringOptions", "column": "id", "operator": "none of", "value": ["cheap"]}], ["pricey"]),
        ([{"type": "null", "column": "userId", "operator": "is null", "value": ""}], ["pricey"]),
        (
            [
                {
                    "type": "categoryOptions",
                    "column": "score_categories",
                    "key": "verdict",
                    "operator": "any of",
                    "value": ["bad"],
                }
            ],
            ["pricey"],
        ),
        (
            [
                {
                    "type": "numberObject",
                    "column": "scores_avg",
                    "key": "accuracy",
                    "operator": ">",
                    "value": 0.25,
                }
            ],
            ["pricey"],
        ),
        (
            [
                {
                    "type": "booleanObject",
                    "column": "score_booleans",
                    "key": "correct",
                    "operator": "=",
                    "value": True,
                }
            ],
            ["cheap"],
        ),
        (
            [
                {
                    "type": "booleanObject",
                    "column": "score_booleans",
                    "key": "correct",
                    "operator": "<>",
                    "value": True,
                }
            ],
            ["pricey"],
        ),
        (
            [{"type": "datetime", "column": "timestamp", "operator": ">=", "value": "2024-05-01T00:00:00Z"}],
            ["cheap", "pricey"],
        ),
    ],
)
def test_advanced_filter(api, scored_traces, conditions, expected):
    assert advanced(api, conditions) == expected


def test_advanced_filter_wins_over_the_same_simple_parameter(api, scored_traces):
    condition = [{"type": "string", "column": "userId", "operator": "=", "value": "u1"}]
    response = api.get("traces", {"filter": json.dumps(condition), "userId": "someone-else"})
    assert ids(response) == ["cheap"]


@pytest.mark.parametrize(
    ("conditions", "mentions"),
    [
        ([{"type": "string", "column": "colour", "operator": "=", "value": "x"}], "colour"),
        ([{"type": "string", "column": "name", "operator": "resembles", "value": "x"}], "resembles"),
        ([{"type": "number", "column": "name", "operator": "=", "value": 1}], "name"),
        ([{"type": "number", "column": "totalCost", "operator": ">", "value": "lots"}], "number"),
        ([{"type": "stringObject", "column": "metadata", "operator": "=", "value": "x"}], "key"),
        ({"column": "name"}, "type"),
        ("not json", "JSON"),
    ],
)
def test_bad_advanced_filter_is_400_naming_the_problem(api, conditions, mentions):
    raw = conditions if isinstance(conditions, str) else json.dumps(conditions)
    response = api.get("traces", {"filter": raw})
    assert response.status_code == 400
    assert mentions in response.json()["message"]


def test_other_project_key_sees_nothing(other_api, full_trace):
    assert other_api.get("traces").json()["data"] == []
    response = other_api.get("traces/t-1")
    assert response.status_code == 404
    assert response.json()["message"]


def test_missing_trace_is_404_json(api):
    response = api.get("traces/nope")
    assert response.status_code == 404
    assert "Trace not found" in response.json()["message"]


def test_trace_ids_with_slashes_are_found(api, team):
    make_trace(team.project, "a/b c")
    assert api.get("traces/a%2Fb%20c").json()["id"] == "a/b c"


def test_list_uses_a_constant_number_of_queries(api, team):
    def add_trace(n: int) -> None:
        trace = make_trace(team.project, f"q-{n}", timestamp=at(n))
        make_generation(trace)
        make_score(team.project, trace_id=trace.id)

    add_trace(0)
    few = api.count_queries("traces")
    for n in range(1, 6):
        add_trace(n)
    assert api.count_queries("traces") == few == 5  # auth, count, page, observation ids, score ids


def test_unauthenticated_is_401(client):
    assert client.get("/api/public/traces").status_code == 401
