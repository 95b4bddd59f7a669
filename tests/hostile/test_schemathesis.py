"""schemathesis against a live server and /api/public/openapi.json: no 5xx, no response off the schema.

Bounded for CI (few examples per operation, fixed seed, deterministic generation); the long run is
bench/schemathesis_run.py (docs/reliability.md, "Hostile and broken input").
"""

from __future__ import annotations

import pytest

from tests.factories import ensure_default_prices, make_key, make_org, make_project
from tests.hostile import fuzzing
from tests.live import database_url_of_current_connection, start_server

CI_MAX_EXAMPLES = 3
CI_PHASES = "examples,fuzzing"  # the coverage and stateful phases take minutes: bench/schemathesis_run.py


@pytest.fixture
def fuzz_target(transactional_db, tmp_path):
    ensure_default_prices()
    # A throwaway project: the run sends DELETEs with the ids it finds or invents.
    project = make_project(make_org("Fuzz"), "throwaway")
    public_key, secret_key = make_key(project)
    server = start_server(database_url_of_current_connection(), tmp_path / "server.log")
    yield server, public_key, secret_key
    server.stop()


def test_no_server_error_and_no_response_off_the_schema(fuzz_target, tmp_path):
    server, public_key, secret_key = fuzz_target
    result = fuzzing.run(
        server.url,
        public_key,
        secret_key,
        max_examples=CI_MAX_EXAMPLES,
        seed=20261128,
        phases=CI_PHASES,
        report_dir=tmp_path / "report",
        timeout=240,
    )
    log = server.log.read_text()
    assert result.returncode == 0, f"{result.output[-12000:]}\n--- server log ---\n{log[-4000:]}"
    assert "Traceback" not in log, log[-4000:]
    # The run did reach every documented operation.
    operations = result.report["operations"]
    assert operations["tested"] == operations["total"] > 50
    assert result.report["test_cases"]["generated"] >= operations["total"]
