"""`make run` without DATABASE_URL: an embedded PostgreSQL that starts, persists and stops with the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from langfuse_ui import embedded_db
from tests.core.processes import INIT_KEYS, Serve, manage_env

AUTH = (INIT_KEYS["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"], INIT_KEYS["LANGFUSE_INIT_PROJECT_SECRET_KEY"])


@pytest.fixture(scope="module")
def data_dir(module_data_dir):
    return module_data_dir


@pytest.fixture(scope="module")
def first_run(data_dir, tmp_path_factory):
    """`make run` on an empty data folder with the demo LANGFUSE_INIT_* keys, stopped by Ctrl-C."""
    log = tmp_path_factory.mktemp("logs") / "first.log"
    server = Serve(manage_env(LANGFUSE_DATA_DIR=str(data_dir), **INIT_KEYS), log)
    try:
        server.wait_until_up()
        projects = server.get("/api/public/projects", auth=AUTH)
        running = embedded_db.cluster_processes(data_dir / "postgres")
        exit_code = server.interrupt()
    finally:
        server.kill()
    return {"projects": projects, "running": running, "exit_code": exit_code, "output": server.output()}


def serve(data_dir, tmp_path, **env: str) -> Serve:
    return Serve(manage_env(LANGFUSE_DATA_DIR=str(data_dir), **env), tmp_path / "server.log").wait_until_up()


def assert_stopped_cleanly(data_dir, exit_code: int, output: str) -> None:
    assert exit_code in (0, 130, 128 + signal.SIGTERM), output
    assert "Traceback" not in output
    assert embedded_db.cluster_processes(data_dir / "postgres") == []
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


def test_first_run_creates_the_cluster_in_the_data_folder_and_provisions(data_dir, first_run):
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    assert first_run["running"], "no postgres process of the data folder while serving"
    assert "Creating the embedded PostgreSQL cluster" in first_run["output"]
    assert first_run["projects"].status_code == 200
    assert first_run["projects"].json()["data"][0]["id"] == "ops-project"


def test_ctrl_c_stops_the_server_and_the_database(data_dir, first_run):
    assert_stopped_cleanly(data_dir, first_run["exit_code"], first_run["output"])
    assert "Shutting down" in first_run["output"]


def test_second_start_reuses_the_data_and_sigterm_stops_everything(data_dir, first_run, tmp_path):
    server = serve(data_dir, tmp_path)  # no LANGFUSE_INIT_*: the key pair must come from the data folder
    try:
        assert "Creating the embedded PostgreSQL cluster" not in server.output()
        response = server.get("/api/public/projects", auth=AUTH)
        assert response.status_code == 200
        assert response.json()["data"][0]["id"] == "ops-project"
        exit_code = server.terminate()
    finally:
        server.kill()
    assert_stopped_cleanly(data_dir, exit_code, server.output())


def test_start_after_postgres_was_killed_leaves_nothing_behind(data_dir, first_run, tmp_path):
    server = serve(data_dir, tmp_path)
    try:
        for proc in embedded_db.cluster_processes(data_dir / "postgres"):
            proc.kill()
        server.terminate()
    finally:
        server.kill()
    assert (data_dir / "postgres" / "postmaster.pid").exists()  # the crash left it

    server = serve(data_dir, tmp_path)
    try:
        assert server.get("/api/public/projects", auth=AUTH).status_code == 200
        exit_code = server.interrupt()
    finally:
        server.kill()
    assert_stopped_cleanly(data_dir, exit_code, server.output())


def test_postmaster_pid_of_a_dead_process_does_not_prevent_the_start(data_dir, first_run, tmp_path):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    pid_file = data_dir / "postgres" / "postmaster.pid"
    pid_file.write_text(f"{finished.stdout.strip()}\n{data_dir / 'postgres'}\n")
    server = serve(data_dir, tmp_path)
    try:
        assert server.get("/api/public/projects", auth=AUTH).status_code == 200
        exit_code = server.interrupt()
    finally:
        server.kill()
    assert_stopped_cleanly(data_dir, exit_code, server.output())


def test_a_run_after_the_server_crashed_adopts_and_stops_the_orphaned_database(data_dir, first_run, tmp_path):
    crashed = serve(data_dir, tmp_path)
    os.kill(crashed.process.pid, signal.SIGKILL)  # no atexit: its postgres keeps running
    crashed.process.wait(10)
    assert embedded_db.cluster_processes(data_dir / "postgres")

    server = serve(data_dir, tmp_path)
    try:
        assert server.get("/api/public/projects", auth=AUTH).status_code == 200
        exit_code = server.terminate()
    finally:
        server.kill()
    assert_stopped_cleanly(data_dir, exit_code, server.output())
