"""Decode an OTLP/HTTP trace export body (protobuf or JSON, gzip/deflate or not) into plain spans.

Only decoding lives here; what a span means for Langfuse is in traces.ingest.otel_mapping.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPES = ("application/json",)
ACCEPTED_TYPES = "application/x-protobuf or application/json"

STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEX = re.compile(r"[0-9a-fA-F]*")
_ID_KEYS = frozenset({"traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id"})
_TIME_KEYS = frozenset(
    {"startTimeUnixNano", "start_time_unix_nano", "endTimeUnixNano", "end_time_unix_nano", "timeUnixNano"}
)


class OtlpDecodeError(ValueError):
    """The body is not a valid OTLP trace export; the message says what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OtlpTooLargeError(OtlpDecodeError):
    """The decompressed body is larger than the limit the caller gave."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Decompressed request body exceeds the limit of {limit} bytes.")
        self.limit = limit


@dataclass
class SpanEvent:
    name: str
    time_unix_nano: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def time(self) -> datetime | None:
        return nanos_to_datetime(self.time_unix_nano)


@dataclass
class Span:
    trace_id: str  # lowercase hex
    span_id: str
    parent_span_id: str | None
    name: str
    start_time_unix_nano: int = 0
    end_time_unix_nano: int = 0
    kind: int = 0
    status_code: int = STATUS_UNSET
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    resource_attributes: dict[str, Any] = field(default_factory=dict)
    scope_name: str = ""
    scope_version: str = ""
    scope_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def start_time(self) -> datetime | None:
        return nanos_to_datetime(self.start_time_unix_nano)

    @property
    def end_time(self) -> datetime | None:
        return nanos_to_datetime(self.end_time_unix_nano)


def nanos_to_datetime(nanos: int) -> datetime | None:
    """An aware UTC datetime (microsecond precision), or None for the OTLP "unset" value 0."""
    if not nanos:
        return None
    return _EPOCH + timedelta(microseconds=nanos // 1000)


def decode_export_request(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None = None,
    *,
    max_decoded_bytes: int | None = None,
) -> list[Span]:
    """Spans of an ExportTraceServiceRequest body; raises OtlpDecodeError for malformed input."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    payload = _decompress(body, content_encoding, max_decoded_bytes)
    if not payload.strip():
        return []
    if not media_type:
        media_type = JSON_TYPES[0] if payload.lstrip()[:1] == b"{" else PROTOBUF_TYPES[0]
    if media_type in PROTOBUF_TYPES:
        request = _parse_protobuf(payload)
    elif media_type in JSON_TYPES:
        request = _parse_json(payload)
    else:
        raise OtlpDecodeError(
            f"Unsupported Content-Type {content_type!r}: OTLP traces are accepted as {ACCEPTED_TYPES}."
        )
    return list(_spans(request))


def _decompress(body: bytes, content_encoding: str | None, limit: int | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        if limit is not None and len(body) > limit:
            raise OtlpTooLargeError(limit)
        return body
    if encoding in ("gzip", "x-gzip"):
        attempts = [(zlib.MAX_WBITS | 16, "gzip")]
    elif encoding == "deflate":
        attempts = [(zlib.MAX_WBITS, "deflate"), (-zlib.MAX_WBITS, "deflate")]  # zlib-wrapped or raw
    else:
        raise OtlpDecodeError(
            f"Unsupported Content-Encoding {content_encoding!r}: send gzip, deflate or an uncompressed body."
        )
    problem = ""
    for wbits, label in attempts:
        try:
            return _inflate(body, wbits, limit)
        except zlib.error as exc:
            problem = f"Content-Encoding is {label} but the body could not be decompressed ({exc})."
    raise OtlpDecodeError(problem)


def _inflate(body: bytes, wbits: int, limit: int | None) -> bytes:
    inflater = zlib.decompressobj(wbits)
    data = inflater.decompress(body, (limit + 1) if limit is not None else 0)
    if limit is not None and len(data) > limit:
        raise OtlpTooLargeError(limit)
    if not inflater.eof:
        raise zlib.error("the compressed stream is truncated")
    return data


def _parse_protobuf(payload: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(payload)
    except (DecodeError, ValueError) as exc:
        raise OtlpDecodeError(
            "Content-Type is application/x-protobuf but the body is not a valid OTLP "
            f"ExportTraceServiceRequest ({exc}). Send OTLP JSON with Content-Type: application/json instead."
        ) from exc
    return request


def _parse_json(payload: bytes) -> ExportTraceServiceRequest:
    try:
        document = json.loads(payload)
    except RecursionError:
        raise OtlpDecodeError("The JSON body is nested too deeply (more than about 900 levels).") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise OtlpDecodeError(
            f"Content-Type is application/json but the body is not valid JSON ({exc})."
        ) from exc
    if not isinstance(document, dict):
        raise OtlpDecodeError(
            'The JSON body must be an OTLP ExportTraceServiceRequest object: {"resourceSpans": [...]}.'
        )
    try:
        return json_format.ParseDict(
            _normalise_json(document), ExportTraceServiceRequest(), ignore_unknown_fields=True
        )
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise OtlpDecodeError(f"The JSON body is not a valid OTLP ExportTraceServiceRequest: {exc}") from exc


def _normalise_json(value: Any, key: str | None = None) -> Any:
    """OTLP/JSON differs from protobuf's JSON mapping: ids are hex, not base64; JS may send {high, low}."""
    if isinstance(value, dict):
        if key in _TIME_KEYS and "low" in value and "high" in value:
            return str(((int(value["high"]) & 0xFFFFFFFF) << 32) | (int(value["low"]) & 0xFFFFFFFF))
        return {k: _normalise_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_json(item, key) for item in value]
    if key in _ID_KEYS and isinstance(value, str) and _is_hex_id(value):
        return base64.b64encode(bytes.fromhex(value)).decode("ascii")
    return value


def _is_hex_id(value: str) -> bool:
    # Hex ids are 32 (trace) or 16 (span) characters; their base64 forms are 24 / 12 characters.
    return len(value) in (16, 32) and _HEX.fullmatch(value) is not None


def _spans(request: ExportTraceServiceRequest):
    for resource_spans in request.resource_spans:
        resource_attributes = attributes_to_dict(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_attributes = attributes_to_dict(scope.attributes)
            for span in scope_spans.spans:
                yield Span(
                    trace_id=_required_id(span.trace_id, "traceId", span.name),
                    span_id=_required_id(span.span_id, "spanId", span.name),
                    parent_span_id=span.parent_span_id.hex() or None,
                    name=span.name,
                    start_time_unix_nano=span.start_time_unix_nano,
                    end_time_unix_nano=span.end_time_unix_nano,
                    kind=int(span.kind),
                    status_code=int(span.status.code),
                    status_message=span.status.message,
                    attributes=AttributeMap(attributes_to_dict(span.attributes)),
                    events=[
                        SpanEvent(e.name, e.time_unix_nano, attributes_to_dict(e.attributes))
                        for e in span.events
                    ],
                    resource_attributes=resource_attributes,
                    scope_name=scope.name,
                    scope_version=scope.version,
                    scope_attributes=scope_attributes,
                )


def _required_id(raw: bytes, label: str, span_name: str) -> str:
    if not raw:
        raise OtlpDecodeError(f"Span {span_name!r} has no {label}; every span needs a traceId and a spanId.")
    return raw.hex()


class AttributeMap(dict):
    """A span's attributes, with keys grouped by their first dotted segment on first use.

    The mapping asks for `gen_ai.usage.*`, `llm.cost.*`, `langfuse.trace.metadata.*` ... about
    nine prefixes per span; the groups spare it a scan of every attribute for each.
    """

    __slots__ = ("_groups",)

    def keys_under(self, head: str) -> list[str]:
        try:
            groups = self._groups
        except AttributeError:
            groups = {}
            for key in self:
                groups.setdefault(key.partition(".")[0], []).append(key)
            self._groups = groups
        return groups.get(head, [])


def attributes_to_dict(attributes) -> dict[str, Any]:
    """OTLP KeyValue list -> {key: python value}."""
    return {kv.key: any_value(kv.value) for kv in attributes}


def any_value(value) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_to_dict(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)
