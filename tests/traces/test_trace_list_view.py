from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ProjectMembership, Role
from tests.traces.list_data import make_observation, make_score, make_trace, make_traces, row_ids
from traces.models import SavedView, ScoreDataType, Trace

pytestmark = pytest.mark.django_db
HTMX_TABLE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "trace-table"}


def url(project) -> str:
    return f"/project/{project.id}/traces"


def listed(client, project, **params) -> list[str]:
    response = client.get(url(project), params)
    assert response.status_code == 200
    return row_ids(response.content.decode())


@pytest.fixture
def member(client, team):
    client.force_login(team.member)
    return client


# --- Access -------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client, team):
    response = client.get(url(team.project))
    assert response.status_code == 302
    assert response["Location"] == f"/auth/login/?next={url(team.project)}"


@pytest.mark.parametrize("persona", ["owner", "admin", "member", "viewer"])
def test_every_role_of_the_organisation_can_read_the_traces_page(client, team, persona):
    client.force_login(getattr(team, persona))
    response = client.get(url(team.project))
    assert response.status_code == 200
    assert b"<h1>Traces</h1>" in response.content


def test_outsider_gets_404(client, team):
    client.force_login(team.outsider)
    assert client.get(url(team.project)).status_code == 404


def test_unknown_project_gets_404(client, team):
    client.force_login(team.owner)
    assert client.get("/project/no-such-project/traces").status_code == 404


def test_project_override_none_hides_the_project_from_an_org_member(client, team):
    ProjectMembership.objects.create(project=team.project, user=team.admin, role=Role.NONE)
    client.force_login(team.admin)
    assert client.get(url(team.project)).status_code == 404


@pytest.mark.parametrize("persona", ["viewer", "member"])
def test_viewers_and_members_see_no_delete_controls(client, team, persona):
    make_traces(team.project, 2)
    client.force_login(getattr(team, persona))
    html = client.get(url(team.project)).content.decode()
    assert "Delete selected" not in html
    assert "Delete all matching" not in html
    assert 'name="ids"' not in html
    assert "Deleting traces needs the Admin or Owner role" in html


@pytest.mark.parametrize("persona", ["admin", "owner"])
def test_admins_and_owners_get_row_checkboxes_and_delete_controls(client, team, persona):
    make_traces(team.project, 2)
    client.force_login(getattr(team, persona))
    html = client.get(url(team.project)).content.decode()
    assert html.count('name="ids"') == 2
    assert "Delete selected" in html
    assert (
        f'href="{url(team.project)}/actions/delete?' in html
        or f'href="{url(team.project)}/actions/delete"' in html
    )


# --- Rendering ------------------------------------------------------------------------------


def test_empty_project_shows_the_sdk_snippet_with_this_servers_address(client, team):
    client.force_login(team.viewer)
    html = client.get(url(team.project)).content.decode()
    assert "No traces yet" in html
    assert "LANGFUSE_HOST=http://testserver" in html
    assert "LANGFUSE_PUBLIC_KEY=pk-lf-..." in html
    assert "LANGFUSE_SECRET_KEY=sk-lf-..." in html


def test_a_filter_that_matches_nothing_says_so_instead_of_the_snippet(member, team):
    make_traces(team.project, 2)
    html = member.get(url(team.project), {"name": "nothing-like-this"}).content.decode()
    assert "No traces match" in html
    assert "No traces yet" not in html


def test_it_lists_the_projects_traces_newest_first(member, team):
    make_traces(team.project, 3, prefix="mine")
    make_traces(team.other_project, 2, prefix="theirs")
    assert listed(member, team.project) == ["mine-0000", "mine-0001", "mine-0002"]


def test_rows_show_every_default_column_and_link_to_the_trace(member, team):
    trace = make_trace(
        team.project,
        "trace/with slash",
        name="chat",
        user_id="ada",
        session_id="s-1",
        tags=["beta", "vip"],
        latency=1.5,
        total_tokens=321,
        total_cost="0.0123",
        error_count=2,
        observation_count=7,
    )
    make_score(team.project, trace, "quality", 0.5)
    make_score(team.project, trace, "quality", 1.0)
    html = member.get(url(team.project)).content.decode()
    row = html.split('data-trace-id="trace/with slash"')[1].split("</tr>")[0]
    assert f'href="/project/{team.project.id}/traces/trace%2Fwith%20slash"' in row
    assert f'href="/project/{team.project.id}/users/ada"' in row
    assert f'href="/project/{team.project.id}/sessions/s-1"' in row
    for text in ["chat", "beta", "vip", "1.50s", "321", "$0.012300", "2 errors", "quality: 0.75", ">7<"]:
        assert text in row, text
    assert 'class="level-error"' in html


def test_warnings_stand_out_too(member, team):
    make_trace(team.project, "warned", warning_count=1)
    html = member.get(url(team.project)).content.decode()
    assert 'class="level-warning" data-trace-id="warned"' in html
    assert '<span class="badge warning">1 warning</span>' in html


def test_categorical_scores_show_their_labels(member, team):
    trace = make_trace(team.project, "rated")
    make_score(team.project, trace, "tone", string_value="friendly", data_type=ScoreDataType.CATEGORICAL)
    assert "tone: friendly" in member.get(url(team.project)).content.decode()


def test_chosen_columns_are_the_only_ones_shown_and_stay_ticked(member, team):
    make_trace(team.project, "x", name="visible-name", environment="staging", release="r9", version="v2")
    html = member.get(url(team.project), {"cols": ["name", "environment", "release"]}).content.decode()
    table = html.split('id="trace-table"')[1]
    assert ">Environment<" in table and ">Release / version<" in table
    assert ">Latency" not in table and ">Scores<" not in table
    assert "staging" in table and "r9 · v2" in table
    assert re.search(r'name="cols" value="environment"[^>]*checked', html)
    assert not re.search(r'name="cols" value="latency"[^>]*checked', html)


def test_htmx_request_for_the_table_gets_only_the_partial(member, team):
    make_traces(team.project, 2)
    response = member.get(url(team.project), **HTMX_TABLE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="trace-table"')
    assert "t-name-1" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_request_for_the_list_gets_the_form_and_the_table(member, team):
    make_traces(team.project, 1)
    response = member.get(
        url(team.project), {"sort": "cost"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="trace-list"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="trace-list"')
    assert 'id="trace-filters"' in html and 'id="trace-table"' in html


def test_htmx_answers_push_a_canonical_shareable_url(member, team):
    response = member.get(
        url(team.project) + "?q=&name=chat&user=&tags_mode=any&sort=time&order=desc&cost_min=0.5",
        **HTMX_TABLE,
    )
    assert response["HX-Push-Url"] == f"{url(team.project)}?name=chat&cost_min=0.5"


def test_invalid_input_is_reported_and_the_other_filters_still_apply(member, team):
    make_trace(team.project, "a", name="keep")
    make_trace(team.project, "b", name="drop")
    response = member.get(url(team.project), {"name": "keep", "cost_min": "lots"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a number" in html
    assert row_ids(html) == ["a"]


# --- Filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "field", "value"),
    [
        ("name", "name", "checkout"),
        ("user", "user_id", "ada"),
        ("session", "session_id", "conv-9"),
        ("release", "release", "2024.1"),
        ("version", "version", "v7"),
    ],
)
def test_it_filters_by_an_exact_column_value(member, team, param, field, value):
    make_trace(team.project, "hit", **{field: value})
    make_trace(team.project, "miss", **{field: value + "-other"})
    assert listed(member, team.project, **{param: value}) == ["hit"]


def test_it_filters_by_one_or_several_environments(member, team):
    make_trace(team.project, "prod", environment="production")
    make_trace(team.project, "stage", environment="staging")
    make_trace(team.project, "dev", environment="dev")
    assert listed(member, team.project, environment="staging") == ["stage"]
    assert set(listed(member, team.project, environment="production, staging")) == {"prod", "stage"}


def test_it_filters_by_tags_matching_any_or_all(member, team):
    make_trace(team.project, "both", tags=["beta", "vip"])
    make_trace(team.project, "beta", tags=["beta"])
    make_trace(team.project, "none", tags=[])
    assert set(listed(member, team.project, tags="beta,vip", tags_mode="any")) == {"both", "beta"}
    assert listed(member, team.project, tags="beta,vip", tags_mode="all") == ["both"]


def test_it_filters_by_level(member, team):
    make_trace(team.project, "error", error_count=1, warning_count=3)
    make_trace(team.project, "warning", warning_count=1)
    make_trace(team.project, "fine")
    assert listed(member, team.project, level="ERROR") == ["error"]
    assert listed(member, team.project, level="WARNING") == ["warning"]
    assert listed(member, team.project, level="DEFAULT") == ["fine"]


def test_it_filters_by_a_model_used_in_any_observation(member, team):
    uses = make_trace(team.project, "uses")
    other = make_trace(team.project, "other")
    make_observation(team.project, uses, type="GENERATION", provided_model_name="gpt-4o")
    make_observation(team.project, other, type="GENERATION", provided_model_name="claude-3")
    assert listed(member, team.project, model="gpt-4o") == ["uses"]


def test_it_filters_by_a_nested_metadata_key(member, team):
    make_trace(team.project, "eu", metadata={"customer": {"region": "eu", "tier": 3}})
    make_trace(team.project, "us", metadata={"customer": {"region": "us", "tier": 1}})
    make_trace(team.project, "flat", metadata={"region": "eu"})
    assert listed(member, team.project, meta_key="customer.region", meta_value="eu") == ["eu"]
    assert listed(member, team.project, meta_key="customer.tier", meta_value="3") == ["eu"]
    assert listed(member, team.project, meta_key="region", meta_value="eu") == ["flat"]


def test_metadata_value_without_a_key_is_an_error_not_a_silent_match_all(member, team):
    html = member.get(url(team.project), {"meta_value": "eu"}).content.decode()
    assert "Give the metadata key" in html


def test_it_filters_by_cost_and_latency_ranges(member, team):
    make_trace(team.project, "cheap-fast", total_cost="0.001", latency=0.2)
    make_trace(team.project, "cheap-slow", total_cost="0.002", latency=9)
    make_trace(team.project, "dear-slow", total_cost="1.5", latency=12)
    make_trace(team.project, "no-latency", total_cost="0.001")
    assert set(listed(member, team.project, cost_min="0.0015")) == {"cheap-slow", "dear-slow"}
    assert set(listed(member, team.project, cost_max="0.0015")) == {"cheap-fast", "no-latency"}
    assert set(listed(member, team.project, latency_min="5")) == {"cheap-slow", "dear-slow"}
    assert listed(member, team.project, latency_max="1") == ["cheap-fast"]
    assert listed(member, team.project, latency_min="5", cost_max="1") == ["cheap-slow"]


def test_it_filters_by_score_name_and_value(member, team):
    good = make_trace(team.project, "good")
    bad = make_trace(team.project, "bad")
    make_trace(team.project, "unscored")
    make_score(team.project, good, "quality", 0.9)
    make_score(team.project, bad, "quality", 0.2)
    make_score(team.project, bad, "tone", string_value="rude", data_type=ScoreDataType.CATEGORICAL)
    assert set(listed(member, team.project, score_name="quality")) == {"good", "bad"}
    assert listed(member, team.project, score_name="quality", score_op=">=", score_value="0.5") == ["good"]
    assert listed(member, team.project, score_name="quality", score_op="<", score_value="0.5") == ["bad"]
    assert listed(member, team.project, score_name="tone", score_value="rude") == ["bad"]


def test_full_text_search_finds_words_in_input_or_output_in_any_language(member, team):
    make_trace(team.project, "ja", input={"messages": [{"role": "user", "content": "東京の天気は"}]})
    make_trace(team.project, "ru", output="Привет, мир! Погода отличная.")
    make_trace(team.project, "en", input="What is the WEATHER like?", output="Sunny")
    make_trace(team.project, "pct", input="100% sure")
    assert listed(member, team.project, q="東京") == ["ja"]
    assert listed(member, team.project, q="Погода") == ["ru"]
    assert listed(member, team.project, q="weather") == ["en"]
    assert listed(member, team.project, q="sunny") == ["en"]
    assert listed(member, team.project, q="0% s") == ["pct"]
    assert listed(member, team.project, q="%") == ["pct"]


def test_search_uses_ilike_on_the_text_of_the_json_so_the_trigram_indexes_apply(member, team):
    with CaptureQueriesContext(connection) as queries:
        member.get(url(team.project), {"q": "needle"})
    sql = next(q["sql"] for q in queries.captured_queries if "ILIKE" in q["sql"])
    assert '("traces"."input")::text ILIKE' in sql
    assert '("traces"."output")::text ILIKE' in sql


def test_it_filters_by_time_presets_and_custom_ranges(member, team):
    now = timezone.now()
    make_trace(team.project, "now", timestamp=now - timedelta(minutes=5))
    make_trace(team.project, "hours", timestamp=now - timedelta(hours=5))
    make_trace(team.project, "days", timestamp=now - timedelta(days=3))
    make_trace(team.project, "weeks", timestamp=now - timedelta(days=20))
    assert listed(member, team.project, range="1h") == ["now"]
    assert listed(member, team.project, range="24h") == ["now", "hours"]
    assert listed(member, team.project, range="7d") == ["now", "hours", "days"]
    assert listed(member, team.project, range="30d") == ["now", "hours", "days", "weeks"]
    since = (now - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    until = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert listed(member, team.project, since=since, until=until) == ["hours", "days"]


def test_filters_combine(member, team):
    make_trace(team.project, "both", name="chat", user_id="ada", tags=["vip"])
    make_trace(team.project, "name-only", name="chat", user_id="bob", tags=["vip"])
    make_trace(team.project, "user-only", name="other", user_id="ada", tags=["vip"])
    assert listed(member, team.project, name="chat", user="ada", tags="vip") == ["both"]


# --- Sorting and keyset pagination ---------------------------------------------------------


def test_it_sorts_by_cost_tokens_and_latency_both_ways(member, team):
    make_trace(team.project, "a", total_cost="0.3", total_tokens=10, latency=2)
    make_trace(team.project, "b", total_cost="0.1", total_tokens=30, latency=1)
    make_trace(team.project, "c", total_cost="0.2", total_tokens=20, latency=3)
    assert listed(member, team.project, sort="cost") == ["a", "c", "b"]
    assert listed(member, team.project, sort="cost", order="asc") == ["b", "c", "a"]
    assert listed(member, team.project, sort="tokens") == ["b", "c", "a"]
    assert listed(member, team.project, sort="latency") == ["c", "a", "b"]
    assert listed(member, team.project, sort="latency", order="asc") == ["b", "a", "c"]


def test_sort_headers_toggle_the_order_and_keep_the_filters(member, team):
    html = member.get(url(team.project), {"name": "chat", "sort": "cost"}).content.decode()
    assert f'href="{url(team.project)}?name=chat&amp;sort=cost&amp;order=asc"' in html
    assert f'href="{url(team.project)}?name=chat&amp;sort=latency"' in html


def next_link(html: str, rel: str) -> str | None:
    marker = f'rel="{rel}" href="'
    if marker not in html:
        return None
    return html.split(marker)[1].split('"')[0].replace("&amp;", "&")


def walk(client, start: str, rel: str) -> list[list[str]]:
    pages, link = [], start
    while link:
        html = client.get(link).content.decode()
        pages.append(row_ids(html))
        link = next_link(html, rel)
        assert len(pages) < 50
    return pages


@pytest.mark.parametrize("sort", ["time", "cost", "tokens", "latency"])
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_keyset_pagination_walks_every_row_exactly_once_both_ways(member, team, sort, order):
    now = timezone.now()
    # Ties on every sort key (ten rows share each value) so the id tie-breaker matters.
    Trace.objects.bulk_create(
        Trace(
            project=team.project,
            id=f"row-{i:03d}",
            timestamp=now - timedelta(seconds=i // 10),
            start_time=now,
            end_time=now + timedelta(seconds=i // 10) if i % 7 else None,
            total_cost=i // 10,
            total_tokens=i // 10,
        )
        for i in range(123)
    )
    pages = walk(member, f"{url(team.project)}?sort={sort}&order={order}", "next")
    assert [len(page) for page in pages] == [50, 50, 23]
    rows = [row for page in pages for row in page]
    assert sorted(rows) == sorted(f"row-{i:03d}" for i in range(123))
    # From the last page back to the first with the "previous" links: the same pages.
    html = member.get(f"{url(team.project)}?sort={sort}&order={order}").content.decode()
    last = next_link(member.get(next_link(html, "next")).content.decode(), "next")
    back = walk(member, last, "prev")
    assert back == pages[::-1]


def test_first_page_has_no_previous_link_and_last_page_no_next_link(member, team):
    make_traces(team.project, 3)
    html = member.get(url(team.project)).content.decode()
    assert 'rel="prev"' not in html and 'rel="next"' not in html


def test_a_damaged_cursor_shows_the_first_page(member, team):
    make_traces(team.project, 2)
    assert listed(member, team.project, after="not-a-cursor") == ["t-0000", "t-0001"]


def test_pagination_links_keep_the_filters(member, team):
    make_traces(team.project, 60, user_id="ada")
    make_traces(team.project, 5, prefix="bob", user_id="bob")
    link = next_link(member.get(url(team.project), {"user": "ada"}).content.decode(), "next")
    assert parse_qs(urlsplit(link).query)["user"] == ["ada"]
    assert (
        len(listed(member, team.project, **{k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}))
        == 10
    )


def test_deep_pages_use_the_cursor_not_offset(member, team):
    make_traces(team.project, 120)
    html = member.get(url(team.project)).content.decode()
    with CaptureQueriesContext(connection) as queries:
        member.get(next_link(html, "next"))
    sql = next(
        q["sql"] for q in queries.captured_queries if 'FROM "traces"' in q["sql"] and "LIMIT" in q["sql"]
    )
    assert "OFFSET" not in sql
    assert '"traces"."timestamp" <=' in sql


# --- Live mode -----------------------------------------------------------------------------


def test_live_mode_renders_a_poller_for_traces_newer_than_the_newest_row(member, team):
    make_traces(team.project, 2)
    html = member.get(url(team.project), {"live": "on"}).content.decode()
    assert 'id="live-poller"' in html and 'hx-trigger="every 5s"' in html
    assert "newer=" in html
    assert 'id="live-poller"' not in member.get(url(team.project)).content.decode()


def test_the_live_poll_answers_only_new_rows_and_a_fresh_poller(member, team):
    make_traces(team.project, 2)
    html = member.get(url(team.project), {"live": "on"}).content.decode()
    poll = html.split('id="live-poller" hidden hx-get="')[1].split('"')[0].replace("&amp;", "&")
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "trace-rows", "HTTP_HX_TRIGGER": "live-poller"}
    assert member.get(poll, **headers).status_code == 204
    make_trace(team.project, "fresh", name="fresh-one")
    make_trace(team.project, "old", ago=timedelta(hours=1))
    response = member.get(poll, **headers)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "HX-Push-Url" not in response
    assert row_ids(body) == ["fresh"]
    assert 'hx-swap-oob="true"' in body
    fresh_poll = body.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert member.get(fresh_poll, **headers).status_code == 204


def test_live_mode_respects_the_filters(member, team):
    make_trace(team.project, "first", name="chat", ago=timedelta(minutes=1))
    html = member.get(url(team.project), {"live": "on", "name": "chat"}).content.decode()
    poll = html.split('id="live-poller" hidden hx-get="')[1].split('"')[0].replace("&amp;", "&")
    make_trace(team.project, "other-name", name="other")
    make_trace(team.project, "same-name", name="chat")
    assert row_ids(member.get(poll, HTTP_HX_REQUEST="true").content.decode()) == ["same-name"]


# --- Saved views ---------------------------------------------------------------------------


def test_a_member_saves_a_view_and_everyone_can_apply_it(client, team):
    client.force_login(team.member)
    response = client.post(
        f"{url(team.project)}/actions/views",
        {"name": "Errors of ada", "query_string": "user=ada&level=ERROR&q="},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{url(team.project)}?user=ada&level=ERROR"
    view = SavedView.objects.get(project=team.project)
    assert (view.name, view.query_string, view.created_by) == (
        "Errors of ada",
        "user=ada&level=ERROR",
        team.member,
    )
    client.force_login(team.viewer)
    html = client.get(url(team.project)).content.decode()
    assert f'href="{url(team.project)}?user=ada&amp;level=ERROR">Errors of ada</a>' in html


def test_saved_views_belong_to_their_project(client, team):
    SavedView.objects.create(project=team.other_project, name="Theirs", query_string="user=x")
    client.force_login(team.member)
    assert "Theirs" not in client.get(url(team.project)).content.decode()


def test_viewer_cannot_save_or_delete_views(client, team):
    view = SavedView.objects.create(project=team.project, name="Mine", query_string="user=x")
    client.force_login(team.viewer)
    assert client.post(f"{url(team.project)}/actions/views", {"name": "x"}).status_code == 403
    assert client.post(f"{url(team.project)}/actions/views/{view.id}/delete").status_code == 403
    assert SavedView.objects.filter(project=team.project).count() == 1


def test_outsider_cannot_touch_saved_views(client, team):
    view = SavedView.objects.create(project=team.project, name="Mine", query_string="user=x")
    client.force_login(team.outsider)
    assert client.post(f"{url(team.project)}/actions/views", {"name": "x"}).status_code == 404
    assert client.post(f"{url(team.project)}/actions/views/{view.id}/delete").status_code == 404


def test_a_member_deletes_a_saved_view(client, team):
    view = SavedView.objects.create(project=team.project, name="Old", query_string="user=x")
    client.force_login(team.member)
    response = client.post(f"{url(team.project)}/actions/views/{view.id}/delete")
    assert response.status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_a_view_of_another_project_cannot_be_deleted_through_this_one(client, team):
    view = SavedView.objects.create(project=team.other_project, name="Theirs", query_string="")
    client.force_login(team.owner)
    assert client.post(f"{url(team.project)}/actions/views/{view.id}/delete").status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


# --- Query counts --------------------------------------------------------------------------


def make_scored_traces(project, count: int) -> None:
    for trace in make_traces(project, count, user_id="ada", session_id="s"):
        make_score(project, trace, "quality", 1.0)


def test_query_count_is_the_same_for_one_and_fifty_traces(client, team):
    client.force_login(team.admin)
    make_scored_traces(team.project, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(team.project)).status_code == 200
    Trace.objects.filter(project=team.project).delete()
    make_scored_traces(team.project, 50)
    with CaptureQueriesContext(connection) as fifty:
        assert client.get(url(team.project)).status_code == 200
    assert len(one) == len(fifty)


def test_page_renders_with_a_small_fixed_number_of_queries(member, team, django_assert_num_queries):
    make_traces(team.project, 30, user_id="ada", tags=["a"])
    # session, user, project, project override, organisation role, traces (the tag filter has no
    # time-ordered index: first the bound of the walk, then the page; list_queries.trace_page),
    # scores, saved views, switcher
    with django_assert_num_queries(10):
        member.get(url(team.project), {"user": "ada", "range": "24h", "tags": "a", "tags_mode": "any"})


def test_htmx_partial_skips_the_switcher_and_saved_views_queries(member, team, django_assert_num_queries):
    make_traces(team.project, 3)
    with django_assert_num_queries(7):
        member.get(url(team.project), **HTMX_TABLE)
