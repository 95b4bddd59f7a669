"""The Python SDK, versions 5, 4, 3 and 2, unchanged from the registry, against a live server."""

from __future__ import annotations

import pytest

from tests.clients.expectations import assert_scenario_stored
from tests.clients.harness import run_driver
from tests.clients.scenario import make_scenario

pytestmark = pytest.mark.clients


@pytest.mark.client_env("langfuse5")
def test_python_sdk_5_trace_scores_and_session_score_read_back_as_sent(client_env, client_server):
    scenario = make_scenario("python-sdk-5")
    result = run_driver(client_env, "langfuse_v4_v5", client_server, scenario)
    assert_scenario_stored(client_server, scenario, result, session_score=True)


@pytest.mark.client_env("langfuse4-litellm")
def test_python_sdk_4_trace_and_ingestion_scores_read_back_as_sent(client_env, client_server):
    scenario = make_scenario("python-sdk-4")
    result = run_driver(client_env, "langfuse_v4_v5", client_server, scenario)
    assert_scenario_stored(client_server, scenario, result, session_score=True)


@pytest.mark.client_env("langfuse3")
def test_python_sdk_3_update_trace_on_one_span_reads_back_as_sent(client_env, client_server):
    scenario = make_scenario("python-sdk-3")
    result = run_driver(client_env, "langfuse_v3", client_server, scenario)
    assert_scenario_stored(client_server, scenario, result, public=True)


@pytest.mark.client_env("langfuse2")
def test_python_sdk_2_ingestion_batches_read_back_as_sent(client_env, client_server):
    scenario = make_scenario("python-sdk-2")
    result = run_driver(client_env, "langfuse_v2", client_server, scenario)
    # v2's model types turn float parameters into strings before sending ("0.2").
    parameters = {"temperature": "0.2", "max_tokens": 256}
    assert_scenario_stored(client_server, scenario, result, model_parameters=parameters)
