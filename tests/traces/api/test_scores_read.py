from __future__ import annotations

import json

import pytest

from tests.traces.api.factories import at, make_score, make_trace
from traces.models import Score

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["data"]]


@pytest.fixture
def scores(team):
    make_trace(team.project, "t-1", user_id="u-1", tags=["x", "y"], session_id="s-1", environment="prod")
    make_trace(team.project, "t-2", user_id="u-2", tags=["y"])
    make_score(
        team.project, "n1", trace_id="t-1", name="accuracy", value=0.9, timestamp=at(1), comment="good"
    )
    make_score(
        team.project, "n2", trace_id="t-2", name="accuracy", value=0.2, timestamp=at(2), config_id="cfg"
    )
    make_score(
        team.project,
        "c1",
        trace_id="t-1",
        observation_id="o-1",
        name="tone",
        data_type="CATEGORICAL",
        string_value="polite",
        value=1,
        source="ANNOTATION",
        timestamp=at(3),
        metadata={"reviewer": "ann"},
        author_user_id=42,
        queue_id="q-1",
    )
    make_score(
        team.project, "b1", session_id="s-9", name="solved", data_type="BOOLEAN", value=1, timestamp=at(4)
    )


def test_v2_shape_with_trace_data(api, team, scores):
    body = api.get("v2/scores", {"name": "tone"}).json()
    assert body["meta"] == {"page": 1, "limit": 50, "totalItems": 1, "totalPages": 1}
    assert body["data"] == [
        {
            "id": "c1",
            "projectId": team.project.id,
            "traceId": "t-1",
            "sessionId": None,
            "observationId": "o-1",
            "datasetRunId": None,
            "name": "tone",
            "source": "ANNOTATION",
            "dataType": "CATEGORICAL",
            "value": 1.0,
            "stringValue": "polite",
            "timestamp": "2024-05-01T12:00:03.123Z",
            "createdAt": "2024-05-01T12:00:03.123Z",
            "updatedAt": "2024-05-01T12:00:03.123Z",
            "authorUserId": "42",
            "comment": None,
            "metadata": {"reviewer": "ann"},
            "configId": None,
            "queueId": "q-1",
            "environment": "default",
            "trace": {"userId": "u-1", "tags": ["x", "y"], "environment": "prod", "sessionId": "s-1"},
        }
    ]


def test_boolean_and_session_scores(api, scores):
    row = api.get("v2/scores/b1").json()
    assert (row["value"], row["stringValue"], row["sessionId"], row["traceId"]) == (1.0, "True", "s-9", None)
    listed = api.get("v2/scores", {"name": "solved"}).json()["data"][0]
    assert listed["trace"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["b1", "c1", "n2", "n1"]),
        ({"userId": "u-1"}, ["c1", "n1"]),
        ({"traceTags": ["x", "y"]}, ["c1", "n1"]),
        ({"name": "accuracy"}, ["n2", "n1"]),
        ({"source": "ANNOTATION"}, ["c1"]),
        ({"dataType": "BOOLEAN"}, ["b1"]),
        ({"operator": ">=", "value": "0.5", "name": "accuracy"}, ["n1"]),
        ({"operator": "!=", "value": "0.9", "name": "accuracy"}, ["n2"]),
        ({"scoreIds": "n1,b1"}, ["b1", "n1"]),
        ({"configId": "cfg"}, ["n2"]),
        ({"traceId": "t-1"}, ["c1", "n1"]),
        ({"sessionId": "s-9"}, ["b1"]),
        ({"observationId": "o-1"}, ["c1"]),
        ({"queueId": "q-1"}, ["c1"]),
        ({"fromTimestamp": "2024-05-01T12:00:02.123Z", "toTimestamp": "2024-05-01T12:00:04Z"}, ["c1", "n2"]),
        ({"environment": ["default"]}, ["b1", "c1", "n2", "n1"]),
        (
            {
                "filter": json.dumps(
                    [
                        {
                            "type": "stringObject",
                            "column": "metadata",
                            "key": "reviewer",
                            "operator": "=",
                            "value": "ann",
                        }
                    ]
                )
            },
            ["c1"],
        ),
    ],
)
def test_v2_filters(api, scores, params, expected):
    assert ids(api.get("v2/scores", params)) == expected
    assert ids(api.get("scores", params)) == expected  # v1 GET /scores answers the same


@pytest.mark.parametrize(
    "params",
    [
        {"operator": ">"},
        {"operator": "~", "value": "1"},
        {"limit": 101},
        {"source": "ROBOT"},
        {"userId": "u-1", "fields": "score"},
        {"fields": "score,colour"},
    ],
)
def test_v2_bad_parameters_are_400(api, scores, params):
    response = api.get("v2/scores", params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_v2_fields_score_leaves_trace_out(api, scores):
    row = api.get("v2/scores", {"fields": "score", "name": "tone"}).json()["data"][0]
    assert "trace" not in row


def test_v3_core_shape_and_groups(api, team, scores):
    body = api.get("v3/scores", {"id": "c1"}).json()
    assert body == {
        "data": [
            {
                "id": "c1",
                "projectId": team.project.id,
                "name": "tone",
                "value": "polite",
                "dataType": "CATEGORICAL",
                "source": "ANNOTATION",
                "timestamp": "2024-05-01T12:00:03.123Z",
                "environment": "default",
                "createdAt": "2024-05-01T12:00:03.123Z",
                "updatedAt": "2024-05-01T12:00:03.123Z",
            }
        ],
        "meta": {"limit": 50},
    }
    row = api.get("v3/scores", {"id": "c1", "fields": "details,subject,annotation"}).json()["data"][0]
    assert row["comment"] is None and row["metadata"] == {"reviewer": "ann"} and row["configId"] is None
    assert row["subject"] == {"kind": "observation", "id": "o-1", "traceId": "t-1"}
    assert (row["authorUserId"], row["queueId"]) == ("42", "q-1")
    assert api.get("v3/scores", {"id": "b1", "fields": "subject"}).json()["data"][0]["subject"] == {
        "kind": "session",
        "id": "s-9",
    }
    assert api.get("v3/scores", {"id": "b1"}).json()["data"][0]["value"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "accuracy,tone"}, ["c1", "n2", "n1"]),
        ({"source": "annotation"}, ["c1"]),
        ({"dataType": "numeric", "valueMin": "0.5"}, ["n1"]),
        ({"dataType": "NUMERIC", "value": "0.2"}, ["n2"]),
        ({"dataType": "BOOLEAN", "value": "true"}, ["b1"]),
        ({"dataType": "CATEGORICAL", "value": "polite,rude"}, ["c1"]),
        ({"traceId": "t-1", "observationId": "o-1"}, ["c1"]),
        ({"sessionId": "s-9"}, ["b1"]),
        ({"authorUserId": "42"}, ["c1"]),
        ({"configId": "cfg"}, ["n2"]),
    ],
)
def test_v3_filters(api, scores, params, expected):
    assert ids(api.get("v3/scores", params)) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"fields": "everything"},
        {"value": "1"},
        {"dataType": "NUMERIC,BOOLEAN", "value": "1"},
        {"valueMin": "1"},
        {"traceId": "t-1", "sessionId": "s-1"},
        {"observationId": "o-1"},
        {"dataType": "BOOLEAN", "value": "maybe"},
        {"cursor": "%%%"},
    ],
)
def test_v3_bad_parameters_are_400(api, scores, params):
    response = api.get("v3/scores", params)
    assert response.status_code == 400
    assert response.json()["message"]


def test_v3_cursor_walk_serves_every_score_once(api, team):
    for n in range(17):
        make_score(team.project, f"s-{n:02d}", timestamp=at(n // 4))
    seen, cursor = [], None
    while True:
        body = api.get("v3/scores", {"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["id"] for row in body["data"]]
        cursor = body["meta"].get("cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 17


def test_delete_score(api, team, scores):
    response = api.delete("scores/n1")
    assert response.status_code == 204
    assert not Score.objects.filter(id="n1").exists()
    assert api.delete("scores/n1").status_code == 404


def test_other_project_key_cannot_read_or_delete_scores(other_api, scores):
    assert other_api.get("v2/scores").json()["data"] == []
    assert other_api.get("v3/scores").json()["data"] == []
    assert other_api.get("v2/scores/n1").status_code == 404
    assert other_api.delete("scores/n1").status_code == 404
    assert Score.objects.filter(id="n1").exists()


def test_lists_use_a_constant_number_of_queries(api, team, scores):
    few_v2 = api.count_queries("v2/scores")
    few_v3 = api.count_queries("v3/scores")
    for n in range(5):
        make_trace(team.project, f"extra-{n}")
        make_score(team.project, trace_id=f"extra-{n}")
    assert api.count_queries("v2/scores") == few_v2 == 4  # auth, count, page, traces
    assert api.count_queries("v3/scores") == few_v3 == 2
