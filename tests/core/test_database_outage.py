"""A server on DATABASE_URL: waits for a database that is not up yet, answers 503 while it is down."""

from __future__ import annotations

import psutil
import psycopg
import pytest

from langfuse_ui import embedded_db
from tests.core.processes import INIT_KEYS, Serve, create_database, manage_env, run_manage, wait_for_status

AUTH = (INIT_KEYS["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"], INIT_KEYS["LANGFUSE_INIT_PROJECT_SECRET_KEY"])


@pytest.fixture
def server_log(tmp_path):
    return tmp_path / "server.log"


def test_server_waits_with_a_message_for_a_database_that_starts_later(running_cluster, server_log):
    url = create_database(running_cluster, "waiting")
    embedded_db.stop(running_cluster)
    server = Serve(manage_env(DATABASE_URL=url), server_log)
    try:
        server.wait_for_output("Waiting for the database at")
        embedded_db.start(running_cluster)
        server.wait_until_up()
        assert server.get("/api/public/ready").status_code == 200
    finally:
        server.kill()
    output = server.output()
    assert output.count("Waiting for the database") == 1
    assert "The database is up." in output and "Traceback" not in output


@pytest.fixture(scope="module")
def migrated_url(scratch_cluster):
    embedded_db.start(scratch_cluster)
    url = create_database(scratch_cluster, "outage")
    result = run_manage("migrate", "--verbosity", "0", env=manage_env(DATABASE_URL=url), timeout=120)
    assert result.returncode == 0, result.stdout
    return url


def test_health_ready_and_api_answer_503_while_the_database_is_down_and_recover(
    scratch_cluster, migrated_url, server_log
):
    embedded_db.start(scratch_cluster)
    server = Serve(
        manage_env(DATABASE_URL=migrated_url, **INIT_KEYS), server_log, "--no-migrate"
    ).wait_until_up()
    try:
        assert server.get("/api/public/health?failIfDatabaseUnavailable=true").status_code == 200
        assert server.get("/api/public/ready").status_code == 200
        assert server.get("/api/public/projects", auth=AUTH).status_code == 200

        embedded_db.stop(scratch_cluster)
        checked = server.get("/api/public/health?failIfDatabaseUnavailable=true", timeout=5)
        assert (checked.status_code, checked.json()["status"]) == (503, "Database not available")
        assert server.get("/api/public/ready", timeout=5).status_code == 503
        assert server.get("/api/public/health", timeout=5).status_code == 200
        projects = server.get("/api/public/projects", auth=AUTH, timeout=5)
        assert projects.status_code == 503
        assert projects.headers["Retry-After"]
        assert projects.json()["error"] == "ServiceUnavailable"
        # Ingestion answers 503 (which every SDK retries), never 500 (which makes them drop the batch).
        batch = {
            "batch": [
                {
                    "id": "e1",
                    "type": "trace-create",
                    "timestamp": "2026-01-01T00:00:00Z",
                    "body": {"id": "during-outage", "name": "kept"},
                }
            ]
        }
        ingest = server.post("/api/public/ingestion", json=batch, auth=AUTH, timeout=5)
        assert (ingest.status_code, bool(ingest.headers.get("Retry-After"))) == (503, True)
        otlp = server.post(
            "/api/public/otel/v1/traces",
            data=b"",
            auth=AUTH,
            timeout=5,
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert otlp.status_code == 503

        embedded_db.start(scratch_cluster)
        assert (
            wait_for_status(server, "/api/public/health?failIfDatabaseUnavailable=true", 200).status_code
            == 200
        )
        assert wait_for_status(server, "/api/public/ready", 200).status_code == 200
        assert server.get("/api/public/projects", auth=AUTH).status_code == 200
        # The client's retry after the outage is stored.
        assert server.post("/api/public/ingestion", json=batch, auth=AUTH).status_code == 207
        trace = server.get("/api/public/traces/during-outage", auth=AUTH)
        assert (trace.status_code, trace.json()["name"]) == (200, "kept")
    finally:
        embedded_db.start(scratch_cluster)
        server.kill()
    assert "Traceback" not in server.output()


def test_two_servers_started_together_on_an_empty_database_migrate_once(running_cluster, tmp_path):
    url = create_database(running_cluster, "race")
    env = manage_env(DATABASE_URL=url, **INIT_KEYS)
    servers = [Serve(env, tmp_path / f"server-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.wait_until_up(timeout=90)
            assert server.get("/api/public/projects", auth=AUTH).status_code == 200
    finally:
        for server in servers:
            server.kill()
    with psycopg.connect(url) as conn:
        duplicates = conn.execute(
            "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1"
        ).fetchall()
        applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
    assert duplicates == [] and applied > 0
    outputs = [server.output() for server in servers]
    assert all("Database ready" in output and "Traceback" not in output for output in outputs)


def test_two_workers_serve_and_stop_on_sigterm(scratch_cluster, migrated_url, server_log):
    embedded_db.start(scratch_cluster)
    env = manage_env(DATABASE_URL=migrated_url, WEB_CONCURRENCY="2")
    server = Serve(env, server_log, "--no-migrate").wait_until_up()
    try:
        workers = psutil.Process(server.process.pid).children()
        assert len(workers) >= 2
        assert server.get("/api/public/ready").status_code == 200
        exit_code = server.terminate()
    finally:
        server.kill()
    assert exit_code == 0 and "Traceback" not in server.output()
    # Zombies count as gone: this container's PID 1 reaps orphans late.
    left = [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    assert left == []
