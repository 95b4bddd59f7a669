"""Organisation settings > Storage: per-project figures for admins, database sizes for superusers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.factories import make_project
from tests.traces.list_data import make_observation, make_score, make_trace
from traces.models import Media
from traces.storage_figures import database_size, project_figures, table_sizes

pytestmark = pytest.mark.django_db


def url(team) -> str:
    return f"/organization/{team.org.id}/settings/storage"


@pytest.fixture
def data(team):
    oldest = make_trace(team.project, "a", ago=timedelta(days=9))
    make_trace(team.project, "b")
    make_observation(team.project, oldest)
    make_score(team.project, oldest, "quality", 1.0)
    Media.objects.create(
        project=team.project,
        id="m1",
        sha256_hash="x" * 44,
        content_type="image/png",
        content_length=2048,
        bucket_path="p/m1",
    )
    make_trace(team.other_project, "elsewhere")
    return oldest


def test_figures_count_each_projects_rows_media_and_oldest_trace(team, data):
    empty = make_project(team.org, "empty")

    figures = {row.project.pk: row for row in project_figures(team.org)}

    assert set(figures) == {team.project.pk, empty.pk}  # other organisations' projects are not shown
    production = figures[team.project.pk]
    assert (production.traces, production.observations, production.scores) == (2, 1, 1)
    assert (production.media_objects, production.media_bytes) == (1, 2048)
    assert production.oldest_trace == data.timestamp
    assert figures[empty.pk].traces == 0 and figures[empty.pk].oldest_trace is None


def test_database_figures_come_from_the_catalogue(team, data):
    tables = {table.name: table for table in table_sizes(limit=100)}

    assert database_size() > 0
    assert "traces" in tables and tables["traces"].total_bytes > 0


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_see_their_projects_but_not_the_database(client, team, data, role):
    client.force_login(getattr(team, role))

    html = client.get(url(team)).content.decode()

    row = re.search(rf'<tr data-project-id="{team.project.id}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[:6] == ["production", "2", "1", "1", "1", "2.0\xa0KB"]
    assert "elsewhere" not in html
    assert 'id="database-storage"' not in html


def test_superusers_also_see_database_and_table_sizes(client, team, data):
    team.owner.is_superuser = True
    team.owner.save(update_fields=["is_superuser"])
    client.force_login(team.owner)

    html = client.get(url(team)).content.decode()

    assert 'id="database-storage"' in html
    assert "<code>traces</code>" in html


def test_the_organisation_settings_link_it_for_admins(client, team):
    client.force_login(team.admin)
    assert url(team) in client.get(f"/organization/{team.org.id}/settings").content.decode()
    client.force_login(team.member)
    assert url(team) not in client.get(f"/organization/{team.org.id}/settings").content.decode()


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_get_403(client, team, role):
    client.force_login(getattr(team, role))

    assert client.get(url(team)).status_code == 403


def test_outsider_gets_404(client, team):
    client.force_login(team.outsider)

    assert client.get(url(team)).status_code == 404
