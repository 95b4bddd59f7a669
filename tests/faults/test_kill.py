"""SIGKILL the server under load; the clients retry with the same ids after the restart, like the SDKs.

A bounded version of `bench/faults.py kill` (docs/reliability.md): everything acknowledged is stored,
and the retries of requests the kill cut off add no row and count no observation twice.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from tests.factories import ensure_default_prices, make_project_with_roles
from tests.live import database_url_of_current_connection, start_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from faults_load import Load, OtlpTemplates, counts_hold, stored_counts


@pytest.mark.django_db(transaction=True)
def test_acknowledged_requests_survive_a_kill_and_retries_add_nothing(tmp_path):
    ensure_default_prices()
    team = make_project_with_roles()
    url = database_url_of_current_connection()
    server = start_server(url, tmp_path / "server.log", timeout=90)
    load = Load(server.url, 1, 2, OtlpTemplates(count=1), seed=3, auth=(team.public_key, team.secret_key))
    try:
        load.start()
        load.wait_acked(8, timeout=60)
        acked_at_kill = len(load.tally.acked)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        time.sleep(0.5)  # the clients meet a closed port and retry
        server = start_server(url, tmp_path / "server-2.log", timeout=90)
        load.url = server.url
        load.wait_acked(acked_at_kill + 6, timeout=60)
    finally:
        load.finish(timeout=120)
        server.stop()

    tally = load.tally
    assert acked_at_kill >= 8, "the load did not get going before the kill"
    assert tally.statuses["ConnectionError"] >= 1 and tally.retries >= 1, tally.statuses
    assert tally.abandoned == []
    counts = stored_counts(url, tally.acked, team.project.id)
    assert counts["missing_observations"] == counts["missing_traces"] == counts["missing_scores"] == 0
    assert counts["rows_observations"] == counts["acked_observations"]
    assert counts["rows_traces"] == counts["acked_traces"]
    assert counts["traces_with_wrong_counts"] == 0
    assert counts["legacy_tokens_stored"] == counts["legacy_tokens_expected"]
    assert counts_hold(counts, abandoned=0)
