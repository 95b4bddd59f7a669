"""Ingestion keeps the usage a client sent in provided_usage_details and prices the de-duplicated form."""

from __future__ import annotations

from django.utils import timezone

from traces.ingest.legacy import parse_observation


def provided(body: dict) -> dict:
    record = parse_observation({"id": "g1", "traceId": "t1", **body}, "generation-create", timezone.now())
    return record.fields["provided_usage_details"]


def test_usage_details_are_kept_as_sent_even_when_input_includes_cached_tokens():
    sent = {"input": 12, "output": 3, "cache_read_input_tokens": 2, "total": 15}
    assert provided({"usageDetails": sent}) == sent


def test_legacy_usage_is_kept_without_its_unit_and_costs():
    usage = {"input": 12, "output": 5, "total": 17, "unit": "TOKENS", "inputCost": 0.1, "totalCost": 0.2}
    assert provided({"usage": usage}) == {"input": 12, "output": 5, "total": 17}


def test_openai_shaped_usage_is_kept_as_sent():
    usage = {"prompt_tokens": 100, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 30}}
    assert provided({"usageDetails": usage}) == usage
