"""Organisation cost view (owners and admins) and the project's budgets settings page (admins)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.access import organization_view, project_view
from accounts.models import Role
from accounts.settings_pages import project_links
from langfuse_ui.htmx import render_page
from traces.budgets.forecast import statuses
from traces.budgets.models import Budget
from traces.budgets.organization import project_chart, team_chart
from traces.dashboard_views import plotly_version
from traces.dashboards.period import DashboardForm, dashboard_query, period_of

BUDGET_ROLE = Role.ADMIN


def _org_scope(request: HttpRequest):
    form = DashboardForm(request.GET)
    state = form.state()
    period = period_of(state, timezone.now())
    charts = {
        "projects": lambda: project_chart(request.organization, period),
        "teams": lambda: team_chart(request.organization, period, state["team_key"]),
    }
    return form, state, period, charts


@require_safe
@organization_view(Role.ADMIN)
def organization_dashboard(request: HttpRequest) -> HttpResponse:
    form, state, period, charts = _org_scope(request)
    base = f"/organization/{request.organization.pk}/dashboards"
    query = dashboard_query(state)
    suffix = f"?{query}" if query else ""
    context = {
        "form": form,
        "state": state,
        "period": period,
        "base": base,
        "charts": [(build(), f"{base}/{key}.csv{suffix}") for key, build in charts.items()],
        "plotly_src": f"/assets/plotly-{plotly_version()}.min.js",
    }
    return render_page(request, "budgets/organization.html", context)


@require_safe
@organization_view(Role.ADMIN)
def organization_csv(request: HttpRequest, key: str) -> HttpResponse:
    _, _, period, charts = _org_scope(request)
    if key not in charts:
        raise Http404("No such table")
    name = f"{key}_{period.start:%Y%m%dT%H%M}_{period.end:%Y%m%dT%H%M}.csv"
    response = HttpResponse(charts[key]().csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class BudgetForm(forms.Form):
    team = forms.CharField(
        required=False,
        max_length=200,
        label="Team",
        help_text="A value of the trace metadata key “team”; empty for the whole project.",
    )
    monthly_usd = forms.DecimalField(
        min_value=Decimal("0.01"), max_digits=14, decimal_places=2, label="Monthly budget (USD)"
    )


def _context(request: HttpRequest, form: BudgetForm | None = None) -> dict:
    return {
        "settings_links": project_links(request),
        "form": form or BudgetForm(),
        "statuses": statuses(request.project.pk, timezone.now()),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@project_view(BUDGET_ROLE)
def budget_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render_page(request, "budgets/settings.html", _context(request))
    form = BudgetForm(request.POST)
    if not form.is_valid():
        response = render_page(request, "budgets/settings.html", _context(request, form))
        response.status_code = 400
        return response
    team = form.cleaned_data["team"].strip()
    Budget.objects.update_or_create(
        project=request.project,
        team=team,
        defaults={"monthly_usd": form.cleaned_data["monthly_usd"], "created_by": request.user},
    )
    messages.success(request, f"Budget for {team or 'the whole project'} saved.")
    return redirect("budgets:settings", project_id=request.project.pk)


@require_POST
@project_view(BUDGET_ROLE)
def budget_delete(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = get_object_or_404(Budget, pk=budget_id, project=request.project)
    budget.delete()
    messages.success(request, "Budget removed.")
    return redirect("budgets:settings", project_id=request.project.pk)
