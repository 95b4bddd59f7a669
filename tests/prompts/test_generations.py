"""The generations that used a version, on the prompt's page: newest first, keyset pages, links to traces."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from prompts import versions
from traces.models import Observation

pytestmark = pytest.mark.django_db

NAME = "support/answer"


def page_url(team, query: str = "") -> str:
    base = f"/project/{team.project.pk}/prompts/{quote(NAME, safe='/')}"
    return f"{base}?{query}" if query else base


def make_prompt_with_generations(team, count: int, version: int = 1) -> list[Observation]:
    versions.create_version(team.project, NAME, "text", "Answer {{question}}")
    versions.create_version(team.project, NAME, "text", "Answer briefly {{question}}")
    start = timezone.now() - timedelta(hours=1)
    rows = []
    for i in range(count):
        rows.append(
            Observation.objects.create(
                project=team.project,
                id=f"gen-{i:03d}",
                trace_id=f"trace-{i:03d}",
                type="GENERATION",
                name="answer",
                # two generations share each start time, so the id breaks ties
                start_time=start + timedelta(seconds=i // 2),
                end_time=start + timedelta(seconds=i // 2, milliseconds=1500),
                provided_model_name="gpt-4o-mini",
                usage_details={"input": 10, "output": 5, "total": 15},
                total_cost="0.000123",
                prompt_name=NAME,
                prompt_version=version,
            )
        )
    return rows


def cursor(html: str, direction: str) -> str:
    return html.split(f"{direction}=")[1].split('"')[0]


def observation_ids(html: str) -> list[str]:
    return [chunk.split('"')[0] for chunk in html.split('data-observation="')[1:]]


def test_viewer_sees_the_generations_of_the_selected_version_linked_to_their_traces(client, team):
    make_prompt_with_generations(team, 3)
    Observation.objects.create(
        project=team.project, id="other", trace_id="t", prompt_name=NAME, prompt_version=2
    )
    client.force_login(team.viewer)
    html = client.get(page_url(team, "version=1")).content.decode()
    section = html.split('id="prompt-generations"')[1].split("</section>")[0]
    assert "Generations using v1" in section
    assert observation_ids(section) == ["gen-002", "gen-001", "gen-000"]
    assert f'href="/project/{team.project.pk}/traces/trace-002?observation=gen-002"' in section
    assert "gpt-4o-mini" in section and "1.50s" in section and "$0.000123" in section and ">15<" in section


def test_the_newest_version_without_generations_says_so(client, team):
    make_prompt_with_generations(team, 2)
    client.force_login(team.viewer)
    html = client.get(page_url(team)).content.decode()
    assert "Generations using v2" in html and "No generations have used this version yet" in html


def test_generations_are_paged_by_keyset_both_ways(client, team):
    rows = make_prompt_with_generations(team, 60)
    newest_first = [row.id for row in sorted(rows, key=lambda r: (r.start_time, r.id), reverse=True)]
    client.force_login(team.viewer)
    first = client.get(page_url(team, "version=1")).content.decode()
    assert observation_ids(first) == newest_first[:25]
    assert 'rel="prev"' not in first
    second = client.get(
        page_url(team, f"version=1&after={cursor(first, 'after')}"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="prompt-generations",
    ).content.decode()
    assert "<html" not in second and second.strip().startswith('<section id="prompt-generations"')
    assert observation_ids(second) == newest_first[25:50]
    third = client.get(page_url(team, f"version=1&after={cursor(second, 'after')}")).content.decode()
    assert observation_ids(third) == newest_first[50:]
    assert 'rel="next"' not in third
    back = client.get(page_url(team, f"version=1&before={cursor(second, 'before')}")).content.decode()
    assert observation_ids(back) == newest_first[:25]


def test_a_damaged_cursor_shows_the_first_page(client, team):
    make_prompt_with_generations(team, 3)
    client.force_login(team.viewer)
    html = client.get(page_url(team, "version=1&after=%%%not-base64")).content.decode()
    assert observation_ids(html) == ["gen-002", "gen-001", "gen-000"]


def test_page_links_to_the_comparison_of_the_selected_version_with_the_one_before(client, team):
    make_prompt_with_generations(team, 1)
    client.force_login(team.viewer)
    html = client.get(page_url(team)).content.decode()
    assert f'href="/project/{team.project.pk}/prompt-compare/support/answer?a=1&amp;b=2"' in html


def test_outsider_gets_404(client, team):
    make_prompt_with_generations(team, 1)
    client.force_login(team.outsider)
    assert client.get(page_url(team, "version=1")).status_code == 404


def test_the_generations_page_reads_a_constant_number_of_queries(client, team, django_assert_max_num_queries):
    make_prompt_with_generations(team, 40)
    client.force_login(team.viewer)
    with django_assert_max_num_queries(20):
        response = client.get(page_url(team, "version=1"))
    assert len(observation_ids(response.content.decode())) == 25
