"""Organisation cost view: per project and per team across the organisation's projects, hand-counted.

trace  project     team     cost   tokens  when
p1     production  search   1.25   100     Jan 10 (in the window)
p2     production  billing  0.5    40      Jan 11
p3     production  -        0.25   10      Jan 12
s1     staging     search   2.0    300     Jan 11
old    staging     search   7.0    1       Jan 5  (before the window)
x1     elsewhere (another organisation)  9.0
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.factories import make_project
from tests.traces.list_data import make_trace
from traces.budgets.organization import NO_TEAM, by_project, by_team
from traces.dashboards import rollups
from traces.dashboards.period import Period
from traces.models import Trace

WINDOW = "range=custom&since=2026-01-10T00:00:00&until=2026-01-13T00:00:00"
PERIOD = Period.spanning(datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 13, tzinfo=UTC))


def day(n: int) -> datetime:
    return datetime(2026, 1, n, 12, tzinfo=UTC)


@pytest.fixture
def data(team):
    staging = make_project(team.org, "staging")
    prod = team.project
    make_trace(
        prod, "p1", timestamp=day(10), total_cost="1.25", total_tokens=100, metadata={"team": "search"}
    )
    make_trace(prod, "p2", timestamp=day(11), total_cost="0.5", total_tokens=40, metadata={"team": "billing"})
    make_trace(prod, "p3", timestamp=day(12), total_cost="0.25", total_tokens=10)
    make_trace(
        staging, "s1", timestamp=day(11), total_cost="2", total_tokens=300, metadata={"team": "search"}
    )
    make_trace(staging, "old", timestamp=day(5), total_cost="7", total_tokens=1, metadata={"team": "search"})
    make_trace(team.other_project, "x1", timestamp=day(11), total_cost="9", total_tokens=5)
    return staging


def test_cost_per_project_sums_the_window_of_this_organisation_only(team, data):
    rows = [(row.label, row.cost, row.tokens, row.traces) for row in by_project(team.org, PERIOD)]
    # equal costs: ordered by name
    assert rows == [("production", Decimal("2"), 150, 3), ("staging", Decimal("2"), 300, 1)]


def test_cost_per_team_spans_projects_and_keeps_traces_without_a_team(team, data):
    rows = [(row.label, row.cost, row.tokens, row.traces) for row in by_team(team.org, PERIOD, "team")]
    assert rows == [
        ("search", Decimal("3.25"), 400, 2),
        ("billing", Decimal("0.5"), 40, 1),
        (NO_TEAM, Decimal("0.25"), 10, 1),
    ]


@pytest.mark.parametrize("team_key", ["team", "team.name"])
@pytest.mark.parametrize(
    "period",
    [
        PERIOD,
        Period.spanning(
            datetime(2026, 1, 10, 11, 59, tzinfo=UTC), datetime(2026, 1, 12, 12, 0, 1, tzinfo=UTC)
        ),
        Period.spanning(datetime(2026, 1, 11, 11, 30, tzinfo=UTC), datetime(2026, 1, 11, 12, 30, tzinfo=UTC)),
    ],
)
def test_the_sums_are_the_same_before_and_after_the_rollups_are_refreshed(team, data, period, team_key):
    """Per project the view reads the dashboard rollups (default team key) and the raw traces of
    partial and marked hours: refreshing the rollups, or changing a trace after, changes nothing."""

    make_trace(
        data, "s2", timestamp=day(11).replace(minute=40), total_cost="0.125", metadata={"team": {"name": "x"}}
    )

    def tables():
        return (
            [(r.label, r.cost, r.tokens, r.traces) for r in by_project(team.org, period)],
            [(r.label, r.cost, r.tokens, r.traces) for r in by_team(team.org, period, team_key)],
        )

    before = tables()
    rollups.refresh(settled_only=False)
    assert tables() == before
    assert sum(row[1] for row in before[0]) == sum(row[1] for row in before[1])
    Trace.objects.filter(id="p2").update(total_cost=Decimal("3"))
    after = tables()
    if period is PERIOD:
        assert ("production", Decimal("4.5"), 150, 3) in after[0]
    rollups.refresh(settled_only=False)
    assert tables() == after


def test_an_empty_project_is_listed_with_zeros(team, data):
    make_project(team.org, "quiet")
    rows = {row.label: row for row in by_project(team.org, PERIOD)}
    assert rows["quiet"].cost == 0 and rows["quiet"].traces == 0


def test_page_shows_both_tables_and_one_bar_chart(client, team, data):
    client.force_login(team.admin)
    response = client.get(f"/organization/{team.org.id}/dashboards?{WINDOW}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-table="projects"' in html and 'data-table="teams"' in html
    figures = re.findall(
        r'<script id="(chart-[a-z]+-data)" type="application/json">(.*?)</script>', html, re.S
    )
    assert [name for name, _ in figures] == ["chart-projects-data"]
    (bars,) = json.loads(figures[0][1])["data"]
    assert sorted(zip(bars["y"], bars["x"], strict=True)) == [("production", 2.0), ("staging", 2.0)]
    assert "$3.250000" in html  # search across both projects


def test_csv_of_teams_has_exact_values_and_a_total_row(client, team, data):
    client.force_login(team.owner)
    response = client.get(f"/organization/{team.org.id}/dashboards/teams.csv?{WINDOW}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Team", "Cost (USD)", "Tokens", "Traces"],
        ["search", "3.25", "400", "2"],
        ["billing", "0.5", "40", "1"],
        [NO_TEAM, "0.25", "10", "1"],
        ["Total", "4", "450", "4"],
    ]


def test_team_key_can_be_a_nested_metadata_key(client, team):
    make_trace(team.project, "n1", timestamp=day(10), total_cost="1", metadata={"org": {"unit": "r&d"}})
    client.force_login(team.admin)
    response = client.get(f"/organization/{team.org.id}/dashboards/teams.csv?{WINDOW}&team_key=org.unit")
    assert list(csv.reader(io.StringIO(response.content.decode())))[1] == ["r&d", "1", "0", "1"]


@pytest.mark.parametrize("who, status", [("member", 403), ("viewer", 403), ("outsider", 404), ("admin", 200)])
def test_only_owners_and_admins_see_the_organisation_view(client, team, who, status):
    client.force_login(getattr(team, who))
    assert client.get(f"/organization/{team.org.id}/dashboards").status_code == status
    assert client.get(f"/organization/{team.org.id}/dashboards/projects.csv").status_code == status


def test_unknown_table_is_404(client, team):
    client.force_login(team.owner)
    assert client.get(f"/organization/{team.org.id}/dashboards/nope.csv").status_code == 404
