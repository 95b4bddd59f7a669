"""Storage figures for operators: what each project keeps (rows, media, oldest data) and, for the
server's superusers, the database and table sizes.

Per-project figures are exact counts over the project-leading indexes; table figures come from
PostgreSQL's catalogue (sizes on disk, planner row estimates), so the page stays cheap on large
tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Count, Min, Sum

from accounts.models import Organization, Project
from traces.models import Media, Observation, Score, Trace

TABLES_SHOWN = 15


@dataclass
class ProjectFigures:
    project: Project
    traces: int = 0
    observations: int = 0
    scores: int = 0
    media_objects: int = 0
    media_bytes: int = 0
    oldest_trace: datetime | None = None


@dataclass
class TableSize:
    name: str
    total_bytes: int
    rows_estimate: int


def project_figures(organization: Organization) -> list[ProjectFigures]:
    """One row per project of the organisation, in name order, with a handful of grouped queries."""
    projects = list(Project.objects.filter(organization=organization).order_by("name"))
    figures = {project.pk: ProjectFigures(project) for project in projects}
    ids = list(figures)
    for row in (
        Trace.objects.filter(project_id__in=ids)
        .values("project_id")
        .annotate(n=Count("id"), oldest=Min("timestamp"))
        .order_by()
    ):
        figures[row["project_id"]].traces = row["n"]
        figures[row["project_id"]].oldest_trace = row["oldest"]
    for model, attribute in [(Observation, "observations"), (Score, "scores")]:
        for row in (
            model.objects.filter(project_id__in=ids).values("project_id").annotate(n=Count("id")).order_by()
        ):
            setattr(figures[row["project_id"]], attribute, row["n"])
    for row in (
        Media.objects.filter(project_id__in=ids)
        .values("project_id")
        .annotate(n=Count("id"), size=Sum("content_length"))
        .order_by()
    ):
        figures[row["project_id"]].media_objects = row["n"]
        figures[row["project_id"]].media_bytes = row["size"] or 0
    return list(figures.values())


def database_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def table_sizes(limit: int = TABLES_SHOWN) -> list[TableSize]:
    """The largest tables of the current schema, indexes and TOAST included."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_total_relation_size(c.oid), GREATEST(c.reltuples, 0)::bigint
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
            ORDER BY 2 DESC, 1
            LIMIT %s
            """,
            [limit],
        )
        return [TableSize(name, size, rows) for name, size, rows in cursor.fetchall()]
