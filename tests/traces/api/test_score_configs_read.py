from __future__ import annotations

import pytest

from tests.traces.api.factories import at, make_score_config

pytestmark = pytest.mark.django_db


def test_list_and_get_return_the_score_config_shape(api, team):
    config = make_score_config(
        team.project,
        name="tone",
        data_type="CATEGORICAL",
        categories=[{"label": "polite", "value": 1}, {"label": "rude", "value": 0}],
        description="How it sounds",
        created_at=at(0),
    )
    expected = {
        "id": config.id,
        "name": "tone",
        "createdAt": "2024-05-01T12:00:00.123Z",
        "updatedAt": config.updated_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "projectId": team.project.id,
        "dataType": "CATEGORICAL",
        "isArchived": False,
        "minValue": None,
        "maxValue": None,
        "categories": [{"label": "polite", "value": 1}, {"label": "rude", "value": 0}],
        "description": "How it sounds",
    }
    assert api.get("score-configs").json() == {
        "data": [expected],
        "meta": {"page": 1, "limit": 50, "totalItems": 1, "totalPages": 1},
    }
    assert api.get(f"score-configs/{config.id}").json() == expected


def test_list_paginates_newest_first(api, team):
    for n in range(3):
        make_score_config(team.project, name=f"c{n}", created_at=at(n))
    body = api.get("score-configs", {"limit": 2}).json()
    assert [row["name"] for row in body["data"]] == ["c2", "c1"]
    assert body["meta"]["totalPages"] == 2


def test_other_project_key_sees_no_configs(other_api, team):
    config = make_score_config(team.project)
    assert other_api.get("score-configs").json()["data"] == []
    assert other_api.get(f"score-configs/{config.id}").status_code == 404


def test_list_uses_a_constant_number_of_queries(api, team):
    make_score_config(team.project)
    few = api.count_queries("score-configs")
    for _ in range(4):
        make_score_config(team.project)
    assert api.count_queries("score-configs") == few == 3
