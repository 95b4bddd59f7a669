"""Decoding OTLP/HTTP trace bodies: protobuf and JSON, compressed or not, from every recorded client."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import UTC, datetime

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.traces import otlp_captures as wire
from traces.ingest.otlp import (
    STATUS_ERROR,
    OtlpDecodeError,
    OtlpTooLargeError,
    decode_export_request,
)


@pytest.mark.parametrize("name", sorted(wire.SPAN_COUNTS))
def test_every_recorded_client_body_decodes(name):
    spans = wire.spans(name)

    assert len(spans) == wire.SPAN_COUNTS[name]
    for span in spans:
        assert len(span.trace_id) == 32 and span.trace_id == span.trace_id.lower()
        assert len(span.span_id) == 16
        assert span.start_time.tzinfo == UTC and span.end_time >= span.start_time


def test_protobuf_ids_become_lowercase_hex():
    by_name = {s.name: s for s in wire.spans(wire.PYTHON_V5)}

    llm = by_name["llm-call"]
    assert llm.trace_id == "1d8c06ca3d167bf00c76e5cb2e8ad5bc"
    assert llm.span_id == "57f0106fcf69c750"
    assert llm.parent_span_id == "58131cb5354402ed"
    assert by_name["root-span"].parent_span_id is None


def test_timestamps_are_aware_utc_from_nanoseconds():
    llm = next(s for s in wire.spans(wire.PYTHON_V5) if s.name == "llm-call")

    assert llm.start_time_unix_nano == 1795814935332779046
    assert llm.start_time == datetime(2026, 11, 27, 21, 28, 55, 332779, tzinfo=UTC)
    assert llm.end_time == datetime(2026, 11, 27, 21, 28, 55, 343472, tzinfo=UTC)


def test_attributes_resource_and_scope_are_plain_python_values():
    llm = next(s for s in wire.spans(wire.PYTHON_V5) if s.name == "llm-call")

    assert llm.attributes["langfuse.trace.tags"] == ["t1", "t2"]
    assert llm.attributes["langfuse.observation.prompt.version"] == 1
    assert llm.attributes["langfuse.trace.metadata.tenant"] == '"acme"'
    assert llm.resource_attributes["langfuse.release"] == "rel-1.2.3"
    assert llm.resource_attributes["service.name"] == "unknown_service:python"
    assert (llm.scope_name, llm.scope_version) == ("langfuse-sdk", "5.0.4")
    assert llm.scope_attributes == {"public_key": "pk-lf-test"}


def test_litellm_sends_an_empty_resource_and_a_scope_without_version():
    (span,) = wire.spans(wire.LITELLM_SDK_FIRST)

    assert span.resource_attributes == {}
    assert (span.scope_name, span.scope_version, span.scope_attributes) == ("langfuse-sdk", "", {})
    assert span.attributes["langfuse.observation.metadata.cache_hit"] is False


def test_gzip_body_decodes_like_the_uncompressed_one():
    raw = wire.capture(wire.PYTHON_V5).body

    assert decode_export_request(gzip.compress(raw), "application/x-protobuf", "gzip") == wire.spans(
        wire.PYTHON_V5
    )


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_body_decodes_in_both_framings(wbits):
    raw = wire.capture(wire.PYTHON_V4).body
    compressor = zlib.compressobj(wbits=wbits)
    body = compressor.compress(raw) + compressor.flush()

    assert decode_export_request(body, "application/x-protobuf", "deflate") == wire.spans(wire.PYTHON_V4)


def test_header_case_and_parameters_are_ignored():
    raw = wire.capture(wire.RETRY).body

    (span,) = decode_export_request(gzip.compress(raw), "Application/X-Protobuf; charset=binary", " GZIP ")

    assert span.name == "retry-span"


def test_js_otlp_json_keeps_hex_ids_and_numeric_int_values():
    spans = {s.name: s for s in wire.spans(wire.JS_V5)}

    llm = spans["llm-call"]
    assert llm.trace_id == "123c9d59904047a87d1d8dfe6579d310"
    assert llm.span_id == "a779d93486737232"
    assert llm.parent_span_id == "050b203a380ebeb0"
    assert llm.kind == 1
    assert llm.start_time_unix_nano == 1795815361324000000
    assert llm.attributes["langfuse.observation.prompt.version"] == 1
    assert llm.attributes["langfuse.trace.tags"] == ["t1", "t2"]
    assert llm.resource_attributes["process.pid"] == 19537
    assert llm.resource_attributes["process.command_args"] == ["/usr/bin/node", "<probe>/js/run_js.mjs"]
    assert (llm.scope_name, llm.scope_version, llm.scope_attributes) == ("langfuse-sdk", "5.11.1", {})
    assert spans["observed-fn"].parent_span_id is None


def test_json_with_base64_ids_decodes_like_its_protobuf():
    as_json = json.dumps(wire.decoded_json(wire.LITELLM_OTEL)).encode()

    assert decode_export_request(as_json, "application/json", None) == wire.spans(wire.LITELLM_OTEL)


def test_json_accepts_snake_case_keys_string_int_values_and_long_timestamps():
    body = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": "0AF7651916CD43DD8448EB211C80319C",
                                "span_id": "b7ad6b7169203331",
                                "parent_span_id": "",
                                "name": "snake",
                                "start_time_unix_nano": {"low": 1000, "high": 1},
                                "end_time_unix_nano": "4294968296",
                                "attributes": [{"key": "n", "value": {"int_value": "42"}}],
                                "status": {"code": "STATUS_CODE_ERROR", "message": "bad"},
                                "some_future_field": True,
                            }
                        ]
                    }
                ]
            }
        ]
    }

    (span,) = decode_export_request(json.dumps(body).encode(), "application/json", None)

    assert span.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent_span_id is None
    assert span.start_time_unix_nano == span.end_time_unix_nano == (1 << 32) + 1000
    assert span.attributes == {"n": 42}
    assert (span.status_code, span.status_message) == (STATUS_ERROR, "bad")


def test_every_attribute_value_kind_is_flattened():
    request = ExportTraceServiceRequest()
    span = (
        request.resource_spans.add()
        .scope_spans.add()
        .spans.add(trace_id=bytes(range(16)), span_id=bytes(range(8)), name="kinds")
    )
    values = {
        "s": AnyValue(string_value="x"),
        "b": AnyValue(bool_value=True),
        "i": AnyValue(int_value=-7),
        "d": AnyValue(double_value=0.25),
        "bytes": AnyValue(bytes_value=b"\x00\xff"),
        "empty": AnyValue(),
    }
    nested = AnyValue()
    nested.kvlist_value.values.append(KeyValue(key="k", value=AnyValue(string_value="v")))
    nested.kvlist_value.values.append(
        KeyValue(key="list", value=AnyValue(array_value={"values": [{"int_value": 1}]}))
    )
    values["kv"] = nested
    span.attributes.extend(KeyValue(key=k, value=v) for k, v in values.items())
    span.events.add(
        name="exception",
        time_unix_nano=5_000,
        attributes=[KeyValue(key="m", value=AnyValue(string_value="boom"))],
    )

    (decoded,) = decode_export_request(request.SerializeToString(), "application/x-protobuf", None)

    assert decoded.attributes == {
        "s": "x",
        "b": True,
        "i": -7,
        "d": 0.25,
        "bytes": base64.b64encode(b"\x00\xff").decode(),
        "empty": None,
        "kv": {"k": "v", "list": [1]},
    }
    (event,) = decoded.events
    assert (event.name, event.time_unix_nano, event.attributes) == ("exception", 5_000, {"m": "boom"})
    assert decoded.start_time is None and decoded.end_time is None


def test_exception_events_of_a_failed_call_are_kept():
    failed = next(s for s in wire.spans(wire.LITELLM_OTEL) if s.span_id == "9f0a565cb04625fa")

    assert failed.status_code == STATUS_ERROR
    assert failed.status_message.endswith("litellm.MockException: boom")
    (event,) = failed.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "litellm.exceptions.InternalServerError"
    assert event.time.tzinfo == UTC


def test_empty_body_has_no_spans():
    assert decode_export_request(b"", "application/x-protobuf", None) == []
    assert decode_export_request(b"", "application/json", None) == []


def test_missing_content_type_is_sniffed():
    assert decode_export_request(wire.capture(wire.JS_V5).body, "", None) == wire.spans(wire.JS_V5)
    assert decode_export_request(wire.capture(wire.RETRY).body, None, None) == wire.spans(wire.RETRY)


def test_decompressed_size_is_limited():
    raw = wire.capture(wire.PYTHON_V5).body

    with pytest.raises(OtlpTooLargeError) as exc:
        decode_export_request(gzip.compress(raw), "application/x-protobuf", "gzip", max_decoded_bytes=1000)

    assert exc.value.limit == 1000
    assert "1000 bytes" in exc.value.message
    assert decode_export_request(
        gzip.compress(raw), "application/x-protobuf", "gzip", max_decoded_bytes=len(raw)
    )


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "expected"),
    [
        (
            b"not gzip at all",
            "application/x-protobuf",
            "gzip",
            "Content-Encoding is gzip but the body could not",
        ),
        (gzip.compress(b"x" * 100)[:20], "application/x-protobuf", "gzip", "could not be decompressed"),
        (b"x", "application/x-protobuf", "br", "Unsupported Content-Encoding 'br': send gzip, deflate"),
        (
            b'{"resourceSpans": []}',
            "application/x-protobuf",
            None,
            "is not a valid OTLP ExportTraceServiceRequest",
        ),
        (
            b"{not json",
            "application/json",
            None,
            "Content-Type is application/json but the body is not valid JSON",
        ),
        (
            b"[]",
            "application/json",
            None,
            'must be an OTLP ExportTraceServiceRequest object: {"resourceSpans"',
        ),
        (b'{"resourceSpans": "x"}', "application/json", None, "not a valid OTLP ExportTraceServiceRequest"),
        (b"{}", "text/plain", None, "accepted as application/x-protobuf or application/json"),
    ],
    ids=[
        "bad-gzip",
        "truncated-gzip",
        "unknown-encoding",
        "json-sent-as-protobuf",
        "invalid-json",
        "json-array",
        "wrong-json-shape",
        "wrong-content-type",
    ],
)
def test_malformed_input_raises_an_actionable_message(body, content_type, encoding, expected):
    with pytest.raises(OtlpDecodeError) as exc:
        decode_export_request(body, content_type, encoding)

    assert expected in exc.value.message
    assert str(exc.value) == exc.value.message


def test_span_without_ids_is_rejected_with_its_name():
    body = {
        "resourceSpans": [{"scopeSpans": [{"spans": [{"name": "orphan", "spanId": "b7ad6b7169203331"}]}]}]
    }

    with pytest.raises(OtlpDecodeError, match="Span 'orphan' has no traceId"):
        decode_export_request(json.dumps(body).encode(), "application/json", None)


@pytest.mark.skipif(not wire.shared_captures(), reason="../shared/wire is not beside the checkout")
@pytest.mark.parametrize("path", wire.shared_captures(), ids=lambda p: f"{p.parent.name}/{p.name[:3]}")
def test_decoding_matches_what_the_capture_server_recorded(path):
    recorded = json.loads(path.read_text())
    if path.with_suffix(".bin").exists():
        body, content_type = path.with_suffix(".bin").read_bytes(), "application/x-protobuf"
    elif "body_json" in recorded:
        body, content_type = json.dumps(recorded["body_json"]).encode(), "application/json"
    else:
        request = json_format.ParseDict(recorded["body_protobuf_decoded"], ExportTraceServiceRequest())
        body, content_type = request.SerializeToString(), "application/x-protobuf"

    spans = decode_export_request(body, content_type, None)

    assert len(spans) == len(recorded["spans_flat"])
    for span, flat in zip(spans, recorded["spans_flat"], strict=True):
        assert (span.trace_id, span.span_id, span.parent_span_id) == (
            flat["traceId"],
            flat["spanId"],
            flat["parentSpanId"] or None,
        )
        assert span.name == flat["name"]
        assert span.start_time_unix_nano == int(flat["startTimeUnixNano"])
        assert span.end_time_unix_nano == int(flat["endTimeUnixNano"])
        assert span.attributes == flat["attributes"]
        assert span.resource_attributes == (flat.get("resource") or {})
        assert span.scope_name == flat["scope"]["name"]
        assert [e.name for e in span.events] == [e["name"] for e in flat["events"] or []]
