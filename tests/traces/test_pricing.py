from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.factories import make_project
from traces.models import LlmModel, Price, PricingTier
from traces.pricing import (
    MatchedModel,
    Tier,
    clear_model_cache,
    compute_cost,
    match_model,
    select_tier,
)
from traces.pricing_defaults import load_default_prices
from traces.usage import normalize_usage

GPT_4O_ID = "b9854a5c92dc496b997d99d20"  # Langfuse's id for the default gpt-4o definition


@pytest.fixture(scope="module")
def default_prices(django_db_setup, django_db_blocker):
    """Langfuse's price table, loaded once for this module (about half a second a load)."""
    with django_db_blocker.unblock():
        already_there = LlmModel.objects.defaults().exists()
        load_default_prices()
    yield
    if not already_there:
        with django_db_blocker.unblock():
            LlmModel.objects.defaults().delete()


@pytest.fixture
def project(db, default_prices):
    return make_project()


def add_model(project, name, pattern, prices, start_date=None, tiers=()):
    model = LlmModel.objects.create(
        project=project, model_name=name, match_pattern=pattern, start_date=start_date
    )
    default = PricingTier.objects.create(model=model, name="Standard", is_default=True, priority=0)
    Price.objects.bulk_create(
        Price(model=model, pricing_tier=default, usage_type=key, price=Decimal(value))
        for key, value in prices.items()
    )
    for priority, (tier_name, conditions, tier_prices) in enumerate(tiers, start=1):
        tier = PricingTier.objects.create(
            model=model, name=tier_name, priority=priority, conditions=conditions
        )
        Price.objects.bulk_create(
            Price(model=model, pricing_tier=tier, usage_type=key, price=Decimal(value))
            for key, value in tier_prices.items()
        )
    clear_model_cache()
    return model


# -- default prices -------------------------------------------------------------------------------


def test_gpt_4o_prices_input_cached_and_output_exactly(project):
    usage = normalize_usage(
        usage_details={
            "prompt_tokens": 100,
            "completion_tokens": 50,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 20},
        }
    )
    result = compute_cost(project.id, "gpt-4o", usage)
    assert result.internal_model_id == GPT_4O_ID
    assert result.tier_name == "Standard"
    assert result.usage_details == {"input": 80, "input_cached_tokens": 20, "output": 50, "total": 150}
    assert result.cost_details == {
        "input": Decimal("0.0002"),
        "input_cached_tokens": Decimal("0.000025"),
        "output": Decimal("0.0005"),
        "total": Decimal("0.000725"),
    }
    assert result.total_cost == Decimal("0.000725")


def test_cached_tokens_sent_inside_an_inclusive_input_are_charged_once(project):
    usage = normalize_usage(
        usage_details={"input": 12, "output": 5, "total": 17, "cache_read_input_tokens": 2}
    )
    result = compute_cost(project.id, "gpt-4o", usage)
    # 10 fresh input tokens at 2.5e-6, 2 cached at 1.25e-6, 5 output at 1e-5
    assert result.total_cost == Decimal("0.0000775")


def test_usage_key_without_own_price_uses_a_priced_alias(project):
    result = compute_cost(project.id, "gpt-4o", {"input": 10, "cached_tokens": 4, "total": 14})
    assert result.cost_details["cached_tokens"] == Decimal("0.000005")


def test_model_name_matches_case_insensitively_with_provider_prefix(project):
    matched = match_model(project.id, "OpenAI/GPT-4o", None)
    assert matched is not None
    assert matched.id == GPT_4O_ID
    assert match_model(project.id, "gpt-4o-2024-08-06", None).model_name == "gpt-4o-2024-08-06"


def test_unknown_model_has_no_cost_and_keeps_its_usage(project):
    result = compute_cost(project.id, "my-local-llama", {"input": 3, "output": 4, "total": 7})
    assert result.internal_model_id is None
    assert result.total_cost is None
    assert result.cost_details == {}
    assert result.usage_details == {"input": 3, "output": 4, "total": 7}


def test_no_model_name_has_no_cost(project):
    assert compute_cost(project.id, None, {"input": 3, "total": 3}).total_cost is None


def test_provided_costs_win_over_the_price_table(project):
    result = compute_cost(
        project.id, "gpt-4o", {"input": 3, "output": 4, "total": 7}, {"input": 0.1, "output": 0.2}
    )
    assert result.internal_model_id == GPT_4O_ID
    assert result.cost_details == {
        "input": Decimal("0.1"),
        "output": Decimal("0.2"),
        "total": Decimal("0.3"),
    }
    assert result.total_cost == Decimal("0.3")


def test_provided_total_is_used_as_sent(project):
    result = compute_cost(project.id, "unknown", {}, {"total": 0.001})
    assert result.total_cost == Decimal("0.001")
    assert result.internal_model_id is None


# -- pricing tiers --------------------------------------------------------------------------------


def test_large_context_tier_applies_above_200k_input_tokens(project):
    big = compute_cost(project.id, "gemini-2.5-pro", {"input": 250_000, "output": 1000, "total": 251_000})
    assert big.tier_name == "Large Context"
    assert big.cost_details["input"] == Decimal("0.625")  # 250K x 2.5e-6
    assert big.cost_details["output"] == Decimal("0.015")  # 1K x 1.5e-5


def test_large_context_tier_does_not_apply_at_or_below_200k(project):
    small = compute_cost(project.id, "gemini-2.5-pro", {"input": 200_000, "output": 1000, "total": 201_000})
    assert small.tier_name == "Standard"
    assert small.cost_details["input"] == Decimal("0.25")  # 200K x 1.25e-6


def test_large_context_threshold_counts_cached_input_too(project):
    # 150K fresh + 60K cached: 210K input tokens in all, over the 200K threshold.
    usage = {"input": 150_000, "input_cached_tokens": 60_000, "output": 10, "total": 210_010}
    assert compute_cost(project.id, "google/gemini-2.5-pro", usage).tier_name == "Large Context"


def test_fast_mode_tier_is_selected_by_service_tier_model_parameter(project):
    usage = {"input": 1000, "output": 100, "total": 1100}
    fast = compute_cost(project.id, "gpt-4o", usage, model_parameters={"service_tier": "priority"})
    assert fast.tier_name == "Fast mode"
    assert fast.cost_details["input"] == Decimal("0.00425")
    standard = compute_cost(project.id, "gpt-4o", usage, model_parameters={"service_tier": "default"})
    assert standard.tier_name == "Standard"
    assert standard.cost_details["input"] == Decimal("0.0025")


def test_tier_with_two_conditions_needs_both(project):
    usage = {"input": 300_000, "output": 10, "total": 300_010}
    flex_large = compute_cost(project.id, "gpt-5.5", usage, model_parameters={"service_tier": "flex"})
    assert flex_large.tier_name == "Flex · Large context (>272K)"
    flex_small = compute_cost(
        project.id, "gpt-5.5", {"input": 10, "total": 10}, model_parameters={"service_tier": "flex"}
    )
    assert flex_small.tier_name == "Flex"
    assert compute_cost(project.id, "gpt-5.5", usage).tier_name == "Large Context (>272K)"


def _tiered(*tiers: Tier) -> MatchedModel:
    default = Tier("d", "Default", True, 0, [], {})
    return MatchedModel("m", "m", None, None, None, (default, *tiers))


@pytest.mark.parametrize(
    ("condition", "model_parameters", "metadata", "selected"),
    [
        (
            {"source": "metadata", "key": "plan", "operator": "eq", "value": "Pro"},
            None,
            {"plan": "pro"},
            True,
        ),
        (
            {"source": "metadata", "key": "plan", "operator": "neq", "value": "pro"},
            None,
            {"plan": "pro"},
            False,
        ),
        (
            {"source": "model_parameters", "key": "tier", "operator": "not_in", "values": ["a"]},
            {"tier": "b"},
            None,
            True,
        ),
        (
            {"source": "model_parameters", "key": "speed", "operator": "in", "values": ["fast"]},
            {"speed": ["slow", "fast"]},
            None,
            True,
        ),
        (
            {"source": "model_parameters", "key": "x", "operator": "eq", "value": "A", "caseSensitive": True},
            {"x": "a"},
            None,
            False,
        ),
        (
            {"source": "model_parameters", "key": "max_tokens", "operator": "gt", "value": 100},
            {"max_tokens": "500"},
            None,
            True,
        ),
        (
            {"source": "model_parameters", "key": "service_tier", "operator": "in", "values": ["fast"]},
            None,
            None,
            False,
        ),
        ({"usageDetailPattern": "(", "operator": "gt", "value": 0}, None, None, False),
        (
            {"usageDetailPattern": "^INPUT$", "operator": "gte", "value": 10, "caseSensitive": True},
            None,
            None,
            False,
        ),
        ({"usageDetailPattern": "^INPUT$", "operator": "gte", "value": 10}, None, None, True),
        ({"usageDetailPattern": "input", "operator": "eq", "value": 15}, None, None, True),
        ({"usageDetailPattern": "input", "operator": "between", "value": 15}, None, None, False),
    ],
)
def test_tier_conditions(condition, model_parameters, metadata, selected):
    model = _tiered(Tier("t", "Special", False, 1, [condition], {}))
    tier = select_tier(model, {"input": 10, "input_cached_tokens": 5}, model_parameters, metadata)
    assert (tier.name == "Special") is selected


def test_tiers_are_tried_by_ascending_priority_and_empty_conditions_never_match():
    always = {"usageDetailPattern": "input", "operator": "gte", "value": 0}
    model = _tiered(
        Tier("b", "Second", False, 2, [always], {}),
        Tier("e", "Empty", False, 0, [], {}),
        Tier("a", "First", False, 1, [always], {}),
    )
    assert select_tier(model, {"input": 1}).name == "First"


# -- project models and start dates ---------------------------------------------------------------


def test_project_model_wins_over_the_default(project):
    own = add_model(project, "our-gpt-4o", r"(?i)^(openai/)?(gpt-4o)$", {"input": "0.001", "output": "0.002"})
    result = compute_cost(project.id, "gpt-4o", {"input": 2, "output": 1, "total": 3})
    assert result.internal_model_id == own.id
    assert result.total_cost == Decimal("0.004")


def test_another_projects_model_is_not_used(project):
    add_model(make_project(), "their-gpt-4o", r"(?i)^gpt-4o$", {"input": "1"})
    assert match_model(project.id, "gpt-4o", None).id == GPT_4O_ID


def test_latest_start_date_not_after_the_generation_wins(project):
    pattern = r"(?i)^acme-llm$"
    old = add_model(project, "acme-llm", pattern, {"input": "0.01"})
    mid = add_model(
        project, "acme-llm", pattern, {"input": "0.02"}, start_date=datetime(2024, 1, 1, tzinfo=UTC)
    )
    new = add_model(
        project, "acme-llm", pattern, {"input": "0.03"}, start_date=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert match_model(project.id, "acme-llm", datetime(2023, 6, 1, tzinfo=UTC)).id == old.id
    assert match_model(project.id, "acme-llm", datetime(2024, 6, 1, tzinfo=UTC)).id == mid.id
    assert match_model(project.id, "acme-llm", datetime(2025, 6, 1, tzinfo=UTC)).id == new.id
    assert match_model(project.id, "acme-llm", None).id == new.id
    at = datetime(2024, 6, 1, tzinfo=UTC)
    assert compute_cost(project.id, "acme-llm", {"input": 100, "total": 100}, at=at).total_cost == Decimal(
        "2"
    )


def test_model_that_starts_after_the_generation_does_not_match(project):
    add_model(project, "future", r"(?i)^future$", {"input": "1"}, start_date=datetime(2030, 1, 1, tzinfo=UTC))
    assert match_model(project.id, "future", datetime(2029, 1, 1, tzinfo=UTC)) is None


def test_total_price_prices_the_total_units(project):
    add_model(project, "per-token", r"(?i)^per-token$", {"total": "0.5"})
    result = compute_cost(project.id, "per-token", {"input": 3, "output": 1, "total": 4})
    assert result.cost_details == {"total": Decimal("2")}
    assert result.total_cost == Decimal("2")


def test_invalid_project_pattern_is_skipped(project):
    add_model(project, "broken", "(?i)^(broken", {"input": "1"})
    assert match_model(project.id, "broken", None) is None
    assert match_model(project.id, "gpt-4o", None).id == GPT_4O_ID


# -- cache ----------------------------------------------------------------------------------------


def test_a_cold_lookup_takes_two_queries_and_a_warm_one_none(project, django_assert_num_queries):
    usage = {"input": 10, "output": 5, "total": 15}
    with django_assert_num_queries(2):
        compute_cost(project.id, "gpt-4o", usage)
    with django_assert_num_queries(0):
        warm = compute_cost(project.id, "GPT-4o", usage, model_parameters={"service_tier": "fast"})
        compute_cost(project.id, "gpt-4o", usage)
        compute_cost(project.id, "no-such-model", usage)
    assert warm.tier_name == "Fast mode"


def test_clearing_the_cache_picks_up_a_new_project_model(project):
    assert match_model(project.id, "gpt-4o", None).id == GPT_4O_ID
    LlmModel.objects.create(project=project, model_name="mine", match_pattern="(?i)^gpt-4o$")
    assert match_model(project.id, "gpt-4o", None).id == GPT_4O_ID  # still cached
    clear_model_cache()
    assert match_model(project.id, "gpt-4o", None).model_name == "mine"
