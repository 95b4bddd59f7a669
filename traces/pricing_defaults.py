"""Load Langfuse's default model price table into the models/pricing_tiers/prices tables.

Idempotent: a model keeps its id, so rows only change when the file changes. Project
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


def _when(raw: str | None) -> datetime | None:
    return parse_datetime(raw) if raw else None


def load_default_prices(path: Path | None = None) -> LoadResult:
    path = path or settings.MODEL_PRICES_FILE
    entries = json.loads(Path(path).read_text())
    result = LoadResult()
    existing = {m.id: m for m in LlmModel.objects.defaults()}
    with transaction.atomic():
        for entry in entries:
            model = existing.pop(entry["id"], None)
            updated_at = _when(entry.get("updatedAt"))
            if (
                model is not None
                and model.updated_at == updated_at
                and model.match_pattern == entry["matchPattern"]
            ):
                result.unchanged += 1
                continue
            fields = {
                "project": None,
                "model_name": entry["modelName"],
                "match_pattern": entry["matchPattern"],
                "start_date": _when(entry.get("startDate")),
                "unit": entry.get("unit"),
                "tokenizer_id": entry.get("tokenizerId"),
                "tokenizer_config": entry.get("tokenizerConfig"),
                "created_at": _when(entry.get("createdAt")) or updated_at,
                "updated_at": updated_at,
            }
            if model is None:
                model = LlmModel.objects.create(id=entry["id"], **fields)
                result.created += 1
            else:
                for name, value in fields.items():
                    setattr(model, name, value)
                model.save()
                model.pricing_tiers.all().delete()
                result.updated += 1
            _store_tiers(model, entry.get("pricingTiers") or [])
        if existing:
            result.removed = len(existing)
            LlmModel.objects.filter(pk__in=list(existing)).delete()
    return result


def _store_tiers(model: LlmModel, tiers: list[dict]) -> None:
    prices = []
    for tier in tiers:
        row = PricingTier.objects.create(
            id=tier["id"],
            model=model,
            name=tier["name"],
            is_default=tier.get("isDefault", False),
            priority=tier.get("priority", 0),
            conditions=tier.get("conditions") or [],
        )
        prices += [
            Price(model=model, pricing_tier=row, usage_type=usage_type, price=Decimal(str(price)))
            for usage_type, price in (tier.get("prices") or {}).items()
        ]
    Price.objects.bulk_create(prices)
