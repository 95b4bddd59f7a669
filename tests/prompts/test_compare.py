"""The compare view: two versions side by side with a significance verdict per metric."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from prompts import versions
from prompts.queries import version_samples
from traces.models import Observation, Score

pytestmark = pytest.mark.django_db

NAME = "support/answer"


def compare_url(team, name: str = NAME, query: str = "") -> str:
    base = f"/project/{team.project.pk}/prompt-compare/{quote(name, safe='/')}"
    return f"{base}?{query}" if query else base


def make_prompt(team, count: int = 3) -> None:
    for position in range(count):
        versions.create_version(team.project, NAME, "text", f"Answer {position} {{{{question}}}}")


def add_generations(team, version: int, latencies: list[float], *, cost: float = 0.001, scores=()) -> None:
    """Generations of `version`, each with a latency (s), a cost, and per generation the given scores."""
    start = timezone.now() - timedelta(hours=1)
    for i, latency in enumerate(latencies):
        observation_id = f"v{version}-g{i}"
        Observation.objects.create(
            project=team.project,
            id=observation_id,
            trace_id=f"trace-{observation_id}",
            type="GENERATION",
            start_time=start + timedelta(seconds=i),
            end_time=start + timedelta(seconds=i + latency),
            total_cost=cost,
            prompt_name=NAME,
            prompt_version=version,
        )
        for score_name, data_type, value in scores:
            Score.objects.create(
                project=team.project,
                id=f"{observation_id}-{score_name}",
                trace_id=f"trace-{observation_id}",
                observation_id=observation_id,
                name=score_name,
                data_type=data_type,
                value=value(i) if callable(value) else value,
            )


def rows_by_metric(html: str) -> dict[str, str]:
    rows = {}
    for chunk in html.split('<tr data-metric="')[1:]:
        metric, _, rest = chunk.partition('"')
        rows[metric] = rest.split("</tr>")[0]
    return rows


def test_viewer_sees_a_significant_latency_and_score_difference(client, team):
    make_prompt(team)
    add_generations(
        team, 2, [1.0 + i / 100 for i in range(30)], scores=[("correct", "BOOLEAN", lambda i: i % 3 == 0)]
    )
    add_generations(
        team, 3, [0.5 + i / 100 for i in range(25)], scores=[("correct", "BOOLEAN", lambda i: i % 5 != 0)]
    )
    client.force_login(team.viewer)
    response = client.get(compare_url(team, query="a=2&b=3"))
    assert response.status_code == 200
    html = response.content.decode()
    rows = rows_by_metric(html)
    assert "30" in rows["generations"] and "25" in rows["generations"]
    latency = rows["Latency"]
    assert "1.15 s" in latency and "620 ms" in latency and "-525 ms (-45.9%)" in latency
    assert "significant" in latency and "not significant" not in latency
    assert (
        "Version 3 is 525 ms (45.9%) faster at the median than version 2; the difference is significant"
        in html
    )
    assert "(p &lt; 0.001, n = 30 vs 25)" in html
    correct = rows["correct"]  # 10/30 against 20/25 pass
    assert "33.3%" in correct and "80.0%" in correct and "+46.7 pp" in correct
    assert "Version 3 passes correct 46.7 percentage points more often than version 2" in html
    assert "not enough data" not in correct


def test_equal_costs_are_not_significant_and_small_samples_get_no_test(client, team):
    make_prompt(team)
    add_generations(team, 1, [1.0] * 20, scores=[("quality", "NUMERIC", 0.5)])
    add_generations(team, 2, [1.0] * 20, scores=[("quality", "NUMERIC", lambda i: 0.5 if i < 5 else None)])
    client.force_login(team.viewer)
    html = client.get(compare_url(team, query="a=1&b=2")).content.decode()
    rows = rows_by_metric(html)
    assert "not significant" in rows["Cost"]
    assert (
        "Version 2 and version 1 have the same average cost; the difference is not significant (p = 1.000"
        in html
    )
    assert "not enough data" in rows["quality"]
    assert "Not enough data (n = 20 vs 5)" in html


def test_without_a_query_it_compares_the_two_newest_versions(client, team):
    make_prompt(team)
    client.force_login(team.viewer)
    html = client.get(compare_url(team)).content.decode()
    assert "<h2>v2 against v3</h2>" in html
    assert (
        '<option value="2" selected>' in html and '<option value="3" selected>' in html.split('name="b"')[1]
    )
    assert "Not enough data (n = 0 vs 0)" in html


def test_htmx_request_gets_only_the_comparison(client, team):
    make_prompt(team)
    client.force_login(team.viewer)
    response = client.get(
        compare_url(team, query="a=1&b=3"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="prompt-comparison"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert "<html" not in html and html.strip().startswith('<section id="prompt-comparison"')
    assert "<h2>v1 against v3</h2>" in html


def test_unknown_versions_are_refused_with_a_message(client, team):
    make_prompt(team)
    client.force_login(team.viewer)
    html = client.get(compare_url(team, query="a=1&b=9")).content.decode()
    assert "Pick two versions of this prompt" in html and "against" not in html
    html = client.get(compare_url(team, query="a=x&b=1")).content.decode()
    assert "Enter a whole number" in html


def test_missing_prompt_is_404(client, team):
    client.force_login(team.viewer)
    assert client.get(compare_url(team, name="nope")).status_code == 404


def test_outsider_gets_404_and_anonymous_goes_to_sign_in(client, team):
    make_prompt(team)
    client.force_login(team.outsider)
    assert client.get(compare_url(team)).status_code == 404
    client.logout()
    response = client.get(compare_url(team))
    assert response.status_code == 302 and "login" in response["Location"]


def test_compare_is_read_only(client, team):
    make_prompt(team)
    client.force_login(team.owner)
    assert client.post(compare_url(team, query="a=1&b=2")).status_code == 405


def test_comparison_reads_a_constant_number_of_queries(client, team, django_assert_max_num_queries):
    make_prompt(team)
    add_generations(team, 1, [1.0] * 25, scores=[("quality", "NUMERIC", 0.5), ("ok", "BOOLEAN", 1)])
    add_generations(team, 2, [2.0] * 25, scores=[("quality", "NUMERIC", 0.7)])
    client.force_login(team.viewer)
    with django_assert_max_num_queries(14):
        response = client.get(compare_url(team, query="a=1&b=2"))
    assert response.status_code == 200


def test_samples_count_trace_scores_and_skip_categorical_ones(team):
    make_prompt(team)
    add_generations(team, 1, [1.0, 2.0])
    Score.objects.create(
        project=team.project, id="on-trace", trace_id="trace-v1-g0", name="quality", value=0.9
    )
    Score.objects.create(
        project=team.project,
        id="other-obs",
        trace_id="trace-v1-g0",
        observation_id="elsewhere",
        name="quality",
        value=0,
    )
    Score.objects.create(
        project=team.project, id="cat", trace_id="trace-v1-g1", name="tone", data_type="CATEGORICAL", value=1
    )
    samples = version_samples(team.project, NAME, 1)
    assert samples.generations == 2
    assert sorted(samples.latencies) == [1.0, 2.0] and samples.costs == [0.001, 0.001]
    assert samples.scores == {("quality", "NUMERIC"): [0.9]}
    assert version_samples(team.project, NAME, 1, limit=1).latencies == [2.0]  # the latest generation only
