"""Budgets settings page (admins) and the budget status at the top of the project dashboard."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.traces.list_data import make_trace
from traces.budgets.models import Budget


def settings_url(team) -> str:
    return f"/project/{team.project.id}/settings/budgets"


def test_admin_sets_a_budget_and_setting_it_again_replaces_the_amount(client, team):
    client.force_login(team.admin)
    assert client.post(settings_url(team), {"team": "search", "monthly_usd": "100"}).status_code == 302
    assert client.post(settings_url(team), {"team": " search ", "monthly_usd": "250.50"}).status_code == 302
    (budget,) = Budget.objects.filter(project=team.project)
    assert (budget.team, budget.monthly_usd, budget.created_by) == ("search", Decimal("250.50"), team.admin)
    page = client.get(settings_url(team)).content.decode()
    assert "team search" in page and "$250.50" in page


def test_a_budget_must_be_positive(client, team):
    client.force_login(team.admin)
    response = client.post(settings_url(team), {"team": "", "monthly_usd": "0"})
    assert response.status_code == 400
    assert not Budget.objects.exists()


def test_admin_removes_a_budget_of_this_project_only(client, team):
    mine = Budget.objects.create(project=team.project, monthly_usd=1)
    theirs = Budget.objects.create(project=team.other_project, monthly_usd=1)
    client.force_login(team.admin)
    assert client.post(f"/project/{team.project.id}/settings/budgets/{theirs.pk}/delete").status_code == 404
    assert client.post(f"/project/{team.project.id}/settings/budgets/{mine.pk}/delete").status_code == 302
    assert list(Budget.objects.values_list("pk", flat=True)) == [theirs.pk]


@pytest.mark.parametrize("who, status", [("member", 403), ("viewer", 403), ("outsider", 404)])
def test_below_admin_cannot_manage_budgets(client, team, who, status):
    client.force_login(getattr(team, who))
    assert client.get(settings_url(team)).status_code == status
    assert client.post(settings_url(team), {"monthly_usd": "5"}).status_code == status
    assert not Budget.objects.exists()


def test_settings_navigation_links_budgets_for_admins(client, team):
    client.force_login(team.admin)
    page = client.get(f"/project/{team.project.id}/settings/retention").content.decode()
    assert settings_url(team) in page


def test_dashboard_warns_when_the_forecast_passes_a_budget(client, team):
    # spend this month of 5; any forecast is at least the spend, so a budget of 1 is passed
    make_trace(team.project, "now", timestamp=timezone.now(), total_cost="5", metadata={"team": "search"})
    Budget.objects.create(project=team.project, team="search", monthly_usd=Decimal("1"))
    Budget.objects.create(project=team.project, team="billing", monthly_usd=Decimal("1000"))
    client.force_login(team.viewer)
    html = client.get(f"/project/{team.project.id}/dashboards").content.decode()
    assert 'data-budget="search"' in html and 'data-budget="billing"' in html
    assert "$5.00 of $1.00" in html
    assert html.count('class="budget-warning"') == 1
    assert "Forecast exceeds the budget" in html


def test_dashboard_without_budgets_shows_no_budget_section(client, team):
    client.force_login(team.viewer)
    assert 'id="budgets"' not in client.get(f"/project/{team.project.id}/dashboards").content.decode()
