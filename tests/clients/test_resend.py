"""A batch the SDK sends again and again stores each valid event once and never the invalid one.

The Python SDK 2.x treats a 207 that lists any error as a failure of the whole batch and re-sends it (up to
three times). Everything valid in it must be stored exactly once: creates and updates are upserts by id.
"""

from __future__ import annotations

import uuid

import pytest

from tests.clients.harness import run_driver
from traces.models import Observation, Score, Trace

pytestmark = pytest.mark.clients


@pytest.mark.client_env("langfuse2")
def test_python_sdk_2_resends_a_batch_with_one_bad_event_without_duplicates(client_env, client_server):
    ids = {key: str(uuid.uuid4()) for key in ("trace_id", "generation_id", "good_score_id", "bad_score_id")}
    scenario = {**ids, "trace_name": "resent batch", "user_id": "resend-user"}

    result = run_driver(client_env, "langfuse_v2_resend", client_server, scenario)

    assert result["ingestion_posts"] >= 2, (
        "the SDK did not re-send the batch; the resend path was not exercised"
    )
    project = client_server.project
    assert Trace.objects.filter(project=project, id=ids["trace_id"]).count() == 1
    assert Observation.objects.filter(project=project, trace_id=ids["trace_id"]).count() == 1
    generation = Observation.objects.get(project=project, id=ids["generation_id"])
    assert (generation.name, generation.provided_model_name, generation.output) == (
        "answer",
        "gpt-4o-mini",
        "hello",
    )
    scores = Score.objects.filter(project=project, trace_id=ids["trace_id"])
    assert [(s.id, s.name, s.value) for s in scores] == [(ids["good_score_id"], "helpful", 0.75)]
    read_back = client_server.trace(ids["trace_id"])
    assert read_back["userId"] == "resend-user"
    assert [o["id"] for o in read_back["observations"]] == [ids["generation_id"]]
