"""Read-side queries over prompts: the API's list of names, the UI's list and usage counts, per-version metrics,
per-generation samples for comparisons and the generations of a version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import Project
from prompts.models import Prompt
from traces.keyset import Page, keyset_page, parse_datetime_value
from traces.models import Observation


@dataclass(frozen=True)
class PromptFilters:
    name: str | None = None
    label: str | None = None
    tag: str | None = None
    from_updated_at: datetime | None = None
    to_updated_at: datetime | None = None


def matching_versions(project: Project, filters: PromptFilters):
    rows = Prompt.objects.for_project(project)
    if filters.name is not None:
        rows = rows.named(filters.name)
    if filters.label is not None:
        rows = rows.labelled(filters.label)
    if filters.tag is not None:
        rows = rows.filter(tags__contains=[filters.tag])
    if filters.from_updated_at is not None:
        rows = rows.filter(updated_at__gte=filters.from_updated_at)
    if filters.to_updated_at is not None:
        rows = rows.filter(updated_at__lt=filters.to_updated_at)
    return rows


@dataclass
class PromptSummary:
    """One prompt name with what its (matching) versions say about it."""

    name: str
    type: str
    versions: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    last_updated_at: datetime | None = None
    last_config: Any = None
    usage_7d: int = 0

    @property
    def folder(self) -> str:
        return self.name.rpartition("/")[0]

    @property
    def leaf(self) -> str:
        return self.name.rpartition("/")[2]


def count_names(project: Project, filters: PromptFilters) -> int:
    return matching_versions(project, filters).values("name").distinct().count()


def summaries(
    project: Project, filters: PromptFilters, offset: int = 0, limit: int | None = None
) -> list[PromptSummary]:
    """Names ordered alphabetically, a page of them, each with its matching versions (two queries)."""
    names_qs = (
        matching_versions(project, filters).values("name").annotate(last=Max("updated_at")).order_by("name")
    )
    names = [row["name"] for row in (names_qs[offset : offset + limit] if limit else names_qs)]
    if not names:
        return []
    rows = (
        matching_versions(project, filters)
        .filter(name__in=names)
        .order_by("name", "version")
        .only("name", "version", "type", "labels", "tags", "updated_at", "config")
    )
    found: dict[str, PromptSummary] = {}
    for row in rows:
        summary = found.setdefault(row.name, PromptSummary(name=row.name, type=row.type))
        summary.versions.append(row.version)
        summary.labels.extend(label for label in row.labels if label not in summary.labels)
        summary.tags = list(row.tags)
        summary.last_config = row.config
        if summary.last_updated_at is None or row.updated_at > summary.last_updated_at:
            summary.last_updated_at = row.updated_at
    return [found[name] for name in names if name in found]


def usage_counts(project: Project, names: list[str], days: int = 7) -> dict[str, int]:
    """How many observations linked each prompt name in the last `days` days."""
    if not names:
        return {}
    since = timezone.now() - timedelta(days=days)
    rows = (
        Observation.objects.filter(project=project, prompt_name__in=names, start_time__gte=since)
        .values("prompt_name")
        .annotate(n=Count("id"))
    )
    return {row["prompt_name"]: row["n"] for row in rows}


@dataclass
class VersionMetrics:
    """What the generations linked to one prompt version measured."""

    version: int
    count: int = 0
    median_latency: float | None = None
    p95_latency: float | None = None
    avg_tokens: float | None = None
    avg_cost: float | None = None
    scores: dict[str, float] = field(default_factory=dict)


_METRICS_SQL = """
SELECT prompt_version, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM end_time - start_time)),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM end_time - start_time)),
       avg((usage_details->>'total')::numeric),
       avg(total_cost)
FROM observations
WHERE project_id = %s AND prompt_name = %s AND prompt_version IS NOT NULL
GROUP BY prompt_version
"""

# A score counts for a generation when it is on the generation, or on its trace without an observation.
_SCORES_SQL = """
SELECT o.prompt_version, s.name, avg(s.value)
FROM observations o
JOIN scores s ON s.project_id = o.project_id
  AND (s.observation_id = o.id OR (s.observation_id IS NULL AND s.trace_id = o.trace_id))
WHERE o.project_id = %s AND o.prompt_name = %s AND o.prompt_version IS NOT NULL AND s.value IS NOT NULL
GROUP BY o.prompt_version, s.name
"""


def version_metrics(project: Project, name: str) -> dict[int, VersionMetrics]:
    """Per version: count, median and p95 latency (s), average tokens and cost, score averages (two queries)."""
    found: dict[int, VersionMetrics] = {}
    with connection.cursor() as cursor:
        cursor.execute(_METRICS_SQL, [project.pk, name])
        for version, count, median, p95, tokens, cost in cursor.fetchall():
            found[version] = VersionMetrics(
                version, count, _float(median), _float(p95), _float(tokens), _float(cost)
            )
        cursor.execute(_SCORES_SQL, [project.pk, name])
        for version, score_name, average in cursor.fetchall():
            found.setdefault(version, VersionMetrics(version)).scores[score_name] = float(average)
    return found


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


# The latest generations of a version that a comparison looks at; older ones do not change the verdict much
# and would make the page slow on prompts with millions of uses.
SAMPLE_LIMIT = 20_000


@dataclass
class VersionSamples:
    """Per-generation values of one version: latency (s), cost, and numeric or boolean scores (0/1)."""

    version: int
    generations: int = 0
    latencies: list[float] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    scores: dict[tuple[str, str], list[float]] = field(default_factory=dict)


_LATEST_SQL = """
SELECT id, trace_id, extract(epoch FROM end_time - start_time) AS latency, total_cost
FROM observations
WHERE project_id = %s AND prompt_name = %s AND prompt_version = %s
ORDER BY start_time DESC, id DESC
LIMIT %s
"""

_SAMPLE_SCORES_SQL = f"""
WITH latest AS ({_LATEST_SQL})
SELECT s.name, s.data_type, s.value
FROM latest o
JOIN scores s ON s.project_id = %s
  AND (s.observation_id = o.id OR (s.observation_id IS NULL AND s.trace_id = o.trace_id))
WHERE s.value IS NOT NULL AND s.data_type IN ('NUMERIC', 'BOOLEAN')
"""


def version_samples(project: Project, name: str, version: int, limit: int = SAMPLE_LIMIT) -> VersionSamples:
    """The values of the latest `limit` generations of one version (two queries)."""
    found = VersionSamples(version)
    params = [project.pk, name, version, limit]
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_SQL, params)
        for _id, _trace, latency, cost in cursor.fetchall():
            found.generations += 1
            if latency is not None:
                found.latencies.append(float(latency))
            if cost is not None:
                found.costs.append(float(cost))
        cursor.execute(_SAMPLE_SCORES_SQL, [*params, project.pk])
        for score_name, data_type, value in cursor.fetchall():
            found.scores.setdefault((score_name, data_type), []).append(float(value))
    return found


def version_generations(
    project: Project,
    name: str,
    version: int,
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
) -> Page:
    """A keyset page of the generations that used one version, newest first (one query)."""
    rows = Observation.objects.filter(project=project, prompt_name=name, prompt_version=version).only(
        "id",
        "trace_id",
        "name",
        "type",
        "start_time",
        "end_time",
        "level",
        "provided_model_name",
        "usage_details",
        "total_cost",
    )
    return keyset_page(
        rows,
        key="start_time",
        parse=parse_datetime_value,
        descending=True,
        after=after,
        before=before,
        size=size,
    )
