"""LiteLLM 1.110 with its "langfuse", "langfuse_otel" and generic "otel" callbacks, mocked completions."""

from __future__ import annotations

import pytest

from tests.clients.expectations import assert_cost, assert_subset, assert_timings
from tests.clients.harness import ClientServer, run_driver
from tests.clients.scenario import make_scenario
from traces.models import Observation

pytestmark = [pytest.mark.clients, pytest.mark.client_env("langfuse4-litellm")]

# LiteLLM's mock response always reports these tokens; it prices them itself and sends the cost.
MOCK_USAGE = {"input": 10, "output": 20, "total": 30}
MOCK_COST = 10 * 0.15e-6 + 20 * 0.6e-6


def only_observation(server: ClientServer, name: str) -> dict:
    found = server.get("observations", name=name, type="GENERATION")["data"]
    assert len(found) == 1, f"expected one generation named {name!r}, got {found}"
    return found[0]


def assert_calls_stored(
    server: ClientServer, scenario: dict, result: dict, *, environment: str
) -> tuple[dict, dict]:
    """The successful and the failed call, each a root generation with what LiteLLM knew about it."""
    gen_s = scenario["generation"]
    assert result["content"] == gen_s["output"]["content"]
    assert "upstream exploded" in result["error"]
    ok = only_observation(server, gen_s["name"])
    failed = only_observation(server, f"{gen_s['name']}-failed")
    for generation in (ok, failed):
        assert generation["parentObservationId"] is None
        assert generation["model"] == gen_s["model"]
        assert generation["modelId"], "gpt-4o-mini was not matched to the price table"
        assert_subset(generation["modelParameters"], gen_s["model_parameters"], "model parameters")
        assert generation["environment"] == environment
        assert generation["endTime"] is not None
        assert_timings(generation)
    assert ok["level"] == "DEFAULT" and ok["statusMessage"] is None
    assert_subset(ok["usageDetails"], MOCK_USAGE, "usage")
    assert_cost(ok["calculatedTotalCost"], MOCK_COST, "cost")
    assert failed["level"] == "ERROR"
    assert "upstream exploded" in failed["statusMessage"]
    assert failed["usageDetails"] == {}
    return ok, failed


def assert_trace_attributes(server: ClientServer, scenario: dict, trace_id: str, *, environment: str) -> dict:
    trace = server.trace(trace_id)
    assert trace["name"] == scenario["trace_name"]
    assert trace["userId"] == scenario["user_id"]
    assert trace["sessionId"] == scenario["session_id"]
    assert sorted(trace["tags"]) == sorted(scenario["tags"])
    assert trace["release"] == scenario["release"]
    assert trace["version"] == scenario["version"]
    assert trace["environment"] == environment
    assert_subset(trace["metadata"], scenario["trace_metadata"], "trace metadata")
    return trace


def test_langfuse_callback_sends_both_calls_with_trace_attributes_usage_cost_and_the_error(
    client_env, client_server
):
    scenario = make_scenario("litellm-langfuse")
    result = run_driver(
        client_env,
        "litellm_callbacks",
        client_server,
        scenario,
        "langfuse",
        extra_env={"LANGFUSE_TRACING_ENVIRONMENT": scenario["environment"]},
    )
    ok, failed = assert_calls_stored(client_server, scenario, result, environment=scenario["environment"])
    messages = scenario["generation"]["input"]
    assert ok["input"] == failed["input"] == {"messages": messages}  # LiteLLM wraps the messages
    assert_subset(ok["output"], scenario["generation"]["output"], "output")
    assert failed["output"] == failed["statusMessage"]
    stored = Observation.objects.get(project=client_server.project, id=ok["id"])
    assert_subset(stored.provided_usage_details, MOCK_USAGE, "provided usage")
    # LiteLLM derives the trace id from the session id: both calls land in one trace.
    assert ok["traceId"] == failed["traceId"]
    trace = assert_trace_attributes(
        client_server, scenario, ok["traceId"], environment=scenario["environment"]
    )
    assert_cost(trace["totalCost"], MOCK_COST, "trace cost")


def test_langfuse_otel_callback_maps_openinference_model_usage_and_cost(client_env, client_server):
    scenario = make_scenario("litellm-langfuse-otel")
    result = run_driver(client_env, "litellm_callbacks", client_server, scenario, "langfuse_otel")
    # The environment is the OTel resource's deployment.environment, which LiteLLM sets to production.
    ok, failed = assert_calls_stored(client_server, scenario, result, environment="production")
    assert ok["input"] == failed["input"] == scenario["generation"]["input"]
    assert ok["output"] == scenario["generation"]["output"]
    stored = Observation.objects.get(project=client_server.project, id=ok["id"])
    assert stored.provided_usage_details == MOCK_USAGE  # from llm.token_count.{prompt,completion,total}
    for generation in (ok, failed):
        assert_trace_attributes(client_server, scenario, generation["traceId"], environment="production")
    raw_response = [
        o for o in client_server.get("observations", traceId=ok["traceId"])["data"] if o["id"] != ok["id"]
    ]
    assert [(o["type"], o["parentObservationId"]) for o in raw_response] == [("SPAN", ok["id"])]


def test_generic_otel_callback_maps_gen_ai_model_usage_cost_and_the_error(client_env, client_server):
    scenario = make_scenario("litellm-otel")
    result = run_driver(client_env, "litellm_callbacks", client_server, scenario, "otel")
    ok, failed = assert_calls_stored(client_server, scenario, result, environment="production")
    parts = [
        {"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]}
        for m in scenario["generation"]["input"]
    ]
    assert ok["input"] == failed["input"] == parts  # the GenAI "parts" message format, kept as sent
    assert ok["output"][0]["parts"] == [
        {"type": "text", "content": scenario["generation"]["output"]["content"]}
    ]
    # The generic exporter carries no Langfuse trace attributes: the trace is named after the span.
    trace = client_server.trace(ok["traceId"])
    assert (trace["name"], trace["userId"], trace["sessionId"]) == (
        scenario["generation"]["name"],
        None,
        None,
    )
