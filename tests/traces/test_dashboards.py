"""Project dashboard: numbers checked against hand-computed values (tests/traces/dashboard_data.py),
partials, CSV, click-through links and roles."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.http import QueryDict

from tests.traces.dashboard_data import WINDOW, at, make_dashboard_data
from tests.traces.list_data import row_ids
from traces.dashboards import breakdowns, scores, series
from traces.dashboards.base import Scope
from traces.dashboards.period import DashboardForm, Period, period_of
from traces.dashboards.totals import changes, totals

NOW = datetime(2026, 1, 31, tzinfo=UTC)


def scope_for(project, query: str = WINDOW) -> Scope:
    state = DashboardForm(QueryDict(query)).state()
    return Scope(project.id, period_of(state, NOW), state, state["team_key"], NOW)


@pytest.fixture
def data(team):
    return make_dashboard_data(team.project)


def url(team, suffix: str = "", query: str = WINDOW) -> str:
    return f"/project/{team.project.id}/dashboards{suffix}?{query}"


# --- Numbers ---------------------------------------------------------------------------------


def test_totals_count_the_window_without_deleted_traces_and_with_updated_costs(team, data):
    found = totals(scope_for(team.project))
    assert found.traces == 4
    assert found.cost == Decimal("2.375")  # 0.5 + 0.75 (updated from 0.25) + 1.0 + 0.125; not the deleted 9.0
    assert found.tokens == 170 + 55 + 300 + 15
    assert found.errors == 1
    assert found.error_rate == 0.25
    assert found.p95_latency == pytest.approx(5.7)  # latencies 1, 3, 4, 6 s: 4 + 0.85 * (6 - 4)


def test_totals_compare_with_the_window_before(team, data):
    by_key = {change.key: change for change in changes(scope_for(team.project))}
    assert by_key["cost"].previous == Decimal("2.0")
    assert by_key["cost"].ratio == pytest.approx(2.375 / 2.0 - 1)
    assert by_key["cost"].direction == "worse"
    assert by_key["traces"].previous == 1
    assert by_key["error_rate"].previous == 0.0
    assert by_key["error_rate"].ratio is None


def test_cost_over_time_is_stacked_by_model_per_day(team, data):
    found = series.cost_by_model(scope_for(team.project))
    assert found.buckets == [at(10, 0), at(11, 0), at(12, 0)]
    lines = {line.name: line.values for line in found.lines}
    assert lines == {
        "gpt-4o": [Decimal("0.5"), Decimal("1.0"), Decimal("0.125")],
        "claude": [Decimal("0.75"), Decimal(0), Decimal(0)],
    }
    assert [line.name for line in found.lines] == ["gpt-4o", "claude"]  # largest total first


def test_tokens_over_time_split_by_usage_type(team, data):
    found = series.tokens_by_usage_type(scope_for(team.project))
    lines = {line.name: line.values for line in found.lines}
    assert lines == {
        "input": [140, 200, 10],
        "input_cached_tokens": [20, 0, 0],
        "output": [60, 100, 5],
        "output_reasoning_tokens": [5, 0, 0],
    }
    assert [line.name for line in found.lines] == [
        "input",
        "input_cached_tokens",
        "output",
        "output_reasoning_tokens",
    ]


def test_latency_percentiles_per_day_interpolate_like_percentile_cont(team, data):
    found = series.latency_percentiles(scope_for(team.project))
    lines = {line.name: line.values for line in found.lines}
    assert lines["p50"] == pytest.approx([3.5, 6.0, 1.0])
    assert lines["p95"] == pytest.approx([3.95, 6.0, 1.0])
    assert lines["p99"] == pytest.approx([3.99, 6.0, 1.0])


def test_volume_and_error_rate_per_day(team, data):
    found = series.trace_volume(scope_for(team.project))
    assert found.traces == [2, 1, 1]
    assert found.errors == [1, 0, 0]
    assert found.error_rates == [0.5, 0.0, 0.0]


def test_cost_by_team_uses_the_chosen_metadata_key(team, data):
    groups = breakdowns.cost_by(scope_for(team.project), "team")
    assert [(g.key, g.cost, g.traces, g.other) for g in groups] == [
        ("search", Decimal("1.25"), 2, False),
        ("billing", Decimal("1.0"), 1, False),
        (None, Decimal("0.125"), 1, False),
    ]
    other_key = breakdowns.cost_by(scope_for(team.project, WINDOW + "&team_key=missing"), "team")
    assert [(g.key, g.cost) for g in other_key] == [(None, Decimal("2.375"))]


def test_cost_by_user_lists_the_top_then_adds_up_the_rest(team, data):
    groups = breakdowns.cost_by(scope_for(team.project), "user", top=1)
    assert [(g.key, g.cost, g.traces, g.other) for g in groups] == [
        ("alice", Decimal("1.5"), 2, False),
        (None, Decimal("0.875"), 2, True),  # bob 0.75 + no user 0.125
    ]
    assert sum(g.cost for g in groups) == Decimal("2.375")


def test_cost_by_name_environment_release_and_sessions(team, data):
    scope = scope_for(team.project)
    assert [(g.key, g.cost) for g in breakdowns.cost_by(scope, "name")] == [
        ("chat", Decimal("1.25")),
        ("summarise", Decimal("1.125")),
    ]
    assert [(g.key, g.cost) for g in breakdowns.cost_by(scope, "environment")] == [
        ("default", Decimal("1.375")),
        ("staging", Decimal("1.0")),
    ]
    assert [(g.key, g.cost) for g in breakdowns.cost_by(scope, "release")] == [
        ("r1", Decimal("1.25")),
        ("r2", Decimal("1.0")),
        (None, Decimal("0.125")),
    ]
    assert [(g.key, g.cost) for g in breakdowns.cost_by(scope, "session", skip_empty=True)] == [
        ("s1", Decimal("1.25")),
        ("s2", Decimal("1.0")),
    ]


def test_latency_and_time_to_first_token_per_model(team, data):
    scope = scope_for(team.project)
    by_model = {row.key: row for row in breakdowns.latency_by_model(scope)}
    assert by_model["gpt-4o"].count == 3
    assert (by_model["gpt-4o"].p50, by_model["gpt-4o"].p95) == pytest.approx((2.0, 5.6))  # 1, 2, 6 s
    assert by_model["claude"].p99 == pytest.approx(4.0)
    ttft = {row.key: row for row in breakdowns.time_to_first_token(scope)}
    assert set(ttft) == {"gpt-4o", "claude"}
    assert (ttft["gpt-4o"].count, ttft["gpt-4o"].p50) == (2, pytest.approx(1.25))  # 0.5 and 2 s
    assert ttft["claude"].p95 == pytest.approx(1.0)


def test_latency_per_trace_name(team, data):
    by_name = {row.key: row for row in breakdowns.latency_by_trace_name(scope_for(team.project))}
    assert (by_name["chat"].count, by_name["chat"].p50) == (2, pytest.approx(3.5))
    assert by_name["summarise"].p99 == pytest.approx(1 + 0.99 * 5)


def test_most_expensive_traces(team, data):
    found = breakdowns.most_expensive_traces(scope_for(team.project))
    assert [(t.id, t.cost) for t in found] == [
        ("t3", Decimal("1.0")),
        ("t2", Decimal("0.75")),
        ("t1", Decimal("0.5")),
        ("t4", Decimal("0.125")),
    ]
    assert found[0].latency == pytest.approx(6.0)


def test_scores_over_time_and_per_prompt_version(team, data):
    scope = scope_for(team.project)
    over_time = {line.name: line.values for line in series.score_averages(scope).lines}
    assert over_time == {"quality": [pytest.approx(0.6), pytest.approx(1.0), None]}  # the deleted 0.0 is gone
    by_prompt = [(r.score, r.prompt, r.version, r.average, r.count) for r in scores.by_prompt_version(scope)]
    assert by_prompt == [
        ("quality", "greet", 1, pytest.approx(0.8), 1),
        ("quality", "greet", 2, pytest.approx(0.4), 1),
    ]
    distribution = {(row.score, row.value): row.count for row in scores.distribution(scope)}
    assert distribution == {
        ("quality", "0.80"): 1,
        ("quality", "0.40"): 1,
        ("quality", "1.00"): 1,
        ("tone", "friendly"): 1,
    }


def test_trace_list_filters_narrow_every_number(team, data):
    assert totals(scope_for(team.project, WINDOW + "&name=summarise")).cost == Decimal("1.125")
    assert totals(scope_for(team.project, WINDOW + "&environment=staging")).traces == 1
    assert totals(scope_for(team.project, WINDOW + "&model=claude")).cost == Decimal("0.75")
    assert totals(scope_for(team.project, WINDOW + "&meta_key=team&meta_value=billing")).cost == Decimal(
        "1.0"
    )
    assert totals(scope_for(team.project, WINDOW + "&level=ERROR")).traces == 1


def test_numbers_stay_inside_the_project(team, data):
    make_dashboard_data(team.other_project)
    assert totals(scope_for(team.project)).cost == Decimal("2.375")


# --- Periods ---------------------------------------------------------------------------------


def test_presets_count_back_from_now_rounded_up_to_the_minute():
    state = DashboardForm(QueryDict("range=24h")).state()
    period = period_of(state, datetime(2026, 1, 31, 10, 15, 30, tzinfo=UTC))
    assert (period.start, period.end, period.bucket) == (
        datetime(2026, 1, 30, 10, 16, tzinfo=UTC),
        datetime(2026, 1, 31, 10, 16, tzinfo=UTC),
        "hour",
    )
    assert len(period.buckets()) == 25  # the first and last hours are partial


def test_the_default_range_is_seven_days_by_day():
    period = period_of(DashboardForm(QueryDict("")).state(), NOW)
    assert (period.end - period.start).days == 7
    assert period.bucket == "day"
    assert period.previous.end == period.start


def test_long_ranges_use_weeks_starting_on_monday():
    period = Period.spanning(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    assert period.bucket == "week"
    assert period.buckets()[0] == datetime(2025, 12, 29, tzinfo=UTC)


# --- Views -----------------------------------------------------------------------------------


def test_viewer_sees_the_dashboard_with_totals_and_every_chart(client, team, data):
    client.force_login(team.viewer)
    response = client.get(url(team))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<section id="totals"' in html
    assert 'data-total="cost"' in html and "$2.375000" in html
    assert "+18.8% vs previous" in html
    for key in [
        "cost-by-model",
        "cost-by-team",
        "tokens-by-type",
        "latency",
        "ttft",
        "volume",
        "scores-by-prompt",
    ]:
        assert f'id="chart-{key}"' in html
    assert re.search(r'<script src="/assets/plotly-[\d.]+\.min\.js" defer>', html)
    assert "cdn" not in html.lower()
    assert 'aria-current="page">Dashboards<' in html


def test_chart_partial_holds_its_figure_data_and_a_table_of_the_same_numbers(client, team, data):
    client.force_login(team.viewer)
    response = client.get(url(team, "/charts/cost-by-model"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    figure = json.loads(
        re.search(
            r'<script id="chart-cost-by-model-data" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    traces = {trace["name"]: trace for trace in figure["data"]}
    assert traces["gpt-4o"]["y"] == [0.5, 1.0, 0.125]
    assert traces["claude"]["y"] == [0.75, 0.0, 0.0]
    assert traces["claude"]["x"] == ["2026-01-10", "2026-01-11", "2026-01-12"]
    assert traces["claude"]["customdata"][0].endswith("until=2026-01-11T00%3A00%3A00&model=claude")
    assert "$0.750000" in html and "$2.375000" in html  # the claude cell and the table's grand total


def test_points_and_cells_link_to_the_traces_list_filtered_to_them(client, team, data):
    client.force_login(team.viewer)
    html = client.get(url(team, "/charts/cost-by-model")).content.decode()
    link = f"/project/{team.project.id}/traces?since=2026-01-10T00%3A00%3A00&amp;until=2026-01-11T00%3A00%3A00&amp;model=gpt-4o"
    assert f'href="{link}"' in html
    listed = client.get(link.replace("&amp;", "&"))
    assert row_ids(listed.content.decode()) == ["t1"]
    team_html = client.get(url(team, "/charts/cost-by-team")).content.decode()
    team_link = re.search(r'href="([^"]*meta_value=billing[^"]*)"', team_html).group(1).replace("&amp;", "&")
    assert row_ids(client.get(team_link).content.decode()) == ["t3"]


def test_csv_download_has_the_exact_numbers(client, team, data):
    client.force_login(team.viewer)
    response = client.get(url(team, "/charts/cost-by-user.csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="cost-by-user_20260110T0000_20260113T0000.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["User", "Cost", "Traces", "Tokens"],
        ["alice", "1.5", "2", "470"],
        ["bob", "0.75", "1", "55"],
        ["", "0.125", "1", "15"],
    ]


def test_htmx_filter_request_returns_the_dashboard_partial_and_pushes_the_url(client, team, data):
    client.force_login(team.viewer)
    response = client.get(
        url(team, query=WINDOW + "&name=summarise"), headers={"HX-Request": "true", "HX-Target": "dashboard"}
    )
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="dashboard"')
    assert "$1.125000" in html
    assert response["HX-Push-Url"].endswith("name=summarise")


def test_unknown_chart_is_404(client, team):
    client.force_login(team.viewer)
    assert client.get(f"/project/{team.project.id}/dashboards/charts/nope").status_code == 404


def test_outsider_gets_404_everywhere(client, team, data):
    client.force_login(team.outsider)
    for suffix in ["", "/charts/cost-by-model", "/charts/cost-by-model.csv"]:
        assert client.get(url(team, suffix)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, team):
    response = client.get(url(team))
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


def test_empty_project_shows_empty_charts(client, team):
    client.force_login(team.owner)
    html = client.get(f"/project/{team.project.id}/dashboards").content.decode()
    assert "No data in this range." in html
    assert "no previous data" in html


def test_invalid_range_is_reported_and_falls_back(client, team):
    client.force_login(team.owner)
    html = client.get(
        url(team, query="range=custom&since=2026-01-12T00:00&until=2026-01-10T00:00")
    ).content.decode()
    assert "The end of the range must come after its start" in html


def test_plotly_js_comes_from_the_installed_package(client):
    from plotly.offline import get_plotlyjs_version

    version = get_plotlyjs_version()
    response = client.get(f"/assets/plotly-{version}.min.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "immutable" in response["Cache-Control"]
    assert client.get("/assets/plotly-0.0.1.min.js").status_code == 404
