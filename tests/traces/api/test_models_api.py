from __future__ import annotations

import pytest

from tests.traces.api.factories import T0, make_model
from traces.models import LlmModel, Price, PricingTier

pytestmark = pytest.mark.django_db

LONG_CONTEXT = {
    "name": "Long context",
    "priority": 1,
    "conditions": [
        {"usageDetailPattern": "input", "operator": "gt", "value": 200000, "caseSensitive": False}
    ],
    "prices": {"input": 0.000005, "output": 0.00002},
}


@pytest.fixture
def models(team):
    default = make_model(
        None,
        "gpt-4o",
        id="default-gpt-4o",
        prices={"input": 0.0000025, "output": 0.00001},
        tiers=[LONG_CONTEXT],
        unit="TOKENS",
        tokenizer_id="openai",
        tokenizer_config={"tokenizerModel": "gpt-4o"},
    )
    own = make_model(team.project, "my-llm", id="own-model", prices={"total": 0.001})
    foreign = make_model(team.other_project, "their-llm", id="foreign-model", prices={"input": 1})
    return default, own, foreign


def test_list_has_project_models_first_then_defaults(api, models):
    body = api.get("models").json()
    assert [row["id"] for row in body["data"]] == ["own-model", "default-gpt-4o"]
    assert body["meta"] == {"page": 1, "limit": 50, "totalItems": 2, "totalPages": 1}


def test_model_shape_with_prices_and_tiers(api, models):
    assert api.get("models/default-gpt-4o").json() == {
        "id": "default-gpt-4o",
        "modelName": "gpt-4o",
        "matchPattern": "(?i)^(gpt-4o)$",
        "startDate": None,
        "unit": "TOKENS",
        "inputPrice": 0.0000025,
        "outputPrice": 0.00001,
        "totalPrice": None,
        "tokenizerId": "openai",
        "tokenizerConfig": {"tokenizerModel": "gpt-4o"},
        "isLangfuseManaged": True,
        "createdAt": "2024-05-01T12:00:00.123Z",
        "prices": {"input": {"price": 0.0000025}, "output": {"price": 0.00001}},
        "pricingTiers": [
            {
                "id": "default-gpt-4o-tier-0",
                "name": "Standard",
                "isDefault": True,
                "priority": 0,
                "conditions": [],
                "prices": {"input": 0.0000025, "output": 0.00001},
            },
            {
                "id": "default-gpt-4o-tier-1",
                "name": "Long context",
                "isDefault": False,
                "priority": 1,
                "conditions": LONG_CONTEXT["conditions"],
                "prices": {"input": 0.000005, "output": 0.00002},
            },
        ],
    }
    own = api.get("models/own-model").json()
    assert own["isLangfuseManaged"] is False and own["totalPrice"] == 0.001


def test_delete_project_model_removes_it_with_its_prices(api, models):
    response = api.delete("models/own-model")
    assert response.status_code == 204
    assert not LlmModel.objects.filter(id="own-model").exists()
    assert not PricingTier.objects.filter(model_id="own-model").exists()
    assert not Price.objects.filter(model_id="own-model").exists()


def test_defaults_are_read_only(api, models):
    response = api.delete("models/default-gpt-4o")
    assert response.status_code == 403
    assert "read-only" in response.json()["message"]
    assert LlmModel.objects.filter(id="default-gpt-4o").exists()


def test_other_projects_models_are_invisible(api, models):
    assert api.get("models/foreign-model").status_code == 404
    assert api.delete("models/foreign-model").status_code == 404
    assert LlmModel.objects.filter(id="foreign-model").exists()


def test_list_uses_a_constant_number_of_queries(api, team, models):
    few = api.count_queries("models")
    for n in range(4):
        make_model(team.project, f"extra-{n}", prices={"input": n}, created_at=T0)
    assert api.count_queries("models") == few == 5  # auth, count, page, tiers, prices
