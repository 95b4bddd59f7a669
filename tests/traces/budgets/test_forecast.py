"""Budgets: month bounds, the linear forecast (fixed "now") and month-to-date spend per budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.factories import make_project
from tests.traces.list_data import make_trace
from traces.budgets.forecast import forecast, month_bounds, month_spend, statuses
from traces.budgets.models import Budget
from traces.models import Trace


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


def raw_spend(project, team: str, now: datetime) -> Decimal:
    start, _ = month_bounds(now)
    traces = Trace.objects.filter(project=project, timestamp__gte=start, timestamp__lte=now)
    rows = traces.values_list("total_cost", "metadata")
    return sum((cost for cost, metadata in rows if not team or metadata.get("team") == team), Decimal(0))


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 16, 14, 37, 12, tzinfo=UTC),
        datetime(2026, 11, 16, 14, 0, tzinfo=UTC),  # on the hour: a trace at exactly now counts
        datetime(2026, 11, 1, 0, 20, tzinfo=UTC),  # less than an hour into the month
    ],
)
def test_month_spend_from_the_rollups_equals_the_raw_sum(team, now):
    """Spend reads the dashboard rollups (whole unmarked hours) and the raw traces of the rest; it
    equals the raw sum whether the hours are marked, refreshed, or changed after a refresh."""
    from traces.dashboards import rollups

    project = team.project
    month = datetime(2026, 11, 1, tzinfo=UTC)
    moments = [
        month,
        month + timedelta(minutes=10),
        now,
        now - timedelta(minutes=1),
        now + timedelta(seconds=1),
    ]
    moments += [month + timedelta(hours=h, minutes=h % 60) for h in range(0, 24 * 16, 7)]
    for i, moment in enumerate(moments):
        make_trace(
            project,
            f"t{i}",
            timestamp=moment,
            total_cost=Decimal(i % 7) + Decimal("0.25"),
            metadata={"team": ["search", "billing"][i % 2]} if i % 3 else {},
        )
    make_trace(project, "before", timestamp=month - timedelta(seconds=1), total_cost="100")
    for refreshed in (False, True):
        if refreshed:
            rollups.refresh(settled_only=False)
        for who in ("", "search", "billing", "nobody"):
            assert month_spend(project.id, who, now) == raw_spend(project, who, now), (who, refreshed)
    Trace.objects.filter(project=project, id="t2").update(total_cost=Decimal("40"))  # marks its hour again
    assert month_spend(project.id, "", now) == raw_spend(project, "", now)
