"""Two server processes on one database get the same requests at once: the rows equal one server's.

A bounded version of `bench/faults.py race` (docs/reliability.md): a few hundred events, creates
and updates of the same ids racing (updates before creates too), legacy batches and OTLP.
"""

from __future__ import annotations

import random
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.factories import ensure_default_prices, make_key, make_org, make_project, make_project_with_roles
from tests.live import database_url_of_current_connection, start_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from faults_race import build_requests, compare, send_all


def deadlocks_logged(database_url: str) -> int:
    """Deadlocks PostgreSQL has counted in this database since its statistics were reset."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_servers_racing_store_what_one_server_stores_in_turn(tmp_path):
    ensure_default_prices()
    team = make_project_with_roles()
    reference = make_project(make_org("Reference"), "reference")
    reference_keys = make_key(reference)
    url = database_url_of_current_connection()
    with ThreadPoolExecutor(2) as pool:  # two start-ups at once: half the wait
        servers = list(pool.map(lambda n: start_server(url, tmp_path / f"server-{n}.log"), (1, 2)))
    try:
        requests_, ids = build_requests(40, seed=7)
        shuffled = random.Random(7).sample(requests_, len(requests_))
        deadlocks_before = deadlocks_logged(url)
        raced = send_all(
            [(servers[0].url, shuffled), (servers[1].url, shuffled[::-1])],
            3,
            (team.public_key, team.secret_key),
        )
        in_turn = send_all([(servers[0].url, requests_)], 1, reference_keys)
        deadlocks = deadlocks_logged(url) - deadlocks_before
    finally:
        for server in servers:
            server.stop()

    assert set(raced) <= {"200", "207"} and set(in_turn) <= {"200", "207"}
    result = compare(url, url, ids, team.project.id, reference.id)
    assert result["traces_race"] == result["traces_reference"] == len(ids["traces"]) == 48
    assert result["observations_race"] == result["observations_reference"] == len(ids["observations"])
    assert result["scores_race"] == result["scores_reference"] == 40
    assert result["differences"] == []
    assert deadlocks == 0
    assert not any("Traceback" in server.log.read_text() for server in servers)

    # The comparison sees a lost update: undo one in the racing project's rows.
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE observations SET end_time = NULL WHERE project_id = %s AND id = %s",
            (team.project.id, ids["observations"][0]),
        )
    changed = compare(url, url, ids, team.project.id, reference.id)
    assert [(d["table"], d["column"]) for d in changed["differences"]] == [("observations", "end_time")]
