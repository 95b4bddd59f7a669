"""The JavaScript clients from npm: the 5.x SDK (OTLP/JSON, chunked) and the legacy langfuse 3.x package."""

from __future__ import annotations

import shutil

import pytest

from tests.clients.expectations import assert_scenario_stored
from tests.clients.harness import run_driver
from tests.clients.scenario import make_scenario

pytestmark = [
    pytest.mark.clients,
    pytest.mark.client_env("node"),
    pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed"),
]


def test_js_sdk_5_trace_scores_and_session_score_read_back_as_sent(client_env, client_server):
    scenario = make_scenario("js-sdk-5")
    # Scores carry an environment only when it is configured the documented way, through the variable.
    environment = {"LANGFUSE_TRACING_ENVIRONMENT": scenario["environment"]}
    result = run_driver(client_env, "langfuse_js", client_server, scenario, extra_env=environment)
    assert_scenario_stored(client_server, scenario, result, session_score=True)


def test_js_legacy_sdk_3_ingestion_batches_read_back_as_sent(client_env, client_server):
    scenario = make_scenario("js-legacy-3")
    result = run_driver(client_env, "langfuse_js_legacy", client_server, scenario)
    assert_scenario_stored(client_server, scenario, result)
