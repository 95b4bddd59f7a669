"""Cost engine: find the model definition for a generation, pick its pricing tier, price its usage.

Model definitions live in ``models`` / ``pricing_tiers`` / ``prices`` (traces.models); the
managed defaults (project=None) come from Langfuse's price table (traces.pricing_defaults), and
a project's own models win over them.

Matching follows Langfuse (``match_pattern`` regex searched in the model name, always
case-insensitive; project models before defaults; latest ``start_date`` first) with one
deliberate difference: Langfuse takes the latest start date even when it lies after the
generation, we take the latest start date that is not after the generation's time, so a price
change recorded today does not re-price last month's calls differently from how a later
re-ingestion would.

The definitions are cached in this process for ``MODEL_CACHE_TTL_SECONDS`` (one query per
project and one per matched model on a miss, none on a hit). Replicas do not share the cache;
a change made through another replica shows here within the TTL. Call ``clear_model_cache()``
after changing models in this process (the models API does) and between tests.
"""

from __future__ import annotations

import functools
import logging
import operator
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from traces.models import LlmModel, PricingTier

logger = logging.getLogger(__name__)

MODEL_CACHE_TTL_SECONDS = getattr(settings, "MODEL_CACHE_TTL_SECONDS", 60)
_MAX_NAMES_PER_PROJECT = 2000

# Usage keys that mean the same bucket; a usage key without a price of its own is priced with
# the first of its group that has one (Langfuse does the same with its alias map).
_ALIAS_GROUPS = (
    ("input_cached_tokens", "cache_read_input_tokens", "input_cache_read", "cached_tokens"),
    ("input_cache_creation", "cache_creation_input_tokens", "input_cache_write", "cache_write_tokens"),
    ("input_cache_creation_5m", "cache_creation.ephemeral_5m_input_tokens", "ephemeral_5m_input_tokens"),
    ("input_cache_creation_1h", "cache_creation.ephemeral_1h_input_tokens", "ephemeral_1h_input_tokens"),
    (
        "output_reasoning_tokens",
        "output_reasoning",
        "reasoning_tokens",
        "reasoning.output_tokens",
        "completion_details.reasoning",
    ),
    ("input_audio_tokens", "audio_input_tokens"),
    ("output_audio_tokens", "audio_output_tokens"),
    ("output_text_tokens", "text_output_tokens"),
)
_ALIASES = {key: group for group in _ALIAS_GROUPS for key in group}

_COMPARISONS = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "neq": operator.ne,
}


@dataclass(frozen=True)
class Tier:
    id: str
    name: str
    is_default: bool
    priority: int
    conditions: list
    prices: dict[str, Decimal]


@dataclass(frozen=True)
class MatchedModel:
    id: str
    model_name: str
    project_id: str | None
    start_date: datetime | None
    unit: str | None
    tiers: tuple[Tier, ...] = ()


@dataclass
class PricingResult:
    internal_model_id: str | None = None
    tier_id: str | None = None
    tier_name: str | None = None
    usage_details: dict[str, int] = field(default_factory=dict)
    cost_details: dict[str, Decimal] = field(default_factory=dict)
    total_cost: Decimal | None = None

    def cost_details_json(self) -> dict[str, float]:
        """cost_details for a JSON column (JSON has no decimals)."""
        return {key: float(value) for key, value in self.cost_details.items()}


# -- model matching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    id: str
    model_name: str
    project_id: str | None
    start_date: datetime | None
    unit: str | None
    pattern: re.Pattern | None


@dataclass
class _ProjectModels:
    expires: float
    candidates: tuple[_Candidate, ...]
    by_name: dict[str, tuple[_Candidate, ...]] = field(default_factory=dict)


_lock = threading.Lock()
_projects: dict[str, _ProjectModels] = {}
_details: dict[str, tuple[float, tuple[Tier, ...]]] = {}


def clear_model_cache() -> None:
    """Forget every cached model definition in this process."""
    with _lock:
        _projects.clear()
        _details.clear()


def match_model(project_id: str, model_name: str, at: datetime | None = None) -> MatchedModel | None:
    """The model definition that prices ``model_name`` in this project at time ``at`` (default now).

    Project models win over defaults. Within each, among the definitions whose pattern matches,
    the one with the latest start date that is not after ``at``; a definition without a start
    date counts as the oldest. None when nothing matches.
    """
    if not model_name:
        return None
    at = _aware(at) if at is not None else timezone.now()
    project_id = str(getattr(project_id, "pk", project_id))
    for candidate in _candidates_for(project_id, model_name):
        if candidate.start_date is None or candidate.start_date <= at:
            return MatchedModel(
                id=candidate.id,
                model_name=candidate.model_name,
                project_id=candidate.project_id,
                start_date=candidate.start_date,
                unit=candidate.unit,
                tiers=_tiers_of(candidate.id),
            )
    return None


def _candidates_for(project_id: str, model_name: str) -> tuple[_Candidate, ...]:
    """Matching definitions in preference order: project first, then latest start date."""
    entry = _project_models(project_id)
    found = entry.by_name.get(model_name)
    if found is None:
        matching = [c for c in entry.candidates if c.pattern is not None and c.pattern.search(model_name)]
        matching.sort(key=_preference)
        found = tuple(matching)
        if len(entry.by_name) >= _MAX_NAMES_PER_PROJECT:
            entry.by_name.clear()
        entry.by_name[model_name] = found
    return found


def _preference(candidate: _Candidate) -> tuple:
    oldest = datetime.min.replace(tzinfo=UTC)
    return (candidate.project_id is None, -(candidate.start_date or oldest).timestamp(), candidate.id)


def _project_models(project_id: str) -> _ProjectModels:
    now = time.monotonic()
    entry = _projects.get(project_id)
    if entry is not None and entry.expires > now:
        return entry
    rows = LlmModel.objects.available_to(project_id).values_list(
        "id", "model_name", "project_id", "start_date", "unit", "match_pattern"
    )
    candidates = tuple(
        _Candidate(
            id=mid, model_name=name, project_id=pid, start_date=start, unit=unit, pattern=_compile(pat)
        )
        for mid, name, pid, start, unit, pat in rows
    )
    entry = _ProjectModels(expires=now + MODEL_CACHE_TTL_SECONDS, candidates=candidates)
    with _lock:
        _projects[project_id] = entry
    return entry


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        logger.warning("Model match pattern %r does not compile: %s", pattern, error)
        return None


def _tiers_of(model_id: str) -> tuple[Tier, ...]:
    now = time.monotonic()
    cached = _details.get(model_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = (
        PricingTier.objects.filter(model_id=model_id)
        .values_list(
            "id", "name", "is_default", "priority", "conditions", "prices__usage_type", "prices__price"
        )
        .order_by("priority", "id")
    )
    tiers: dict[str, Tier] = {}
    for tier_id, name, is_default, priority, conditions, usage_type, price in rows:
        tier = tiers.get(tier_id)
        if tier is None:
            tier = tiers[tier_id] = Tier(tier_id, name, is_default, priority, conditions or [], {})
        if usage_type is not None and price is not None:
            tier.prices[usage_type] = price
    result = tuple(tiers.values())
    with _lock:
        _details[model_id] = (now + MODEL_CACHE_TTL_SECONDS, result)
    return result


def _aware(at: datetime) -> datetime:
    return at if timezone.is_aware(at) else timezone.make_aware(at, UTC)


# -- pricing tiers -------------------------------------------------------------------------------


def select_tier(
    model: MatchedModel,
    usage_details: Mapping[str, Any] | None,
    model_parameters: Any = None,
    metadata: Any = None,
) -> Tier | None:
    """The pricing tier for one generation: the first non-default tier, by ascending priority,
    whose conditions all hold; otherwise the default tier (None if the model has none).

    Conditions (the forms used in Langfuse's price table, and a few more):
    - usage: ``{usageDetailPattern, operator: gt|gte|lt|lte|eq|neq, value, caseSensitive?}``
      compares the sum of the usage values whose key matches the regex (searched, not
      anchored; case-insensitive unless caseSensitive) with ``value``;
    - attribute: ``{source: model_parameters|metadata, key, operator, values | value,
      caseSensitive?}`` reads the top-level key; operators ``in`` / ``not_in`` (against
      ``values``), ``eq`` / ``neq`` (strings, case-insensitive unless caseSensitive), and
      ``gt|gte|lt|lte`` (numbers). A list value matches ``in`` when any element does.
    A tier without conditions never matches (only the default applies unconditionally); an
    unreadable condition fails.
    """
    usage = usage_details or {}
    for tier in sorted((t for t in model.tiers if not t.is_default), key=lambda t: t.priority):
        conditions = tier.conditions if isinstance(tier.conditions, list) else []
        if conditions and all(_holds(c, usage, model_parameters, metadata) for c in conditions):
            return tier
    return next((t for t in model.tiers if t.is_default), None)


def _holds(condition: Any, usage: Mapping[str, Any], model_parameters: Any, metadata: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    try:
        if "usageDetailPattern" in condition:
            return _usage_condition(condition, usage)
        if "source" in condition:
            source = {"model_parameters": model_parameters, "metadata": metadata}.get(condition["source"])
            return _attribute_condition(condition, source)
    except (re.error, TypeError, ValueError, KeyError) as error:
        logger.warning("Pricing tier condition %r failed: %s", condition, error)
    return False


def _usage_condition(condition: Mapping[str, Any], usage: Mapping[str, Any]) -> bool:
    flags = 0 if condition.get("caseSensitive") else re.IGNORECASE
    pattern = re.compile(condition["usageDetailPattern"], flags)
    total = sum(
        value
        for key, value in usage.items()
        if pattern.search(key) and isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    )
    compare = _COMPARISONS.get(condition.get("operator"))
    return compare is not None and compare(Decimal(str(total)), Decimal(str(condition["value"])))


def _attribute_condition(condition: Mapping[str, Any], source: Any) -> bool:
    op = condition.get("operator")
    present = isinstance(source, Mapping) and condition.get("key") in source
    actual = source[condition["key"]] if present else None
    if op in ("gt", "gte", "lt", "lte"):
        if not present or isinstance(actual, bool):
            return False
        return _COMPARISONS[op](Decimal(str(actual)), Decimal(str(condition["value"])))
    fold = not condition.get("caseSensitive")
    actual_values = (
        {_text(v, fold) for v in (actual if isinstance(actual, list) else [actual])} if present else set()
    )
    if op in ("in", "not_in"):
        expected = {_text(v, fold) for v in condition.get("values") or []}
        hit = bool(actual_values & expected)
        return hit if op == "in" else not hit
    if op in ("eq", "neq"):
        hit = _text(condition.get("value"), fold) in actual_values
        return hit if op == "eq" else not hit
    return False


def _text(value: Any, fold: bool) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return text.casefold() if fold else text


# -- cost ----------------------------------------------------------------------------------------


def compute_cost(
    project_id: str,
    model_name: str | None,
    usage_details: Mapping[str, int] | None,
    provided_cost: Mapping[str, Any] | None = None,
    model_parameters: Any = None,
    metadata: Any = None,
    at: datetime | None = None,
) -> PricingResult:
    """Model, tier and cost of one generation.

    ``usage_details`` and ``provided_cost`` are the normalised maps from traces.usage.
    Costs the client sent win: they are used alone, total = their ``total`` or else their sum.
    Otherwise each usage key with a price in the selected tier costs price x units (keys
    without a price of their own use a priced alias, e.g. ``cached_tokens`` ->
    ``input_cached_tokens``); total = the ``total`` price x total units if the tier prices
    ``total``, else the sum. Decimal throughout. No matching model: no cost (None), usage kept.
    """
    usage = dict(usage_details or {})
    result = PricingResult(usage_details=usage)
    model = match_model(project_id, model_name, at) if model_name else None
    tier = select_tier(model, usage, model_parameters, metadata) if model and usage else None
    if model is not None:
        result.internal_model_id = model.id
    if tier is not None:
        result.tier_id, result.tier_name = tier.id, tier.name
    provided = _decimal_costs(provided_cost)
    if provided:
        provided.setdefault("total", sum(provided.values(), Decimal(0)))
        result.cost_details, result.total_cost = provided, provided["total"]
    elif tier is not None:
        result.cost_details = _priced(usage, tier.prices)
        result.total_cost = result.cost_details.get("total")
    return result


def _priced(usage: Mapping[str, int], prices: Mapping[str, Decimal]) -> dict[str, Decimal]:
    costs: dict[str, Decimal] = {}
    for key, units in usage.items():
        price = _price_for(key, prices) if key != "total" else None
        if price is not None:
            costs[key] = price * Decimal(units)
    if "total" in prices and "total" in usage:
        costs["total"] = prices["total"] * Decimal(usage["total"])
    elif costs:
        costs["total"] = sum(costs.values(), Decimal(0))
    return costs


def _price_for(key: str, prices: Mapping[str, Decimal]) -> Decimal | None:
    if key in prices:
        return prices[key]
    for alias in _ALIASES.get(key, ()):
        if alias in prices:
            return prices[alias]
    return None


def _decimal_costs(provided: Mapping[str, Any] | None) -> dict[str, Decimal]:
    costs: dict[str, Decimal] = {}
    for key, value in (provided or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            continue
        amount = Decimal(str(value))
        if amount.is_finite() and amount >= 0:
            costs[key] = amount
    return costs
