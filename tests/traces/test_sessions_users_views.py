from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.traces.list_data import make_score, make_trace
from traces.models import Score, Trace

pytestmark = pytest.mark.django_db


def sessions_url(project, session_id: str = "") -> str:
    return f"/project/{project.id}/sessions" + (f"/{session_id}" if session_id else "")


def users_url(project, user_id: str = "") -> str:
    return f"/project/{project.id}/users" + (f"/{user_id}" if user_id else "")


def first_cells(html: str, table_id: str) -> list[str]:
    """The link texts of the first column of a people table."""
    body = html.split(f'id="{table_id}"')[1].split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr>\s*<td><a href=\"[^\"]+\">([^<]+)</a>", body)


@pytest.fixture
def member(client, team):
    client.force_login(team.member)
    return client


def make_conversation(project, session_id: str = "chat-1", start=None) -> list[Trace]:
    start = start or timezone.now() - timedelta(hours=1)
    return [
        make_trace(
            project,
            f"{session_id}-turn-1",
            session_id=session_id,
            user_id="ada",
            name="chat",
            timestamp=start,
            start_time=start,
            end_time=start + timedelta(seconds=2),
            input=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}],
            output={"role": "assistant", "content": "Hi! How can I help?"},
            total_tokens=30,
            total_cost="0.01",
        ),
        make_trace(
            project,
            f"{session_id}-turn-2",
            session_id=session_id,
            user_id="bob",
            name="chat",
            timestamp=start + timedelta(minutes=1),
            start_time=start + timedelta(minutes=1),
            end_time=start + timedelta(minutes=1, seconds=3),
            input={"messages": [{"role": "user", "content": [{"type": "text", "text": "Was ist 2+2?"}]}]},
            output="Vier.",
            total_tokens=12,
            total_cost="0.002",
        ),
    ]


# --- Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        lambda p: sessions_url(p),
        lambda p: sessions_url(p, "chat-1"),
        lambda p: users_url(p),
        lambda p: users_url(p, "ada"),
    ],
)
def test_viewer_reads_and_outsider_gets_404(client, team, path):
    make_conversation(team.project)
    client.force_login(team.viewer)
    assert client.get(path(team.project)).status_code == 200
    client.force_login(team.outsider)
    assert client.get(path(team.project)).status_code == 404


def test_anonymous_is_sent_to_login(client, team):
    assert client.get(sessions_url(team.project)).status_code == 302
    assert client.get(users_url(team.project, "ada")).status_code == 302


def test_unknown_session_or_user_is_404(member, team):
    make_conversation(team.other_project)
    assert member.get(sessions_url(team.project, "chat-1")).status_code == 404
    assert member.get(users_url(team.project, "ada")).status_code == 404


# --- Sessions ---------------------------------------------------------------------------------


def test_sessions_list_shows_totals_per_session_newest_first(member, team):
    now = timezone.now()
    make_conversation(team.project, "older", start=now - timedelta(days=1))
    make_conversation(team.project, "newer", start=now - timedelta(hours=1))
    make_trace(team.project, "loner")  # no session
    make_conversation(team.other_project, "theirs")
    html = member.get(sessions_url(team.project)).content.decode()
    assert first_cells(html, "session-table") == ["newer", "older"]
    row = html.split(">newer</a>")[1].split("</tr>")[0]
    for text in ["63.0s", ">2<", "ada", "bob", ">42<", "$0.012000", "default"]:
        assert text in row, text


def test_sessions_search_and_htmx_partial(member, team):
    make_conversation(team.project, "support-1")
    make_conversation(team.project, "sales-1")
    response = member.get(
        sessions_url(team.project), {"q": "support"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="session-table"
    )
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<div id="session-table"')
    assert first_cells(html, "session-table") == ["support-1"]


def test_sessions_pages_walk_every_session_once(member, team):
    now = timezone.now()
    for i in range(57):
        make_trace(team.project, f"t{i}", session_id=f"s{i:02d}", timestamp=now - timedelta(minutes=i // 3))
    html = member.get(sessions_url(team.project)).content.decode()
    first = first_cells(html, "session-table")
    link = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second_html = member.get(link).content.decode()
    second = first_cells(second_html, "session-table")
    assert len(first) == 50 and len(second) == 7
    assert sorted(first + second) == sorted(f"s{i:02d}" for i in range(57))
    back = second_html.split('rel="prev" href="')[1].split('"')[0].replace("&amp;", "&")
    assert first_cells(member.get(back).content.decode(), "session-table") == first


def test_session_page_reads_as_one_conversation_in_order(member, team):
    first, _ = make_conversation(team.project)
    make_score(team.project, first, "helpful", 1.0)
    Score.objects.create(
        project=team.project, id="session-score", session_id="chat-1", name="resolved", value=1
    )
    html = member.get(sessions_url(team.project, "chat-1")).content.decode()
    order = [html.index(text) for text in ["Hello there", "Hi! How can I help?", "Was ist 2+2?", "Vier."]]
    assert order == sorted(order)
    assert "1 earlier message in this input" in html and "Be brief." in html
    assert f'href="/project/{team.project.id}/traces/chat-1-turn-1"' in html
    assert f'href="/project/{team.project.id}/users/ada"' in html
    assert "helpful: 1.00" in html
    assert "Score · resolved" in html
    assert "$0.012000" in html


def test_session_ids_with_slashes_and_spaces_work(member, team):
    make_trace(team.project, "t", session_id="tenant/a b", input="hi")
    html = member.get(sessions_url(team.project)).content.decode()
    assert f'href="/project/{team.project.id}/sessions/tenant%2Fa%20b"' in html
    assert member.get(f"/project/{team.project.id}/sessions/tenant%2Fa%20b").status_code == 200


def test_long_sessions_load_later_traces_as_an_htmx_partial(member, team):
    start = timezone.now() - timedelta(hours=2)
    for i in range(55):
        make_trace(
            team.project,
            f"turn-{i:02d}",
            session_id="long",
            timestamp=start + timedelta(seconds=i),
            input=f"q{i}",
        )
    html = member.get(sessions_url(team.project, "long")).content.decode()
    assert "q49" in html and "q50" not in html
    more = html.split('id="more-turns" class="button" href="')[1].split('"')[0].replace("&amp;", "&")
    response = member.get(more, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="more-turns")
    body = response.content.decode()
    assert "<html" not in body and "q50" in body and "q54" in body and "q49" not in body


def test_session_page_query_count_does_not_grow_with_turns(member, team):
    make_conversation(team.project, "small")
    with CaptureQueriesContext(connection) as small:
        member.get(sessions_url(team.project, "small"))
    for i in range(20):
        make_trace(team.project, f"big-{i}", session_id="big", input="x", output="y")
    with CaptureQueriesContext(connection) as big:
        member.get(sessions_url(team.project, "big"))
    assert len(small) == len(big)


# --- Users ---------------------------------------------------------------------------------


def test_users_list_shows_traces_tokens_cost_and_first_and_last_seen(member, team):
    now = timezone.now()
    make_trace(
        team.project, "a1", user_id="ada", timestamp=now - timedelta(days=2), total_tokens=5, total_cost="0.5"
    )
    make_trace(
        team.project,
        "a2",
        user_id="ada",
        timestamp=now - timedelta(hours=1),
        total_tokens=7,
        total_cost="0.25",
    )
    make_trace(team.project, "b1", user_id="bob", timestamp=now - timedelta(days=1))
    html = member.get(users_url(team.project)).content.decode()
    assert first_cells(html, "user-table") == ["ada", "bob"]
    row = html.split(">ada</a>")[1].split("</tr>")[0]
    assert (now - timedelta(days=2)).strftime("%Y-%m-%d") in row
    assert (now - timedelta(hours=1)).strftime("%Y-%m-%d") in row
    for text in [">2<", ">12<", "$0.750000"]:
        assert text in row, text


def test_users_htmx_partial(member, team):
    make_trace(team.project, "a1", user_id="ada")
    response = member.get(users_url(team.project), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="user-table")
    assert response.content.decode().lstrip().startswith('<div id="user-table"')


def test_user_page_lists_their_traces_and_cost(member, team):
    make_trace(
        team.project, "mine-1", user_id="ada", name="first", total_cost="0.5", ago=timedelta(minutes=2)
    )
    make_trace(team.project, "mine-2", user_id="ada", name="second", total_cost="0.25", session_id="s1")
    make_trace(team.project, "other", user_id="bob", name="not-hers")
    html = member.get(users_url(team.project, "ada")).content.decode()
    assert html.index(">second<") < html.index(">first<")
    assert "not-hers" not in html
    assert "$0.750000" in html
    assert f'href="/project/{team.project.id}/traces?user=ada"' in html
    assert f'href="/project/{team.project.id}/sessions/s1"' in html


def test_user_page_paginates_and_serves_its_partial(member, team):
    now = timezone.now()
    Trace.objects.bulk_create(
        Trace(project=team.project, id=f"u-{i:02d}", user_id="ada", timestamp=now - timedelta(seconds=i))
        for i in range(60)
    )
    html = member.get(users_url(team.project, "ada")).content.decode()
    link = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    response = member.get(link, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="user-traces")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="user-traces"')
    assert "u-50" in body and "u-59" in body and "u-49" not in body
