"""POST /api/public/ingestion with arbitrary events (hypothesis): never a 500, every event answered,
the valid neighbours of bad events stored, and what was stored still readable through the API."""

from __future__ import annotations

import base64
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_key, make_org, make_project
from tests.hostile import strategies as hs
from traces.ingest.legacy import KNOWN_TYPES
from traces.models import Observation, Trace

pytestmark = pytest.mark.django_db

_serial = itertools.count()


class RawJson:
    """JSON text placed verbatim in a request body (nesting deeper than json.dumps allows)."""

    def __init__(self, text: str) -> None:
        self.text = text


def dumps(value) -> str:
    raws: list[RawJson] = []

    def swap(node):
        if isinstance(node, RawJson):
            raws.append(node)
            return f"__raw_{len(raws) - 1}__"
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    text = json.dumps(swap(value), allow_nan=True)  # NaN/Infinity tokens and \ud800 escapes on purpose
    for index, raw in enumerate(raws):
        text = text.replace(f'"__raw_{index}__"', raw.text, 1)
    return text


def deep_json(depth: int, as_list: bool) -> RawJson:
    opening, closing = ("[", "]") if as_list else ('{"k":', "}")
    return RawJson(opening * depth + '"leaf"' + closing * depth)


any_value = st.one_of(
    hs.values,
    st.builds(deep_json, st.integers(min_value=100, max_value=900), st.booleans()),
)

OBSERVATION_FIELDS = {
    "id": hs.ids,
    "traceId": hs.ids,
    "parentObservationId": hs.ids,
    "name": st.one_of(hs.text, hs.numbers, st.none()),
    "startTime": hs.timestamps,
    "endTime": hs.timestamps,
    "completionStartTime": hs.timestamps,
    "input": any_value,
    "output": any_value,
    "metadata": any_value,
    "level": st.one_of(st.sampled_from(["DEBUG", "DEFAULT", "WARNING", "ERROR"]), hs.text),
    "statusMessage": st.one_of(hs.text, hs.numbers),
    "version": st.one_of(hs.text, hs.numbers),
    "environment": hs.text,
    "model": st.one_of(hs.text, st.just("gpt-4o-mini")),
    "modelParameters": any_value,
    "usage": st.one_of(
        any_value, st.dictionaries(st.sampled_from(["input", "output", "total", "unit"]), hs.numbers)
    ),
    "usageDetails": st.one_of(any_value, st.dictionaries(hs.text, hs.numbers, max_size=4)),
    "costDetails": st.one_of(any_value, st.dictionaries(hs.text, hs.numbers, max_size=4)),
    "promptName": st.one_of(hs.text, st.none()),
    "promptVersion": st.one_of(hs.numbers, hs.text, st.none()),
    "type": st.one_of(st.sampled_from(["SPAN", "GENERATION", "EVENT"]), hs.text),
}
TRACE_FIELDS = {
    "id": hs.ids,
    "timestamp": hs.timestamps,
    "name": st.one_of(hs.text, hs.numbers),
    "userId": st.one_of(hs.text, hs.numbers),
    "sessionId": st.one_of(hs.text, hs.numbers),
    "release": hs.text,
    "version": hs.text,
    "input": any_value,
    "output": any_value,
    "metadata": any_value,
    "tags": st.one_of(st.lists(st.one_of(hs.text, hs.numbers, st.none()), max_size=5), any_value),
    "public": any_value,
    "environment": hs.text,
}
SCORE_FIELDS = {
    "id": hs.ids,
    "traceId": hs.ids,
    "observationId": hs.ids,
    "sessionId": hs.ids,
    "name": st.one_of(hs.text, hs.numbers),
    "value": st.one_of(hs.numbers, hs.text, st.booleans(), any_value),
    "dataType": st.one_of(st.sampled_from(["NUMERIC", "CATEGORICAL", "BOOLEAN"]), hs.text),
    "comment": hs.text,
    "metadata": any_value,
    "timestamp": hs.timestamps,
    "configId": hs.ids,
}


def bodies(fields: dict) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=fields)


event_types = st.one_of(st.sampled_from(sorted(KNOWN_TYPES)), hs.text, st.none(), hs.numbers)


@st.composite
def events(draw) -> object:
    kind = draw(event_types)
    if kind == "trace-create":
        body = draw(bodies(TRACE_FIELDS))
    elif kind == "score-create":
        body = draw(bodies(SCORE_FIELDS))
    elif isinstance(kind, str) and kind in KNOWN_TYPES:
        body = draw(bodies(OBSERVATION_FIELDS))
    else:
        body = draw(st.one_of(bodies(OBSERVATION_FIELDS), any_value))
    event = {"id": draw(hs.ids), "type": kind, "timestamp": draw(hs.timestamps), "body": body}
    if draw(st.booleans()):  # sometimes an envelope lacks a key, or is no object at all
        event.pop(draw(st.sampled_from(sorted(event))))
    return draw(st.one_of(st.just(event), st.just(event), st.just(event), any_value))


@pytest.fixture
def keys():
    project = make_project(make_org("Hostile"), "hostile")
    public, secret = make_key(project)
    return project, {
        "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{public}:{secret}".encode()).decode()
    }


def _neighbour(name: str) -> tuple[str, dict]:
    trace_id = f"neighbour-{next(_serial)}"
    return trace_id, {
        "id": f"{trace_id}-event",
        "type": "trace-create",
        "timestamp": "2026-01-01T00:00:00Z",
        "body": {"id": trace_id, "name": name, "input": {"q": "fine"}},
    }


def _bad_neighbour() -> tuple[str, dict]:
    event_id = f"bad-{next(_serial)}"
    return event_id, {
        "id": event_id,
        "type": "trace-create",
        "timestamp": "10000-01-01T00:00:00Z",
        "body": {},
    }


def _answered_ids(batch: list) -> list[str]:
    answered = []
    for position, event in enumerate(batch):
        event_id = event.get("id") if isinstance(event, dict) else None
        answered.append(event_id if isinstance(event_id, str) and event_id else f"#{position}")
    return answered


@given(batch=st.lists(events(), max_size=8))
def test_any_batch_is_answered_event_by_event_and_valid_neighbours_are_stored(client, keys, batch):
    project, headers = keys
    first_id, first = _neighbour("first")
    last_id, last = _neighbour("last")
    bad_id, bad = _bad_neighbour()
    full = [first, *batch, bad, last]
    response = client.post(
        "/api/public/ingestion", dumps({"batch": full}), content_type="application/json", **headers
    )
    assert response.status_code == 207, response.content[:500]
    answer = response.json()
    answered = [item["id"] for item in answer["successes"]] + [item["id"] for item in answer["errors"]]
    assert sorted(answered) == sorted(_answered_ids(full))
    assert all(400 <= e["status"] < 500 and e["message"] for e in answer["errors"])
    assert bad_id in {e["id"] for e in answer["errors"]}
    stored = dict(Trace.objects.filter(project=project, id__in=[first_id, last_id]).values_list("id", "name"))
    assert stored == {first_id: "first", last_id: "last"}
    # What was stored, however odd, reads back through the public API.
    for url in (
        "/api/public/traces?limit=100",
        "/api/public/observations?limit=100",
        "/api/public/v2/observations?limit=100",
        "/api/public/v2/scores?limit=100",
        "/api/public/sessions?limit=100",
        f"/api/public/traces/{first_id}",
    ):
        read = client.get(url, **headers)
        assert read.status_code == 200, (url, read.content[:500])
    for observation in Observation.objects.filter(project=project).order_by("-start_time")[:5]:
        read = client.get(f"/api/public/observations/{observation.id.replace('%', '%25')}", **headers)
        assert read.status_code in (200, 404), read.content[:300]


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_absurdly_deep_json_is_a_400_not_a_crash(client, keys, depth):
    _, headers = keys
    body = '{"batch": [' + "[" * depth + "]" * depth + "]}"
    response = client.post("/api/public/ingestion", body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert "nested" in response.json()["message"]


def test_a_huge_string_is_stored_whole(client, keys):
    project, headers = keys
    trace_id, event = _neighbour("huge")
    event["body"]["input"] = hs.HUGE_TEXT
    response = client.post(
        "/api/public/ingestion", dumps({"batch": [event]}), content_type="application/json", **headers
    )
    assert response.status_code == 207 and response.json()["errors"] == []
    assert Trace.objects.get(project=project, id=trace_id).input == hs.HUGE_TEXT


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]
)
def test_times_at_the_edge_of_the_calendar_are_refused_or_readable(client, keys, when):
    _, headers = keys
    trace_id = f"edge-{next(_serial)}"
    batch = [
        {"id": f"{trace_id}-t", "type": "trace-create", "timestamp": when, "body": {"id": trace_id}},
        {
            "id": f"{trace_id}-s",
            "type": "span-create",
            "timestamp": "2026-01-01T00:00:00Z",
            "body": {"id": f"{trace_id}-span", "traceId": trace_id, "startTime": when, "endTime": when},
        },
    ]
    response = client.post(
        "/api/public/ingestion", dumps({"batch": batch}), content_type="application/json", **headers
    )
    assert response.status_code == 207
    for url in (f"/api/public/traces/{trace_id}", "/api/public/traces", "/api/public/observations"):
        read = client.get(url, **headers)
        assert read.status_code in (200, 404), (url, read.content[:300])


@pytest.mark.parametrize("bad", [b"\xff\xfe", b"\xc0\x80"], ids=["latin", "overlong"])
def test_a_body_that_is_not_utf8_is_a_400(client, keys, bad):
    _, headers = keys
    body = b'{"batch": [{"id": "e", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z", "body": {"name": "'
    body += bad + b'"}}]}'
    response = client.post("/api/public/ingestion", body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["message"]


def test_an_utf8_encoded_surrogate_is_stored_as_a_replacement_character(client, keys):
    # Python's json reads bytes with "surrogatepass": the event is accepted and its text cleaned.
    project, headers = keys
    body = b'{"batch": [{"id": "e", "type": "trace-create", "timestamp": "2026-01-01T00:00:00Z",'
    body += b' "body": {"id": "surrogate-trace", "name": "a\xed\xa0\x80b"}}]}'
    response = client.post("/api/public/ingestion", body, content_type="application/json", **headers)
    assert response.status_code == 207 and response.json()["errors"] == []
    assert Trace.objects.get(project=project, id="surrogate-trace").name == "a?b"
