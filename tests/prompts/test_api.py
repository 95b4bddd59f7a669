"""The public prompt API through the Django test client: /api/public/v2/prompts[...] and legacy v1."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from prompts.links import prompt_id_for, prompt_ids_for
from prompts.models import Prompt, PromptDependency
from tests.factories import make_key

pytestmark = pytest.mark.django_db
BASE = "/api/public/v2/prompts"


def auth(public_key: str, secret_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


class Api:
    def __init__(self, client, public_key: str, secret_key: str) -> None:
        self.client = client
        self.headers = auth(public_key, secret_key)

    def create(self, **body):
        body.setdefault("type", "text")
        return self.client.post(BASE, json.dumps(body), content_type="application/json", **self.headers)

    def get(self, name: str, **query):
        return self.client.get(f"{BASE}/{quote(name, safe='')}", query, **self.headers)

    def list(self, **query):
        return self.client.get(BASE, query, **self.headers)

    def delete(self, name: str, query: str = ""):
        return self.client.delete(f"{BASE}/{quote(name, safe='')}{query}", **self.headers)

    def patch(self, name: str, version: int, body: dict):
        return self.client.patch(
            f"{BASE}/{quote(name, safe='')}/versions/{version}",
            json.dumps(body),
            content_type="application/json",
            **self.headers,
        )


@pytest.fixture
def api(client, team) -> Api:
    return Api(client, team.public_key, team.secret_key)


def labels_by_version(team, name: str) -> dict[int, list[str]]:
    rows = Prompt.objects.for_project(team.project).named(name).order_by("version")
    return {row.version: sorted(row.labels) for row in rows}


# --- create -------------------------------------------------------------------------------------------


def test_create_returns_201_with_the_fields_sdks_require(api, team):
    response = api.create(name="greeting", prompt="Hello {{name}}", labels=["production"], config={"t": 1})
    assert response.status_code == 201
    body = response.json()
    for key in ("name", "version", "prompt", "type", "config", "labels", "tags"):
        assert key in body
    assert body["version"] == 1
    assert body["type"] == "text"
    assert sorted(body["labels"]) == ["latest", "production"]
    assert body["config"] == {"t": 1}
    assert body["projectId"] == team.project.pk
    assert body["createdBy"] == "API"
    assert body["resolutionGraph"] is None


def test_new_versions_count_up_and_latest_moves_to_the_newest(api, team):
    for text in ("one", "two", "three"):
        assert api.create(name="p", prompt=text).status_code == 201
    assert labels_by_version(team, "p") == {1: [], 2: [], 3: ["latest"]}


def test_a_label_given_to_a_new_version_moves_off_the_older_one(api, team):
    api.create(name="p", prompt="one", labels=["production", "staging"])
    api.create(name="p", prompt="two", labels=["production"])
    assert labels_by_version(team, "p") == {1: ["staging"], 2: ["latest", "production"]}


def test_changing_the_type_of_a_prompt_is_refused(api):
    api.create(name="p", prompt="text")
    response = api.create(name="p", type="chat", prompt=[{"role": "user", "content": "hi"}])
    assert response.status_code == 400
    assert "text prompt" in response.json()["message"]


def test_tags_are_shared_across_versions_and_inherited_when_omitted(api, team):
    api.create(name="p", prompt="one", tags=["a"])
    api.create(name="p", prompt="two")
    assert all(row.tags == ["a"] for row in Prompt.objects.named("p"))
    api.create(name="p", prompt="three", tags=["b", "c"])
    assert all(row.tags == ["b", "c"] for row in Prompt.objects.named("p"))


def test_chat_prompt_with_a_placeholder_round_trips(api):
    messages = [
        {"role": "system", "content": "You are {{persona}}"},
        {"type": "placeholder", "name": "history"},
        {"role": "user", "content": "{{question}}"},
    ]
    assert api.create(name="chat", type="chat", prompt=messages, labels=["production"]).status_code == 201
    body = api.get("chat").json()
    assert body["type"] == "chat"
    assert body["prompt"] == messages


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"name": "a|b", "prompt": "x"}, "'|'"),
        ({"name": "/lead", "prompt": "x"}, "start with a slash"),
        ({"name": "a//b", "prompt": "x"}, "consecutive slashes"),
        ({"name": "p", "prompt": ["not", "text"]}, "must be a string"),
        ({"name": "p", "type": "chat", "prompt": [{"role": "user"}]}, "role and content"),
        ({"name": "p", "prompt": "x", "labels": ["Bad Label"]}, "Invalid label"),
        ({"name": "p", "prompt": "x", "type": "image"}, "'text' or 'chat'"),
    ],
)
def test_invalid_creates_answer_400_naming_the_problem(api, body, fragment):
    response = api.create(**body)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_a_body_that_is_not_json_answers_400(client, team):
    response = client.post(
        BASE, "nope", content_type="application/json", **auth(team.public_key, team.secret_key)
    )
    assert response.status_code == 400


# --- get --------------------------------------------------------------------------------------------------


def test_get_defaults_to_production_and_takes_version_or_label(api):
    api.create(name="p", prompt="one", labels=["production"])
    api.create(name="p", prompt="two", labels=["staging"])
    assert api.get("p").json()["prompt"] == "one"
    assert api.get("p", version=2).json()["prompt"] == "two"
    assert api.get("p", label="staging").json()["version"] == 2
    assert api.get("p", label="latest").json()["version"] == 2


def test_missing_prompt_is_a_404_with_langfuses_message(api):
    api.create(name="p", prompt="no production label")
    response = api.get("p")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Prompt not found: 'p' with label 'production'",
        "error": "LangfuseNotFoundError",
    }
    assert api.get("nothing", version=3).json()["message"] == "Prompt not found: 'nothing' with version 3"


@pytest.mark.parametrize("name", ["folder/sub/my prompt", "a%b?c", "with space", "x/versions/2"])
def test_names_with_slashes_spaces_percent_and_question_marks_round_trip(api, name):
    assert api.create(name=name, prompt="hi", labels=["production"]).status_code == 201
    response = api.get(name)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == name
    assert api.list(name=name).json()["data"][0]["name"] == name


def test_a_prompt_of_another_project_is_not_found(api, client, team):
    api.create(name="secret", prompt="x", labels=["production"])
    other_public, other_secret = make_key(team.other_project)
    other = Api(client, other_public, other_secret)
    assert other.get("secret").status_code == 404
    assert other.list().json()["data"] == []
    assert other.delete("secret").status_code == 404
    assert other.patch("secret", 1, {"newLabels": ["x"]}).status_code == 404


def test_without_credentials_it_answers_401(client):
    assert client.get(f"{BASE}/p").status_code == 401


# --- composition ----------------------------------------------------------------------------------------


def test_references_are_resolved_on_fetch_and_raw_with_resolve_false(api):
    api.create(name="base", prompt="Be kind.", labels=["production"])
    api.create(
        name="tone/formal",
        prompt="Formal. @@@langfusePrompt:name=base|label=production@@@",
        labels=["production"],
    )
    tag = "@@@langfusePrompt:name=tone/formal|version=1@@@"
    api.create(name="top", prompt=f"Start. {tag} End.", labels=["production"])
    body = api.get("top").json()
    assert body["prompt"] == "Start. Formal. Be kind. End."
    graph = body["resolutionGraph"]
    assert graph["root"]["name"] == "top"
    children = [child["name"] for nodes in graph["dependencies"].values() for child in nodes]
    assert sorted(children) == ["base", "tone/formal"]
    raw = api.get("top", resolve="false").json()
    assert raw["prompt"] == f"Start. {tag} End."
    assert raw["resolutionGraph"] is None


def test_chat_messages_may_reference_text_prompts(api):
    api.create(name="rules", prompt="No swearing.", labels=["production"])
    messages = [{"role": "system", "content": "@@@langfusePrompt:name=rules|label=production@@@ Be brief."}]
    api.create(name="chat", type="chat", prompt=messages, labels=["production"])
    assert api.get("chat").json()["prompt"][0]["content"] == "No swearing. Be brief."


def test_a_reference_to_a_missing_prompt_is_refused_at_create(api):
    response = api.create(name="top", prompt="@@@langfusePrompt:name=ghost|label=production@@@")
    assert response.status_code == 400
    assert "ghost" in response.json()["message"]


def test_a_self_reference_is_refused(api):
    api.create(name="a", prompt="plain", labels=["production"])
    response = api.create(name="a", prompt="@@@langfusePrompt:name=a|label=production@@@")
    assert response.status_code == 400
    assert "a -> a" in response.json()["message"]


def test_a_loop_created_through_a_label_move_is_refused_on_fetch_naming_it(api):
    api.create(name="a", prompt="plain a", labels=["production"])
    api.create(name="b", prompt="b then @@@langfusePrompt:name=a|label=production@@@", labels=["production"])
    # a's new version (label staging) references b: fine while a@production is plain.
    assert (
        api.create(
            name="a", prompt="@@@langfusePrompt:name=b|label=production@@@", labels=["staging"]
        ).status_code
        == 400
    )
    # The loop is refused at create even when it would only close through another label.
    response = api.get("b")
    assert response.status_code == 200
    # Closing a loop by moving a label is caught on fetch.
    Prompt.objects.filter(name="a", version=1).update(prompt="@@@langfusePrompt:name=b|label=production@@@")
    response = api.get("b")
    assert response.status_code == 400
    assert "b -> a -> b" in response.json()["message"]


def test_a_prompt_referenced_by_another_cannot_be_deleted(api):
    api.create(name="base", prompt="x", labels=["production"])
    api.create(name="top", prompt="@@@langfusePrompt:name=base|label=production@@@")
    response = api.delete("base")
    assert response.status_code == 400
    assert "top v1" in response.json()["message"]
    assert PromptDependency.objects.count() == 1
    assert api.delete("top").status_code == 204
    assert api.delete("base").status_code == 204


# --- labels (PATCH) -------------------------------------------------------------------------------------


def test_patch_moves_labels_to_the_version_and_keeps_latest(api, team):
    api.create(name="p", prompt="one", labels=["production"])
    api.create(name="p", prompt="two")
    response = api.patch("p", 2, {"newLabels": ["production", "beta"]})
    assert response.status_code == 200
    assert sorted(response.json()["labels"]) == ["beta", "latest", "production"]
    assert labels_by_version(team, "p") == {1: [], 2: ["beta", "latest", "production"]}


def test_patch_with_latest_or_without_new_labels_is_400(api):
    api.create(name="p", prompt="one")
    assert api.patch("p", 1, {"newLabels": ["latest"]}).status_code == 400
    assert api.patch("p", 1, {}).status_code == 400
    assert api.patch("p", 9, {"newLabels": ["x"]}).status_code == 404


# --- delete ------------------------------------------------------------------------------------------------


def test_delete_one_version_moves_latest_back(api, team):
    for text in ("one", "two", "three"):
        api.create(name="p", prompt=text)
    assert api.delete("p", "?version=3").status_code == 204
    assert labels_by_version(team, "p") == {1: [], 2: ["latest"]}


def test_delete_by_label_removes_the_versions_carrying_it(api, team):
    api.create(name="p", prompt="one", labels=["staging"])
    api.create(name="p", prompt="two")
    assert api.delete("p", "?label=staging").status_code == 204
    assert labels_by_version(team, "p") == {2: ["latest"]}


def test_delete_without_filters_removes_every_version(api, team):
    api.create(name="folder/p", prompt="one")
    api.create(name="folder/p", prompt="two")
    assert api.delete("folder/p").status_code == 204
    assert not Prompt.objects.for_project(team.project).exists()
    assert api.delete("folder/p").status_code == 404


# --- list ------------------------------------------------------------------------------------------------


def test_list_groups_versions_by_name_with_filters_and_pagination(api):
    api.create(name="a", prompt="1", labels=["production"], tags=["x"])
    api.create(name="a", prompt="2", config={"model": "m"})
    api.create(name="b", prompt="1", tags=["y"])
    api.create(name="c", type="chat", prompt=[{"role": "user", "content": "hi"}])
    body = api.list(limit=2).json()
    assert body["meta"] == {"page": 1, "limit": 2, "totalItems": 3, "totalPages": 2}
    first = body["data"][0]
    assert first["name"] == "a"
    assert first["versions"] == [1, 2]
    assert sorted(first["labels"]) == ["latest", "production"]
    assert first["tags"] == ["x"]
    assert first["lastConfig"] == {"model": "m"}
    assert first["lastUpdatedAt"]
    assert [item["name"] for item in api.list(page=2, limit=2).json()["data"]] == ["c"]
    assert [item["name"] for item in api.list(tag="y").json()["data"]] == ["b"]
    production = api.list(label="production").json()["data"]
    assert [(item["name"], item["versions"]) for item in production] == [("a", [1])]
    assert api.list(fromUpdatedAt="2999-01-01T00:00:00Z").json()["data"] == []
    assert api.list(fromUpdatedAt="yesterday").status_code == 400


# --- legacy v1 ---------------------------------------------------------------------------------------------


def test_legacy_v1_create_with_is_active_and_get_by_name(client, team):
    headers = auth(team.public_key, team.secret_key)
    body = {"name": "old", "prompt": "Hi {{x}}", "isActive": True}
    created = client.post("/api/public/prompts", json.dumps(body), content_type="application/json", **headers)
    assert created.status_code == 201
    assert created.json()["isActive"] is True
    fetched = client.get("/api/public/prompts", {"name": "old"}, **headers)
    assert fetched.json()["prompt"] == "Hi {{x}}"
    assert client.get("/api/public/prompts", **headers).status_code == 400


# --- linking generations ---------------------------------------------------------------------------------


def test_prompt_id_lookup_finds_versions_of_this_project_only(api, team):
    api.create(name="p", prompt="one")
    api.create(name="p", prompt="two")
    row = Prompt.objects.get(project=team.project, name="p", version=2)
    assert prompt_id_for(team.project.pk, "p", 2) == row.pk
    assert prompt_id_for(team.other_project.pk, "p", 2) is None
    assert prompt_id_for(team.project.pk, "p", 7) is None
    found = prompt_ids_for(team.project.pk, [("p", 1), ("p", 2), ("q", 1)])
    assert set(found) == {("p", 1), ("p", 2)}
