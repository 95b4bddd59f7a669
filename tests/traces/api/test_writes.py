"""POST /scores, score configs, custom models and the legacy single-object routes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import ensure_default_prices
from traces.models import LlmModel, Observation, Score, ScoreConfig, Trace

pytestmark = pytest.mark.django_db


def test_scores_list_answers_202_and_stores_every_kind(api, team):
    scores = [
        {
            "id": "s1",
            "traceId": "t1",
            "observationId": "o1",
            "name": "span-score",
            "value": 0.8,
            "comment": "good",
        },
        {"id": "s2", "traceId": "t1", "name": "ok", "value": 1.0, "dataType": "BOOLEAN"},
        {"id": "s3", "traceId": "t1", "name": "category", "value": "good", "dataType": "CATEGORICAL"},
        {"id": "s4", "sessionId": "sess-1", "name": "sess-score", "value": 3.0},
        {
            "id": "s5",
            "traceId": "t1",
            "name": "quality",
            "value": 0.9,
            "metadata": {"a": 1},
            "environment": "staging",
        },
    ]
    response = api.post("scores", scores)
    assert response.status_code == 202
    assert response.json() == {"message": "Accepted"}
    stored = {s.id: s for s in Score.objects.for_project(team.project)}
    assert set(stored) == {"s1", "s2", "s3", "s4", "s5"}
    assert stored["s1"].observation_id == "o1" and stored["s1"].comment == "good"
    assert stored["s2"].data_type == "BOOLEAN" and stored["s2"].string_value == "True"
    assert stored["s3"].string_value == "good" and stored["s3"].value is None
    assert stored["s4"].session_id == "sess-1" and stored["s4"].trace_id is None
    assert stored["s5"].metadata == {"a": 1} and stored["s5"].environment == "staging"


def test_scores_list_with_a_bad_item_answers_207_and_keeps_the_good(api, team):
    response = api.post("scores", [{"traceId": "t", "name": "a", "value": 1}, {"traceId": "t", "value": 2}])
    assert response.status_code == 207
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert "name" in body["errors"][0]["message"]
    assert Score.objects.for_project(team.project).count() == 1


def test_single_score_object_returns_its_id(api, team):
    response = api.post("scores", {"traceId": "t", "name": "a", "value": 2})
    assert response.status_code == 200
    assert Score.objects.get(project=team.project, id=response.json()["id"]).value == 2
    assert api.post("scores", {"traceId": "t", "name": "a"}).status_code == 400


def test_bearer_public_key_may_create_scores_only(client, team):
    response = client.post(
        "/api/public/scores",
        '{"traceId": "t", "name": "thumbs", "value": 1}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {team.public_key}",
    )
    assert response.status_code == 200
    response = client.get("/api/public/scores", HTTP_AUTHORIZATION=f"Bearer {team.public_key}")
    assert response.status_code == 401


def test_score_config_lifecycle_and_validation(api, team):
    response = api.post(
        "score-configs", {"name": "quality", "dataType": "NUMERIC", "minValue": 0, "maxValue": 1}
    )
    assert response.status_code == 200
    config = response.json()
    assert (config["name"], config["dataType"], config["minValue"], config["maxValue"]) == (
        "quality",
        "NUMERIC",
        0,
        1,
    )
    ok = api.post("scores", [{"traceId": "t", "name": "quality", "value": 0.5, "configId": config["id"]}])
    assert ok.status_code == 202
    too_big = api.post("scores", [{"traceId": "t", "name": "quality", "value": 3, "configId": config["id"]}])
    assert too_big.status_code == 207 and "maximum" in too_big.json()["errors"][0]["message"]
    archived = api.patch(f"score-configs/{config['id']}", {"isArchived": True})
    assert archived.status_code == 200 and archived.json()["isArchived"] is True
    refused = api.post(
        "scores", [{"traceId": "t", "name": "quality", "value": 0.1, "configId": config["id"]}]
    )
    assert "archived" in refused.json()["errors"][0]["message"]
    assert api.patch(f"score-configs/{config['id']}", {"dataType": "BOOLEAN"}).status_code == 400


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "x", "dataType": "TEXTY"}, "dataType"),
        ({"name": "x", "dataType": "CATEGORICAL"}, "categories"),
        (
            {
                "name": "x",
                "dataType": "CATEGORICAL",
                "categories": [{"label": "a", "value": 1}, {"label": "a", "value": 2}],
            },
            "unique",
        ),
        ({"name": "x", "dataType": "NUMERIC", "minValue": 5, "maxValue": 1}, "minValue"),
        ({"dataType": "NUMERIC"}, "name"),
    ],
)
def test_score_config_rules(api, body, needle):
    response = api.post("score-configs", body)
    assert response.status_code == 400
    assert needle in response.json()["message"]


def test_categorical_config_maps_labels_to_values(api, team):
    categories = [{"label": "bad", "value": 0}, {"label": "good", "value": 1}]
    config = api.post(
        "score-configs", {"name": "verdict", "dataType": "CATEGORICAL", "categories": categories}
    ).json()
    api.post(
        "scores", [{"id": "c1", "traceId": "t", "name": "verdict", "value": "good", "configId": config["id"]}]
    )
    score = Score.objects.get(project=team.project, id="c1")
    assert (score.string_value, score.value) == ("good", 1)
    other = api.patch(f"score-configs/{config['id']}", {"name": "renamed"}).json()
    assert other["name"] == "renamed"


def test_another_projects_config_is_404(api, other_api):
    config = api.post("score-configs", {"name": "q", "dataType": "BOOLEAN"}).json()
    assert other_api.patch(f"score-configs/{config['id']}", {"name": "mine"}).status_code == 404


def test_custom_model_prices_new_generations(api, team):
    ensure_default_prices()
    body = {
        "modelName": "my-finetune",
        "matchPattern": "(?i)^(ft:)?my-finetune$",
        "pricingTiers": [
            {
                "name": "Standard",
                "isDefault": True,
                "priority": 0,
                "conditions": [],
                "prices": {"input": 0.001, "output": 0.002},
            },
            {
                "name": "Long",
                "isDefault": False,
                "priority": 1,
                "conditions": [
                    {"usageDetailPattern": "input", "operator": "gt", "value": 1000, "caseSensitive": False}
                ],
                "prices": {"input": 0.01, "output": 0.02},
            },
        ],
    }
    response = api.post("models", body)
    assert response.status_code == 200, response.content
    assert LlmModel.objects.filter(project=team.project, model_name="my-finetune").exists()
    api.post(
        "generations",
        {"id": "g-short", "traceId": "tm", "model": "FT:my-finetune", "usage": {"input": 10, "output": 5}},
    )
    api.post(
        "generations",
        {"id": "g-long", "traceId": "tm", "model": "my-finetune", "usage": {"input": 2000, "output": 5}},
    )
    short = Observation.objects.get(project=team.project, id="g-short")
    long = Observation.objects.get(project=team.project, id="g-long")
    assert short.total_cost == Decimal("0.02") and short.usage_pricing_tier_name == "Standard"
    assert long.total_cost == Decimal("20.1") and long.usage_pricing_tier_name == "Long"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"matchPattern": "x"}, "modelName"),
        ({"modelName": "m", "matchPattern": "(unclosed"}, "regular expression"),
        ({"modelName": "m", "matchPattern": "m", "inputPrice": 1, "totalPrice": 2}, "totalPrice"),
        (
            {
                "modelName": "m",
                "matchPattern": "m",
                "pricingTiers": [{"name": "a", "isDefault": False, "priority": 1, "prices": {"input": 1}}],
            },
            "default",
        ),
        ({"modelName": "m", "matchPattern": "m", "unit": "PARSECS"}, "unit"),
    ],
)
def test_model_rules(api, body, needle):
    response = api.post("models", body)
    assert response.status_code == 400
    assert needle in response.json()["message"]


def test_legacy_single_routes(api, team):
    assert api.post("traces", {"id": "lt", "name": "legacy"}).json() == {"id": "lt"}
    assert api.post("spans", {"id": "ls", "traceId": "lt", "name": "span"}).status_code == 200
    assert (
        api.patch("spans", {"id": "ls", "output": "done", "endTime": "2026-01-01T00:00:01Z"}).status_code
        == 200
    )
    assert api.post("generations", {"id": "lg", "traceId": "lt", "model": "gpt-4o"}).status_code == 200
    assert api.patch("generations", {"id": "lg", "usage": {"input": 1, "output": 1}}).status_code == 200
    assert api.post("events", {"id": "le", "traceId": "lt", "name": "evt"}).status_code == 200
    assert api.patch("spans", {"output": "no id"}).status_code == 400
    assert Trace.objects.get(project=team.project, id="lt").name == "legacy"
    span = Observation.objects.get(project=team.project, id="ls")
    assert (span.output, span.end_time is not None) == ("done", True)
    assert Observation.objects.get(project=team.project, id="lg").usage_details == {
        "input": 1,
        "output": 1,
        "total": 2,
    }
    assert Observation.objects.get(project=team.project, id="le").type == "EVENT"
    assert ScoreConfig.objects.count() == 0
