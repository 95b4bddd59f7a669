"""The container's start-up sequence, as Kubernetes runs it when a Deployment of two replicas rolls out on an
empty database: two servers started at the same moment through the image's entrypoint, from the image's
/app tree, in production mode with secrets from files. Both come up; the schema is migrated once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests

from langfuse_ui import embedded_db
from tests.core.conftest import make_data_dir, remove_data_dir
from tests.core.processes import create_database
from tests.deploy.conftest import clean_env
from tests.live import free_port

# The chart's defaults for the keep-alive pair.
KEEP_ALIVE = {"LANGFUSE_HTTP_KEEPALIVE_TIMEOUT_MS": "620000", "LANGFUSE_HTTP_HEADERS_TIMEOUT_MS": "621000"}


@pytest.fixture(scope="module")
def cluster():
    """A scratch PostgreSQL of our own (in /tmp: as root the cluster's user must traverse the path)."""
    root = make_data_dir()
    pgdata = root / "pg"
    embedded_db.start(pgdata)
    yield pgdata
    remove_data_dir(root)


class Replica:
    """`entrypoint.sh` (no arguments: serve) from the image tree, its output in a log file."""

    def __init__(self, app: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [str(app / "deploy/docker/entrypoint.sh")],
                cwd="/",
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_ready(self, timeout: float = 180) -> requests.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"replica exited with {self.process.returncode}:\n{self.output()}")
            try:
                response = requests.get(f"{self.url}/api/public/ready", timeout=2)
            except requests.ConnectionError:
                time.sleep(0.2)
                continue
            if response.status_code == 200:
                return response
            time.sleep(0.2)
        raise AssertionError(f"replica not ready within {timeout}s:\n{self.output()}")

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def disk_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def test_two_replicas_on_an_empty_database_come_up_and_migrate_once(app_tree, cluster, tmp_path):
    url = create_database(cluster, "deploy_rollout")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "NEXTAUTH_SECRET").write_text("rollout-test-secret\n")
    (tmp_path / "secret" / "SALT").write_text("rollout-test-salt\n")
    env = clean_env(
        DATABASE_URL=url,
        NEXTAUTH_SECRET_FILE=str(tmp_path / "secret" / "NEXTAUTH_SECRET"),
        SALT_FILE=str(tmp_path / "secret" / "SALT"),
        LANGFUSE_DATA_DIR=str(tmp_path / "data"),
        STATIC_ROOT=str(app_tree / "staticfiles"),
        PYTHONUNBUFFERED="1",
        **KEEP_ALIVE,
    )
    env["DEBUG"] = "false"  # the image's ENV
    replicas = [Replica(app_tree, env, tmp_path / f"replica-{n}.log") for n in (1, 2)]
    try:
        for replica in replicas:
            replica.wait_until_ready()
        for replica in replicas:
            health = requests.get(
                f"{replica.url}/api/public/health?failIfDatabaseUnavailable=true", timeout=5
            )
            assert health.status_code == 200
            # The image's HEALTHCHECK command against this replica.
            check = subprocess.run(
                [sys.executable, str(app_tree / "deploy/docker/healthcheck.py")],
                env=clean_env(PORT=str(replica.port)),
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert check.returncode == 0, check.stderr
            stylesheet = requests.get(f"{replica.url}/static/css/app.css", timeout=5)
            assert stylesheet.status_code == 200 and stylesheet.content
            # Production mode: no debug page for an unknown URL.
            missing = requests.get(f"{replica.url}/no-such-page/", timeout=5)
            assert missing.status_code == 404 and "Traceback" not in missing.text
        exit_codes = [replica.stop() for replica in replicas]
    finally:
        for replica in replicas:
            replica.stop()
    outputs = [replica.output() for replica in replicas]
    # SIGTERM (what Kubernetes sends) ends each replica after uvicorn's graceful shutdown; uvicorn then
    # raises the signal again, so the exit status is either 0 or "terminated by SIGTERM".
    assert set(exit_codes) <= {0, -signal.SIGTERM}, exit_codes
    assert all("Finished server process" in output for output in outputs), outputs
    for output in outputs:
        assert "Traceback" not in output and "error:" not in output, output
        assert "Langfuse UI on http://127.0.0.1:" in output

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT app, name FROM django_migrations").fetchall()
        prices = conn.execute("SELECT count(*) FROM models WHERE project_id IS NULL").fetchone()[0]
    assert len(rows) == len(set(rows)), "a migration was recorded twice"
    assert set(rows) >= disk_migrations()
    # One replica loaded the default prices under the lock; the other found them in place.
    loaded = [line for output in outputs for line in output.splitlines() if "default model prices:" in line]
    assert len(loaded) == 2, outputs
    created = sorted(int(line.split("default model prices: ")[1].split(" new")[0]) for line in loaded)
    assert created[0] == 0 and created[1] == prices > 0, loaded
