"""Budgets: month bounds, the linear forecast (fixed "now") and month-to-date spend per budget."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.factories import make_project
from tests.traces.list_data import make_trace
from traces.budgets.forecast import forecast, month_bounds, statuses
from traces.budgets.models import Budget


def test_month_bounds_roll_over_into_the_next_year():
    start, end = month_bounds(datetime(2026, 12, 15, 8, tzinfo=UTC))
    assert start == datetime(2026, 12, 1, tzinfo=UTC)
    assert end == datetime(2027, 1, 1, tzinfo=UTC)


def test_forecast_divides_spend_by_the_elapsed_fraction_of_the_month():
    # November has 30 days: at the 16th 00:00, 15 days = half the month have passed
    assert forecast(Decimal("10"), datetime(2026, 11, 16, tzinfo=UTC)) == Decimal("20")
    # February 2026 has 28 days: at the 8th 00:00, 7/28 = a quarter has passed
    assert forecast(Decimal("3"), datetime(2026, 2, 8, tzinfo=UTC)) == Decimal("12")


def test_forecast_at_the_first_instant_of_the_month_is_the_spend_itself():
    assert forecast(Decimal("0"), datetime(2026, 3, 1, tzinfo=UTC)) == Decimal("0")


NOW = datetime(2026, 11, 16, tzinfo=UTC)


def test_statuses_count_this_month_up_to_now_per_project_and_team(team):
    project = team.project
    make_trace(
        project,
        "a",
        timestamp=datetime(2026, 11, 2, tzinfo=UTC),
        total_cost="1.5",
        metadata={"team": "search"},
    )
    make_trace(
        project,
        "b",
        timestamp=datetime(2026, 11, 10, tzinfo=UTC),
        total_cost="2.5",
        metadata={"team": "billing"},
    )
    make_trace(project, "c", timestamp=datetime(2026, 11, 15, tzinfo=UTC), total_cost="1", metadata={})
    make_trace(project, "last-month", timestamp=datetime(2026, 10, 31, 23, tzinfo=UTC), total_cost="100")
    make_trace(project, "future", timestamp=datetime(2026, 11, 20, tzinfo=UTC), total_cost="100")
    make_trace(
        make_project(team.org, "other"),
        "elsewhere",
        timestamp=datetime(2026, 11, 3, tzinfo=UTC),
        total_cost="50",
    )
    Budget.objects.create(project=project, team="", monthly_usd=Decimal("12"))
    Budget.objects.create(project=project, team="search", monthly_usd=Decimal("2"))

    found = {status.budget.team: status for status in statuses(project.id, NOW)}

    whole = found[""]
    assert whole.spent == Decimal("5")  # 1.5 + 2.5 + 1
    assert whole.forecast == Decimal("10")  # half the month gone
    assert not whole.over
    search = found["search"]
    assert search.spent == Decimal("1.5")
    assert search.forecast == Decimal("3")
    assert search.over
    assert search.excess == Decimal("1")


@pytest.mark.parametrize("amount, over", [("9.99", True), ("10", False)])
def test_a_forecast_equal_to_the_budget_is_not_over_it(team, amount, over):
    make_trace(team.project, "a", timestamp=datetime(2026, 11, 5, tzinfo=UTC), total_cost="5")
    Budget.objects.create(project=team.project, monthly_usd=Decimal(amount))
    (status,) = statuses(team.project.id, NOW)
    assert status.over is over
