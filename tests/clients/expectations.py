"""Assertions that what the server stored (read back through the public API) equals what a client sent."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.clients.harness import ClientServer, by_name
from tests.clients.scenario import EXCLUSIVE_USAGE, EXPECTED_COST, SENT_USAGE
from traces.models import Observation


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_subset(stored: Any, sent: dict[str, Any], what: str) -> None:
    assert isinstance(stored, dict), f"{what}: stored {stored!r} is not an object"
    missing = {k: v for k, v in sent.items() if stored.get(k) != v}
    assert not missing, f"{what}: expected {missing} within {stored}"


def assert_cost(value: Any, expected: Decimal, what: str) -> None:
    assert value is not None, f"{what}: no cost"
    assert math.isclose(float(value), float(expected), rel_tol=1e-6), f"{what}: {value} != {expected}"


def assert_timings(observation: dict[str, Any]) -> None:
    start, end = parse_time(observation["startTime"]), parse_time(observation["endTime"])
    assert start is not None, f"{observation['name']}: no start time"
    if end is not None:
        assert start <= end, f"{observation['name']}: starts {start} after it ends {end}"


def assert_trace_fields(trace: dict[str, Any], s: dict[str, Any], *, public: bool = False) -> None:
    assert trace["name"] == s["trace_name"]
    assert trace["userId"] == s["user_id"]
    assert trace["sessionId"] == s["session_id"]
    assert sorted(trace["tags"]) == sorted(s["tags"])
    assert trace["release"] == s["release"]
    assert trace["version"] == s["version"]
    assert trace["environment"] == s["environment"]
    assert trace["public"] is public
    assert_subset(trace["metadata"], s["trace_metadata"], "trace metadata")


def assert_scenario_stored(
    server: ClientServer,
    s: dict[str, Any],
    result: dict[str, Any],
    *,
    model_parameters: dict[str, Any] | None = None,
    public: bool = False,
    session_score: bool = False,
) -> None:
    """The whole scenario of scenario.py: trace, four nested observations, usage, cost, prompt link, scores."""
    assert result["auth_check"] is True
    trace = server.trace(result["trace_id"])
    assert_trace_fields(trace, s, public=public)
    assert trace["input"] == s["root"]["input"]
    assert trace["output"] == s["root"]["output"]
    assert_cost(trace["totalCost"], EXPECTED_COST, "trace totalCost")

    observations = by_name(trace["observations"])
    ids = result["observations"]
    root_s, span_s, gen_s, event_s = s["root"], s["span"], s["generation"], s["event"]
    assert set(observations) == {root_s["name"], span_s["name"], gen_s["name"], event_s["name"]}
    root, span, generation, event = (
        observations[n] for n in (root_s["name"], span_s["name"], gen_s["name"], event_s["name"])
    )
    for observation in observations.values():
        assert observation["id"] == ids[observation["name"]]
        assert observation["traceId"] == result["trace_id"]
        assert observation["environment"] == s["environment"]
        assert_timings(observation)

    # Nesting and types
    assert (root["parentObservationId"], root["type"]) == (None, "SPAN")
    assert (span["parentObservationId"], span["type"]) == (root["id"], "SPAN")
    assert (generation["parentObservationId"], generation["type"]) == (span["id"], "GENERATION")
    assert (event["parentObservationId"], event["type"]) == (root["id"], "EVENT")
    for observation in (root, span, generation):
        assert observation["endTime"] is not None, f"{observation['name']} never ended"

    # Input, output, metadata, levels
    for observation, sent in ((root, root_s), (span, span_s), (generation, gen_s), (event, event_s)):
        assert observation["input"] == sent["input"], observation["name"]
        assert observation["output"] == sent["output"], observation["name"]
        assert_subset(observation["metadata"], sent["metadata"], f"{observation['name']} metadata")
    assert (span["level"], span["statusMessage"]) == (span_s["level"], span_s["status_message"])
    assert (event["level"], event["statusMessage"]) == (event_s["level"], event_s["status_message"])
    assert (root["level"], generation["level"]) == ("DEFAULT", "DEFAULT")

    # Model, parameters, usage, cost, prompt link
    assert generation["model"] == gen_s["model"]
    assert generation["modelId"], "the generation's model was not matched to the price table"
    assert generation["modelParameters"] == (model_parameters or gen_s["model_parameters"])
    assert generation["usageDetails"] == EXCLUSIVE_USAGE
    assert_cost(generation["calculatedTotalCost"], EXPECTED_COST, "generation cost")
    assert (generation["usage"]["output"], generation["usage"]["total"]) == (3, 15)
    stored = Observation.objects.get(project=server.project, id=generation["id"])
    assert stored.provided_usage_details == SENT_USAGE
    assert stored.provided_cost_details == {}, "the client sent no cost; the server must compute it"
    assert (generation["promptName"], generation["promptVersion"]) == (
        gen_s["prompt"]["name"],
        gen_s["prompt"]["version"],
    )

    assert_scores(server, s, trace, generation["id"], session_score=session_score)


def assert_scores(
    server: ClientServer, s: dict[str, Any], trace: dict[str, Any], generation_id: str, *, session_score: bool
) -> None:
    sent = s["scores"]
    scores = by_name(server.scores(traceId=trace["id"]))
    assert set(scores) == {sent["numeric"]["name"], sent["categorical"]["name"], sent["boolean"]["name"]}
    numeric, categorical, boolean = (scores[sent[k]["name"]] for k in ("numeric", "categorical", "boolean"))
    assert (numeric["dataType"], numeric["value"], numeric["comment"]) == ("NUMERIC", 0.9, "great")
    assert numeric["observationId"] is None
    assert (categorical["dataType"], categorical["stringValue"]) == ("CATEGORICAL", "good")
    assert categorical["observationId"] == generation_id
    assert (boolean["dataType"], boolean["value"], boolean["stringValue"]) == ("BOOLEAN", 1, "True")
    for score in scores.values():
        assert score["environment"] == s["environment"], score["name"]
    if session_score:
        (session,) = server.scores(sessionId=s["session_id"])
        assert (session["name"], session["value"], session["traceId"]) == (sent["session"]["name"], 0.7, None)
