from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ProjectMembership, Role
from traces.models import Trace

pytestmark = pytest.mark.django_db


def url(project) -> str:
    return f"/project/{project.id}/traces"


def make_traces(project, count: int) -> None:
    now = timezone.now()
    Trace.objects.bulk_create(
        Trace(
            project=project,
            id=f"trace-{project.id}-{i}",
            name=f"chat-{i}",
            user_id="user-1",
            timestamp=now - timedelta(seconds=i),
            total_tokens=10 * i,
        )
        for i in range(count)
    )


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


def test_empty_project_shows_the_sdk_snippet_with_this_servers_address(client, team):
    client.force_login(team.viewer)
    html = client.get(url(team.project)).content.decode()
    assert "No traces yet" in html
    assert "LANGFUSE_HOST=http://testserver" in html
    assert "LANGFUSE_PUBLIC_KEY=pk-lf-..." in html
    assert "LANGFUSE_SECRET_KEY=sk-lf-..." in html


def test_it_lists_the_projects_traces_newest_first(client, team):
    make_traces(team.project, 3)
    make_traces(team.other_project, 2)
    client.force_login(team.member)
    html = client.get(url(team.project)).content.decode()
    assert html.index("chat-0") < html.index("chat-1") < html.index("chat-2")
    assert team.other_project.id not in html.split('id="trace-table"')[1]
    assert "No traces yet" not in html


def test_htmx_request_for_the_table_gets_only_the_partial(client, team):
    make_traces(team.project, 2)
    client.force_login(team.member)
    response = client.get(url(team.project), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="trace-table")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="trace-table"')
    assert "chat-1" in html
    assert "HX-Request" in response["Vary"]


def test_query_count_does_not_grow_with_the_number_of_traces(client, team):
    client.force_login(team.member)
    make_traces(team.project, 1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(team.project)).status_code == 200
    make_traces(team.other_project, 1)
    Trace.objects.filter(project=team.project).delete()
    make_traces(team.project, 30)
    with CaptureQueriesContext(connection) as thirty:
        assert client.get(url(team.project)).status_code == 200
    assert len(one) == len(thirty)


def test_page_renders_with_a_small_fixed_number_of_queries(client, team, django_assert_max_num_queries):
    make_traces(team.project, 30)
    client.force_login(team.member)
    # session, user, project, project override, organisation role, traces, switcher
    with django_assert_max_num_queries(7):
        client.get(url(team.project))


def test_htmx_partial_skips_the_switcher_query(client, team, django_assert_max_num_queries):
    make_traces(team.project, 3)
    client.force_login(team.member)
    with django_assert_max_num_queries(6):
        client.get(url(team.project), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="trace-table")
