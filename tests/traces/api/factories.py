"""Rows for the read API tests, written directly (no ingestion), with trace aggregates kept
consistent with the observations the way ingestion keeps them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from traces.models import (
    LlmModel,
    Observation,
    Price,
    PricingTier,
    Score,
    ScoreConfig,
    Trace,
)

_ids = itertools.count(1)
T0 = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)


def at(seconds: float = 0, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=seconds)


def make_trace(project, trace_id: str | None = None, **fields) -> Trace:
    fields.setdefault("timestamp", T0)
    fields.setdefault("created_at", fields["timestamp"])
    fields.setdefault("updated_at", fields["timestamp"])
    return Trace.objects.create(project=project, id=trace_id or f"trace-{next(_ids)}", **fields)


def refresh_aggregates(trace: Trace) -> Trace:
    observations = list(Observation.objects.for_project(trace.project_id).in_trace(trace.id))
    usage = [o.usage_details or {} for o in observations]
    costs = [o.cost_details or {} for o in observations]
    trace.start_time = min((o.start_time for o in observations), default=None)
    trace.end_time = max((o.end_time or o.start_time for o in observations), default=None)
    trace.observation_count = len(observations)
    trace.input_tokens = sum(u.get("input", 0) for u in usage)
    trace.output_tokens = sum(u.get("output", 0) for u in usage)
    trace.total_tokens = sum(u.get("total", 0) for u in usage)
    trace.input_cost = sum((Decimal(str(c.get("input", 0))) for c in costs), Decimal(0))
    trace.output_cost = sum((Decimal(str(c.get("output", 0))) for c in costs), Decimal(0))
    trace.total_cost = sum((o.total_cost or Decimal(0) for o in observations), Decimal(0))
    trace.error_count = sum(o.level == "ERROR" for o in observations)
    trace.warning_count = sum(o.level == "WARNING" for o in observations)
    trace.save()
    return trace


def make_observation(trace: Trace, observation_id: str | None = None, **fields) -> Observation:
    fields.setdefault("start_time", trace.timestamp)
    fields.setdefault("created_at", fields["start_time"])
    fields.setdefault("updated_at", fields["start_time"])
    cost = fields.get("cost_details")
    if cost and "total_cost" not in fields:
        fields["total_cost"] = Decimal(str(cost.get("total", sum(cost.values()))))
    observation = Observation.objects.create(
        project_id=trace.project_id,
        trace_id=trace.id,
        id=observation_id or f"obs-{next(_ids)}",
        **fields,
    )
    refresh_aggregates(trace)
    return observation


def make_generation(trace: Trace, observation_id: str | None = None, **fields) -> Observation:
    fields.setdefault("type", "GENERATION")
    fields.setdefault("provided_model_name", "gpt-4o")
    fields.setdefault("usage_details", {"input": 10, "output": 5, "total": 15})
    fields.setdefault("cost_details", {"input": 0.0001, "output": 0.0002, "total": 0.0003})
    return make_observation(trace, observation_id, **fields)


def make_score(project, score_id: str | None = None, **fields) -> Score:
    fields.setdefault("timestamp", T0)
    fields.setdefault("created_at", fields["timestamp"])
    fields.setdefault("updated_at", fields["timestamp"])
    fields.setdefault("name", "quality")
    if fields.get("data_type", "NUMERIC") == "NUMERIC":
        fields.setdefault("value", 0.5)
    return Score.objects.create(project=project, id=score_id or f"score-{next(_ids)}", **fields)


def make_score_config(project, **fields) -> ScoreConfig:
    fields.setdefault("name", f"config-{next(_ids)}")
    fields.setdefault("data_type", "NUMERIC")
    fields.setdefault("created_at", T0)
    return ScoreConfig.objects.create(project=project, **fields)


def make_model(
    project=None,
    model_name: str | None = None,
    *,
    prices: dict[str, float] | None = None,
    tiers: list[dict] | None = None,
    **fields,
) -> LlmModel:
    """A model with a default tier holding `prices`, plus any extra `tiers`
    ({name, priority, conditions, prices})."""
    name = model_name or f"model-{next(_ids)}"
    fields.setdefault("match_pattern", f"(?i)^({name})$")
    fields.setdefault("created_at", T0)
    model = LlmModel.objects.create(project=project, model_name=name, **fields)
    all_tiers = [
        {"name": "Standard", "priority": 0, "is_default": True, "conditions": [], "prices": prices or {}}
    ]
    all_tiers += [{"is_default": False, **tier} for tier in tiers or []]
    for tier in all_tiers:
        row = PricingTier.objects.create(
            id=f"{model.id}-tier-{tier['priority']}",
            model=model,
            name=tier["name"],
            is_default=tier["is_default"],
            priority=tier["priority"],
            conditions=tier["conditions"],
        )
        Price.objects.bulk_create(
            Price(model=model, pricing_tier=row, usage_type=usage_type, price=Decimal(str(price)))
            for usage_type, price in tier["prices"].items()
        )
    return model
