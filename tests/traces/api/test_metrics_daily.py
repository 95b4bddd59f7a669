from __future__ import annotations

from datetime import timedelta

import pytest

from tests.traces.api.factories import T0, make_generation, make_observation, make_trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_days(team):
    day1 = make_trace(team.project, "d1a", name="chat", user_id="u1", tags=["x"], timestamp=T0)
    make_generation(day1, provided_model_name="gpt-4o", usage_details={"input": 10, "output": 5, "total": 15})
    make_generation(day1, provided_model_name="claude", cost_details={"total": 0.5})
    make_observation(day1)  # a span: counted, but has no model
    day1b = make_trace(team.project, "d1b", name="other", timestamp=T0 + timedelta(hours=1))
    make_generation(day1b, provided_model_name="gpt-4o", usage_details={"input": 1, "output": 1, "total": 2})
    day2 = make_trace(team.project, "d2", name="chat", timestamp=T0 + timedelta(days=1))
    make_generation(day2, provided_model_name="gpt-4o")


def test_daily_metrics_per_day_and_model(api, two_days):
    body = api.get("metrics/daily").json()
    assert body["meta"] == {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1}
    assert [day["date"] for day in body["data"]] == ["2024-05-02", "2024-05-01"]
    day1 = body["data"][1]
    assert day1["countTraces"] == 2
    assert day1["countObservations"] == 4
    assert day1["totalCost"] == pytest.approx(0.5 + 0.0003 + 0.0003)
    assert day1["usage"] == [
        {
            "model": "claude",
            "inputUsage": 10,
            "outputUsage": 5,
            "totalUsage": 15,
            "countTraces": 1,
            "countObservations": 1,
            "totalCost": 0.5,
        },
        {
            "model": "gpt-4o",
            "inputUsage": 11,
            "outputUsage": 6,
            "totalUsage": 17,
            "countTraces": 2,
            "countObservations": 2,
            "totalCost": 0.0006,
        },
    ]


@pytest.mark.parametrize(
    ("params", "dates"),
    [
        ({"traceName": "other"}, ["2024-05-01"]),
        ({"userId": "u1"}, ["2024-05-01"]),
        ({"tags": "x"}, ["2024-05-01"]),
        ({"fromTimestamp": "2024-05-02T00:00:00Z"}, ["2024-05-02"]),
        ({"toTimestamp": "2024-05-02T00:00:00Z"}, ["2024-05-01"]),
        ({"environment": "nowhere"}, []),
        ({"limit": 1, "page": 2}, ["2024-05-01"]),
    ],
)
def test_daily_metrics_filters(api, two_days, params, dates):
    assert [day["date"] for day in api.get("metrics/daily", params).json()["data"]] == dates


def test_filtered_day_counts_only_matching_traces(api, two_days):
    day = api.get("metrics/daily", {"traceName": "other"}).json()["data"][0]
    assert (day["countTraces"], day["countObservations"]) == (1, 1)
    assert [usage["model"] for usage in day["usage"]] == ["gpt-4o"]


def test_other_project_key_sees_no_metrics(other_api, two_days):
    assert other_api.get("metrics/daily").json()["data"] == []
