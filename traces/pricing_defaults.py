"""Load Langfuse's default model price table into the models/pricing_tiers/prices tables.

Idempotent: a model keeps its id, and its rows are rewritten only when anything the file says
about it (name, pattern, tiers, prices, tokenizer) differs from what is stored. Project
models (project_id set) are never touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from traces.models import LlmModel, Price, PricingTier


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


PRICE_QUANTUM = Decimal("1e-12")  # the prices column keeps 12 decimal places


def _when(raw: str | None) -> datetime | None:
    return parse_datetime(raw) if raw else None


def load_default_prices(path: Path | None = None) -> LoadResult:
    path = path or settings.MODEL_PRICES_FILE
    entries = json.loads(Path(path).read_text())
    result = LoadResult()
    existing = {m.id: m for m in LlmModel.objects.defaults().prefetch_related("pricing_tiers__prices")}
    changed: list[tuple[LlmModel, list[dict]]] = []
    with transaction.atomic():
        for entry in entries:
            model = existing.pop(entry["id"], None)
            updated_at = _when(entry.get("updatedAt"))
            if model is not None and _signature(model) == _entry_signature(entry):
                result.unchanged += 1
                continue
            if model is None:
                result.created += 1
            else:
                result.updated += 1
            model = LlmModel(
                id=entry["id"],
                project=None,
                model_name=entry["modelName"],
                match_pattern=entry["matchPattern"],
                start_date=_when(entry.get("startDate")),
                unit=entry.get("unit"),
                tokenizer_id=entry.get("tokenizerId"),
                tokenizer_config=entry.get("tokenizerConfig"),
                created_at=_when(entry.get("createdAt")) or updated_at,
                updated_at=updated_at,
            )
            changed.append((model, entry.get("pricingTiers") or []))
        if existing:
            result.removed = len(existing)
            LlmModel.objects.filter(pk__in=list(existing)).delete()
        if changed:
            # Replace changed models whole: their tiers and prices go with them (cascade).
            LlmModel.objects.filter(pk__in=[m.id for m, _ in changed]).delete()
            LlmModel.objects.bulk_create([m for m, _ in changed])
            _store_tiers(changed)
    return result


def _signature(model: LlmModel) -> tuple:
    """Everything the file decides about a stored default model, for change detection."""
    tiers = sorted(
        (
            tier.id,
            tier.name,
            tier.is_default,
            tier.priority,
            json.dumps(tier.conditions, sort_keys=True),
            tuple(sorted((p.usage_type, p.price) for p in tier.prices.all())),
        )
        for tier in model.pricing_tiers.all()
    )
    config = json.dumps(model.tokenizer_config, sort_keys=True)
    return (
        model.model_name,
        model.match_pattern,
        model.start_date,
        model.unit,
        model.tokenizer_id,
        config,
        tiers,
    )


def _entry_signature(entry: dict) -> tuple:
    tiers = sorted(
        (
            tier["id"],
            tier["name"],
            tier.get("isDefault", False),
            tier.get("priority", 0),
            json.dumps(tier.get("conditions") or [], sort_keys=True),
            tuple(
                sorted(
                    (k, Decimal(str(v)).quantize(PRICE_QUANTUM))
                    for k, v in (tier.get("prices") or {}).items()
                )
            ),
        )
        for tier in entry.get("pricingTiers") or []
    )
    config = json.dumps(entry.get("tokenizerConfig"), sort_keys=True)
    return (
        entry["modelName"],
        entry["matchPattern"],
        _when(entry.get("startDate")),
        entry.get("unit"),
        entry.get("tokenizerId"),
        config,
        tiers,
    )


def _store_tiers(changed: list[tuple[LlmModel, list[dict]]]) -> None:
    tiers, prices = [], []
    for model, entries in changed:
        for tier in entries:
            row = PricingTier(
                id=tier["id"],
                model=model,
                name=tier["name"],
                is_default=tier.get("isDefault", False),
                priority=tier.get("priority", 0),
                conditions=tier.get("conditions") or [],
            )
            tiers.append(row)
            prices += [
                Price(model=model, pricing_tier=row, usage_type=usage_type, price=Decimal(str(price)))
                for usage_type, price in (tier.get("prices") or {}).items()
            ]
    PricingTier.objects.bulk_create(tiers)
    Price.objects.bulk_create(prices, batch_size=2000)
