"""The recorded OTLP trace requests of real clients, as request bodies for the decoder.

The copies in tests/fixtures/wire/ are what the tests use; ../shared/wire/ (beside the
checkout) is only read by the cross-check that walks every capture there, when it exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from traces.ingest.otel_mapping import map_spans
from traces.ingest.otlp import Span, decode_export_request
from traces.ingest.records import Batch

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
SHARED_WIRE = Path(__file__).resolve().parents[2].parent / "shared" / "wire"

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

PYTHON_V5 = "python-sdk-5.0.4/004"
PYTHON_V4 = "python-sdk-4.18.0/004"
PYTHON_V3 = "python-sdk-3.15.0/003"
LANGCHAIN = "python-sdk-5.0.4-langchain/001"
MEDIA = "python-sdk-5.0.4-media/002"
RETRY = "python-sdk-5.0.4-retry503/006"
LITELLM_SDK_FIRST = "litellm-1.110.2-cb-langfuse-sdk4.18.0/002"
LITELLM_SDK_SECOND = "litellm-1.110.2-cb-langfuse-sdk4.18.0/003"
LITELLM_OTEL = "litellm-1.110.2-cb-langfuse_otel/001"
LITELLM_GENERIC = "litellm-1.110.2-cb-otel-generic/001"
JS_V5 = "js-sdk-5.11.1/003"

# capture -> number of spans it carries
SPAN_COUNTS = {
    PYTHON_V5: 7,
    PYTHON_V4: 7,
    PYTHON_V3: 6,
    LANGCHAIN: 5,
    MEDIA: 1,
    RETRY: 1,
    LITELLM_SDK_FIRST: 1,
    LITELLM_SDK_SECOND: 2,
    LITELLM_OTEL: 5,
    LITELLM_GENERIC: 5,
    JS_V5: 5,
}


@dataclass
class Capture:
    body: bytes
    content_type: str


def _stem(name: str) -> Path:
    return FIXTURES / f"{name}-POST-api_public_otel_v1_traces"


def capture(name: str) -> Capture:
    """The body as the client sent it (uncompressed); LiteLLM's are rebuilt as protobuf."""
    stem = _stem(name)
    if stem.with_suffix(".bin").exists():
        return Capture(stem.with_suffix(".bin").read_bytes(), PROTOBUF)
    if stem.with_suffix(".body.json").exists():
        return Capture(stem.with_suffix(".body.json").read_bytes(), JSON)
    return Capture(protobuf_from_decoded_json(name), PROTOBUF)


def decoded_json(name: str) -> dict:
    """protobuf's JSON mapping of a capture (base64 ids), as the capture server stored it."""
    return json.loads(_stem(name).with_suffix(".protobuf.json").read_text())


def protobuf_from_decoded_json(name: str) -> bytes:
    return json_format.ParseDict(decoded_json(name), ExportTraceServiceRequest()).SerializeToString()


def spans(name: str) -> list[Span]:
    c = capture(name)
    return decode_export_request(c.body, c.content_type, None)


def batch(name: str, **kwargs) -> Batch:
    return map_spans(spans(name), **kwargs)


def shared_captures() -> list[Path]:
    """Every OTLP trace capture in ../shared/wire (empty when that folder is not beside the checkout)."""
    if not SHARED_WIRE.is_dir():
        return []
    return sorted(SHARED_WIRE.glob("*/*-POST-api_public_otel_v1_traces.json"))
