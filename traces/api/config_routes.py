"""Public API writes of project configuration: score configs and custom models with prices."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from accounts.access import api_error, api_route
from traces.api.serializers import model_json, score_config_json
from traces.ingest.body import BodyError, read_json
from traces.ingest.fields import InvalidEvent, parse_timestamp
from traces.models import LlmModel, Price, PricingTier, ScoreConfig

DATA_TYPES = {"NUMERIC", "CATEGORICAL", "BOOLEAN"}
BOOLEAN_CATEGORIES = [{"label": "True", "value": 1}, {"label": "False", "value": 0}]
UNITS = {"TOKENS", "CHARACTERS", "MILLISECONDS", "SECONDS", "IMAGES", "REQUESTS"}
USAGE_OPERATORS = {"gt", "gte", "lt", "lte", "eq", "neq"}


def _json_object(request: HttpRequest) -> dict:
    body = read_json(request)
    if not isinstance(body, dict):
        raise InvalidEvent("the body must be a JSON object")
    return body


def _invalid(message: str) -> JsonResponse:
    return api_error(f"Invalid request data: {message}", 400, "Bad Request")


def _categories(raw: Any) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise InvalidEvent("a CATEGORICAL config needs a non-empty list of categories [{label, value}]")
    labels, values = set(), set()
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("label"), str) or not item["label"]:
            raise InvalidEvent("each category needs a label (string) and a value (number)")
        value = item.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidEvent(f"category {item['label']!r} needs a number as value")
        if item["label"] in labels or value in values:
            raise InvalidEvent("category labels and values must be unique")
        labels.add(item["label"])
        values.add(value)
    return [{"label": c["label"], "value": c["value"]} for c in raw]


def _number_or_none(body: dict, key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidEvent(f"{key} must be a number")
    return float(value)


def _apply_config(config: ScoreConfig, body: dict) -> None:
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 35:
            raise InvalidEvent("name must be a string of 1 to 35 characters")
        config.name = name.strip()
    if "description" in body:
        config.description = None if body["description"] is None else str(body["description"])
    if "isArchived" in body:
        if not isinstance(body["isArchived"], bool):
            raise InvalidEvent("isArchived must be true or false")
        config.is_archived = body["isArchived"]
    if config.data_type == "NUMERIC":
        if "minValue" in body:
            config.min_value = _number_or_none(body, "minValue")
        if "maxValue" in body:
            config.max_value = _number_or_none(body, "maxValue")
        if (
            config.min_value is not None
            and config.max_value is not None
            and config.min_value >= config.max_value
        ):
            raise InvalidEvent("minValue must be smaller than maxValue")
    elif config.data_type == "CATEGORICAL" and "categories" in body:
        config.categories = _categories(body["categories"])
    elif config.data_type == "BOOLEAN":
        config.categories = BOOLEAN_CATEGORIES


@api_route()
def create_score_config(request: HttpRequest) -> JsonResponse:
    """POST /api/public/score-configs."""
    try:
        body = _json_object(request)
        data_type = str(body.get("dataType", "")).upper()
        if data_type not in DATA_TYPES:
            raise InvalidEvent("dataType must be NUMERIC, CATEGORICAL or BOOLEAN")
        if "name" not in body:
            raise InvalidEvent("name is required")
        if data_type == "CATEGORICAL" and "categories" not in body:
            raise InvalidEvent("a CATEGORICAL config needs categories")
        config = ScoreConfig(project=request.project, data_type=data_type)
        _apply_config(config, body)
    except BodyError as exc:
        return api_error(str(exc), exc.status)
    except InvalidEvent as exc:
        return _invalid(str(exc))
    config.save()
    return JsonResponse(score_config_json(config))


@api_route()
def update_score_config(request: HttpRequest, config_id: str) -> JsonResponse:
    """PATCH /api/public/score-configs/{configId}."""
    config = ScoreConfig.objects.for_project(request.project).filter(pk=config_id).first()
    if config is None:
        return api_error("Score config not found", 404, "Not Found")
    try:
        body = _json_object(request)
        if "dataType" in body and str(body["dataType"]).upper() != config.data_type:
            raise InvalidEvent("dataType of a score config cannot change; create a new config")
        _apply_config(config, body)
    except BodyError as exc:
        return api_error(str(exc), exc.status)
    except InvalidEvent as exc:
        return _invalid(str(exc))
    config.save()
    return JsonResponse(score_config_json(config))


def _price(value: Any, what: str) -> Decimal:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidEvent(f"{what} must be a number") from None
    if price < 0 or not price.is_finite():
        raise InvalidEvent(f"{what} must be zero or more")
    return price


def _tiers(body: dict) -> list[dict]:
    flat = {k: body.get(k) for k in ("inputPrice", "outputPrice", "totalPrice") if body.get(k) is not None}
    tiers = body.get("pricingTiers")
    if tiers and flat:
        raise InvalidEvent("send pricingTiers or the flat inputPrice/outputPrice/totalPrice, not both")
    if "totalPrice" in flat and len(flat) > 1:
        raise InvalidEvent("totalPrice cannot be combined with inputPrice or outputPrice")
    if not tiers:
        prices = {key.removesuffix("Price"): _price(value, key) for key, value in flat.items()}
        return [{"name": "Standard", "isDefault": True, "priority": 0, "conditions": [], "prices": prices}]
    if not isinstance(tiers, list):
        raise InvalidEvent("pricingTiers must be a list")
    names, priorities, defaults, cleaned = set(), set(), 0, []
    for tier in tiers:
        if not isinstance(tier, dict) or not isinstance(tier.get("name"), str) or not tier["name"]:
            raise InvalidEvent("each pricing tier needs a name")
        priority, conditions = tier.get("priority"), tier.get("conditions") or []
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise InvalidEvent(f"tier {tier['name']!r} needs an integer priority")
        if tier["name"] in names or priority in priorities:
            raise InvalidEvent("tier names and priorities must be unique within the model")
        names.add(tier["name"])
        priorities.add(priority)
        if tier.get("isDefault"):
            defaults += 1
            if priority != 0 or conditions:
                raise InvalidEvent("the default tier must have priority 0 and no conditions")
        for condition in conditions:
            _check_condition(condition)
        prices = tier.get("prices")
        if not isinstance(prices, dict) or not prices:
            raise InvalidEvent(f"tier {tier['name']!r} must define at least one price")
        cleaned.append(
            {**tier, "conditions": conditions, "prices": {k: _price(v, k) for k, v in prices.items()}}
        )
    if defaults != 1:
        raise InvalidEvent("pricingTiers must include exactly one default tier (isDefault true)")
    return cleaned


def _check_condition(condition: Any) -> None:
    if not isinstance(condition, dict):
        raise InvalidEvent("each tier condition must be an object")
    if "usageDetailPattern" in condition:
        try:
            re.compile(condition["usageDetailPattern"])
        except (re.error, TypeError):
            raise InvalidEvent("usageDetailPattern must be a valid regular expression") from None
        if condition.get("operator") not in USAGE_OPERATORS:
            raise InvalidEvent(f"a usage condition's operator must be one of {sorted(USAGE_OPERATORS)}")
        if not isinstance(condition.get("value"), int | float):
            raise InvalidEvent("a usage condition needs a number as value")
    elif condition.get("source") not in ("model_parameters", "metadata") or not condition.get("key"):
        raise InvalidEvent(
            "a condition needs usageDetailPattern, or source (model_parameters or metadata) and key"
        )


@api_route()
def create_model(request: HttpRequest) -> JsonResponse:
    """POST /api/public/models: a project model that wins over the defaults."""
    from traces.pricing import clear_model_cache

    try:
        body = _json_object(request)
        name, pattern = body.get("modelName"), body.get("matchPattern")
        if not isinstance(name, str) or not name.strip():
            raise InvalidEvent("modelName is required")
        if not isinstance(pattern, str) or not pattern:
            raise InvalidEvent("matchPattern is required, for example (?i)^my-model$")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidEvent(f"matchPattern is not a valid regular expression: {exc}") from None
        start = parse_timestamp(body["startDate"], "startDate") if body.get("startDate") else None
        unit = body.get("unit")
        if unit is not None and unit not in UNITS:
            raise InvalidEvent(f"unit must be one of {sorted(UNITS)}")
        tiers = _tiers(body)
        if LlmModel.objects.filter(
            project=request.project, model_name=name.strip(), start_date=start
        ).exists():
            raise InvalidEvent(
                f"a model named {name.strip()!r} with this start date already exists in the project"
            )
    except BodyError as exc:
        return api_error(str(exc), exc.status)
    except InvalidEvent as exc:
        return _invalid(str(exc))
    with transaction.atomic():
        model = LlmModel.objects.create(
            project=request.project,
            model_name=name.strip(),
            match_pattern=pattern,
            start_date=start,
            unit=unit,
            tokenizer_id=body.get("tokenizerId"),
            tokenizer_config=body.get("tokenizerConfig"),
            updated_at=timezone.now(),
        )
        for tier in tiers:
            row = PricingTier.objects.create(
                model=model,
                name=tier["name"],
                is_default=bool(tier.get("isDefault")),
                priority=tier["priority"],
                conditions=tier["conditions"],
            )
            Price.objects.bulk_create(
                Price(model=model, pricing_tier=row, usage_type=usage_type, price=price)
                for usage_type, price in tier["prices"].items()
            )
    clear_model_cache()
    return JsonResponse(model_json(model))
