"""POST /api/public/otel/v1/traces with arbitrary spans (hypothesis), as protobuf and as JSON:
attribute values of every AnyValue type, deep nesting, odd text, any timestamps. Never a 500; a
well-formed export is stored whole; a malformed one is a 400 that says what is wrong."""

from __future__ import annotations

import base64
import itertools
import json

import pytest
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.factories import make_key, make_org, make_project
from tests.hostile import strategies as hs
from traces.models import Observation, Trace

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)
U64 = 2**64 - 1

# Protobuf strings must be valid UTF-8: no lone surrogates here (the JSON test sends those).
proto_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from([t for t in hs.ODD_TEXT if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]),
)
KEYS = [
    "langfuse.observation.type",
    "langfuse.observation.input",
    "langfuse.observation.output",
    "langfuse.observation.metadata.x",
    "langfuse.observation.level",
    "langfuse.observation.usage_details",
    "langfuse.observation.cost_details",
    "langfuse.observation.model.name",
    "langfuse.observation.model.parameters",
    "langfuse.observation.prompt.name",
    "langfuse.observation.prompt.version",
    "langfuse.trace.name",
    "langfuse.trace.metadata.y",
    "langfuse.trace.tags",
    "langfuse.trace.input",
    "langfuse.trace.public",
    "langfuse.user.id",
    "langfuse.session.id",
    "langfuse.environment",
    "langfuse.release",
    "langfuse.version",
    "user.id",
    "session.id",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.cost",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.prompt.0.content",
    "gen_ai.request.temperature",
    "llm.token_count.prompt",
    "llm.input_messages.0.message.content",
    "input.value",
    "output.value",
    "openinference.span.kind",
    "deployment.environment",
]
keys = st.one_of(st.sampled_from(KEYS), proto_text)


def any_values(max_leaves: int = 12) -> st.SearchStrategy:
    scalar = st.one_of(
        proto_text.map(lambda v: AnyValue(string_value=v)),
        st.sampled_from(['{"a": [1, 2]}', "[[[[]]]]", "[" * 2000 + "]" * 2000, "1e999", "NaN"]).map(
            lambda v: AnyValue(string_value=v)
        ),
        st.booleans().map(lambda v: AnyValue(bool_value=v)),
        st.integers(min_value=-(2**63), max_value=2**63 - 1).map(lambda v: AnyValue(int_value=v)),
        st.floats(allow_nan=True, allow_infinity=True).map(lambda v: AnyValue(double_value=v)),
        st.binary(max_size=40).map(lambda v: AnyValue(bytes_value=v)),
        st.just(AnyValue()),  # no value set
    )

    def nest(children: st.SearchStrategy) -> st.SearchStrategy:
        arrays = st.lists(children, max_size=3).map(lambda items: AnyValue(array_value={"values": items}))
        kvlists = st.lists(st.tuples(keys, children), max_size=3).map(
            lambda pairs: AnyValue(kvlist_value={"values": [KeyValue(key=k, value=v) for k, v in pairs]})
        )
        return st.one_of(arrays, kvlists)

    return st.recursive(scalar, nest, max_leaves=max_leaves)


def deep_value(depth: int) -> AnyValue:
    value = AnyValue(string_value="leaf")
    for level in range(depth):
        if level % 2:
            value = AnyValue(array_value={"values": [value]})
        else:
            value = AnyValue(kvlist_value={"values": [KeyValue(key="k", value=value)]})
    return value


values = st.one_of(any_values(), st.integers(min_value=10, max_value=30).map(deep_value))
attributes = st.lists(st.tuples(keys, values), max_size=8).map(
    lambda pairs: [KeyValue(key=k, value=v) for k, v in pairs]
)
nanos = st.one_of(
    st.integers(min_value=0, max_value=U64),
    st.sampled_from([0, 1, U64, 2**63, 2**63 - 1, 1_767_225_600_000_000_000]),
)


@st.composite
def spans(draw, trace_id: bytes) -> dict:
    return {
        "trace_id": trace_id,
        "span_id": draw(st.binary(min_size=8, max_size=8).filter(any)),
        "parent_span_id": draw(st.one_of(st.just(b""), st.binary(min_size=1, max_size=16))),
        "name": draw(proto_text),
        "kind": draw(st.integers(min_value=0, max_value=5)),
        "start_time_unix_nano": draw(nanos),
        "end_time_unix_nano": draw(nanos),
        "attributes": draw(attributes),
        "events": [
            {"name": name, "time_unix_nano": time, "attributes": attrs}
            for name, time, attrs in draw(st.lists(st.tuples(proto_text, nanos, attributes), max_size=2))
        ],
        "status": {"code": draw(st.integers(min_value=0, max_value=2)), "message": draw(proto_text)},
    }


@st.composite
def exports(draw) -> ExportTraceServiceRequest:
    trace_id = draw(st.binary(min_size=16, max_size=16).filter(any))
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(draw(attributes))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = draw(proto_text)
    scope_spans.scope.attributes.extend(draw(attributes))
    for span in draw(st.lists(spans(trace_id), max_size=5)):
        scope_spans.spans.add(**span)
    return request


@pytest.fixture
def keys_of_a_project():
    project = make_project(make_org("Hostile"), "hostile-otlp")
    public, secret = make_key(project)
    return project, {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()
    }


def _valid_neighbour(request: ExportTraceServiceRequest) -> str:
    """A plain span appended to the export; returns its span id as hex."""
    span_id = next(_serial).to_bytes(8, "big")
    scope_spans = request.resource_spans[0].scope_spans[0]
    scope_spans.spans.add(
        trace_id=b"\x01" * 16,
        span_id=span_id,
        name="neighbour",
        start_time_unix_nano=1_767_225_600_000_000_000,
        end_time_unix_nano=1_767_225_601_000_000_000,
    )
    return span_id.hex()


def _to_otlp_json(request: ExportTraceServiceRequest) -> dict:
    """protobuf's JSON mapping, with ids in hex as OTLP/JSON wants."""
    document = json_format.MessageToDict(request)

    def fix(node):
        if isinstance(node, dict):
            return {
                k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") else fix(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(document)


def _stored(project, span_ids: list[str]) -> set[str]:
    return set(Observation.objects.filter(project=project, id__in=span_ids).values_list("id", flat=True))


def _assert_readable(client, headers):
    for url in (
        "/api/public/traces?limit=100",
        "/api/public/observations?limit=100",
        "/api/public/v2/observations",
    ):
        read = client.get(url, **headers)
        assert read.status_code == 200, (url, read.content[:500])


@given(request=exports())
def test_any_protobuf_export_is_stored_whole(client, keys_of_a_project, request):
    project, headers = keys_of_a_project
    neighbour = _valid_neighbour(request)
    span_ids = [s.span_id.hex() for s in request.resource_spans[0].scope_spans[0].spans]
    response = client.post(
        "/api/public/otel/v1/traces",
        request.SerializeToString(),
        content_type="application/x-protobuf",
        **headers,
    )
    assert response.status_code == 200, response.content[:500]
    assert neighbour in _stored(project, span_ids)
    assert _stored(project, span_ids) == set(span_ids)
    _assert_readable(client, headers)


@given(request=exports(), surrogate=st.sampled_from(["\ud800", "a\udfffb", "\ud83d"]), nul=st.booleans())
def test_any_json_export_with_lone_surrogates_and_nul_is_stored_whole(
    client, keys_of_a_project, request, surrogate, nul
):
    project, headers = keys_of_a_project
    neighbour = _valid_neighbour(request)
    span_ids = [s.span_id.hex() for s in request.resource_spans[0].scope_spans[0].spans]
    document = _to_otlp_json(request)
    spans_json = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for span in spans_json[:-1]:  # every span but the neighbour carries the odd text
        span["name"] = surrogate + ("\x00" if nul else "")
        span.setdefault("attributes", []).append({"key": "odd", "value": {"stringValue": surrogate}})
    body = json.dumps(document)  # lone surrogates go out as \ud800 escapes
    response = client.post("/api/public/otel/v1/traces", body, content_type="application/json", **headers)
    assert response.status_code in (200, 400), response.content[:500]
    if response.status_code == 400:
        assert response.json()["message"]
        return
    assert _stored(project, span_ids) == set(span_ids)
    assert neighbour in span_ids
    _assert_readable(client, headers)


@pytest.mark.parametrize(
    "bad_bytes",
    [b"\xff\xfe\xfd", b"\xed\xa0\x80", b"\xc0\x80", b"\x80\x80\x80"],
    ids=["not-utf8", "encoded-surrogate", "overlong-nul", "continuation-only"],
)
def test_protobuf_strings_with_invalid_utf8_are_a_400(client, keys_of_a_project, bad_bytes):
    _, headers = keys_of_a_project
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    scope_spans.spans.add(trace_id=b"\x02" * 16, span_id=b"\x03" * 8, name="PLACEHOLDER")
    body = request.SerializeToString().replace(b"PLACEHOLDER", bad_bytes + b"X" * (11 - len(bad_bytes)))
    response = client.post(
        "/api/public/otel/v1/traces", body, content_type="application/x-protobuf", **headers
    )
    assert response.status_code == 400
    assert "OTLP" in response.json()["message"]


@pytest.mark.parametrize("payload", [b"\x0a" * 5000, b"\x0a\xff\xff\xff\xff\x0f", b"garbage", b"\x00" * 100])
def test_garbage_protobuf_is_a_400(client, keys_of_a_project, payload):
    _, headers = keys_of_a_project
    response = client.post(
        "/api/public/otel/v1/traces", payload, content_type="application/x-protobuf", **headers
    )
    assert response.status_code in (200, 400), response.content[:300]


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_otlp_json_is_a_400(client, keys_of_a_project, depth):
    _, headers = keys_of_a_project
    body = '{"resourceSpans": ' + "[" * depth + "]" * depth + "}"
    response = client.post("/api/public/otel/v1/traces", body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert "nested" in response.json()["message"]


def test_timestamps_beyond_int64_in_json_are_a_400(client, keys_of_a_project):
    _, headers = keys_of_a_project
    span = {"traceId": "0" * 31 + "1", "spanId": "0" * 15 + "1", "name": "x", "startTimeUnixNano": str(2**70)}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    response = client.post("/api/public/otel/v1/traces", body, content_type="application/json", **headers)
    assert response.status_code == 400


def test_an_attribute_holding_json_nested_too_deeply_is_kept_as_text(client, keys_of_a_project):
    project, headers = keys_of_a_project
    deep = "[" * 5000 + "]" * 5000
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    span = scope_spans.spans.add(trace_id=b"\x04" * 16, span_id=b"\x05" * 8, name="deep")
    span.attributes.extend(
        [
            KeyValue(key="langfuse.observation.input", value=AnyValue(string_value=deep)),
            KeyValue(key="input.value", value=AnyValue(string_value=deep)),
            KeyValue(key="langfuse.observation.metadata.m", value=AnyValue(string_value=deep)),
        ]
    )
    response = client.post(
        "/api/public/otel/v1/traces",
        request.SerializeToString(),
        content_type="application/x-protobuf",
        **headers,
    )
    assert response.status_code == 200
    assert Observation.objects.get(project=project, id=(b"\x05" * 8).hex()).input == deep


def test_text_longer_than_its_column_is_clipped_not_a_500(client, keys_of_a_project):
    # Found by the long hypothesis run: a 10,000-character root span name became the trace name (varchar 1000).
    project, headers = keys_of_a_project
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    span = scope_spans.spans.add(
        trace_id=b"\x06" * 16, span_id=b"\x07" * 8, parent_span_id=b"\x08" * 500, name="n" * 10_000
    )
    span.attributes.extend(
        [
            KeyValue(key="langfuse.user.id", value=AnyValue(string_value="u" * 5000)),
            KeyValue(
                key="langfuse.trace.tags",
                value=AnyValue(array_value={"values": [AnyValue(string_value="t" * 5000)]}),
            ),
            KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="m" * 5000)),
        ]
    )
    root = scope_spans.spans.add(trace_id=b"\x06" * 16, span_id=b"\x09" * 8, name="r" * 10_000)
    root.attributes.append(KeyValue(key="langfuse.trace.name", value=AnyValue(string_value="T" * 10_000)))
    response = client.post(
        "/api/public/otel/v1/traces",
        request.SerializeToString(),
        content_type="application/x-protobuf",
        **headers,
    )
    assert response.status_code == 200, response.content[:300]
    observation = Observation.objects.get(project=project, id=(b"\x07" * 8).hex())
    assert observation.name == "n" * 1000
    assert len(observation.parent_observation_id) == 800
    assert observation.provided_model_name == "m" * 800
    trace = Trace.objects.get(project=project, id=(b"\x06" * 16).hex())
    assert trace.name == "T" * 1000
    assert trace.user_id == "u" * 800
    assert trace.tags == ["t" * 800]
