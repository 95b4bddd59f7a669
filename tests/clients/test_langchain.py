"""LangChain through the Langfuse 5.x CallbackHandler (FakeListChatModel), against a live server."""

from __future__ import annotations

import pytest

from tests.clients.expectations import assert_subset, assert_timings
from tests.clients.harness import by_name, run_driver
from tests.clients.scenario import make_scenario

pytestmark = [pytest.mark.clients, pytest.mark.client_env("langfuse5")]


def test_callback_handler_chain_reads_back_with_trace_attributes_prompt_link_and_error(
    client_env, client_server
):
    scenario = make_scenario("langchain")
    gen_s = scenario["generation"]
    result = run_driver(client_env, "langchain_handler", client_server, scenario)
    assert result["auth_check"] is True
    assert result["answer"] == gen_s["output"]["content"]

    trace = client_server.trace(result["trace_id"])
    assert trace["name"] == scenario["trace_name"]
    assert (trace["userId"], trace["sessionId"]) == (scenario["user_id"], scenario["session_id"])
    assert sorted(trace["tags"]) == sorted(scenario["tags"])
    assert (trace["release"], trace["environment"]) == (scenario["release"], scenario["environment"])
    assert_subset(trace["metadata"], scenario["trace_metadata"], "trace metadata")
    question = {"question": gen_s["input"][1]["content"]}
    assert (trace["input"], trace["output"]) == (question, gen_s["output"]["content"])

    observations = by_name(trace["observations"])
    assert {name: o["type"] for name, o in observations.items()} == {
        scenario["root"]["name"]: "CHAIN",
        "ChatPromptTemplate": "CHAIN",
        "FakeListChatModel": "GENERATION",
        "StrOutputParser": "CHAIN",
    }
    root = observations[scenario["root"]["name"]]
    assert root["parentObservationId"] is None
    assert {o["parentObservationId"] for o in observations.values() if o is not root} == {root["id"]}
    for observation in observations.values():
        assert observation["environment"] == scenario["environment"]
        assert observation["level"] == "DEFAULT"
        assert observation["endTime"] is not None
        assert_timings(observation)

    generation = observations["FakeListChatModel"]
    assert generation["input"] == gen_s["input"]
    assert generation["output"] == {"role": "assistant", "content": gen_s["output"]["content"]}
    assert generation["model"] is None  # the fake model has no name; a generation without a model is fine
    assert (generation["promptName"], generation["promptVersion"]) == (
        gen_s["prompt"]["name"],
        gen_s["prompt"]["version"],
    )
    assert_subset(
        generation["metadata"], {"ls_provider": "fakelistchatmodel", "ls_model_type": "chat"}, "metadata"
    )

    failed = client_server.trace(result["failed_trace_id"])
    failing = by_name(failed["observations"])
    for name in ("failing-chain", "fail"):
        assert (failing[name]["level"], failing[name]["statusMessage"]) == ("ERROR", result["error"])
    assert failing["fail"]["parentObservationId"] == failing["failing-chain"]["id"]
    assert failed["userId"] == scenario["user_id"]
