"""The organisation cost view: cost, tokens and traces per project and per team over a window,
from the denormalised trace columns (total_cost, total_tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.expressions import RawSQL

from accounts.models import Organization
from traces.dashboards.charts import Cell, Chart, bar_figure, count, money
from traces.dashboards.period import Period
from traces.models import Trace

NO_TEAM = "(no team)"


@dataclass(frozen=True)
class Row:
    label: str
    cost: Decimal
    tokens: int
    traces: int


def _traces(organization: Organization, period: Period):
    return Trace.objects.filter(
        project__organization=organization, timestamp__gte=period.start, timestamp__lt=period.end
    )


def _sums(queryset, group: str) -> list[tuple]:
    return list(
        queryset.values(group)
        .annotate(cost=Sum("total_cost"), tokens=Sum("total_tokens"), traces=Count("id"))
        .values_list(group, "cost", "tokens", "traces")
    )


def by_project(organization: Organization, period: Period) -> list[Row]:
    """Every project of the organisation (those without traces too), most expensive first."""
    sums = {key: row for key, *row in _sums(_traces(organization, period), "project_id")}
    rows = []
    for project in organization.projects.all():
        cost, tokens, traces = sums.get(project.id, (Decimal(0), 0, 0))
        rows.append(Row(project.name, Decimal(cost), int(tokens), traces))
    return sorted(rows, key=lambda row: (-row.cost, row.label))


def by_team(organization: Organization, period: Period, team_key: str) -> list[Row]:
    keys = [key for key in team_key.split(".") if key]
    queryset = _traces(organization, period).annotate(team=RawSQL('"traces"."metadata" #>> %s', (keys,)))
    rows = [
        Row(team if team is not None else NO_TEAM, Decimal(cost), int(tokens), traces)
        for team, cost, tokens, traces in _sums(queryset, "team")
    ]
    return sorted(rows, key=lambda row: (-row.cost, row.label))


def _chart(key: str, title: str, description: str, label: str, rows: list[Row], figure: bool) -> Chart:
    table = [
        [
            Cell(row.label, row.label),
            money(row.cost),
            Cell(count(row.tokens), row.tokens, numeric=True),
            Cell(count(row.traces), row.traces, numeric=True),
        ]
        for row in rows
    ]
    footer = []
    if rows:
        cost = sum((row.cost for row in rows), Decimal(0))
        tokens = sum(row.tokens for row in rows)
        traces = sum(row.traces for row in rows)
        footer = [
            Cell("Total", "Total"),
            money(cost),
            Cell(count(tokens), tokens, numeric=True),
            Cell(count(traces), traces, numeric=True),
        ]
    spec = None
    if figure and rows:
        spec = bar_figure([row.label for row in rows], [row.cost for row in rows], [None] * len(rows), "usd")
    return Chart(key, title, description, [label, "Cost (USD)", "Tokens", "Traces"], table, spec, footer)


def project_chart(organization: Organization, period: Period) -> Chart:
    return _chart(
        "projects",
        "Cost by project",
        "Cost, tokens and traces of each project.",
        "Project",
        by_project(organization, period),
        figure=True,
    )


def team_chart(organization: Organization, period: Period, team_key: str) -> Chart:
    return _chart(
        "teams",
        "Cost by team",
        f"Across all projects, by the trace metadata key “{team_key}”.",
        "Team",
        by_team(organization, period, team_key),
        figure=False,
    )
