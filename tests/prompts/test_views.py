"""Prompt pages: list grouped by folder, a prompt's page, the editor, labels with protection, the diff."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from prompts import versions
from prompts.models import Prompt
from traces.models import Observation

pytestmark = pytest.mark.django_db


def url(team, name: str = "") -> str:
    base = f"/project/{team.project.pk}/prompts"
    return f"{base}/{quote(name, safe='/')}" if name else base


def labels_url(team, name: str) -> str:
    return f"/project/{team.project.pk}/prompt-labels/{quote(name, safe='/')}"


def make_versions(
    team, name: str = "support/answer", texts=("Hi {{name}}", "Hello {{name}}, how can I help?")
):
    rows = []
    for position, text in enumerate(texts):
        labels = ["production"] if position == 0 else []
        rows.append(
            versions.create_version(
                team.project,
                name,
                "text",
                text,
                {"temperature": position},
                labels,
                None,
                f"take {position + 1}",
            )
        )
    return rows


def label_map(team, name: str) -> dict[int, list[str]]:
    return {row.version: sorted(row.labels) for row in Prompt.objects.for_project(team.project).named(name)}


# --- list ---------------------------------------------------------------------------------------------


def test_list_groups_prompts_by_folder_with_labels_versions_and_usage(client, team):
    make_versions(team)
    versions.create_version(team.project, "plain", "text", "x")
    now = timezone.now()
    for i, start in enumerate([now, now - timedelta(days=2), now - timedelta(days=30)]):
        Observation.objects.create(
            project=team.project,
            id=f"o{i}",
            trace_id="t",
            type="GENERATION",
            start_time=start,
            prompt_name="support/answer",
            prompt_version=1,
        )
    client.force_login(team.viewer)
    response = client.get(url(team))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-folder="support"' in html and 'data-folder=""' in html
    row = html.split('data-prompt="support/answer"')[1].split("</tr>")[0]
    assert "production" in row and "latest" in row
    assert '<td class="num">2</td>' in row
    assert '<td class="num usage">2</td>' in row  # the 30-day-old generation is outside the window
    assert "New prompt" not in html  # viewers cannot create


def test_list_queries_stay_constant_with_more_prompts(client, team, django_assert_max_num_queries):
    for i in range(6):
        versions.create_version(team.project, f"f{i % 2}/p{i}", "text", "x")
    client.force_login(team.member)
    with django_assert_max_num_queries(12):
        assert client.get(url(team)).status_code == 200


def test_outsider_gets_404_on_every_prompt_page(client, team):
    make_versions(team)
    client.force_login(team.outsider)
    assert client.get(url(team)).status_code == 404
    assert client.get(url(team, "support/answer")).status_code == 404
    assert client.post(labels_url(team, "support/answer"), {"version": 1, "label": "x"}).status_code == 404


# --- a prompt's page --------------------------------------------------------------------------------------


def test_prompt_page_shows_history_with_commit_messages_and_variables(client, team):
    make_versions(team)
    client.force_login(team.viewer)
    html = client.get(url(team, "support/answer")).content.decode()
    assert "take 1" in html and "take 2" in html
    assert '<mark class="var">{{name}}</mark>' in html
    assert '<code class="var">name</code>' in html
    assert "Save new version" not in html  # read-only for viewers


def test_unknown_prompt_is_404(client, team):
    client.force_login(team.member)
    assert client.get(url(team, "nothing/here")).status_code == 404


def test_member_saves_a_new_text_version_from_the_editor(client, team):
    make_versions(team)
    client.force_login(team.member)
    response = client.post(
        url(team, "support/answer"),
        {
            "type": "text",
            "text": "Hey {{name}} {{topic}}",
            "config": '{"model": "gpt-4o"}',
            "labels": "staging",
            "commit_message": "friendlier",
        },
    )
    assert response.status_code == 302
    row = Prompt.objects.get(project=team.project, name="support/answer", version=3)
    assert row.prompt == "Hey {{name}} {{topic}}"
    assert row.config == {"model": "gpt-4o"}
    assert sorted(row.labels) == ["latest", "staging"]
    assert row.created_by == team.member.email
    assert row.commit_message == "friendlier"


def test_invalid_config_json_is_shown_with_a_clear_error(client, team):
    make_versions(team)
    client.force_login(team.member)
    response = client.post(url(team, "support/answer"), {"type": "text", "text": "x", "config": '{"a": }'})
    assert response.status_code == 200
    assert "Config is not valid JSON" in response.content.decode()
    assert Prompt.objects.filter(name="support/answer").count() == 2


def test_member_cannot_give_a_new_version_the_protected_production_label(client, team):
    make_versions(team)
    client.force_login(team.member)
    response = client.post(url(team, "support/answer"), {"type": "text", "text": "x", "labels": "production"})
    assert response.status_code == 200
    assert "Only owners and admins may move the protected label(s) production" in response.content.decode()


def test_viewer_cannot_post_a_version(client, team):
    make_versions(team)
    client.force_login(team.viewer)
    assert client.post(url(team, "support/answer"), {"type": "text", "text": "x"}).status_code == 403


def test_new_chat_prompt_with_a_placeholder_from_the_new_page(client, team):
    client.force_login(team.member)
    response = client.post(
        f"{url(team)}/new",
        {
            "name": "bots/helper",
            "type": "chat",
            "role": ["system", "placeholder", "user", "assistant"],
            "content": ["You help with {{topic}}", "history", "{{question}}", ""],
            "config": "{}",
        },
    )
    assert response.status_code == 302
    row = Prompt.objects.get(project=team.project, name="bots/helper")
    assert row.type == "chat"
    assert row.prompt == [
        {"role": "system", "content": "You help with {{topic}}"},
        {"type": "placeholder", "name": "history"},
        {"role": "user", "content": "{{question}}"},
    ]
    html = client.get(url(team, "bots/helper")).content.decode()
    assert "Placeholders: <code>history</code>" in html


def test_viewer_cannot_open_the_new_prompt_page(client, team):
    client.force_login(team.viewer)
    assert client.get(f"{url(team)}/new").status_code == 403


# --- labels ------------------------------------------------------------------------------------------------


def test_admin_promotes_a_version_to_production(client, team):
    make_versions(team)
    client.force_login(team.admin)
    response = client.post(
        labels_url(team, "support/answer"), {"version": 2, "label": "production", "action": "add"}
    )
    assert response.status_code == 302
    assert label_map(team, "support/answer") == {1: [], 2: ["latest", "production"]}


def test_member_cannot_move_production_but_can_move_other_labels(client, team):
    make_versions(team)
    client.force_login(team.member)
    client.post(labels_url(team, "support/answer"), {"version": 2, "label": "production", "action": "add"})
    assert label_map(team, "support/answer") == {1: ["production"], 2: ["latest"]}
    client.post(labels_url(team, "support/answer"), {"version": 2, "label": "staging", "action": "add"})
    client.post(labels_url(team, "support/answer"), {"version": 1, "label": "production", "action": "remove"})
    assert label_map(team, "support/answer") == {1: ["production"], 2: ["latest", "staging"]}
    page = client.get(url(team, "support/answer"), follow=True).content.decode()
    assert "you cannot move them" in page


def test_viewer_cannot_move_labels(client, team):
    make_versions(team)
    client.force_login(team.viewer)
    response = client.post(
        labels_url(team, "support/answer"), {"version": 2, "label": "staging", "action": "add"}
    )
    assert response.status_code == 403


# --- diff --------------------------------------------------------------------------------------------------


def test_diff_of_two_text_versions_shows_removed_and_added_lines_and_config(client, team):
    make_versions(team, texts=("line one\nline two", "line one\nline 2\nline three"))
    client.force_login(team.viewer)
    response = client.get(
        url(team, "support/answer"),
        {"base": 1, "compare": 2},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="prompt-diff",
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="prompt-diff"' in html
    assert '<span class="diff-same">  line one</span>' in html
    assert '<span class="diff-remove">- line two</span>' in html
    assert '<span class="diff-add">+ line 2</span>' in html
    assert '<span class="diff-remove">-   &quot;temperature&quot;: 0</span>' in html


def test_diff_of_chat_versions_is_per_message(client, team):
    first = [{"role": "system", "content": "Be short."}, {"role": "user", "content": "{{q}}"}]
    second = [
        {"role": "system", "content": "Be very short."},
        {"role": "user", "content": "{{q}}"},
        {"type": "placeholder", "name": "history"},
    ]
    versions.create_version(team.project, "chatty", "chat", first)
    versions.create_version(team.project, "chatty", "chat", second)
    client.force_login(team.viewer)
    html = client.get(url(team, "chatty"), {"base": 1, "compare": 2}).content.decode()
    assert "Message 1: system" in html
    assert '<span class="diff-add">+ Be very short.</span>' in html
    assert "Message 3: (none) → placeholder" in html


def test_diff_with_a_version_that_does_not_exist_says_so(client, team):
    make_versions(team)
    client.force_login(team.viewer)
    html = client.get(url(team, "support/answer"), {"base": 1, "compare": 9}).content.decode()
    assert "Pick two versions of this prompt" in html


# --- per-version metrics ----------------------------------------------------------------------------------


def test_versions_table_shows_metrics_of_the_linked_generations(client, team):
    from prompts.queries import version_metrics
    from traces.models import Score

    make_versions(team)
    start = timezone.now() - timedelta(hours=1)
    for i, seconds in enumerate([1, 2, 3, 4, 10]):
        Observation.objects.create(
            project=team.project,
            id=f"g{i}",
            trace_id=f"t{i}",
            type="GENERATION",
            start_time=start,
            end_time=start + timedelta(seconds=seconds),
            usage_details={"total": 100 * (i + 1)},
            total_cost="0.001",
            prompt_name="support/answer",
            prompt_version=2,
        )
    Score.objects.create(
        project=team.project, id="s1", trace_id="t0", observation_id="g0", name="quality", value=1
    )
    Score.objects.create(project=team.project, id="s2", trace_id="t1", name="quality", value=0)
    metrics = version_metrics(team.project, "support/answer")
    assert set(metrics) == {2}
    second = metrics[2]
    assert second.count == 5
    assert second.median_latency == pytest.approx(3)
    assert second.p95_latency == pytest.approx(8.8)
    assert second.avg_tokens == pytest.approx(300)
    assert second.avg_cost == pytest.approx(0.001)
    assert second.scores == {"quality": pytest.approx(0.5)}
    client.force_login(team.viewer)
    html = client.get(url(team, "support/answer")).content.decode()
    row = html.split('data-version="2"')[1].split("</tr>")[0]
    assert '<td class="num metric-count">5</td>' in row
    assert "3.00s" in row and "8.80s" in row and "quality: 0.50" in row
