"""Playground: replay a generation against a project's LLM connection, trace the replay; connections."""

from __future__ import annotations

import pytest
from django.db import connection as db

from tests.traces.api.factories import make_generation, make_trace
from tests.traces.fake_openai import REPLY, fake_openai
from traces import llm_connections
from traces.models import LlmConnection, Observation, Trace

pytestmark = pytest.mark.django_db

MESSAGES = [
    {"role": "system", "content": "You are a weather bot."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 21}'},
]
PARAMS = {"temperature": 0.2, "max_tokens": 256, "top_p": 0.9, "stop": ["\n\n"]}


def make_original(project):
    trace = make_trace(project, "trace-weather", name="weather")
    return make_generation(
        trace,
        "gen-weather",
        name="llm-call",
        input=MESSAGES,
        output={"role": "assistant", "content": "It is 21 °C in Paris."},
        provided_model_name="gpt-4o-mini",
        model_parameters=PARAMS,
    )


def page_url(project, observation) -> str:
    return f"/project/{project.id}/playground?observation={observation.id}&trace={observation.trace_id}"


def form_of(response) -> dict:
    """The playground form's fields as the page rendered them, ready to post back unchanged."""
    call = response.context["call"]
    return {
        "observation": response.context["original"].id,
        "trace": response.context["original"].trace_id,
        "connection": response.context["connection"].id,
        "model": call.model,
        "role": [row.role for row in call.messages],
        "content": [row.content for row in call.messages],
        "content_json": ["1" if row.is_json else "" for row in call.messages],
        "extra": [row.extra for row in call.messages],
        "param_name": [p.name for p in call.params],
        "param_value": [p.value for p in call.params],
    }


def test_member_replays_a_generation_with_its_exact_call_and_the_replay_is_traced(client, team):
    original = make_original(team.project)
    with fake_openai() as fake:
        llm_connections.create_connection(
            team.project, name="proxy", base_url=fake.base_url, api_key="sk-upstream-secret-123"
        )
        client.force_login(team.member)
        page = client.get(page_url(team.project, original))
        assert page.status_code == 200
        assert b'id="pg-run"' in page.content
        response = client.post(page_url(team.project, original), {**form_of(page), "action": "run"})

    assert response.status_code == 200
    assert fake.received == [{"model": "gpt-4o-mini", "messages": MESSAGES, **PARAMS}]
    assert fake.headers[0]["Authorization"] == "Bearer sk-upstream-secret-123"
    html = response.content.decode()
    assert REPLY in html
    assert "It is 21 °C in Paris." in html  # the original output beside it
    replay = Trace.objects.get(project=team.project, name="playground")
    assert replay.metadata["replayOf"] == original.id
    generation = Observation.objects.get(project=team.project, trace_id=replay.id)
    assert generation.type == "GENERATION"
    assert generation.usage_details == {"input": 12, "output": 5, "total": 17}
    assert generation.output["content"] == REPLY
    assert generation.model_parameters == PARAMS
    assert f"/project/{team.project.id}/traces/{replay.id}" in html


def test_edited_temperature_and_messages_are_what_the_server_receives(client, team):
    original = make_original(team.project)
    with fake_openai() as fake:
        llm_connections.create_connection(team.project, name="proxy", base_url=fake.base_url, api_key="")
        client.force_login(team.member)
        form = form_of(client.get(page_url(team.project, original)))
        form["param_value"][form["param_name"].index("temperature")] = "0.9"
        form["role"], form["content"] = ["user"], ["Just say hi"]
        form["content_json"], form["extra"] = [""], [""]
        client.post(page_url(team.project, original), {**form, "action": "run"})
    assert fake.received[0]["temperature"] == 0.9
    assert fake.received[0]["messages"] == [{"role": "user", "content": "Just say hi"}]
    assert "Authorization" not in fake.headers[0]


def test_a_string_input_becomes_one_user_message(client, team):
    trace = make_trace(team.project, "t-str")
    make_generation(trace, "g-str", input="Tell me a joke", model_parameters=None)
    client.force_login(team.member)
    response = client.get(f"/project/{team.project.id}/playground?observation=g-str")
    rows = response.context["call"].messages
    assert [(r.role, r.content) for r in rows] == [("user", "Tell me a joke")]


def test_member_adds_and_removes_message_rows(client, team):
    original = make_original(team.project)
    llm_connections.create_connection(
        team.project, name="proxy", base_url="http://127.0.0.1:9/v1", api_key=""
    )
    client.force_login(team.member)
    form = form_of(client.get(page_url(team.project, original)))
    added = client.post(page_url(team.project, original), {**form, "action": "add_message"})
    assert len(added.context["call"].messages) == 5
    removed = client.post(page_url(team.project, original), {**form, "action": "remove_message:0"})
    assert [r.role for r in removed.context["call"].messages] == ["user", "assistant", "tool"]


def test_an_unreachable_connection_shows_a_clear_error(client, team):
    original = make_original(team.project)
    llm_connections.create_connection(team.project, name="down", base_url="http://127.0.0.1:9/v1", api_key="")
    client.force_login(team.member)
    form = form_of(client.get(page_url(team.project, original)))
    response = client.post(page_url(team.project, original), {**form, "action": "run"})
    assert response.status_code == 200
    assert "could not be reached" in response.context["error"]
    assert not Trace.objects.filter(project=team.project, name="playground").exists()


def test_an_upstream_error_status_is_shown(client, team):
    original = make_original(team.project)
    with fake_openai(status=503) as fake:
        llm_connections.create_connection(team.project, name="proxy", base_url=fake.base_url, api_key="")
        client.force_login(team.member)
        form = form_of(client.get(page_url(team.project, original)))
        response = client.post(page_url(team.project, original), {**form, "action": "run"})
    assert "answered 503: upstream model is overloaded" in response.content.decode()


def test_viewer_opens_the_playground_but_cannot_run(client, team):
    original = make_original(team.project)
    llm_connections.create_connection(
        team.project, name="proxy", base_url="http://127.0.0.1:9/v1", api_key=""
    )
    client.force_login(team.viewer)
    page = client.get(page_url(team.project, original))
    assert page.status_code == 200
    assert b'id="pg-run"' not in page.content
    assert b"Weather in Paris?" in page.content
    assert client.post(page_url(team.project, original), {"action": "run"}).status_code == 403


def test_outsider_gets_404(client, team):
    original = make_original(team.project)
    client.force_login(team.outsider)
    assert client.get(page_url(team.project, original)).status_code == 404
    assert client.post(page_url(team.project, original), {"action": "run"}).status_code == 404


def test_another_projects_observation_is_404(client, team):
    trace = make_trace(team.other_project, "t-other")
    make_generation(trace, "g-other", input="secret prompt")
    client.force_login(team.member)
    assert client.get(f"/project/{team.project.id}/playground?observation=g-other").status_code == 404


def test_original_call_is_rendered_as_python_and_curl(client, team):
    original = make_original(team.project)
    client.force_login(team.viewer)
    html = client.get(page_url(team.project, original)).content.decode()
    assert 'data-copy="pg-python"' in html and 'data-copy="pg-curl"' in html
    python = client.get(page_url(team.project, original)).context["python_code"]
    compile(python, "copied.py", "exec")  # valid Python as copied
    assert "model='gpt-4o-mini'" in python and "temperature=0.2" in python and "tool_call_id" in python
    curl = client.get(page_url(team.project, original)).context["curl_code"]
    assert curl.startswith("curl https://api.openai.com/v1/chat/completions")
    assert '"max_tokens": 256' in curl


# --- Connections --------------------------------------------------------------------------------


def connections_url(team) -> str:
    return f"/project/{team.project.id}/settings/llm-connections"


def test_admin_creates_a_connection_and_the_key_is_stored_encrypted(client, team):
    raw_key = "sk-live-do-not-store-me-plain-9876"
    client.force_login(team.admin)
    response = client.post(
        connections_url(team),
        {"name": "litellm", "base_url": "https://litellm.example.com/v1/", "api_key": raw_key},
    )
    assert response.status_code == 302
    stored = LlmConnection.objects.get(project=team.project)
    assert stored.base_url == "https://litellm.example.com/v1"
    with db.cursor() as cursor:
        cursor.execute("SELECT row_to_json(c)::text FROM llm_connections c")
        rows = " ".join(row[0] for row in cursor.fetchall())
    assert raw_key not in rows
    assert raw_key[3:] not in rows
    assert llm_connections.decrypt_key(stored.encrypted_api_key) == raw_key
    page = client.get(connections_url(team)).content.decode()
    assert raw_key not in page
    assert "…9876" in page


def test_a_non_http_base_url_is_refused(client, team):
    client.force_login(team.admin)
    for bad in ("file:///etc/passwd", "ftp://host/v1", "javascript:alert(1)", "localhost:4000"):
        response = client.post(connections_url(team), {"name": "bad", "base_url": bad, "api_key": "k"})
        assert response.status_code == 200
        assert "http://" in response.content.decode()
    assert not LlmConnection.objects.exists()


def test_admin_deletes_a_connection(client, team):
    made = llm_connections.create_connection(team.project, name="x", base_url="http://h/v1", api_key="k")
    client.force_login(team.admin)
    response = client.post(f"{connections_url(team)}/{made.id}/delete")
    assert response.status_code == 302
    assert not LlmConnection.objects.exists()


def test_member_cannot_manage_connections(client, team):
    client.force_login(team.member)
    assert client.get(connections_url(team)).status_code == 403
    response = client.post(connections_url(team), {"name": "x", "base_url": "http://h/v1"})
    assert response.status_code == 403
    assert not LlmConnection.objects.exists()


def test_a_connection_of_another_project_cannot_be_deleted(client, team):
    other = llm_connections.create_connection(
        team.other_project, name="x", base_url="http://h/v1", api_key=""
    )
    client.force_login(team.admin)
    assert client.post(f"{connections_url(team)}/{other.id}/delete").status_code == 404
    assert LlmConnection.objects.filter(pk=other.pk).exists()


def test_the_trace_page_links_a_generation_to_the_playground(client, team):
    original = make_original(team.project)
    client.force_login(team.viewer)
    html = client.get(f"/project/{team.project.id}/traces/{original.trace_id}?observation={original.id}")
    expected = (
        f"/project/{team.project.id}/playground?observation={original.id}&amp;trace={original.trace_id}"
    )
    assert expected in html.content.decode()


def test_request_keys_beside_messages_and_unusual_roles_are_replayed(client, team):
    trace = make_trace(team.project, "t-tools")
    tools = [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}]
    messages = [{"role": "function", "name": "w", "content": "21"}, {"role": "user", "content": "And?"}]
    make_generation(trace, "g-tools", input={"messages": messages, "tools": tools}, model_parameters={})
    with fake_openai() as fake:
        llm_connections.create_connection(team.project, name="proxy", base_url=fake.base_url, api_key="")
        client.force_login(team.member)
        page = client.get(f"/project/{team.project.id}/playground?observation=g-tools&trace=t-tools")
        client.post(page.request["PATH_INFO"] + "?observation=g-tools", {**form_of(page), "action": "run"})
    assert fake.received == [{"model": "gpt-4o", "messages": messages, "tools": tools}]


def test_the_key_is_encrypted_with_encryption_key_and_a_changed_key_is_reported(team, settings):
    settings.ENCRYPTION_KEY = "first-encryption-key"
    made = llm_connections.create_connection(team.project, name="x", base_url="http://h/v1", api_key="sk-abc")
    assert llm_connections.decrypt_key(made.encrypted_api_key) == "sk-abc"
    settings.ENCRYPTION_KEY = "another-encryption-key"
    with pytest.raises(llm_connections.ConnectionFailed, match="cannot be decrypted"):
        llm_connections.decrypt_key(made.encrypted_api_key)


def test_htmx_run_swaps_only_the_results_panel_beside_the_original(client, team):
    original = make_original(team.project)
    with fake_openai() as fake:
        llm_connections.create_connection(team.project, name="proxy", base_url=fake.base_url, api_key="")
        client.force_login(team.member)
        form = form_of(client.get(page_url(team.project, original)))
        response = client.post(
            page_url(team.project, original),
            {**form, "action": "run"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="pg-results",
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'name="content"' not in html
    assert html.lstrip().startswith('<div class="pg-results" id="pg-results"')
    assert REPLY in html and "It is 21 °C in Paris." in html
    assert 'id="pg-replay-link"' in html
    assert len(fake.received) == 1


def test_the_run_button_posts_with_htmx_and_shows_a_loading_indicator(client, team):
    original = make_original(team.project)
    llm_connections.create_connection(team.project, name="p", base_url="http://127.0.0.1:9/v1", api_key="")
    client.force_login(team.member)
    html = client.get(page_url(team.project, original)).content.decode()
    run_button = html.split('id="pg-run"')[1].split(">")[0]
    assert 'hx-target="#pg-results"' in run_button and 'hx-indicator="#pg-running"' in run_button
    assert 'id="pg-running"' in html and "js/playground.js" in html
    assert "<script>" not in html  # no inline script (Content-Security-Policy)


def test_a_refused_key_is_explained_in_the_htmx_panel(client, team):
    original = make_original(team.project)
    with fake_openai(status=401, error="Incorrect API key provided") as fake:
        llm_connections.create_connection(team.project, name="proxy", base_url=fake.base_url, api_key="sk-x")
        client.force_login(team.member)
        form = form_of(client.get(page_url(team.project, original)))
        response = client.post(
            page_url(team.project, original),
            {**form, "action": "run"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="pg-results",
        )
    html = response.content.decode()
    assert 'id="pg-error"' in html and "<html" not in html
    assert "answered 401: Incorrect API key provided. The API key was refused" in html
    assert not Trace.objects.filter(project=team.project, name="playground").exists()


def test_a_replay_without_a_model_answers_422_with_the_reason_in_the_panel(client, team):
    original = make_original(team.project)
    with fake_openai() as fake:
        llm_connections.create_connection(team.project, name="proxy", base_url=fake.base_url, api_key="")
        client.force_login(team.member)
        form = form_of(client.get(page_url(team.project, original)))
        response = client.post(
            page_url(team.project, original),
            {**form, "model": "", "action": "run"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="pg-results",
        )
    assert response.status_code == 422
    assert "Name a model to run" in response.content.decode()
    assert fake.received == []
