"""The project dashboard: the page, one partial and one CSV per chart, and plotly.js itself."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import plotly
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from plotly.offline import get_plotlyjs_version

from accounts.access import project_view
from langfuse_ui.htmx import render_page
from traces.budgets.forecast import statuses as budget_statuses
from traces.dashboards.base import Scope
from traces.dashboards.catalogue import CHARTS
from traces.dashboards.period import DashboardForm, dashboard_query, period_of
from traces.dashboards.rollups import snapshot
from traces.dashboards.totals import changes

TEMPLATE = "dashboards/project.html"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def scope_of(request: HttpRequest) -> tuple[DashboardForm, dict, Scope]:
    form = DashboardForm(request.GET)
    state = form.state()
    now = timezone.now()
    scope = Scope(request.project.id, period_of(state, now), state, state["team_key"], now)
    return form, state, scope


def chart_links(request: HttpRequest, state: dict) -> dict:
    query = dashboard_query(state)
    base = f"/project/{request.project.id}/dashboards"
    suffix = f"?{query}" if query else ""
    return {
        "base": base,
        "self": base + suffix,
        "charts": {key: f"{base}/charts/{key}{suffix}" for key in CHARTS},
        "csv": {key: f"{base}/charts/{key}.csv{suffix}" for key in CHARTS},
        "traces": f"/project/{request.project.id}/traces",
    }


@require_safe
@project_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    form, state, scope = scope_of(request)
    links = chart_links(request, state)
    with snapshot():
        totals = changes(scope)
        charts = [(build(scope), links["csv"][key]) for key, build in CHARTS.items()]
    context = {
        "form": form,
        "state": state,
        "period": scope.period,
        "totals": totals,
        "totals_link": scope.link(),
        "charts": charts,
        "links": links,
        "plotly_src": f"/assets/plotly-{plotly_version()}.min.js",
        "budget_statuses": budget_statuses(request.project.id, scope.now),
    }
    response = render_page(request, TEMPLATE, context)
    if request.htmx:
        response["HX-Push-Url"] = links["self"]
    return response


@require_safe
@project_view()
def chart(request: HttpRequest, key: str) -> HttpResponse:
    if key not in CHARTS:
        raise Http404("No such chart")
    _, state, scope = scope_of(request)
    links = chart_links(request, state)
    with snapshot():
        built = CHARTS[key](scope)
    response = render(request, "dashboards/_chart.html", {"chart": built, "csv": links["csv"][key]})
    response["Vary"] = "HX-Request"
    return response


@require_safe
@project_view()
def chart_csv(request: HttpRequest, key: str) -> HttpResponse:
    if key not in CHARTS:
        raise Http404("No such chart")
    _, _, scope = scope_of(request)
    period = scope.period
    name = f"{key}_{period.start:%Y%m%dT%H%M}_{period.end:%Y%m%dT%H%M}.csv"
    with snapshot():
        built = CHARTS[key](scope)
    response = HttpResponse(built.csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@cache
def plotly_version() -> str:
    return get_plotlyjs_version()


@require_safe
def plotly_js(request: HttpRequest, version: str) -> FileResponse:
    """plotly.min.js from the installed plotly package: no CDN, no copy in the repository.
    The version is in the address, so browsers may keep it for a year."""
    if version != plotly_version():
        raise Http404("Another plotly.js version")
    response = FileResponse(PLOTLY_JS.open("rb"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
