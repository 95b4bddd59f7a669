"""Month-to-date spend against a monthly budget, and a linear forecast to the end of the month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Sum

from traces.budgets.models import TEAM_KEY, Budget
from traces.models import Trace


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
    start, _ = month_bounds(now)
    traces = Trace.objects.filter(project_id=project_id, timestamp__gte=start, timestamp__lte=now)
    if team:
        traces = traces.filter(**{f"metadata__{TEAM_KEY}": team})
    return traces.aggregate(total=Sum("total_cost"))["total"] or Decimal(0)


def statuses(project_id: str, now: datetime) -> list[BudgetStatus]:
    found = []
    for budget in Budget.objects.filter(project_id=project_id):
        spent = month_spend(project_id, budget.team, now)
        found.append(BudgetStatus(budget, spent, forecast(spent, now)))
    return found
