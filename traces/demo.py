"""Deterministic demo data for one project: traces with nested observations, scores, prompts.

Trace `i` of seed `s` is generated from its own `random.Random(f"...:{s}:{i}")`, so the same
seed always yields the same rows (ids included), whatever `traces` is, and a second run skips
the traces that exist. Rows go in with COPY, one chunk of traces per transaction: a trace is
stored with all of its observations and scores, or not at all. Trace aggregates are computed
from the observations generated with them, the same way ingestion keeps them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Organization, Project
from prompts.models import Prompt
from traces import demo_content as content
from traces.demo_traces import ModelPrice, PromptRef, RawJson, TraceMaker
from traces.models import LlmModel, Observation, Score, ScoreConfig, ScoreDataType, Trace
from traces.pricing_defaults import load_default_prices

DEMO_ORG_ID = "demo-org"
DEMO_ORG_NAME = "Demo Organization"
DEMO_PROJECT_ID = "demo-project"
DEMO_PROJECT_NAME = "Demo Project"
DEFAULT_CHUNK = 2000


@dataclass
class SeedResult:
    project_id: str
    requested: int = 0
    created: int = 0
    skipped: int = 0
    observations: int = 0
    scores: int = 0
    missing_prices: list[str] = field(default_factory=list)


def ensure_demo_project() -> Project:
    """The organisation and project `make run` provisions (demo-org / demo-project)."""
    org, _ = Organization.objects.get_or_create(pk=DEMO_ORG_ID, defaults={"name": DEMO_ORG_NAME})
    project, _ = Project.objects.get_or_create(
        pk=DEMO_PROJECT_ID, defaults={"organization": org, "name": DEMO_PROJECT_NAME}
    )
    return project


def seed_demo(
    project: Project,
    *,
    traces: int = 200,
    days: int = 14,
    seed: int = 42,
    now: datetime | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[SeedResult], None] | None = None,
) -> SeedResult:
    """Insert `traces` demo traces spread over the `days` before `now`; existing ids are skipped."""
    if traces < 0 or days < 1:
        raise ValueError("traces must be 0 or more and days 1 or more")
    now = (now or timezone.now()).replace(microsecond=0)
    since = now - timedelta(days=days)
    prices = load_prices(project, content.ALL_MODELS)
    result = SeedResult(project_id=project.pk, requested=traces)
    result.missing_prices = sorted(set(content.ALL_MODELS) - set(prices))
    maker = TraceMaker(
        project_id=project.pk,
        seed=seed,
        now=now,
        days=days,
        traces=traces,
        prices=prices,
        prompts=ensure_prompts(project, before=since),
        score_configs=ensure_score_configs(project),
    )
    writers = [_CopyWriter(Trace), _CopyWriter(Observation), _CopyWriter(Score)]
    for start in range(0, traces, chunk_size):
        batch = [maker.make(index) for index in range(start, min(traces, start + chunk_size))]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM traces WHERE project_id = %s AND id = ANY(%s)",
                [project.pk, [made.trace["id"] for made in batch]],
            )
            existing = {row[0] for row in cursor.fetchall()}
            fresh = [made for made in batch if made.trace["id"] not in existing]
            observations = [o for made in fresh for o in made.observations]
            scores = [s for made in fresh for s in made.scores]
            for writer, rows in zip(writers, ([m.trace for m in fresh], observations, scores), strict=True):
                writer.copy(cursor, rows)
        result.created += len(fresh)
        result.skipped += len(batch) - len(fresh)
        result.observations += len(observations)
        result.scores += len(scores)
        if progress is not None:
            progress(result)
    return result


def load_prices(project: Project, names: list[str]) -> dict[str, ModelPrice]:
    """Resolve each model name as ingestion would: project models first, then defaults, by regex."""
    if not LlmModel.objects.defaults().exists():
        load_default_prices()
    candidates = sorted(
        LlmModel.objects.available_to(project).prefetch_related("pricing_tiers__prices"),
        key=lambda m: (m.project_id is None, -(m.start_date.timestamp() if m.start_date else 0)),
    )
    found: dict[str, ModelPrice] = {}
    for name in names:
        model = next((m for m in candidates if _matches(m.match_pattern, name)), None)
        tier = next((t for t in model.pricing_tiers.all() if t.is_default), None) if model else None
        if model is not None and tier is not None:
            prices = {price.usage_type: price.price for price in tier.prices.all()}
            found[name] = ModelPrice(model.id, tier.id, tier.name, prices)
    return found


def _matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False


def stable_id(*parts: object) -> str:
    """A cuid-shaped id derived from its parts, so demo prompts and configs keep their ids."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()
    return "c" + digest[:24]


def ensure_prompts(project: Project, *, before: datetime) -> dict[str, dict[str, PromptRef]]:
    """Create the demo prompts' versions once; returns name -> {"production": ref, "latest": ref}."""
    refs: dict[str, dict[str, PromptRef]] = {}
    for name, (kind, versions) in content.PROMPTS.items():
        production = content.PROMPT_LABELS[name]
        by_version: dict[int, PromptRef] = {}
        for number, text in enumerate(versions, start=1):
            labels = ["production"] if number == production else []
            labels += ["latest"] if number == len(versions) else []
            body: Any = text
            if kind == "chat":
                body = [{"role": "system", "content": text}, {"role": "user", "content": "{{question}}"}]
            created = before - timedelta(days=7 * (len(versions) - number + 1))
            prompt, _ = Prompt.objects.get_or_create(
                project=project,
                name=name,
                version=number,
                defaults={
                    "id": stable_id("prompt", project.pk, name, number),
                    "type": kind,
                    "prompt": body,
                    "config": content.PROMPT_CONFIGS[name],
                    "labels": labels,
                    "tags": ["demo"],
                    "commit_message": f"Demo version {number}",
                    "created_by": "seed_demo",
                    "created_at": created,
                    "updated_at": created,
                },
            )
            by_version[number] = PromptRef(prompt.id, name, number, text)
        refs[name] = {"production": by_version[production], "latest": by_version[len(versions)]}
    return refs


def ensure_score_configs(project: Project) -> dict[str, str]:
    """The demo score names' configs (created once); returns name -> config id."""
    boolean = [{"label": "True", "value": 1}, {"label": "False", "value": 0}]
    specs = {
        "helpfulness": {"data_type": ScoreDataType.NUMERIC, "min_value": 0, "max_value": 1},
        "hallucination": {"data_type": ScoreDataType.NUMERIC, "min_value": 0, "max_value": 1},
        "user-feedback": {"data_type": ScoreDataType.BOOLEAN, "categories": boolean},
        "tone": {"data_type": ScoreDataType.CATEGORICAL, "categories": content.TONE_CATEGORIES},
    }
    ids: dict[str, str] = {}
    for name, spec in specs.items():
        config = ScoreConfig.objects.filter(project=project, name=name, data_type=spec["data_type"]).first()
        if config is None:
            config = ScoreConfig.objects.create(
                id=stable_id("score-config", project.pk, name),
                project=project,
                name=name,
                description=content.SCORE_DESCRIPTIONS[name],
                **spec,
            )
        ids[name] = config.id
    return ids


class _CopyWriter:
    """COPY rows (dicts keyed by column) into a model's table; missing columns get field defaults."""

    def __init__(self, model: type[models.Model]) -> None:
        fields = model._meta.concrete_fields
        self.table = model._meta.db_table
        self.columns = [f.column for f in fields]
        self.json = {f.column for f in fields if isinstance(f, models.JSONField)}
        self.defaults = {f.column: f.get_default() for f in fields}

    def copy(self, cursor, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = ", ".join(self.columns)
        with cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([self._value(row, column) for column in self.columns])

    def _value(self, row: dict[str, Any], column: str) -> Any:
        value = row[column] if column in row else self.defaults[column]
        if column in self.json and value is not None and not isinstance(value, RawJson):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return value
