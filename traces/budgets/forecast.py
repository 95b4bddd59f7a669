"""Month-to-date spend against a monthly budget, and a linear forecast to the end of the month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from traces.budgets.models import TEAM_KEY, Budget
from traces.dashboards import rollups
from traces.dashboards.base import Scope
from traces.dashboards.period import Period


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """[first instant of now's UTC month, first instant of the next month)."""
    now = now.astimezone(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def forecast(spent: Decimal, now: datetime) -> Decimal:
    """Spend so far divided by the elapsed fraction of the month."""
    start, end = month_bounds(now)
    elapsed = (now.astimezone(UTC) - start) / (end - start)
    if elapsed <= 0:
        return spent
    return spent / Decimal(str(elapsed))


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    spent: Decimal
    forecast: Decimal

    @property
    def over(self) -> bool:
        return self.forecast > self.budget.monthly_usd

    @property
    def excess(self) -> Decimal:
        return self.forecast - self.budget.monthly_usd

    @property
    def share(self) -> float:
        """Forecast as a fraction of the budget."""
        return float(self.forecast / self.budget.monthly_usd) if self.budget.monthly_usd else 0.0


def month_spend(project_id: str, team: str, now: datetime) -> Decimal:
    """Cost of the project's traces (of one team: metadata `team` as text, as the dashboard's team
    breakdown reads it) from the start of now's month up to and including now, read like the
    dashboard: the rollups' unmarked whole hours and the raw traces of the rest."""
    start, _ = month_bounds(now)
    period = Period.spanning(start, now + timedelta(microseconds=1))
    scope = Scope(project_id, period, {"team_key": TEAM_KEY}, TEAM_KEY, now)
    span = rollups.span_of(scope)
    if span is None:  # less than an hour into the month: the raw rows only
        span = rollups.Span(period.end, period.end, [])
    rollup, params = rollups.where(span, project_id)
    table = "dashboard_team_hours r WHERE r.team = %s AND" if team else "dashboard_trace_hours r WHERE"
    raw_where = "WHERE team = %s" if team else ""
    team_params = [team] if team else []
    [(spent,)] = rollups.with_edges(
        scope,
        span,
        f"""SELECT coalesce(sum(cost), 0)
            FROM (SELECT r.cost FROM {table} {rollup}
                  UNION ALL
                  SELECT total_cost FROM t {raw_where}) AS x""",
        [*team_params, *params, *team_params],
        team=True,
    )
    return Decimal(spent)


def statuses(project_id: str, now: datetime) -> list[BudgetStatus]:
    found = []
    for budget in Budget.objects.filter(project_id=project_id):
        spent = month_spend(project_id, budget.team, now)
        found.append(BudgetStatus(budget, spent, forecast(spent, now)))
    return found
