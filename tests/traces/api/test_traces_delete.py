from __future__ import annotations

import json

import pytest

from tests.traces.api.factories import at, make_generation, make_observation, make_score, make_trace
from traces.models import Comment, MediaReference, Observation, Score, Trace

pytestmark = pytest.mark.django_db


def populated_trace(project, trace_id: str, **fields) -> Trace:
    trace = make_trace(project, trace_id, **fields)
    span = make_observation(trace, f"{trace_id}-span")
    make_generation(trace, f"{trace_id}-gen", parent_observation_id=span.id)
    make_score(project, f"{trace_id}-score", trace_id=trace_id)
    make_score(project, f"{trace_id}-obs-score", trace_id=trace_id, observation_id=span.id)
    MediaReference.objects.create(project=project, media_id="m1", trace_id=trace_id, field="input")
    Comment.objects.create(project=project, object_type="TRACE", object_id=trace_id, content="hm")
    Comment.objects.create(project=project, object_type="OBSERVATION", object_id=span.id, content="hm")
    return trace


def rows_of(project, trace_id: str) -> dict[str, int]:
    """Everything that refers to the trace, counted straight from the tables."""
    observations = Observation.objects.for_project(project).filter(trace_id=trace_id)
    return {
        "traces": Trace.objects.for_project(project).filter(id=trace_id).count(),
        "observations": observations.count(),
        "scores": Score.objects.for_project(project).filter(trace_id=trace_id).count(),
        "media_references": MediaReference.objects.for_project(project).filter(trace_id=trace_id).count(),
        "comments": Comment.objects.for_project(project)
        .filter(object_id__in=[trace_id, f"{trace_id}-span", f"{trace_id}-gen"])
        .count(),
    }


NOTHING = {"traces": 0, "observations": 0, "scores": 0, "media_references": 0, "comments": 0}


def test_delete_one_trace_leaves_no_rows(api, team):
    populated_trace(team.project, "doomed")
    populated_trace(team.project, "kept")
    response = api.delete("traces/doomed")
    assert response.status_code == 200
    assert response.json() == {"message": "Trace deleted successfully", "deleted": 1}
    assert rows_of(team.project, "doomed") == NOTHING
    assert rows_of(team.project, "kept") == {
        "traces": 1,
        "observations": 2,
        "scores": 2,
        "media_references": 1,
        "comments": 2,
    }
    assert api.get("traces/doomed").status_code == 404


def test_delete_many_by_ids(api, team):
    for trace_id in ("a", "b", "c"):
        populated_trace(team.project, trace_id)
    response = api.delete("traces", {"traceIds": ["a", "b", "never-existed"]})
    assert response.status_code == 200
    assert response.json() == {"message": "Traces deleted successfully", "deleted": 2}
    assert rows_of(team.project, "a") == rows_of(team.project, "b") == NOTHING
    assert rows_of(team.project, "c")["observations"] == 2


def test_delete_by_filter(api, team):
    populated_trace(team.project, "old-bob", user_id="bob", timestamp=at(0))
    populated_trace(team.project, "new-bob", user_id="bob", timestamp=at(100))
    populated_trace(team.project, "old-ann", user_id="ann", timestamp=at(0))
    body = {"filter": {"userId": "bob", "toTimestamp": "2024-05-01T12:00:50Z"}}
    response = api.delete("traces", body)
    assert response.json()["deleted"] == 1
    assert rows_of(team.project, "old-bob") == NOTHING
    assert Trace.objects.for_project(team.project).count() == 2


def test_delete_by_advanced_filter(api, team):
    populated_trace(team.project, "gold", metadata={"tier": "gold"})
    populated_trace(team.project, "free", metadata={"tier": "free"})
    conditions = [
        {"type": "stringObject", "column": "metadata", "key": "tier", "operator": "=", "value": "gold"}
    ]
    assert api.delete("traces", {"filter": conditions}).json()["deleted"] == 1
    assert api.delete("traces", {"filter": {"filter": json.dumps(conditions)}}).json()["deleted"] == 0
    assert list(Trace.objects.for_project(team.project).values_list("id", flat=True)) == ["free"]


def test_ids_and_filter_together_must_both_match(api, team):
    populated_trace(team.project, "x", user_id="bob")
    populated_trace(team.project, "y", user_id="ann")
    response = api.delete("traces", {"traceIds": ["x", "y"], "filter": {"userId": "bob"}})
    assert response.json()["deleted"] == 1
    assert list(Trace.objects.for_project(team.project).values_list("id", flat=True)) == ["y"]


def test_observations_whose_trace_never_arrived_are_deleted_too(api, team):
    orphan = Trace(project=team.project, id="ghost")  # never saved
    Observation.objects.create(project=team.project, id="ghost-obs", trace_id=orphan.id)
    assert api.delete("traces/ghost").status_code == 200
    assert not Observation.objects.filter(id="ghost-obs").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"traceIds": []},
        {"traceIds": "abc"},
        {"traceIds": [1, 2]},
        {"traceIds": [f"t{n}" for n in range(1001)]},
        {"filter": {}},
        {"filter": {"colour": "red"}},
        {"filter": "userId=bob"},
        {"filter": {"fromTimestamp": "soon"}},
    ],
)
def test_bad_delete_bodies_are_400_and_delete_nothing(api, team, body):
    populated_trace(team.project, "safe")
    response = api.delete("traces", body)
    assert response.status_code == 400
    assert response.json()["message"]
    assert rows_of(team.project, "safe")["traces"] == 1


def test_body_that_is_not_json_is_400(api, team):
    response = api.client.delete(
        "/api/public/traces", "{oops", content_type="application/json", HTTP_AUTHORIZATION=api.header
    )
    assert response.status_code == 400


def test_other_project_key_cannot_delete(other_api, team):
    populated_trace(team.project, "mine")
    assert other_api.delete("traces/mine").status_code == 404
    response = other_api.delete("traces", {"traceIds": ["mine"]})
    assert response.json()["deleted"] == 0
    assert other_api.delete("traces", {"filter": {"name": "anything"}}).json()["deleted"] == 0
    assert rows_of(team.project, "mine")["observations"] == 2


def test_deleting_a_missing_trace_is_404(api):
    response = api.delete("traces/nope")
    assert response.status_code == 404
    assert response.json()["message"]
