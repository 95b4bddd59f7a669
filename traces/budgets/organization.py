"""The organisation cost view: cost, tokens and traces per project and per team over a window,
from the denormalised trace columns (total_cost, total_tokens). Each project is read like its
dashboard: the hourly rollups for the unmarked whole hours (teams: the default key only) and the raw
traces of the rest, so the sums equal a GROUP BY over the raw rows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.expressions import RawSQL

from accounts.models import Organization
from traces.dashboards import rollups
from traces.dashboards.base import Scope, team_path
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


def _scope(project_id: str, period: Period, team_key: str) -> Scope:
    return Scope(project_id, period, {"team_key": team_key}, team_key, period.end)


def by_project(organization: Organization, period: Period) -> list[Row]:
    """Every project of the organisation (those without traces too), most expensive first."""
    rows = []
    for project in organization.projects.all():
        scope = _scope(project.id, period, "team")
        if span := rollups.span_of(scope):
            traces, cost, tokens, _ = rollups.totals(scope, span)
        else:  # a window without a whole hour
            sums = _sums(_traces(organization, period).filter(project=project), "project_id")
            _, cost, tokens, traces = sums[0] if sums else (project.id, Decimal(0), 0, 0)
        rows.append(Row(project.name, Decimal(cost), int(tokens or 0), int(traces)))
    return sorted(rows, key=lambda row: (-row.cost, row.label))


def by_team(organization: Organization, period: Period, team_key: str) -> list[Row]:
    """Teams across the organisation's projects (traces without the key as one row)."""
    found: list[tuple] = []
    for project in organization.projects.all():
        scope = _scope(project.id, period, team_key)
        span = rollups.span_of(scope) if rollups.team_rolled_up(scope) else None
        if span:
            groups, params = rollups.grouped_traces(scope, span, "team", "", "dashboard_team_hours")
            found += rollups.with_edges(
                scope, span, f"SELECT key, cost, tokens, traces FROM ({groups}) AS g", params, team=True
            )
        else:
            queryset = _traces(organization, period).filter(project=project)
            queryset = queryset.annotate(team=RawSQL('"traces"."metadata" #>> %s', (team_path(team_key),)))
            found += _sums(queryset, "team")
    totals: dict[str | None, list] = {}
    for team, cost, tokens, traces in found:
        total = totals.setdefault(team, [Decimal(0), 0, 0])
        total[0] += Decimal(cost)
        total[1] += int(tokens or 0)
        total[2] += int(traces)
    rows = [
        Row(team if team is not None else NO_TEAM, cost, tokens, traces)
        for team, (cost, tokens, traces) in totals.items()
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
