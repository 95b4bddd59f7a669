"""POST /api/public/ingestion batches: envelopes of trace, observation and score events.

Each event is parsed on its own; a bad one becomes a 400 entry in the 207 answer and never
rejects its neighbours. Creates sort before updates of the same entity, because the legacy
JS SDK may send an update ahead of its create inside one batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from traces.ingest.fields import (
    InvalidEvent,
    as_metadata,
    as_text,
    normalize_environment,
    parse_id,
    parse_level,
    parse_optional_id,
    parse_timestamp,
)
from traces.ingest.records import Batch, ObservationRecord, ScoreRecord, TraceRecord
from traces.usage import normalize_cost, normalize_usage

OBSERVATION_EVENTS = {
    "span-create": "SPAN",
    "span-update": "SPAN",
    "generation-create": "GENERATION",
    "generation-update": "GENERATION",
    "event-create": "EVENT",
    "agent-create": "AGENT",
    "tool-create": "TOOL",
    "chain-create": "CHAIN",
    "retriever-create": "RETRIEVER",
    "evaluator-create": "EVALUATOR",
    "embedding-create": "EMBEDDING",
    "guardrail-create": "GUARDRAIL",
    "observation-create": None,  # type comes from the body
    "observation-update": None,
}
KNOWN_TYPES = {"trace-create", "score-create", "sdk-log", *OBSERVATION_EVENTS}
SCORE_ONLY_TYPES = {"score-create", "sdk-log"}


@dataclass
class ParsedBatch:
    batch: Batch = field(default_factory=Batch)
    successes: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def fail(self, event_id: str, message: str, status: int = 400) -> None:
        error = "Bad Request" if status == 400 else "Unauthorized"
        self.errors.append({"id": event_id, "status": status, "message": message, "error": error})


def parse_batch(events: list[Any], *, scores_only: bool = False) -> ParsedBatch:
    parsed = ParsedBatch()
    indexed = []
    for position, event in enumerate(events):
        event_id = event.get("id") if isinstance(event, dict) else None
        event_id = event_id if isinstance(event_id, str) and event_id else f"#{position}"
        try:
            kind, record = parse_event(event)
        except InvalidEvent as exc:
            parsed.fail(event_id, str(exc))
            continue
        if scores_only and event["type"] not in SCORE_ONLY_TYPES:
            parsed.fail(event_id, "A public key alone may only create scores", 401)
            continue
        indexed.append((event["type"].endswith("-update"), position, event_id, kind, record))
    for _, _, event_id, kind, record in sorted(indexed, key=lambda item: (item[0], item[1])):
        if kind == "trace":
            parsed.batch.traces.append(record)
        elif kind == "observation":
            parsed.batch.observations.append(record)
        elif kind == "score":
            parsed.batch.scores.append(record)
        parsed.successes.append({"id": event_id, "status": 201})
    return parsed


def parse_event(event: Any) -> tuple[str, Any]:
    if not isinstance(event, dict):
        raise InvalidEvent("each batch item must be an object with id, type, timestamp and body")
    parse_id(event.get("id"), "event id")
    event_type = event.get("type")
    if event_type not in KNOWN_TYPES:
        raise InvalidEvent(
            f"unknown event type {event_type!r:.60}; see the ingestion API reference for the types"
        )
    if "timestamp" not in event:
        raise InvalidEvent("event timestamp is required")
    envelope_time = parse_timestamp(event["timestamp"], "event timestamp")
    body = event.get("body")
    if not isinstance(body, dict):
        raise InvalidEvent("event body must be an object")
    if event_type == "sdk-log":
        return "log", None
    if event_type == "trace-create":
        return "trace", parse_trace(body, envelope_time)
    if event_type == "score-create":
        return "score", parse_score(body, envelope_time)
    return "observation", parse_observation(body, event_type, envelope_time)


def _present(body: dict, key: str) -> bool:
    return body.get(key) is not None


def parse_trace(body: dict, envelope_time) -> TraceRecord:
    trace_id = parse_id(body["id"], "trace id") if _present(body, "id") else str(uuid.uuid4())
    fields: dict[str, Any] = {}
    fields["timestamp"] = parse_timestamp(body["timestamp"]) if _present(body, "timestamp") else envelope_time
    for key, column in (
        ("name", "name"),
        ("userId", "user_id"),
        ("sessionId", "session_id"),
        ("release", "release"),
        ("version", "version"),
        ("externalId", "external_id"),
    ):
        if _present(body, key):
            fields[column] = as_text(body[key], key, 1000 if key == "name" else 800)
    for key in ("input", "output"):
        if key in body and body[key] is not None:
            fields[key] = body[key]
    if _present(body, "metadata"):
        fields["metadata"] = as_metadata(body["metadata"])
    if _present(body, "environment"):
        fields["environment"] = normalize_environment(body["environment"])
    if _present(body, "public"):
        fields["public"] = bool(body["public"])
    if _present(body, "tags"):
        tags = body["tags"]
        if not isinstance(tags, list):
            raise InvalidEvent("tags must be a list of strings")
        fields["tags"] = [str(t)[:800] for t in tags if t is not None]
    return TraceRecord(id=trace_id, fields=fields)


def parse_observation(body: dict, event_type: str, envelope_time) -> ObservationRecord:
    obs_type = OBSERVATION_EVENTS[event_type]
    if obs_type is None and _present(body, "type"):
        obs_type = str(body["type"]).upper()
        if obs_type not in {"SPAN", "GENERATION", "EVENT"}:
            raise InvalidEvent(
                f"observation type must be SPAN, GENERATION or EVENT, got {body['type']!r:.40}"
            )
    is_create = event_type.endswith("-create")
    if _present(body, "id"):
        obs_id = parse_id(body["id"], "observation id")
    elif is_create:
        obs_id = str(uuid.uuid4())
    else:
        raise InvalidEvent("an update needs the id of the observation it updates")
    trace_id = parse_optional_id(body.get("traceId"), "traceId")
    fields: dict[str, Any] = {}
    if obs_type and (is_create or event_type != "span-update"):
        # A span-update must not turn an agent or tool created earlier into a plain span.
        fields["type"] = obs_type
    if is_create and not trace_id:
        # Langfuse creates a trace for an observation that names none.
        trace_id = str(uuid.uuid4())
    for key, column in (
        ("startTime", "start_time"),
        ("endTime", "end_time"),
        ("completionStartTime", "completion_start_time"),
    ):
        if _present(body, key):
            fields[column] = parse_timestamp(body[key], key)
    if is_create and "start_time" not in fields:
        fields["start_time"] = envelope_time
    if obs_type == "EVENT" and "start_time" in fields and "end_time" not in fields:
        fields["end_time"] = fields["start_time"]
    if _present(body, "name"):
        fields["name"] = as_text(body["name"], "name")
    if _present(body, "parentObservationId"):
        fields["parent_observation_id"] = parse_id(body["parentObservationId"], "parentObservationId")
    if _present(body, "level"):
        fields["level"] = parse_level(body["level"])
    if _present(body, "statusMessage"):
        fields["status_message"] = str(body["statusMessage"])
    if _present(body, "version"):
        fields["version"] = as_text(body["version"], "version", 800)
    if _present(body, "environment"):
        fields["environment"] = normalize_environment(body["environment"])
    if _present(body, "metadata"):
        fields["metadata"] = as_metadata(body["metadata"])
    for key in ("input", "output"):
        if key in body and body[key] is not None:
            fields[key] = body[key]
    if _present(body, "model"):
        fields["provided_model_name"] = as_text(body["model"], "model", 800)
    if _present(body, "modelParameters"):
        fields["model_parameters"] = body["modelParameters"]
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    usage_details = body.get("usageDetails") if isinstance(body.get("usageDetails"), dict) else None
    if usage or usage_details:
        normalized = normalize_usage(usage=usage, usage_details=usage_details)
        if normalized:
            fields["provided_usage_details"] = _provided_usage(usage, usage_details, normalized)
    cost_details = body.get("costDetails") if isinstance(body.get("costDetails"), dict) else None
    if cost_details or (usage and any(k in usage for k in ("inputCost", "outputCost", "totalCost"))):
        costs = normalize_cost(cost_details=cost_details, usage=usage)
        if costs:
            fields["provided_cost_details"] = costs
    prompt_name, prompt_version = body.get("promptName"), body.get("promptVersion")
    if prompt_name is not None or prompt_version is not None:
        if prompt_name is None or prompt_version is None:
            raise InvalidEvent("promptName and promptVersion go together: send both or neither")
        try:
            fields["prompt_version"] = int(prompt_version)
        except (TypeError, ValueError):
            raise InvalidEvent("promptVersion must be a whole number") from None
        fields["prompt_name"] = as_text(prompt_name, "promptName", 800)
    return ObservationRecord(id=obs_id, trace_id=trace_id or "", fields=fields)


def _provided_usage(usage: dict | None, usage_details: dict | None, normalized: dict) -> dict:
    """The usage as the client sent it (legacy usage minus unit and costs, then usageDetails).

    The writer normalises provided usage again before pricing; when the raw map would not
    normalise to the same thing (mixed spellings across the two shapes), keep the normalised one.
    """
    raw = {k: v for k, v in (usage or {}).items() if k not in _LEGACY_NOT_USAGE and v is not None}
    raw.update(usage_details or {})
    return raw if normalize_usage(usage_details=raw) == normalized else normalized


_LEGACY_NOT_USAGE = {"unit", "inputCost", "outputCost", "totalCost"}


def parse_score(body: dict, envelope_time) -> ScoreRecord:
    score_id = parse_id(body["id"], "score id") if _present(body, "id") else str(uuid.uuid4())
    if not _present(body, "name"):
        raise InvalidEvent("a score needs a name")
    if "value" not in body or body["value"] is None:
        raise InvalidEvent("a score needs a value")
    fields: dict[str, Any] = {"name": as_text(body["name"], "name", 800)}
    trace_id = parse_optional_id(body.get("traceId"), "traceId")
    observation_id = parse_optional_id(body.get("observationId"), "observationId")
    session_id = parse_optional_id(body.get("sessionId"), "sessionId")
    dataset_run_id = parse_optional_id(body.get("datasetRunId"), "datasetRunId")
    if not (trace_id or session_id or dataset_run_id):
        raise InvalidEvent("a score needs a traceId, a sessionId or a datasetRunId")
    if observation_id and not trace_id:
        raise InvalidEvent("an observation score needs the traceId of the observation")
    fields.update(
        trace_id=trace_id, observation_id=observation_id, session_id=session_id, dataset_run_id=dataset_run_id
    )
    fields.update(_score_value(body.get("value"), body.get("dataType")))
    fields["timestamp"] = parse_timestamp(body["timestamp"]) if _present(body, "timestamp") else envelope_time
    fields["comment"] = str(body["comment"]) if _present(body, "comment") else None
    fields["metadata"] = as_metadata(body["metadata"]) if _present(body, "metadata") else {}
    fields["environment"] = normalize_environment(body.get("environment", "default"))
    fields["config_id"] = parse_optional_id(body.get("configId"), "configId")
    fields["queue_id"] = parse_optional_id(body.get("queueId"), "queueId")
    fields["source"] = "API"
    return ScoreRecord(id=score_id, fields=fields)


def _score_value(value: Any, data_type: Any) -> dict[str, Any]:
    if data_type is not None:
        data_type = str(data_type).upper()
        if data_type not in {"NUMERIC", "CATEGORICAL", "BOOLEAN"}:
            raise InvalidEvent(f"dataType must be NUMERIC, CATEGORICAL or BOOLEAN, got {data_type!r:.30}")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(value, bool):
        value, is_number = float(value), True
    if data_type is None:
        data_type = "NUMERIC" if is_number else "CATEGORICAL"
    if data_type == "NUMERIC":
        if not is_number or value != value:
            raise InvalidEvent("a NUMERIC score needs a number as value")
        return {"data_type": "NUMERIC", "value": float(value), "string_value": None}
    if data_type == "BOOLEAN":
        if not is_number or value not in (0, 1):
            raise InvalidEvent("a BOOLEAN score needs 1 or 0 as value")
        return {"data_type": "BOOLEAN", "value": float(value), "string_value": "True" if value else "False"}
    if is_number:
        return {"data_type": "CATEGORICAL", "value": float(value), "string_value": str(value)}
    if not isinstance(value, str):
        raise InvalidEvent("a CATEGORICAL score needs a string as value")
    return {"data_type": "CATEGORICAL", "value": None, "string_value": value[:800]}
