from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.factories import make_project
from traces.models import LlmModel, Price, PricingTier

pytestmark = pytest.mark.django_db

REFERENCE = Path("/work/shared/reference/model-prices.json")


def load(file: Path | None = None) -> str:
    out = StringIO()
    args = ["load_model_prices"] + (["--file", str(file)] if file else [])
    call_command(*args, stdout=out)
    return out.getvalue()


def entries() -> list[dict]:
    return json.loads(Path(settings.MODEL_PRICES_FILE).read_text())


def price_rows() -> dict[str, list]:
    return {
        "models": list(LlmModel.objects.order_by("id").values()),
        "tiers": list(PricingTier.objects.order_by("id").values()),
        "prices": list(Price.objects.order_by("id").values()),
    }


def write(tmp_path: Path, data: list[dict]) -> Path:
    path = tmp_path / "model-prices.json"
    path.write_text(json.dumps(data))
    return path


def default_price(model_name: str, usage_type: str) -> Decimal:
    return Price.objects.get(
        model__project=None,
        model__model_name=model_name,
        pricing_tier__is_default=True,
        usage_type=usage_type,
    ).price


def test_first_run_loads_every_model_of_the_file():
    LlmModel.objects.defaults().delete()
    output = load()
    assert f"{len(entries())} created" in output
    assert LlmModel.objects.defaults().count() == len(entries())
    assert default_price("gpt-4o", "input") == Decimal("0.0000025")


def test_second_run_changes_nothing():
    load()
    before = price_rows()
    output = load()
    assert f"0 created, 0 updated, {len(entries())} unchanged, 0 removed" in output
    assert price_rows() == before


def test_changed_file_updates_the_default_model_and_leaves_project_models_alone(tmp_path):
    load()
    project = make_project()
    own = LlmModel.objects.create(project=project, model_name="gpt-4o", match_pattern=r"(?i)^gpt-4o$")
    own_tier = PricingTier.objects.create(model=own, name="Standard", is_default=True)
    Price.objects.create(model=own, pricing_tier=own_tier, usage_type="input", price=Decimal("0.000001"))
    own_before = (list(LlmModel.objects.filter(pk=own.pk).values()), list(own.prices.values()))

    data = entries()
    entry = next(e for e in data if e["modelName"] == "gpt-4o")
    entry["updatedAt"] = "2030-01-01T00:00:00.000Z"
    entry["pricingTiers"][0]["prices"]["input"] = 0.000003
    output = load(write(tmp_path, data))

    assert "0 created, 1 updated" in output
    assert default_price("gpt-4o", "input") == Decimal("0.000003")
    assert (list(LlmModel.objects.filter(pk=own.pk).values()), list(own.prices.values())) == own_before


def test_a_model_removed_from_the_file_is_removed(tmp_path):
    load()
    project = make_project()
    own = LlmModel.objects.create(
        project=project, model_name="gpt-4o-mini", match_pattern="(?i)^gpt-4o-mini$"
    )
    data = [e for e in entries() if e["modelName"] != "gpt-4o-mini"]
    output = load(write(tmp_path, data))
    assert "1 removed" in output
    assert not LlmModel.objects.defaults().filter(model_name="gpt-4o-mini").exists()
    assert not Price.objects.filter(model__project=None, model__model_name="gpt-4o-mini").exists()
    assert LlmModel.objects.filter(pk=own.pk).exists()
    assert LlmModel.objects.defaults().count() == len(data)


@pytest.mark.skipif(not REFERENCE.exists(), reason="no shared reference copy on this machine")
def test_the_bundled_price_file_equals_the_reference_copy():
    bundled = Path(settings.BASE_DIR) / "traces" / "model_prices.json"
    assert json.loads(bundled.read_text()) == json.loads(REFERENCE.read_text())


def test_a_price_edited_without_a_new_updated_at_is_still_picked_up(tmp_path):
    load()
    data = entries()
    entry = next(e for e in data if e["modelName"] == "gpt-4o")
    entry["pricingTiers"][0]["prices"]["input"] = 0.000003
    load(write(tmp_path, data))
    assert default_price("gpt-4o", "input") == Decimal("0.000003")
