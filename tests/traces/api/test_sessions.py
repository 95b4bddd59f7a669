from __future__ import annotations

import pytest

from tests.traces.api.factories import at, make_trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(team):
    make_trace(team.project, "a1", session_id="s-a", timestamp=at(10), environment="prod")
    make_trace(team.project, "a2", session_id="s-a", timestamp=at(5), environment="prod", name="first")
    make_trace(team.project, "b1", session_id="s-b", timestamp=at(20), environment="dev")
    make_trace(team.project, "loose", timestamp=at(30))


def test_list_returns_sessions_newest_first(api, team, sessions):
    body = api.get("sessions").json()
    assert body == {
        "data": [
            {
                "id": "s-b",
                "createdAt": "2024-05-01T12:00:20.123Z",
                "projectId": team.project.id,
                "environment": "dev",
            },
            {
                "id": "s-a",
                "createdAt": "2024-05-01T12:00:05.123Z",
                "projectId": team.project.id,
                "environment": "prod",
            },
        ],
        "meta": {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1},
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"environment": "prod"}, ["s-a"]),
        ({"fromTimestamp": "2024-05-01T12:00:06Z"}, ["s-b"]),
        ({"toTimestamp": "2024-05-01T12:00:06Z"}, ["s-a"]),
        ({"limit": 1, "page": 2}, ["s-a"]),
    ],
)
def test_list_filters(api, sessions, params, expected):
    assert [row["id"] for row in api.get("sessions", params).json()["data"]] == expected


def test_get_returns_the_session_with_its_traces(api, team, sessions):
    body = api.get("sessions/s-a").json()
    assert body["id"] == "s-a"
    assert body["createdAt"] == "2024-05-01T12:00:05.123Z"
    assert body["projectId"] == team.project.id
    assert [trace["id"] for trace in body["traces"]] == ["a2", "a1"]
    assert body["traces"][0]["name"] == "first"
    assert body["traces"][0]["sessionId"] == "s-a"


def test_unknown_and_foreign_sessions_are_404(api, other_api, sessions):
    assert api.get("sessions/nope").status_code == 404
    assert other_api.get("sessions/s-a").status_code == 404
    assert other_api.get("sessions").json()["data"] == []


def test_list_uses_a_constant_number_of_queries(api, team, sessions):
    few = api.count_queries("sessions")
    for n in range(5):
        make_trace(team.project, f"more-{n}", session_id=f"s-{n}")
    assert api.count_queries("sessions") == few == 3
