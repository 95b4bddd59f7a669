"""Prompt management with the real Python SDK, versions 2 to 5, against a live server.

Each SDK creates a text prompt (two versions) and a chat prompt, fetches by label and by version,
compiles with variables, promotes a version with update_prompt, falls back quickly for a missing
prompt, and links a generation to the prompt it fetched.
"""

from __future__ import annotations

import pytest

from prompts.links import prompt_id_for
from prompts.models import Prompt
from tests.clients.harness import run_driver
from traces.models import Observation

pytestmark = pytest.mark.clients

NAMES = {"text": "critics/movie critic", "chat": "critics/chat-critic", "missing": "nowhere/missing"}
SDKS = [
    pytest.param("langfuse2", "prompts_v2", False, marks=pytest.mark.client_env("langfuse2"), id="sdk2"),
    pytest.param("langfuse3", "prompts_otel", True, marks=pytest.mark.client_env("langfuse3"), id="sdk3"),
    pytest.param(
        "langfuse4-litellm",
        "prompts_otel",
        True,
        marks=pytest.mark.client_env("langfuse4-litellm"),
        id="sdk4",
    ),
    pytest.param("langfuse5", "prompts_otel", True, marks=pytest.mark.client_env("langfuse5"), id="sdk5"),
]


def run_prompt_driver(client_env, client_server, driver: str) -> dict:
    return run_driver(client_env, driver, client_server, {"names": NAMES}, timeout=180)


@pytest.mark.parametrize("env_name, driver, placeholders", SDKS)
def test_sdk_creates_fetches_compiles_promotes_and_falls_back(
    env_name, driver, placeholders, client_env, client_server
):
    seen = run_prompt_driver(client_env, client_server, driver)
    assert (seen["created_version"], seen["second_version"]) == (1, 2)
    assert seen["production"] == {"version": 1, "compiled": "As a harsh critic, do you like Dune 2?"}
    assert seen["production_config"] == {"model": "gpt-4o-mini", "temperature": 0.2}
    assert seen["version_2"] == {"version": 2, "compiled": "As a harsh critic, rate Dune 2 out of 10."}
    assert seen["staging_version"] == 2
    expected_chat = [
        {"role": "system", "content": "You are a harsh critic."},
        {"role": "user", "content": "Review Dune 2."},
    ]
    if placeholders:
        expected_chat.insert(1, {"role": "user", "content": "earlier"})
    assert seen["chat"]["version"] == 1
    assert [{k: m[k] for k in ("role", "content")} for m in seen["chat"]["compiled"]] == expected_chat
    assert seen["fallback"]["compiled"] == "Fallback for Dune 2"
    assert seen["fallback"]["is_fallback"] in (True, None)  # v2 has no is_fallback attribute
    assert seen["fallback"]["seconds"] < 5, "a 404 must let the SDK fall back at once, not after retries"
    assert seen["promoted_version"] == 2

    stored = {
        row.version: row for row in Prompt.objects.for_project(client_server.project).named(NAMES["text"])
    }
    assert sorted(stored[2].labels) == ["latest", "production", "staging"]
    assert stored[1].labels == [] and stored[1].tags == ["sdk-test"] == stored[2].tags
    assert stored[1].commit_message == "first take"


@pytest.mark.parametrize("env_name, driver, placeholders", SDKS)
def test_sdk_generation_is_linked_to_the_prompt_version_it_used(
    env_name, driver, placeholders, client_env, client_server
):
    seen = run_prompt_driver(client_env, client_server, driver)
    generation = Observation.objects.get(project=client_server.project, id=seen["generation_id"])
    assert (generation.prompt_name, generation.prompt_version) == (NAMES["text"], 2)
    assert generation.trace_id == seen["trace_id"]
    assert prompt_id_for(client_server.project.pk, NAMES["text"], 2) is not None


@pytest.mark.client_env("langfuse5")
def test_sdk5_generation_carries_the_prompt_id(client_env, client_server):
    seen = run_prompt_driver(client_env, client_server, "prompts_otel")
    generation = Observation.objects.get(project=client_server.project, id=seen["generation_id"])
    assert generation.prompt_id == prompt_id_for(client_server.project.pk, NAMES["text"], 2)
