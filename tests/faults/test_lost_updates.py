"""An update that merges with a stored observation reaches its trace's totals, whatever it names.

Found by the fault checks (docs/reliability.md): a `generation-update` without `traceId` (optional
in the API) changed the observation but left its trace's tokens, cost and error count stale, and
such an update sent before its create was left out of the totals of the trace the create inserted.
"""

from __future__ import annotations

import pytest

from tests.traces.test_ingestion import event, post_batch, prices  # noqa: F401
from traces.models import Observation, Trace

pytestmark = pytest.mark.django_db


def generation(obs_id: str, trace_id: str | None = None, **body) -> dict:
    fields = {"id": obs_id, **body}
    if trace_id:
        fields["traceId"] = trace_id
    return event("generation-create", fields)


def update(obs_id: str, **body) -> dict:
    return event("generation-update", {"id": obs_id, **body})


def test_an_update_without_trace_id_refreshes_the_trace_totals(client, team):
    post_batch(
        client,
        team,
        [
            event("trace-create", {"id": "t1", "name": "n"}),
            generation("g1", "t1", model="gpt-4o-mini", usage={"input": 10, "output": 5}),
            generation("g2", "t1", model="gpt-4o-mini", usage={"input": 1, "output": 1}),
        ],
    )
    response = post_batch(client, team, [update("g1", usage={"input": 100, "output": 50}, level="ERROR")])

    assert response.status_code == 207 and response.json()["errors"] == []
    trace = Trace.objects.get(project=team.project, id="t1")
    g1 = Observation.objects.get(project=team.project, id="g1")
    assert (g1.trace_id, g1.level, g1.usage_details["total"]) == ("t1", "ERROR", 150)
    assert (trace.total_tokens, trace.error_count, trace.observation_count) == (152, 1, 2)
    assert (
        trace.total_cost == g1.total_cost + Observation.objects.get(project=team.project, id="g2").total_cost
    )
    assert g1.total_cost > 0


def test_an_update_sent_before_its_create_counts_in_the_trace_the_create_makes(client, team):
    post_batch(client, team, [update("g1", usage={"input": 100, "output": 50}, level="WARNING")])
    post_batch(client, team, [generation("g1", "t1", model="gpt-4o-mini", name="llm")])

    trace = Trace.objects.get(project=team.project, id="t1")
    g1 = Observation.objects.get(project=team.project, id="g1")
    assert (g1.trace_id, g1.name, g1.usage_details["total"]) == ("t1", "llm", 150)
    assert (trace.total_tokens, trace.warning_count, trace.observation_count) == (150, 1, 1)
    assert trace.total_cost == g1.total_cost > 0


def test_the_same_in_one_batch_and_with_trace_ids_stays_right(client, team):
    post_batch(
        client,
        team,
        [
            update("g1", usage={"input": 100, "output": 50}),
            generation("g1", "t1", model="gpt-4o-mini"),
            event("generation-update", {"id": "g2", "traceId": "t1", "usage": {"input": 7, "output": 3}}),
        ],
    )
    post_batch(client, team, [generation("g2", "t1", model="gpt-4o-mini")])

    trace = Trace.objects.get(project=team.project, id="t1")
    assert (trace.total_tokens, trace.observation_count) == (160, 2)
