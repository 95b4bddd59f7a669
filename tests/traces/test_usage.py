from __future__ import annotations

from decimal import Decimal

import pytest

from traces.usage import normalize_cost, normalize_usage, split_input_output

# -- legacy usage ---------------------------------------------------------------------------------


def test_legacy_usage_keeps_input_output_total_and_ignores_unit_and_costs():
    usage = {"input": 12, "output": 5, "total": 17, "unit": "TOKENS", "inputCost": 0.0012}
    assert normalize_usage(usage=usage) == {"input": 12, "output": 5, "total": 17}


def test_legacy_usage_without_total_gets_the_sum():
    assert normalize_usage(usage={"input": 3, "output": 4}) == {"input": 3, "output": 4, "total": 7}


def test_legacy_camel_case_openai_usage_maps_to_input_output_total():
    usage = {"promptTokens": 12, "completionTokens": 5, "totalTokens": 17}
    assert normalize_usage(usage=usage) == {"input": 12, "output": 5, "total": 17}


def test_openai_usage_object_passed_as_legacy_usage_is_understood():
    usage = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    assert normalize_usage(usage=usage) == {"input": 10, "output": 2, "total": 12}


# -- usageDetails maps ----------------------------------------------------------------------------


def test_arbitrary_usage_details_are_kept_and_total_is_their_sum():
    details = {"input": 3, "output": 4, "cache_read_input_tokens": 1}
    assert normalize_usage(usage_details=details) == {
        "input": 3,
        "output": 4,
        "cache_read_input_tokens": 1,
        "total": 8,
    }


def test_usage_details_override_the_same_keys_of_legacy_usage():
    result = normalize_usage(usage={"input": 10, "output": 5}, usage_details={"input": 12, "output": 5})
    assert result == {"input": 12, "output": 5, "total": 17}


def test_openai_chat_completion_details_are_split_out_and_subtracted():
    details = {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 20, "audio_tokens": 5},
        "completion_tokens_details": {"reasoning_tokens": 10, "accepted_prediction_tokens": None},
    }
    assert normalize_usage(usage_details=details) == {
        "input": 75,
        "input_cached_tokens": 20,
        "input_audio_tokens": 5,
        "output": 40,
        "output_reasoning_tokens": 10,
        "total": 150,
    }


def test_openai_text_token_breakdown_does_not_empty_the_output_bucket():
    # LiteLLM forwards completion_tokens_details with text_tokens equal to the whole output.
    details = {
        "prompt_tokens": 9,
        "completion_tokens": 3,
        "total_tokens": 12,
        "completion_tokens_details": {"reasoning_tokens": 0, "text_tokens": 3, "audio_tokens": None},
        "prompt_tokens_details": None,
        "cost": 3.15e-06,
    }
    assert normalize_usage(usage_details=details) == {
        "input": 9,
        "output": 3,
        "output_reasoning_tokens": 0,
        "total": 12,
    }


def test_openai_responses_usage_details_are_split_out_and_subtracted():
    details = {
        "input_tokens": 100,
        "output_tokens": 50,
        "total_tokens": 150,
        "input_tokens_details": {"cached_tokens": 20},
        "output_tokens_details": {"reasoning_tokens": 30},
    }
    assert normalize_usage(usage_details=details) == {
        "input": 80,
        "input_cached_tokens": 20,
        "output": 20,
        "output_reasoning_tokens": 30,
        "total": 150,
    }


def test_details_larger_than_their_base_never_make_it_negative():
    details = {
        "prompt_tokens": 10,
        "completion_tokens": 0,
        "total_tokens": 10,
        "prompt_tokens_details": {"cached_tokens": 15},
    }
    assert normalize_usage(usage_details=details)["input"] == 0


def test_anthropic_style_usage_keeps_its_cache_buckets_next_to_input_and_output():
    details = {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100}
    assert normalize_usage(usage_details=details) == {
        "input": 10,
        "output": 5,
        "cache_read_input_tokens": 100,
        "total": 115,
    }


# -- no double counting ---------------------------------------------------------------------------


def test_inclusive_input_is_made_exclusive_when_the_total_proves_it():
    # input 12 already holds the 2 cached tokens: 12 + 5 == 17.
    details = {"input": 12, "output": 5, "total": 17, "cache_read_input_tokens": 2}
    assert normalize_usage(usage_details=details) == {
        "input": 10,
        "output": 5,
        "total": 17,
        "cache_read_input_tokens": 2,
    }


def test_exclusive_input_stays_as_sent():
    details = {"input": 10, "output": 5, "total": 17, "cache_read_input_tokens": 2}
    assert normalize_usage(usage_details=details) == details


def test_inclusive_output_is_made_exclusive_when_the_total_proves_it():
    details = {"input": 10, "output": 30, "output_reasoning_tokens": 20, "total": 40}
    assert normalize_usage(usage_details=details)["output"] == 10


def test_gemini_native_counts_are_made_exclusive_and_total_is_named_total():
    details = {
        "promptTokenCount": 100,
        "cachedContentTokenCount": 20,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 3,
        "totalTokenCount": 108,
    }
    assert normalize_usage(usage_details=details) == {
        "promptTokenCount": 80,
        "cachedContentTokenCount": 20,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 3,
        "total": 108,
    }


# -- bad values -----------------------------------------------------------------------------------


def test_negative_boolean_non_numeric_and_nested_values_are_dropped_and_floats_rounded():
    details = {"a": -1, "b": "many", "c": 2.6, "d": True, "e": None, "f": {"x": 1}, "g": "7"}
    assert normalize_usage(usage_details=details) == {"c": 3, "g": 7, "total": 10}


@pytest.mark.parametrize("value", [None, {}, "12", [1, 2], {"input": -5}, {"input": "n/a"}])
def test_nothing_usable_gives_an_empty_map(value):
    assert normalize_usage(usage=value, usage_details=value) == {}


# -- costs ----------------------------------------------------------------------------------------


def test_legacy_costs_map_to_input_output_total():
    usage = {"input": 12, "inputCost": 0.0012, "outputCost": 0.0005, "totalCost": 0.0017}
    assert normalize_cost(usage=usage) == {"input": 0.0012, "output": 0.0005, "total": 0.0017}


def test_cost_details_without_total_get_the_sum_without_float_noise():
    assert normalize_cost({"input": 0.1, "output": 0.2}) == {"input": 0.1, "output": 0.2, "total": 0.3}


def test_cost_details_override_legacy_costs():
    assert normalize_cost({"total": 0.001}, {"totalCost": 0.5}) == {"total": 0.001}


def test_negative_and_non_numeric_costs_are_dropped():
    assert normalize_cost({"input": -1, "output": "free", "x": None, "total": True}) == {}


# -- input / output split -------------------------------------------------------------------------


def test_split_sums_exclusive_buckets_by_side():
    details = {
        "input": 80,
        "input_cached_tokens": 20,
        "output": 40,
        "output_reasoning_tokens": 10,
        "total": 150,
    }
    assert split_input_output(details) == (100, 50, 150)


def test_split_does_not_count_cache_twice_when_input_was_inclusive():
    details = {"input": 100, "cache_read_input_tokens": 20, "output": 50, "total": 150}
    assert split_input_output(details) == (100, 50, 150)


def test_split_without_total_sums_every_key_and_ignores_other_keys_for_sides():
    details = {"input": 10, "output": 5, "web_search_queries": 2}
    assert split_input_output(details) == (10, 5, 17)


def test_split_of_costs_returns_decimals():
    assert split_input_output({"input": 0.1, "output": 0.2}) == (
        Decimal("0.1"),
        Decimal("0.2"),
        Decimal("0.3"),
    )


def test_split_of_empty_map_is_zero():
    assert split_input_output({}) == (0, 0, 0)
