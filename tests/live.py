"""A real server process (manage.py serve, uvicorn) on a free loopback port, for clients and browsers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_of_current_connection() -> str:
    db = settings.DATABASES["default"]
    name = connection.settings_dict["NAME"]
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = db["HOST"]
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{name}?host={host}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{name}"


class LiveServer:
    def __init__(self, url: str, process: subprocess.Popen, log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_server(
    database_url: str, log_path: Path, extra_env: dict | None = None, timeout: float = 30
) -> LiveServer:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "true",
        "PORT": str(port),
        "DATABASE_POOL_MAX_SIZE": "8",
        **(extra_env or {}),
    }
    for name in [k for k in env if k.startswith("LANGFUSE_INIT_")]:
        if not (extra_env and name in extra_env):
            env.pop(name)
    log = open(log_path, "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-migrate", "--host", "127.0.0.1"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
        try:
            requests.get(f"{url}/api/public/health", timeout=1)
            return LiveServer(url, process, log_path)
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not answer within {timeout}s:\n{log_path.read_text()}")


@pytest.fixture
def live_server_process(transactional_db, tmp_path):
    """A uvicorn server on the test database; data must be committed (transactional_db)."""
    server = start_server(database_url_of_current_connection(), tmp_path / "server.log")
    yield server
    server.stop()
