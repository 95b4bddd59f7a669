"""OTLP spans -> trace and observation records, following Langfuse's OTel attribute mapping.

Every span becomes one observation (id = span id). Every trace id seen gets a trace record so a
trace row exists; trace-level attributes (`langfuse.trace.*`, `user.id`, `session.id`, ...) may
sit on any span of the trace, because the SDKs propagate them, and a root span names the trace
when nothing else does. Priority for each field: `langfuse.*`, then OpenInference (`llm.*`,
`input.value`), then the OTel GenAI conventions (`gen_ai.*`).

Trace `timestamp` is the earliest start among the trace's spans in this batch (the root's start
when the root is here); several root spans of one trace may arrive in separate requests, so a
writer should keep the earliest timestamp it has seen rather than the latest.
"""

from __future__ import annotations

from typing import Any

from traces.ingest import otel_attributes as attrs
from traces.ingest.otlp import STATUS_ERROR, Span
from traces.ingest.records import Batch, ObservationRecord, TraceRecord
from traces.models import Level, ObservationType

OBSERVATION_TYPES = frozenset(ObservationType.values)
LEVELS = frozenset(Level.values)

LANGFUSE_SCOPE = "langfuse-sdk"

_OPENINFERENCE_KINDS = {
    "LLM": ObservationType.GENERATION,
    "EMBEDDING": ObservationType.EMBEDDING,
    "CHAIN": ObservationType.CHAIN,
    "RETRIEVER": ObservationType.RETRIEVER,
    "AGENT": ObservationType.AGENT,
    "TOOL": ObservationType.TOOL,
    "GUARDRAIL": ObservationType.GUARDRAIL,
    "EVALUATOR": ObservationType.EVALUATOR,
}
_GEN_AI_OPERATIONS = {
    "chat": ObservationType.GENERATION,
    "completion": ObservationType.GENERATION,
    "text_completion": ObservationType.GENERATION,
    "generate_content": ObservationType.GENERATION,
    "generate": ObservationType.GENERATION,
    "embeddings": ObservationType.EMBEDDING,
    "invoke_agent": ObservationType.AGENT,
    "create_agent": ObservationType.AGENT,
    "execute_tool": ObservationType.TOOL,
}
_VERCEL_OPERATIONS = {
    "ai.generateText.doGenerate": ObservationType.GENERATION,
    "ai.streamText.doStream": ObservationType.GENERATION,
    "ai.generateObject.doGenerate": ObservationType.GENERATION,
    "ai.streamObject.doStream": ObservationType.GENERATION,
    "ai.embed.doEmbed": ObservationType.EMBEDDING,
    "ai.embedMany.doEmbed": ObservationType.EMBEDDING,
    "ai.toolCall": ObservationType.TOOL,
}
_MODEL_KEYS = (
    "langfuse.observation.model.name",
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.model_name",
    "ai.model.id",
)
_USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.")
# LangChain's CallbackHandler and others pass these through metadata.
_USER_KEYS = (
    "langfuse.user.id",
    "user.id",
    "langfuse.trace.metadata.langfuse_user_id",
    "langfuse.observation.metadata.langfuse_user_id",
)
_SESSION_KEYS = (
    "langfuse.session.id",
    "session.id",
    "gen_ai.conversation.id",
    "langfuse.trace.metadata.langfuse_session_id",
    "langfuse.observation.metadata.langfuse_session_id",
)
_TAGS_KEYS = (
    "langfuse.trace.tags",
    "langfuse.tags",
    "langfuse.trace.metadata.langfuse_tags",
    "langfuse.observation.metadata.langfuse_tags",
)


def map_spans(spans: list[Span], *, default_environment: str = attrs.DEFAULT_ENVIRONMENT) -> Batch:
    batch = Batch()
    traces: dict[str, TraceRecord] = {}
    environments = [span_environment(span, default_environment) for span in spans]
    for span, environment in zip(spans, environments, strict=True):
        batch.observations.append(map_span(span, environment=environment))
        if span.trace_id not in traces:
            traces[span.trace_id] = TraceRecord(id=span.trace_id)
            batch.traces.append(traces[span.trace_id])
    named_by_attribute: set[str] = set()
    # Non-root spans first, so that on a conflict the root span's trace attributes win.
    for span, environment in sorted(
        zip(spans, environments, strict=True), key=lambda pair: _is_root(pair[0])
    ):
        _merge_trace_fields(traces[span.trace_id], span, environment, named_by_attribute)
    return batch


def map_span(span: Span, *, environment: str) -> ObservationRecord:
    a = span.attributes
    fields: dict[str, Any] = {
        "type": observation_type(span),
        "name": span.name,
        "environment": environment,
        "level": Level.DEFAULT.value,
    }
    start, end = span.start_time or span.end_time, span.end_time or span.start_time
    if start is not None:
        fields["start_time"] = start
        fields["end_time"] = end
    if span.parent_span_id:
        fields["parent_observation_id"] = span.parent_span_id
    fields.update(_level_and_status(span))
    _set(fields, "version", attrs.as_text(_version(span)))
    _set(fields, "input", _observation_io(a, "input"))
    _set(fields, "output", _observation_io(a, "output"))
    fields["metadata"] = _observation_metadata(span)
    _set(fields, "provided_model_name", attrs.as_text(attrs.first(a, *_MODEL_KEYS)))
    _set(fields, "model_parameters", attrs.model_parameters(a))
    _set(fields, "provided_usage_details", attrs.usage_details(a) or None)
    _set(fields, "provided_cost_details", attrs.cost_details(a) or None)
    _set(
        fields,
        "completion_start_time",
        attrs.as_datetime(a.get("langfuse.observation.completion_start_time")),
    )
    prompt_name = attrs.as_text(attrs.first(a, "langfuse.observation.prompt.name", "langfuse.prompt.name"))
    prompt_version = attrs.as_int(
        attrs.first(a, "langfuse.observation.prompt.version", "langfuse.prompt.version")
    )
    if prompt_name and prompt_version is not None:
        fields["prompt_name"] = prompt_name
        fields["prompt_version"] = prompt_version
    return ObservationRecord(id=span.span_id, trace_id=span.trace_id, fields=fields)


def observation_type(span: Span) -> str:
    a = span.attributes
    explicit = attrs.as_text(a.get("langfuse.observation.type"))
    if explicit and explicit.strip().upper() in OBSERVATION_TYPES:
        return explicit.strip().upper()
    for key, table in (
        ("openinference.span.kind", _OPENINFERENCE_KINDS),
        ("gen_ai.operation.name", _GEN_AI_OPERATIONS),
        ("ai.operationId", _VERCEL_OPERATIONS),
    ):
        value = attrs.as_text(a.get(key))
        if value is not None:
            found = (
                table.get(value.strip())
                or table.get(value.strip().upper())
                or table.get(value.strip().lower())
            )
            if found:
                return found.value
    if attrs.first(a, "gen_ai.tool.name", "gen_ai.tool.call.id") is not None:
        return ObservationType.TOOL.value
    if attrs.first(a, *_MODEL_KEYS) is not None or any(key.startswith(_USAGE_PREFIXES) for key in a):
        return ObservationType.GENERATION.value
    if span.start_time_unix_nano and span.start_time_unix_nano == span.end_time_unix_nano:
        return ObservationType.EVENT.value
    return ObservationType.SPAN.value


def span_environment(span: Span, default: str = attrs.DEFAULT_ENVIRONMENT) -> str:
    keys = ("langfuse.environment", "deployment.environment.name", "deployment.environment")
    value = attrs.first(span.attributes, *keys)
    if value is None:
        value = attrs.first(span.resource_attributes, *keys)
    return attrs.normalise_environment(value, default)


def _is_root(span: Span) -> bool:
    return not span.parent_span_id or attrs.as_bool(span.attributes.get("langfuse.internal.as_root")) is True


def _set(fields: dict[str, Any], name: str, value: Any) -> None:
    if value is not None:
        fields[name] = value


def _version(span: Span) -> Any:
    return attrs.first(span.attributes, "langfuse.version") or attrs.first(
        span.resource_attributes, "langfuse.version", "service.version"
    )


def _level_and_status(span: Span) -> dict[str, Any]:
    a = span.attributes
    fields: dict[str, Any] = {}
    level = attrs.as_text(a.get("langfuse.observation.level"))
    if level and level.strip().upper() in LEVELS:
        fields["level"] = level.strip().upper()
    elif span.status_code == STATUS_ERROR:
        fields["level"] = Level.ERROR.value
    message = attrs.as_text(attrs.first(a, "langfuse.observation.status_message")) or span.status_message
    if not message and span.status_code == STATUS_ERROR:
        message = _exception_message(span)
    if message:
        fields["status_message"] = message
    return fields


def _exception_message(span: Span) -> str | None:
    for event in span.events:
        if event.name == "exception":
            text = attrs.as_text(attrs.first(event.attributes, "exception.message", "exception.type"))
            if text:
                return text
    return attrs.as_text(attrs.first(span.attributes, "error.message"))


def _observation_io(a: attrs.Attributes, direction: str) -> Any:
    openllmetry = "prompt" if direction == "input" else "completion"
    value = attrs.first(
        a,
        f"langfuse.observation.{direction}",
        f"{direction}.value",
        f"gen_ai.{direction}.messages",
        f"gen_ai.{openllmetry}",
    )
    return None if value is None else attrs.parse_json_tolerantly(value)


def _observation_metadata(span: Span) -> dict[str, Any]:
    metadata = attrs.metadata_from(span.attributes, "langfuse.observation.metadata")
    if span.resource_attributes:
        metadata["resourceAttributes"] = span.resource_attributes
    scope = {"name": span.scope_name, "version": span.scope_version, "attributes": span.scope_attributes}
    if any(scope.values()):
        metadata["scope"] = {key: value for key, value in scope.items() if value}
    if span.scope_name != LANGFUSE_SCOPE:
        # Exporters that are not Langfuse SDKs keep their own attributes visible.
        others = {key: value for key, value in span.attributes.items() if not key.startswith("langfuse.")}
        if others:
            metadata["attributes"] = others
    return metadata


def _merge_trace_fields(
    trace: TraceRecord, span: Span, environment: str, named_by_attribute: set[str]
) -> None:
    a, fields, root = span.attributes, trace.fields, _is_root(span)
    start = span.start_time or span.end_time
    if start is not None and ("timestamp" not in fields or start < fields["timestamp"]):
        fields["timestamp"] = start
    if root or "environment" not in fields:
        fields["environment"] = environment

    trace_name = attrs.as_text(attrs.first(a, "langfuse.trace.name"))
    if trace_name:
        fields["name"] = trace_name
        named_by_attribute.add(trace.id)
    elif root and trace.id not in named_by_attribute and span.name:
        fields["name"] = span.name

    _set(fields, "user_id", attrs.as_text(attrs.first(a, *_USER_KEYS)))
    _set(fields, "session_id", attrs.as_text(attrs.first(a, *_SESSION_KEYS)))
    _set(fields, "release", attrs.as_text(_release(span)))
    _set(fields, "version", attrs.as_text(_version(span)))
    _set(fields, "public", attrs.as_bool(attrs.first(a, "langfuse.trace.public", "langfuse.public")))

    tags = attrs.as_tags(attrs.first(a, *_TAGS_KEYS))
    if tags is not None:
        fields["tags"] = list(dict.fromkeys([*fields.get("tags", []), *tags]))

    metadata = {
        **attrs.metadata_from(a, "langfuse.metadata"),
        **attrs.metadata_from(a, "langfuse.trace.metadata"),
    }
    if metadata:
        fields["metadata"] = {**fields.get("metadata", {}), **metadata}

    for direction in ("input", "output"):
        value = a.get(f"langfuse.trace.{direction}")
        if value is not None:
            fields[direction] = attrs.parse_json_tolerantly(value)
        elif root and direction not in fields:
            # Langfuse shows the root observation's input/output on a trace that has none of its own.
            _set(fields, direction, _observation_io(a, direction))


def _release(span: Span) -> Any:
    return attrs.first(span.attributes, "langfuse.release") or attrs.first(
        span.resource_attributes, "langfuse.release"
    )
