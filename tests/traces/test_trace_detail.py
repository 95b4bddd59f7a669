"""The single-trace page: header, tree, timeline, observation pane, annotation, show all, media."""

from __future__ import annotations

import json
import re
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.traces.api.factories import (
    at,
    make_generation,
    make_observation,
    make_score,
    make_score_config,
    make_trace,
)
from traces.models import Comment, Media, Observation, Score

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

CHAT_INPUT = [
    {"role": "system", "content": "You are a weather bot."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 21}'},
]
CHAT_OUTPUT = {"role": "assistant", "content": "It is 21 °C in Paris."}


def url(project, trace_id: str, **query) -> str:
    base = f"/project/{project.id}/traces/{trace_id}"
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def pane(project, trace_id: str, **query) -> dict:
    return {"path": url(project, trace_id, **query), "HTTP_HX_TARGET": "observation-pane", **HTMX}


def make_agent_trace(project):
    """agent-run (span) > llm-call (generation) and get-weather (tool, error) > lookup (event)."""
    trace = make_trace(
        project,
        "trace-agent",
        name="weather-agent",
        user_id="user-42",
        session_id="session-7",
        tags=["prod", "weather"],
        release="r-2024.05",
        version="v3",
        environment="production",
        input={"question": "Weather in Paris?"},
        output="It is 21 °C in Paris.",
        metadata={"team": "search"},
    )
    make_observation(trace, "obs-root", name="agent-run", start_time=at(0), end_time=at(4))
    make_generation(
        trace,
        "obs-llm",
        name="llm-call",
        parent_observation_id="obs-root",
        start_time=at(0.5),
        end_time=at(2.5),
        completion_start_time=at(1.0),
        input=CHAT_INPUT,
        output=CHAT_OUTPUT,
        model_parameters={"temperature": 0.2, "max_tokens": 256},
        usage_details={"input": 120, "output": 30, "input_cached_tokens": 20, "total": 150},
        cost_details={"input": 0.0012, "output": 0.0006, "input_cached_tokens": 0.0001, "total": 0.0019},
        prompt_name="weather/system",
        prompt_version=3,
    )
    make_observation(
        trace,
        "obs-tool",
        name="get-weather",
        type="TOOL",
        parent_observation_id="obs-root",
        start_time=at(2.6),
        end_time=at(3.8),
        level="ERROR",
        status_message="upstream timed out",
    )
    make_observation(
        trace,
        "obs-event",
        name="cache-lookup",
        type="EVENT",
        parent_observation_id="obs-tool",
        start_time=at(2.7),
    )
    return trace


# --- Access -----------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(client, team):
    trace = make_agent_trace(team.project)
    response = client.get(url(team.project, trace.id))
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/?next=")


def test_outsider_gets_404(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.outsider)
    assert client.get(url(team.project, trace.id)).status_code == 404


def test_trace_of_another_project_is_404_through_this_project(client, team):
    other = make_trace(team.other_project, "elsewhere-trace")
    client.force_login(team.owner)
    assert client.get(url(team.project, other.id)).status_code == 404
    assert client.get(url(team.project, "no-such-trace")).status_code == 404


def test_unknown_observation_is_404(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    assert client.get(url(team.project, trace.id, observation="nope")).status_code == 404


# --- The page ---------------------------------------------------------------------------


def test_full_page_shows_the_header_tree_and_the_traces_own_io(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    response = client.get(url(team.project, trace.id))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>weather-agent</h1>" in html
    assert f'href="/project/{team.project.id}/users/user-42"' in html
    assert f'href="/project/{team.project.id}/sessions/session-7"' in html
    for text in ["prod", "weather", "production", "r-2024.05", "v3", "4.00s", "$0.0019", "120 → 30"]:
        assert text in html
    # every observation is in the tree, nested, with its type icon, duration and cost
    for name in ["agent-run", "llm-call", "get-weather", "cache-lookup"]:
        assert name in html
    assert html.count('<details class="node" open>') == 2  # agent-run and get-weather have children
    assert "2.00s · $0.0019 · 150 tok" in html
    assert 'class="badge level-error" title="upstream timed out">ERROR' in html
    # no observation selected: the pane shows the trace's own input, output and metadata
    assert "Weather in Paris?" in html
    assert "It is 21 °C in Paris." in html
    assert '<span class="json-key">team</span>' in html


def test_tree_links_select_the_node_through_htmx_with_a_real_url(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id)).content.decode()
    tree = html[html.index('<div class="tree"') :]
    assert tree.startswith(
        '<div class="tree" hx-boost="true" hx-target="#observation-pane" hx-swap="outerHTML show:none" '
        'hx-push-url="true">'
    )
    assert (
        f'<a class="node-link" href="/project/{team.project.id}/traces/{trace.id}?observation=obs-llm"'
        in tree
    )


def test_observation_url_selects_it_on_full_page_load(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id, observation="obs-llm")).content.decode()
    assert re.search(r'href="[^"]+\?observation=obs-llm" aria-current="true"', html)
    assert "<h2>llm-call</h2>" in html
    assert "<dt>Time to first token</dt><dd>500ms</dd>" in html
    assert "<code>gpt-4o</code>" in html
    assert f'href="/project/{team.project.id}/prompts/weather/system?version=3">weather/system v3</a>' in html
    assert "<tr><th>temperature</th><td><code>0.2</code></td></tr>" in html
    assert "<tr><th>max_tokens</th><td><code>256</code></td></tr>" in html


def test_usage_and_cost_are_broken_down_by_usage_type(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id, observation="obs-llm")).content.decode()
    rows = re.findall(
        r'<tr(?: class="total")?><th>(\w+)</th><td class="num">([\d,]*)</td><td class="num">([^<]*)</td>',
        html,
    )
    assert rows == [
        ("input", "120", "$0.0012"),
        ("output", "30", "$0.0006"),
        ("input_cached_tokens", "20", "$0.0001"),
        ("total", "150", "$0.0019"),
    ]


def test_error_level_and_status_message_show_in_the_pane(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id, observation="obs-tool")).content.decode()
    assert '<p class="status-message level-error"><strong>Error:</strong> upstream timed out</p>' in html


def test_htmx_pane_request_answers_only_the_pane_and_updates_the_tabs(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    response = client.get(**pane(team.project, trace.id, observation="obs-llm"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="observation-pane"')
    assert "<h2>llm-call</h2>" in html
    assert 'id="view-tabs" class="tabs" hx-swap-oob="true"' in html
    assert f"traces/{trace.id}?observation=obs-llm&amp;view=timeline" in html
    assert 'id="trace-scores"' in html
    assert "cache-lookup" not in html  # the tree is not rendered again
    assert "HX-Request" in response["Vary"]


def test_timeline_places_bars_on_one_axis_with_time_to_first_token(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id, view="timeline")).content.decode()
    assert 'class="tl-bar type-span" style="left:0.000%;width:100.000%"' in html  # agent-run, 0-4 s
    assert 'class="tl-bar type-generation" style="left:12.500%;width:50.000%"' in html  # llm-call, 0.5-2.5 s
    # first token at 1.0 s: a quarter into the 2 s bar
    assert '<span class="tl-ttft" style="left:25.000%" title="Time to first token: 500ms">' in html
    assert 'title="Time to first token: 500ms"><span class="tl-label"' in html
    assert 'class="tl-bar type-event" style="left:67.500%;width:0.250%"' in html  # zero-length event
    ticks = re.findall(r'<span class="tl-tick" style="left:([\d.]+)%">([^<]+)</span>', html)
    assert ticks[0] == ("0.000", "0ms") and ticks[-1] == ("100.000", "4.00s")


def test_switching_to_the_timeline_through_htmx_swaps_the_navigation(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    response = client.get(
        url(team.project, trace.id, observation="obs-tool", view="timeline"),
        HTTP_HX_TARGET="trace-nav",
        **HTMX,
    )
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="trace-nav"')
    assert 'class="tl-row node-link level-error"' in html
    assert re.search(r'href="[^"]+\?observation=obs-tool&amp;view=timeline" aria-current="true"', html)
    assert 'id="observation-pane"' not in html


def test_query_count_does_not_grow_with_the_observations(client, team, django_assert_num_queries):
    small = make_trace(team.project, "small")
    make_observation(small, "only-one", name="step")
    big = make_trace(team.project, "big")
    Observation.objects.bulk_create(
        Observation(
            project=team.project,
            trace_id="big",
            id=f"big-{i}",
            parent_observation_id=f"big-{i // 4}" if i else None,
            name=f"step-{i}",
            start_time=at(i / 100),
            end_time=at(i / 100 + 0.5),
        )
        for i in range(200)
    )
    make_score(team.project, trace_id="big", observation_id="big-3")
    make_score(team.project, trace_id="small", observation_id="only-one")
    client.force_login(team.member)
    make_score_config(team.project, name="helpful")
    client.get(url(team.project, small.id))  # warm up caches (content types, sessions)
    with CaptureQueriesContext(connection) as small_page:
        assert client.get(url(team.project, small.id, observation="only-one")).status_code == 200
    with django_assert_num_queries(len(small_page.captured_queries)):
        response = client.get(url(team.project, big.id, observation="big-3"))
    assert response.content.decode().count('class="node-link"') == 200


def test_a_thousand_observations_render_quickly(client, team):
    trace = make_trace(team.project, "huge")
    Observation.objects.bulk_create(
        Observation(
            project=team.project,
            trace_id="huge",
            id=f"o-{i}",
            parent_observation_id=f"o-{i // 3}" if i else None,
            type="GENERATION" if i % 5 == 0 else "SPAN",
            name=f"step-{i}",
            start_time=at(i / 1000),
            end_time=at(i / 1000 + 0.2),
            usage_details={"input": 10, "output": 5, "total": 15},
            total_cost="0.0003",
            input={"big": "x" * 5000},
        )
        for i in range(1000)
    )
    client.force_login(team.viewer)
    client.get(url(team.project, trace.id))
    for view in ("tree", "timeline"):
        started = time.perf_counter()
        response = client.get(url(team.project, trace.id, view=view))
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        assert response.content.decode().count("node-link") >= 1000
        assert elapsed < 1.5, f"{view} took {elapsed:.3f}s"


# --- Rendering input and output ---------------------------------------------------------


def test_openai_messages_render_as_a_conversation_with_tool_calls_and_results(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id, observation="obs-llm")).content.decode()
    roles = re.findall(r'<li class="chat-message role-(\w+)">', html)
    assert roles == ["system", "user", "assistant", "tool", "assistant"]
    assert (
        '<span class="call-badge">call</span> <code class="tool-name">get_weather</code> <span class="muted">call_1</span>'
        in html
    )
    # the arguments string is JSON: shown as a tree of keys
    assert (
        '<span class="json-key">city</span><span class="json-string"><span class="text-value">Paris</span>'
        in html
    )
    assert "result of <code>get_weather</code> <code>call_1</code>" in html
    assert '<span class="json-key">temperature</span><span class="json-number">21</span>' in html
    assert "It is 21 °C in Paris." in html


def test_media_references_render_as_images_served_through_a_download_redirect(
    client, team, settings, tmp_path
):
    settings.MEDIA_S3_BUCKET = ""
    settings.MEDIA_LOCAL_ROOT = tmp_path
    trace = make_trace(team.project, "with-image")
    reference = "@@@langfuseMedia:type=image/png|id=abcDEF123_-xyz0123456|source=base64_data_uri@@@"
    make_observation(
        trace,
        "gen-image",
        type="GENERATION",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": reference}},
                ],
            }
        ],
    )
    Media.objects.create(
        project=team.project,
        id="abcDEF123_-xyz0123456",
        sha256_hash="h" * 44,
        content_type="image/png",
        content_length=3,
        bucket_path=f"{team.project.id}/abcDEF123_-xyz0123456",
        upload_http_status=200,
    )
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id, observation="gen-image")).content.decode()
    media_url = f"/project/{team.project.id}/media/abcDEF123_-xyz0123456"
    assert f'<img src="{media_url}" alt="image/png attachment" loading="lazy">' in html
    assert "@@@langfuseMedia" not in html
    download = client.get(media_url)
    assert download.status_code == 302
    assert "/api/public/media-download/" in download["Location"]
    assert client.get(f"/project/{team.project.id}/media/unknown").status_code == 404
    client.force_login(team.outsider)
    assert client.get(media_url).status_code == 404


def test_long_strings_are_cut_with_a_show_all_that_loads_the_rest(client, team):
    long_text = "word " * 2000 + "THE-END"
    trace = make_trace(team.project, "long", output={"answer": long_text})
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id)).content.decode()
    assert "THE-END" not in html
    match = re.search(
        r'<a class="show-all" href="([^"]+)" hx-get="[^"]+" hx-target="closest .text-value"', html
    )
    assert match, "no show-all link"
    assert f"Show all ({len(long_text)} characters)" in html
    more = client.get(match.group(1).replace("&amp;", "&"), **HTMX)
    assert more.status_code == 200
    body = more.content.decode()
    assert "<html" not in body
    assert "THE-END" in body
    assert "show-all" not in body


def test_long_lists_show_the_first_items_and_a_show_all(client, team):
    trace = make_trace(team.project, "many-items", input={"items": list(range(250))})
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id)).content.decode()
    assert '<span class="json-number">99</span>' in html
    assert '<span class="json-number">100</span>' not in html
    assert '<span class="muted">150 more</span>' in html
    link = re.search(r'<span class="muted">150 more</span> <a class="show-all" href="([^"]+)"', html).group(1)
    body = client.get(link.replace("&amp;", "&"), **HTMX).content.decode()
    assert '<span class="json-number">249</span>' in body


def test_show_all_refuses_bad_paths_and_other_projects(client, team):
    trace = make_trace(team.project, "t", input={"a": "b"})
    client.force_login(team.viewer)
    base = f"/project/{team.project.id}/trace-value?trace={trace.id}&field=input"
    assert client.get(base + "&path=" + json.dumps(["zzz"])).status_code == 404
    assert client.get(base + "&path=not-json").status_code == 400
    assert (
        client.get(f"/project/{team.project.id}/trace-value?trace={trace.id}&field=secrets").status_code
        == 400
    )
    client.force_login(team.outsider)
    assert client.get(base + "&path=[]").status_code == 404


# --- Scores and comments ----------------------------------------------------------------


def test_scores_and_comments_of_the_selected_observation_show_in_its_pane(client, team):
    trace = make_agent_trace(team.project)
    make_score(team.project, trace_id=trace.id, name="trace-level", value=0.9)
    make_score(
        team.project,
        trace_id=trace.id,
        observation_id="obs-llm",
        name="correctness",
        data_type="CATEGORICAL",
        string_value="partially",
        value=1,
        comment="missed the unit",
    )
    Comment.objects.create(
        project=team.project, object_type="OBSERVATION", object_id="obs-llm", content="Look here"
    )
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id, observation="obs-llm")).content.decode()
    pane_html = html[html.index('id="observation-pane"') :]
    assert "correctness</span> <strong>partially</strong>" in pane_html
    assert "missed the unit" in pane_html
    assert "Look here" in pane_html
    assert "trace-level</span> <strong>" not in pane_html
    header = html[: html.index('id="observation-pane"')]
    assert '<span class="score-name">trace-level</span> 0.9' in header
    assert "★1 · ✎1" in header  # the llm-call node counts them


def test_viewer_sees_no_annotation_forms_and_cannot_post(client, team):
    trace = make_agent_trace(team.project)
    config = make_score_config(team.project, name="helpful", min_value=0, max_value=1)
    client.force_login(team.viewer)
    html = client.get(url(team.project, trace.id)).content.decode()
    assert "score-form" not in html and "comment-form" not in html
    score = client.post(
        f"/project/{team.project.id}/annotations/score",
        {"trace_id": trace.id, "config_id": config.id, "value": "1"},
    )
    comment = client.post(
        f"/project/{team.project.id}/annotations/comment", {"trace_id": trace.id, "content": "hi"}
    )
    assert score.status_code == 403 and comment.status_code == 403
    assert not Score.objects.filter(source="ANNOTATION").exists()
    assert not Comment.objects.exists()


def test_outsider_posting_an_annotation_gets_404(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.outsider)
    response = client.post(
        f"/project/{team.project.id}/annotations/comment", {"trace_id": trace.id, "content": "x"}
    )
    assert response.status_code == 404


def test_member_adds_a_numeric_score_to_the_trace_and_the_header_updates(client, team):
    trace = make_agent_trace(team.project)
    config = make_score_config(team.project, name="helpful", min_value=0, max_value=5)
    client.force_login(team.member)
    assert 'class="score-form"' in client.get(url(team.project, trace.id)).content.decode()
    response = client.post(
        f"/project/{team.project.id}/annotations/score",
        {"trace_id": trace.id, "config_id": config.id, "value": "4", "comment": "good", "view": "tree"},
        **HTMX,
    )
    assert response.status_code == 200
    score = Score.objects.get(name="helpful")
    assert (score.value, score.source, score.author_user_id, score.observation_id) == (
        4.0,
        "ANNOTATION",
        team.member.pk,
        None,
    )
    assert score.config_id == config.id and score.comment == "good" and score.environment == "production"
    html = response.content.decode()
    assert "<html" not in html
    assert '<div id="trace-scores" class="score-chips" hx-swap-oob="true">' in html
    assert '<span class="score-name">helpful</span> 4</span>' in html
    assert 'value="4"' in html and ">Update</button>" in html


def test_annotating_again_replaces_the_persons_value(client, team):
    trace = make_agent_trace(team.project)
    config = make_score_config(team.project, name="helpful", min_value=0, max_value=5)
    client.force_login(team.member)
    for value in ("2", "3"):
        client.post(
            f"/project/{team.project.id}/annotations/score",
            {"trace_id": trace.id, "observation_id": "obs-llm", "config_id": config.id, "value": value},
            **HTMX,
        )
    assert list(Score.objects.values_list("observation_id", "value")) == [("obs-llm", 3.0)]


@pytest.mark.parametrize(
    ("data_type", "extra", "entered", "value", "string_value"),
    [
        (
            "CATEGORICAL",
            {"categories": [{"label": "bad", "value": 0}, {"label": "good", "value": 1}]},
            "good",
            1.0,
            "good",
        ),
        ("BOOLEAN", {}, "False", 0.0, "False"),
    ],
)
def test_member_scores_an_observation_by_category_or_boolean(
    client, team, data_type, extra, entered, value, string_value
):
    trace = make_agent_trace(team.project)
    config = make_score_config(team.project, name="verdict", data_type=data_type, **extra)
    client.force_login(team.member)
    html = client.get(url(team.project, trace.id, observation="obs-llm")).content.decode()
    assert f'<option value="{entered}">{entered}</option>' in html
    response = client.post(
        f"/project/{team.project.id}/annotations/score",
        {"trace_id": trace.id, "observation_id": "obs-llm", "config_id": config.id, "value": entered},
        **HTMX,
    )
    assert response.status_code == 200
    score = Score.objects.get(name="verdict")
    assert (score.value, score.string_value, score.data_type, score.observation_id) == (
        value,
        string_value,
        data_type,
        "obs-llm",
    )
    assert f"verdict</span> <strong>{string_value}</strong>" in response.content.decode()


def test_score_outside_the_config_range_is_refused_with_a_message(client, team):
    trace = make_agent_trace(team.project)
    config = make_score_config(team.project, name="helpful", min_value=0, max_value=5)
    client.force_login(team.member)
    response = client.post(
        f"/project/{team.project.id}/annotations/score",
        {"trace_id": trace.id, "config_id": config.id, "value": "9"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "helpful must be at most 5" in response.content.decode()
    assert not Score.objects.exists()


def test_archived_or_foreign_score_configs_cannot_be_used(client, team):
    trace = make_agent_trace(team.project)
    archived = make_score_config(team.project, name="old", is_archived=True)
    foreign = make_score_config(team.other_project, name="theirs")
    client.force_login(team.member)
    html = client.get(url(team.project, trace.id)).content.decode()
    assert "score-old" not in html
    post = f"/project/{team.project.id}/annotations/score"
    refused = client.post(post, {"trace_id": trace.id, "config_id": archived.id, "value": "1"}, **HTMX)
    assert "cannot be used" in refused.content.decode()
    assert (
        client.post(post, {"trace_id": trace.id, "config_id": foreign.id, "value": "1"}, **HTMX).status_code
        == 404
    )
    assert not Score.objects.exists()


def test_member_comments_on_an_observation(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.member)
    response = client.post(
        f"/project/{team.project.id}/annotations/comment",
        {
            "trace_id": trace.id,
            "observation_id": "obs-tool",
            "content": "Retry this tool",
            "view": "timeline",
        },
        **HTMX,
    )
    assert response.status_code == 200
    comment = Comment.objects.get()
    assert (comment.object_type, comment.object_id, comment.author_user_id) == (
        "OBSERVATION",
        "obs-tool",
        team.member.pk,
    )
    html = response.content.decode()
    assert f"<strong>{team.member.email}</strong>" in html and "Retry this tool" in html
    assert "view=timeline" in html  # the tabs keep the view


def test_empty_comment_is_refused(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.member)
    response = client.post(
        f"/project/{team.project.id}/annotations/comment", {"trace_id": trace.id, "content": "   "}, **HTMX
    )
    assert "Write something to comment" in response.content.decode()
    assert not Comment.objects.exists()


def test_comment_on_an_observation_of_another_trace_is_404(client, team):
    make_agent_trace(team.project)
    other = make_trace(team.project, "other-trace")
    client.force_login(team.member)
    response = client.post(
        f"/project/{team.project.id}/annotations/comment",
        {"trace_id": other.id, "observation_id": "obs-llm", "content": "x"},
    )
    assert response.status_code == 404


def test_without_htmx_annotation_redirects_back_to_the_page(client, team):
    trace = make_agent_trace(team.project)
    client.force_login(team.member)
    response = client.post(
        f"/project/{team.project.id}/annotations/comment",
        {"trace_id": trace.id, "observation_id": "obs-llm", "content": "Plain form post"},
    )
    assert response.status_code == 302
    assert response["Location"] == url(team.project, trace.id, observation="obs-llm")
    assert "Plain form post" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("view", ["tree", "timeline"])
def test_a_trace_without_observations_still_renders(client, team, view):
    trace = make_trace(team.project, "bare", name="bare-trace", input="just text")
    client.force_login(team.viewer)
    response = client.get(url(team.project, trace.id, view=view))
    assert response.status_code == 200
    html = response.content.decode()
    assert "bare-trace" in html and "just text" in html
    assert 'class="node-link"' not in html


def test_trace_ids_with_slashes_and_spaces_work(client, team):
    trace = make_trace(team.project, "tenant/a b", name="odd-id")
    make_observation(trace, "child/1", name="child")
    client.force_login(team.viewer)
    response = client.get(f"/project/{team.project.id}/traces/tenant/a%20b?observation=child/1")
    assert response.status_code == 200
    assert "<h2>child</h2>" in response.content.decode()
