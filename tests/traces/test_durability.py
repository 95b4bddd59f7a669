"""A 2xx means committed: SIGKILL the server in the middle of a load and count what was acknowledged."""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid

import pytest
import requests

from tests.factories import ensure_default_prices, make_project_with_roles
from tests.live import database_url_of_current_connection, start_server
from traces.models import Observation, Trace


def batch_of(n_traces: int) -> tuple[list[str], dict]:
    trace_ids, events = [], []
    for _ in range(n_traces):
        trace_id = str(uuid.uuid4())
        trace_ids.append(trace_id)
        events.append(
            {
                "id": str(uuid.uuid4()),
                "type": "trace-create",
                "timestamp": "2026-01-01T00:00:00Z",
                "body": {"id": trace_id, "name": "durable", "input": {"q": "x" * 500}},
            }
        )
        for k in range(3):
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "generation-create",
                    "timestamp": "2026-01-01T00:00:00Z",
                    "body": {
                        "id": f"{trace_id}-{k}",
                        "traceId": trace_id,
                        "model": "gpt-4o-mini",
                        "usage": {"input": 10, "output": 5},
                        "output": "y" * 500,
                    },
                }
            )
    return trace_ids, {"batch": events}


@pytest.mark.django_db(transaction=True)
def test_every_acknowledged_batch_survives_sigkill(tmp_path):
    ensure_default_prices()
    team = make_project_with_roles()
    server = start_server(database_url_of_current_connection(), tmp_path / "server.log")
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def send() -> None:
        session = requests.Session()
        session.auth = (team.public_key, team.secret_key)
        while not stop.is_set():
            trace_ids, body = batch_of(5)
            try:
                response = session.post(
                    f"{server.url}/api/public/ingestion",
                    data=json.dumps(body),
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                )
            except requests.RequestException:
                return
            if response.status_code == 207 and not response.json()["errors"]:
                with lock:
                    acknowledged.extend(trace_ids)

    workers = [threading.Thread(target=send) for _ in range(4)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    stop.set()
    for worker in workers:
        worker.join(15)

    assert len(acknowledged) >= 100, "the load did not get going before the kill"
    stored = set(
        Trace.objects.for_project(team.project).filter(id__in=acknowledged).values_list("id", flat=True)
    )
    assert stored == set(acknowledged)
    # Each acknowledged trace has all three of its generations and its aggregates.
    counts = dict(
        Trace.objects.for_project(team.project)
        .filter(id__in=acknowledged)
        .values_list("id", "observation_count")
    )
    assert set(counts.values()) == {3}
    assert Observation.objects.for_project(team.project).filter(trace_id__in=acknowledged).count() == 3 * len(
        acknowledged
    )
