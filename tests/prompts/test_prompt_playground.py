"""Try a prompt version in the playground: variables filled in, run against a connection, traced and
linked to the version; htmx partial and full page; role checks; errors from the LLM."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from prompts import versions
from prompts.models import Prompt
from tests.traces.fake_openai import REPLY, fake_openai
from traces import llm_connections
from traces.models import Observation, Trace

pytestmark = pytest.mark.django_db

NAME = "support/answer"
SYSTEM = "You answer for {{company}}. Reply in {{ language }}."
CONFIG = {"model": "gpt-4o-mini", "temperature": 0.3, "max_tokens": 200, "supported_languages": ["en", "fr"]}
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "pg-results"}


def make_chat_prompt(project) -> Prompt:
    versions.create_version(project, NAME, "chat", [{"role": "user", "content": "old {{x}}"}])
    return versions.create_version(
        project,
        NAME,
        "chat",
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "{{question}}"}],
        config=CONFIG,
    )


def url(team, row: Prompt) -> str:
    return f"/project/{team.project.pk}/prompt-playground/{quote(row.name, safe='/')}?version={row.version}"


def filled(connection, **overrides) -> dict:
    form = {
        "connection": connection.id if connection else "",
        "model": "gpt-4o-mini",
        "var.company": "Acme",
        "var.language": "French",
        "var.question": "Where is my parcel?",
        "param_name": ["temperature", "max_tokens"],
        "param_value": ["0.3", "200"],
        "action": "run",
    }
    return {**form, **overrides}


def test_the_page_has_an_input_per_variable_and_the_config_as_model_and_parameters(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.viewer)
    response = client.get(url(team, row))
    assert response.status_code == 200
    html = response.content.decode()
    for variable in ("company", "language", "question"):
        assert f'name="var.{variable}"' in html
    assert 'name="var.x"' not in html  # a variable of version 1 only
    call = response.context["call"]
    assert call.model == "gpt-4o-mini"
    assert [(p.name, p.value) for p in call.params] == [("temperature", "0.3"), ("max_tokens", "200")]
    assert response.context["draft"].ignored_config == ["supported_languages"]
    assert 'data-copy="pg-python"' in html and 'data-copy="pg-curl"' in html


def test_member_runs_the_compiled_version_and_the_run_is_linked_to_it(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="proxy", base_url=fake.base_url, api_key="sk-secret-key-1234"
        )
        response = client.post(url(team, row), filled(connection, **{"param_value": ["0.9", "200"]}))
    assert response.status_code == 200
    assert fake.received == [
        {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "You answer for Acme. Reply in French."},
                {"role": "user", "content": "Where is my parcel?"},
            ],
            "temperature": 0.9,
            "max_tokens": 200,
        }
    ]
    assert fake.headers[0]["Authorization"] == "Bearer sk-secret-key-1234"
    html = response.content.decode()
    assert "<html" in html and REPLY in html
    generation = Observation.objects.get(project=team.project, type="GENERATION")
    assert (generation.prompt_name, generation.prompt_version, generation.prompt_id) == (NAME, 2, row.id)
    trace = Trace.objects.get(project=team.project, id=generation.trace_id)
    assert trace.name == "playground"
    assert trace.metadata["variables"] == {
        "company": "Acme",
        "language": "French",
        "question": "Where is my parcel?",
    }
    assert f"/project/{team.project.pk}/traces/{trace.id}" in html
    # the run counts among the version's generations and metrics
    detail = client.get(f"/project/{team.project.pk}/prompts/{quote(NAME, safe='/')}?version=2")
    assert f'data-observation="{generation.id}"' in detail.content.decode()
    metrics = dict(detail.context["versions"])
    assert [m.count for r, m in metrics.items() if r.version == 2] == [1]


def test_htmx_run_returns_only_the_results_panel(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        response = client.post(url(team, row), filled(connection), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'name="var.company"' not in html
    assert html.lstrip().startswith('<div class="pg-results" id="pg-results"')
    assert REPLY in html and 'id="pg-replay-link"' in html and 'id="pg-version-link"' in html
    assert "You answer for Acme. Reply in French." in html  # the messages sent
    assert "HX-Request" in response["Vary"]


def test_missing_variables_are_named_and_nothing_is_sent(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        response = client.post(
            url(team, row), filled(connection, **{"var.language": "", "var.question": ""}), **HTMX
        )
    assert response.status_code == 422
    assert response.context["error"] == (
        "Fill in every variable before running: {{language}}, {{question}} (nothing was sent)"
    )
    assert 'id="pg-error"' in response.content.decode()
    assert fake.received == []
    assert not Trace.objects.filter(project=team.project).exists()


def test_a_text_prompt_is_sent_as_one_user_message_with_composition_resolved(client, team):
    versions.create_version(team.project, "tone", "text", "Be {{mood}}.", labels=["production"])
    row = versions.create_version(
        team.project, "greet", "text", "@@@langfusePrompt:name=tone|label=production@@@ Greet {{person}}."
    )
    client.force_login(team.member)
    page = client.get(url(team, row))
    assert list(page.context["draft"].inputs.variables) == ["mood", "person"]
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key="", default_model="llama-3"
        )
        client.post(
            url(team, row),
            {
                "connection": connection.id,
                "model": "llama-3",
                "var.mood": "warm",
                "var.person": "Ada",
                "action": "run",
            },
        )
    assert fake.received == [
        {"model": "llama-3", "messages": [{"role": "user", "content": "Be warm. Greet Ada."}]}
    ]


def test_a_call_without_a_model_is_refused(client, team):
    row = versions.create_version(team.project, "no-model", "text", "Hello")
    client.force_login(team.member)
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        response = client.post(url(team, row), {"connection": connection.id, "model": " ", "action": "run"})
    assert response.status_code == 422
    assert response.context["error"] == "Name a model to run"
    assert fake.received == []


def test_a_reference_that_no_longer_resolves_is_shown_and_not_run(client, team):
    row = Prompt.objects.create(
        project=team.project,
        name="broken",
        version=1,
        prompt="@@@langfusePrompt:name=gone|label=production@@@",
    )
    client.force_login(team.member)
    page = client.get(url(team, row))
    assert page.status_code == 200
    assert (
        page.context["error"]
        == "Prompt dependency not found: 'gone' with label 'production' (referenced by 'broken')"
    )
    assert 'id="pg-error"' in page.content.decode()
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        response = client.post(url(team, row), {"connection": connection.id, "model": "m", "action": "run"})
    assert response.status_code == 422
    assert fake.received == []


def test_placeholders_take_a_json_list_of_messages(client, team):
    row = versions.create_version(
        team.project,
        "chat-with-history",
        "chat",
        [{"role": "system", "content": "Help."}, {"type": "placeholder", "name": "history"}],
    )
    client.force_login(team.member)
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        base = {"connection": connection.id, "model": "m", "action": "run"}
        bad = client.post(url(team, row), {**base, "placeholder.history": "not json"})
        history = '[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]'
        client.post(url(team, row), {**base, "placeholder.history": history})
    assert bad.status_code == 422
    assert "Placeholder history: not valid JSON" in bad.context["error"]
    assert len(fake.received) == 1
    assert fake.received[0]["messages"] == [
        {"role": "system", "content": "Help."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]


def test_after_a_run_the_call_is_offered_as_python_and_curl_with_the_values(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        response = client.post(url(team, row), filled(connection), **HTMX)
    python, curl = response.context["python_code"], response.context["curl_code"]
    compile(python, "copied.py", "exec")
    assert "You answer for Acme. Reply in French." in python and "temperature=0.3" in python
    assert curl.startswith(f"curl {fake.base_url}/chat/completions")
    assert '"content": "Where is my parcel?"' in curl
    assert 'data-copy="pg-python"' in response.content.decode()


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (
            401,
            "Incorrect API key provided",
            "answered 401: Incorrect API key provided. The API key was refused",
        ),
        (404, "The model gpt-9 does not exist", "Check the model name and the base URL"),
    ],
)
def test_an_error_status_from_the_llm_is_explained_in_the_panel(client, team, status, error, expected):
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    with fake_openai(status=status, error=error) as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key="k"
        )
        response = client.post(url(team, row), filled(connection), **HTMX)
    assert expected in response.content.decode()
    assert not Trace.objects.filter(project=team.project).exists()


def test_a_refused_connection_is_explained(client, team):
    row = make_chat_prompt(team.project)
    connection = llm_connections.create_connection(
        team.project, name="p", base_url="http://127.0.0.1:9/v1", api_key=""
    )
    client.force_login(team.member)
    response = client.post(url(team, row), filled(connection), **HTMX)
    assert (
        "http://127.0.0.1:9/v1/chat/completions could not be reached (connection refused)"
        in response.context["error"]
    )
    assert "base URL and that the endpoint is running" in response.content.decode()


def test_a_slow_llm_times_out_with_a_clear_message(client, team, settings):
    settings.PLAYGROUND_TIMEOUT_SECONDS = 1
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    with fake_openai(delay=3) as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        response = client.post(url(team, row), filled(connection), **HTMX)
    assert "did not answer within 1 s" in response.context["error"]
    assert "LANGFUSE_PLAYGROUND_TIMEOUT_SECONDS" in response.content.decode()


def test_without_a_connection_the_panel_says_how_to_add_one(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    response = client.post(url(team, row), filled(None), **HTMX)
    assert "No LLM connection" in response.context["error"]


def test_viewer_opens_the_playground_but_cannot_run(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.viewer)
    with fake_openai() as fake:
        connection = llm_connections.create_connection(
            team.project, name="p", base_url=fake.base_url, api_key=""
        )
        page = client.get(url(team, row))
        assert b'id="pg-run"' not in page.content and b'id="pg-readonly"' in page.content
        assert client.post(url(team, row), filled(connection)).status_code == 403
        assert client.post(url(team, row), filled(connection), **HTMX).status_code == 403
    assert fake.received == []


def test_outsider_and_other_projects_get_404(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.outsider)
    assert client.get(url(team, row)).status_code == 404
    assert client.post(url(team, row), {"action": "run"}).status_code == 404
    other = versions.create_version(team.other_project, "elsewhere", "text", "secret {{x}}")
    client.force_login(team.member)
    assert client.get(f"/project/{team.project.pk}/prompt-playground/{other.name}").status_code == 404
    assert client.get(f"/project/{team.project.pk}/prompt-playground/{NAME}?version=9").status_code == 404
    assert client.get(f"/project/{team.project.pk}/prompt-playground/{NAME}?version=x").status_code == 404


def test_a_label_picks_the_version_and_no_query_picks_the_newest(client, team):
    make_chat_prompt(team.project)
    versions.set_labels(Prompt.objects.get(name=NAME, version=1), ["staging"], versions.API_ACTOR)
    client.force_login(team.viewer)
    base = f"/project/{team.project.pk}/prompt-playground/{NAME}"
    assert client.get(base).context["selected"].version == 2
    assert client.get(f"{base}?label=staging").context["selected"].version == 1


def test_the_version_page_opens_its_playground(client, team):
    make_chat_prompt(team.project)
    client.force_login(team.viewer)
    html = client.get(f"/project/{team.project.pk}/prompts/{NAME}?version=1").content.decode()
    assert f'href="/project/{team.project.pk}/prompt-playground/{NAME}?version=1"' in html


def test_another_projects_connection_is_never_called(client, team):
    row = make_chat_prompt(team.project)
    client.force_login(team.member)
    with fake_openai() as fake:
        foreign = llm_connections.create_connection(
            team.other_project, name="theirs", base_url=fake.base_url, api_key="sk-theirs"
        )
        response = client.post(url(team, row), filled(foreign), **HTMX)
    assert fake.received == []
    assert "No LLM connection" in response.context["error"]
