"""Mapping rules on hand-made spans: types, levels, environments, usage, trace-level merging."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from traces.ingest.otel_mapping import map_spans
from traces.ingest.otlp import STATUS_ERROR, Span, SpanEvent

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
NS = 1_795_000_000_000_000_000  # a nanosecond timestamp in 2026


def span(span_id="b7ad6b7169203331", parent=None, name="s", start=NS, end=NS + 1_000_000, **kwargs) -> Span:
    return Span(
        trace_id=kwargs.pop("trace_id", TRACE_ID),
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        **kwargs,
    )


def only_observation(*spans, **kwargs):
    (record,) = map_spans(list(spans), **kwargs).observations
    return record.fields


def test_error_status_without_message_uses_the_exception_event():
    fields = only_observation(
        span(
            status_code=STATUS_ERROR,
            events=[
                SpanEvent("exception", NS, {"exception.type": "ValueError", "exception.message": "bad input"})
            ],
        )
    )

    assert (fields["level"], fields["status_message"]) == ("ERROR", "bad input")


def test_explicit_level_wins_over_the_span_status():
    fields = only_observation(
        span(status_code=STATUS_ERROR, attributes={"langfuse.observation.level": "warning"})
    )

    assert fields["level"] == "WARNING"


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"langfuse.observation.type": "agent"}, "AGENT"),
        ({"langfuse.observation.type": "nonsense", "llm.model_name": "m"}, "GENERATION"),
        ({"openinference.span.kind": "TOOL"}, "TOOL"),
        ({"openinference.span.kind": "retriever"}, "RETRIEVER"),
        ({"gen_ai.operation.name": "embeddings"}, "EMBEDDING"),
        ({"gen_ai.operation.name": "invoke_agent"}, "AGENT"),
        ({"gen_ai.tool.name": "search"}, "TOOL"),
        ({"ai.operationId": "ai.generateText.doGenerate"}, "GENERATION"),
        ({"llm.token_count.prompt": 3}, "GENERATION"),
        ({"gen_ai.usage.input_tokens": 3}, "GENERATION"),
        ({"http.method": "GET"}, "SPAN"),
    ],
)
def test_observation_type_rules(attributes, expected):
    assert only_observation(span(attributes=attributes))["type"] == expected


def test_a_span_without_duration_is_an_event():
    assert only_observation(span(start=NS, end=NS))["type"] == "EVENT"
    assert (
        only_observation(span(start=NS, end=NS, attributes={"langfuse.observation.type": "span"}))["type"]
        == "SPAN"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Production", "production"),
        ("langfuse-prod", "prod"),
        ("staging_eu-1", "staging_eu-1"),
        ("has space", "fallback"),
        ("x" * 41, "fallback"),
        ("", "fallback"),
    ],
)
def test_environment_is_normalised(value, expected):
    fields = only_observation(
        span(attributes={"langfuse.environment": value}), default_environment="fallback"
    )

    assert fields["environment"] == expected


def test_environment_falls_back_to_resource_deployment_environment_name():
    batch = map_spans([span(resource_attributes={"deployment.environment.name": "QA"})])

    assert batch.observations[0].fields["environment"] == "qa"
    assert batch.traces[0].fields["environment"] == "qa"


def test_gen_ai_cached_and_reasoning_tokens_are_not_double_counted():
    fields = only_observation(
        span(
            attributes={
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.cache_read.input_tokens": 30,
                "gen_ai.usage.output_tokens": 50,
                "gen_ai.usage.reasoning_tokens": 20,
                "gen_ai.usage.total_tokens": 150,
                "gen_ai.usage.cost": 0.5,
            }
        )
    )

    assert fields["provided_usage_details"] == {
        "input": 70,
        "input_cached_tokens": 30,
        "output": 30,
        "output_reasoning_tokens": 20,
        "total": 150,
    }
    assert fields["provided_cost_details"] == {"total": 0.5}


def test_openinference_prompt_details_become_cached_input():
    fields = only_observation(
        span(
            attributes={
                "llm.token_count.prompt": 10,
                "llm.token_count.prompt_details.cache_read": 4,
                "llm.token_count.completion": 2,
            }
        )
    )

    assert fields["provided_usage_details"] == {"input": 6, "input_cached_tokens": 4, "output": 2}


@pytest.mark.parametrize(
    "value",
    ['"2026-01-02T03:04:05.123456+00:00"', "2026-01-02T03:04:05.123456Z", "2026-01-02T04:04:05.123456+01:00"],
)
def test_completion_start_time_quoted_or_raw(value):
    fields = only_observation(span(attributes={"langfuse.observation.completion_start_time": value}))

    assert fields["completion_start_time"] == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def test_observation_metadata_as_one_json_object_and_as_keys():
    fields = only_observation(
        span(
            attributes={
                "langfuse.observation.metadata": json.dumps({"a": 1, "b": {"c": True}}),
                "langfuse.observation.metadata.d": '"x"',
            }
        )
    )

    assert fields["metadata"] == {"a": 1, "b": {"c": True}, "d": "x"}


def test_prompt_version_as_string_and_incomplete_prompt_links():
    linked = only_observation(
        span(attributes={"langfuse.observation.prompt.name": "p", "langfuse.observation.prompt.version": "3"})
    )
    unlinked = only_observation(span(attributes={"langfuse.observation.prompt.name": "p"}))

    assert (linked["prompt_name"], linked["prompt_version"]) == ("p", 3)
    assert "prompt_name" not in unlinked


def test_trace_attributes_from_any_span_with_the_root_winning():
    root = span(
        "00000000000000a1",
        name="root",
        attributes={
            "session.id": "from-root",
            "langfuse.trace.tags": "a, b",
            "langfuse.trace.public": "true",
        },
        resource_attributes={"service.version": "9.9", "langfuse.release": "r1"},
    )
    child = span(
        "00000000000000a2",
        parent="00000000000000a1",
        name="child",
        start=NS + 5,
        attributes={"session.id": "from-child", "langfuse.trace.tags": ["c"], "langfuse.trace.name": "named"},
    )

    (trace,) = map_spans([root, child]).traces

    assert trace.fields["name"] == "named"  # an explicit trace name beats the root span's name
    assert trace.fields["session_id"] == "from-root"
    assert trace.fields["tags"] == ["c", "a", "b"]
    assert trace.fields["public"] is True
    assert (trace.fields["release"], trace.fields["version"]) == ("r1", "9.9")
    assert trace.fields["timestamp"] == datetime.fromtimestamp(NS // 1_000_000_000, tz=UTC)


def test_a_trace_seen_only_through_a_child_span_gets_a_shallow_record():
    child = span(parent="00000000000000a1", attributes={"langfuse.environment": "dev"})

    batch = map_spans([child])

    assert batch.traces[0].id == TRACE_ID
    assert batch.traces[0].fields == {"timestamp": child.start_time, "environment": "dev"}
    assert batch.observations[0].fields["parent_observation_id"] == "00000000000000a1"


def test_spans_of_several_traces_in_one_request():
    other = "1" * 32
    batch = map_spans([span(trace_id=other, name="one"), span("00000000000000a2", name="two")])

    assert [t.id for t in batch.traces] == [other, TRACE_ID]
    assert [(o.trace_id, o.fields["name"]) for o in batch.observations] == [(other, "one"), (TRACE_ID, "two")]
