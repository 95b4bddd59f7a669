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
    changed: list[tuple[LlmModel, list[dict]]] = []
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
