"""Rows -> Langfuse's public API JSON: camelCase keys, UTC timestamps with milliseconds and Z.

Pure functions over model instances and plain lookups the views fetched in bulk, so a list
endpoint never issues a query per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from traces.models import LlmModel, Observation, Score, ScoreConfig, Trace

METADATA_PREVIEW_CHARS = 200


def iso(value: datetime | None) -> str | None:
    """2024-05-01T12:00:00.123Z, the format every Langfuse client parses."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    # Not strftime("%Y"): glibc writes year 29 as "29", which no client parses as a date-time.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
        f"{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


def number(value: Decimal | float | int | None) -> float | None:
    return None if value is None else float(value)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def html_path(project_id: str, trace_id: str) -> str:
    return f"/project/{project_id}/traces/{trace_id}"


# --- Traces ---------------------------------------------------------------------------


def trace_json(trace: Trace, *, include_io: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": trace.id,
        "projectId": trace.project_id,
        "timestamp": iso(trace.timestamp),
        "name": trace.name,
        "userId": trace.user_id,
        "sessionId": trace.session_id,
        "release": trace.release,
        "version": trace.version,
        "tags": list(trace.tags or []),
        "public": trace.public,
        "bookmarked": trace.bookmarked,
        "environment": trace.environment,
        "externalId": trace.external_id,
        "createdAt": iso(trace.created_at),
        "updatedAt": iso(trace.updated_at),
    }
    if include_io:
        data["input"] = trace.input
        data["output"] = trace.output
        data["metadata"] = trace.metadata
    return data


def trace_metrics(trace: Trace, *, include: bool = True) -> dict[str, Any]:
    """latency (s) and totalCost (USD); -1 for both when the metrics group was left out."""
    if not include:
        return {"latency": -1, "totalCost": -1}
    return {
        "latency": seconds_between(trace.start_time, trace.end_time),
        "totalCost": number(trace.total_cost),
    }


def trace_with_details_json(
    trace: Trace,
    *,
    groups: set[str],
    observation_ids: list[str],
    score_ids: list[str],
) -> dict[str, Any]:
    data = trace_json(trace, include_io="io" in groups)
    data["htmlPath"] = html_path(trace.project_id, trace.id)
    data.update(trace_metrics(trace, include="metrics" in groups))
    data["observations"] = observation_ids if "observations" in groups else []
    data["scores"] = score_ids if "scores" in groups else []
    return data


# --- Observations ---------------------------------------------------------------------


def _sum_keys(details: Mapping[str, Any] | None, side: str) -> float | None:
    """Sum of the usage or cost entries whose key contains side (input, output).

    The same rule as the trace totals: cache_read_input_tokens counts as input.
    """
    values = [v for k, v in (details or {}).items() if side in k and isinstance(v, int | float)]
    return sum(values) if values else None


def _total(details: Mapping[str, Any] | None) -> float | None:
    details = details or {}
    if isinstance(details.get("total"), int | float):
        return details["total"]
    values = [v for k, v in details.items() if k != "total" and isinstance(v, int | float)]
    return sum(values) if values else None


def _as_int(value: float | None) -> int:
    return int(value) if value is not None else 0


def model_prices(model: LlmModel | None) -> dict[str, float]:
    """Prices per usage type of the model's default tier (prefetched pricing_tiers__prices)."""
    if model is None:
        return {}
    for tier in model.pricing_tiers.all():
        if tier.is_default:
            return {price.usage_type: float(price.price) for price in tier.prices.all()}
    return {}


def observation_view_json(observation: Observation, model: LlmModel | None = None) -> dict[str, Any]:
    """ObservationsView of the v1 API: the observation plus prices, costs and timings."""
    usage_details = observation.usage_details or {}
    cost_details = observation.cost_details or {}
    prices = model_prices(model)
    input_cost = _sum_keys(cost_details, "input")
    output_cost = _sum_keys(cost_details, "output")
    total_cost = number(observation.total_cost)
    if total_cost is None:
        total_cost = _total(cost_details)
    return {
        "id": observation.id,
        "projectId": observation.project_id,
        "traceId": observation.trace_id,
        "type": observation.type,
        "name": observation.name,
        "startTime": iso(observation.start_time),
        "endTime": iso(observation.end_time),
        "completionStartTime": iso(observation.completion_start_time),
        "model": observation.provided_model_name,
        "modelParameters": observation.model_parameters,
        "input": observation.input,
        "output": observation.output,
        "metadata": observation.metadata,
        "version": observation.version,
        "level": observation.level,
        "statusMessage": observation.status_message,
        "parentObservationId": observation.parent_observation_id,
        "environment": observation.environment,
        "usage": {
            "input": _as_int(_sum_keys(usage_details, "input")),
            "output": _as_int(_sum_keys(usage_details, "output")),
            "total": _as_int(_total(usage_details)),
            "unit": model.unit if model else None,
            "inputCost": input_cost,
            "outputCost": output_cost,
            "totalCost": total_cost,
        },
        "usageDetails": usage_details,
        "costDetails": cost_details,
        "promptId": observation.prompt_id,
        "promptName": observation.prompt_name,
        "promptVersion": observation.prompt_version,
        "modelId": observation.internal_model_id,
        "inputPrice": prices.get("input"),
        "outputPrice": prices.get("output"),
        "totalPrice": prices.get("total"),
        "calculatedInputCost": input_cost,
        "calculatedOutputCost": output_cost,
        "calculatedTotalCost": total_cost,
        "latency": seconds_between(observation.start_time, observation.end_time),
        "timeToFirstToken": seconds_between(observation.start_time, observation.completion_start_time),
        "createdAt": iso(observation.created_at),
        "updatedAt": iso(observation.updated_at),
    }


V2_GROUPS = (
    "core",
    "basic",
    "time",
    "io",
    "metadata",
    "model",
    "usage",
    "prompt",
    "metrics",
    "trace_context",
)
V2_DEFAULT_GROUPS = frozenset({"core", "basic"})


def raw_io(value: Any) -> str | None:
    """v2 returns input and output as the raw strings that were ingested."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def preview_metadata(metadata: Any, expand: Iterable[str] = ()) -> Any:
    if not isinstance(metadata, dict):
        return metadata
    keep = set(expand)
    return {
        key: value[:METADATA_PREVIEW_CHARS] if isinstance(value, str) and key not in keep else value
        for key, value in metadata.items()
    }


def observation_v2_json(
    observation: Observation,
    *,
    groups: set[str],
    trace: Trace | None,
    model: LlmModel | None,
    expand_metadata: Iterable[str] = (),
) -> dict[str, Any]:
    o = observation
    data: dict[str, Any] = {
        "id": o.id,
        "traceId": o.trace_id,
        "startTime": iso(o.start_time),
        "endTime": iso(o.end_time),
        "projectId": o.project_id,
        "parentObservationId": o.parent_observation_id,
        "type": o.type,
        "modelId": None,
        "inputPrice": None,
        "outputPrice": None,
        "totalPrice": None,
    }
    if "basic" in groups:
        data.update(
            name=o.name,
            level=o.level,
            statusMessage=o.status_message,
            version=o.version,
            environment=o.environment,
            bookmarked=trace.bookmarked if trace else False,
            public=trace.public if trace else False,
            userId=trace.user_id if trace else None,
            sessionId=trace.session_id if trace else None,
            isRootObservation=o.parent_observation_id is None,
        )
    if "time" in groups:
        data.update(
            completionStartTime=iso(o.completion_start_time),
            createdAt=iso(o.created_at),
            updatedAt=iso(o.updated_at),
        )
    if "io" in groups:
        data.update(input=raw_io(o.input), output=raw_io(o.output))
    if "metadata" in groups:
        data["metadata"] = preview_metadata(o.metadata, expand_metadata)
    if "model" in groups:
        prices = model_prices(model)
        data.update(
            providedModelName=o.provided_model_name,
            internalModelId=o.internal_model_id,
            modelParameters=o.model_parameters,
            modelId=o.internal_model_id,
            inputPrice=_price_string(prices.get("input")),
            outputPrice=_price_string(prices.get("output")),
            totalPrice=_price_string(prices.get("total")),
        )
    if "usage" in groups:
        data.update(
            usageDetails=o.usage_details or {},
            costDetails=o.cost_details or {},
            totalCost=number(o.total_cost),
            usagePricingTierName=o.usage_pricing_tier_name,
        )
    if "prompt" in groups:
        data.update(promptId=o.prompt_id, promptName=o.prompt_name, promptVersion=o.prompt_version)
    if "metrics" in groups:
        data.update(
            latency=seconds_between(o.start_time, o.end_time),
            timeToFirstToken=seconds_between(o.start_time, o.completion_start_time),
        )
    if "trace_context" in groups:
        data.update(
            tags=list(trace.tags or []) if trace else [],
            release=trace.release if trace else None,
            traceName=trace.name if trace else None,
        )
    return data


def _price_string(value: float | None) -> str | None:
    return None if value is None else format(Decimal(str(value)), "f")


# --- Sessions -------------------------------------------------------------------------


def session_json(session_id: str, project_id: str, created_at: datetime, environment: str) -> dict[str, Any]:
    return {
        "id": session_id,
        "createdAt": iso(created_at),
        "projectId": project_id,
        "environment": environment,
    }


# --- Scores ---------------------------------------------------------------------------


def _score_values(score: Score) -> dict[str, Any]:
    if score.data_type == "NUMERIC":
        return {"value": score.value}
    if score.data_type == "TEXT":
        return {"stringValue": score.string_value}
    if score.data_type == "BOOLEAN":
        string_value = score.string_value or ("True" if score.value else "False")
        return {"value": score.value, "stringValue": string_value}
    return {"value": score.value if score.value is not None else 0, "stringValue": score.string_value}


def score_json(score: Score) -> dict[str, Any]:
    """Score (v2) without its trace; ScoreV1 in a trace's detail is the same minus sessionId."""
    return {
        "id": score.id,
        "projectId": score.project_id,
        "traceId": score.trace_id,
        "sessionId": score.session_id,
        "observationId": score.observation_id,
        "datasetRunId": score.dataset_run_id,
        "name": score.name,
        "source": score.source,
        "dataType": score.data_type,
        **_score_values(score),
        "timestamp": iso(score.timestamp),
        "createdAt": iso(score.created_at),
        "updatedAt": iso(score.updated_at),
        "authorUserId": str(score.author_user_id) if score.author_user_id is not None else None,
        "comment": score.comment,
        "metadata": score.metadata,
        "configId": score.config_id,
        "queueId": score.queue_id,
        "environment": score.environment,
    }


def score_trace_json(trace: Trace | None) -> dict[str, Any] | None:
    if trace is None:
        return None
    return {
        "userId": trace.user_id,
        "tags": list(trace.tags or []),
        "environment": trace.environment,
        "sessionId": trace.session_id,
    }


SCORE_V3_GROUPS = ("details", "subject", "annotation")


def _v3_value(score: Score) -> Any:
    if score.data_type == "NUMERIC":
        return score.value
    if score.data_type == "BOOLEAN":
        return bool(score.value)
    return score.string_value or ""


def score_subject(score: Score) -> dict[str, Any] | None:
    if score.observation_id:
        return {"kind": "observation", "id": score.observation_id, "traceId": score.trace_id}
    if score.trace_id:
        return {"kind": "trace", "id": score.trace_id}
    if score.session_id:
        return {"kind": "session", "id": score.session_id}
    if score.dataset_run_id:
        return {"kind": "experiment", "id": score.dataset_run_id}
    return None


def score_v3_json(score: Score, groups: set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": score.id,
        "projectId": score.project_id,
        "name": score.name,
        "value": _v3_value(score),
        "dataType": score.data_type,
        "source": score.source,
        "timestamp": iso(score.timestamp),
        "environment": score.environment,
        "createdAt": iso(score.created_at),
        "updatedAt": iso(score.updated_at),
    }
    if "details" in groups:
        data.update(comment=score.comment, configId=score.config_id, metadata=score.metadata)
    if "subject" in groups:
        data["subject"] = score_subject(score)
    if "annotation" in groups:
        author = score.author_user_id
        data.update(authorUserId=str(author) if author is not None else None, queueId=score.queue_id)
    return data


def score_config_json(config: ScoreConfig) -> dict[str, Any]:
    return {
        "id": config.id,
        "name": config.name,
        "createdAt": iso(config.created_at),
        "updatedAt": iso(config.updated_at),
        "projectId": config.project_id,
        "dataType": config.data_type,
        "isArchived": config.is_archived,
        "minValue": config.min_value,
        "maxValue": config.max_value,
        "categories": config.categories,
        "description": config.description,
    }


# --- Models ---------------------------------------------------------------------------


def model_json(model: LlmModel) -> dict[str, Any]:
    """Model with prices of the default tier and every pricing tier (prefetched)."""
    tiers = sorted(model.pricing_tiers.all(), key=lambda tier: tier.priority)
    default_prices = model_prices(model)
    return {
        "id": model.id,
        "modelName": model.model_name,
        "matchPattern": model.match_pattern,
        "startDate": iso(model.start_date),
        "unit": model.unit,
        "inputPrice": default_prices.get("input"),
        "outputPrice": default_prices.get("output"),
        "totalPrice": default_prices.get("total"),
        "tokenizerId": model.tokenizer_id,
        "tokenizerConfig": model.tokenizer_config,
        "isLangfuseManaged": model.project_id is None,
        "createdAt": iso(model.created_at),
        "prices": {usage_type: {"price": price} for usage_type, price in default_prices.items()},
        "pricingTiers": [
            {
                "id": tier.id,
                "name": tier.name,
                "isDefault": tier.is_default,
                "priority": tier.priority,
                "conditions": tier.conditions or [],
                "prices": {price.usage_type: float(price.price) for price in tier.prices.all()},
            }
            for tier in tiers
        ],
    }
