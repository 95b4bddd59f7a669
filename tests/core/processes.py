"""Real `manage.py` processes for start-up tests: environments, output, signals, clean-up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

from langfuse_ui import embedded_db
from tests.live import free_port

BASE_DIR = Path(__file__).resolve().parent.parent.parent
INIT_KEYS = {
    "LANGFUSE_INIT_ORG_ID": "ops-org",
    "LANGFUSE_INIT_PROJECT_ID": "ops-project",
    "LANGFUSE_INIT_PROJECT_PUBLIC_KEY": "pk-lf-ops-public",
    "LANGFUSE_INIT_PROJECT_SECRET_KEY": "sk-lf-ops-secret",
}


def manage_env(**overrides: str | None) -> dict[str, str]:
    """The test's environment without database, secrets or LANGFUSE_INIT_*; overrides of None remove."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("LANGFUSE_INIT_", "DATABASE_")) or name in {
            "SALT",
            "SECRET_KEY",
            "NEXTAUTH_SECRET",
            "PORT",
            "LANGFUSE_DATA_DIR",
        }:
            env.pop(name)
    env["DEBUG"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def printed_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


class Serve:
    """`manage.py serve` in its own session, as a terminal would run it (Ctrl-C reaches the group)."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.port = int(env.get("PORT") or free_port())
        env = {**env, "PORT": str(self.port)}
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", *args],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_up(self, timeout: float = 60) -> Serve:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                requests.get(f"{self.url}/api/public/health", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"server did not answer within {timeout}s:\n{self.output()}")

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{text!r} never appeared:\n{self.output()}")
            time.sleep(0.1)

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=kwargs.pop("timeout", 15), **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return requests.post(self.url + path, timeout=kwargs.pop("timeout", 10), **kwargs)

    def interrupt(self, timeout: float = 30) -> int:
        """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout)

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def create_database(pgdata: Path, name: str) -> str:
    """An empty database in a scratch cluster; returns its DATABASE_URL."""
    with psycopg.connect(embedded_db.database_url(pgdata, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return embedded_db.database_url(pgdata, name)


def wait_for_status(server: Serve, path: str, status: int, timeout: float = 15) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = server.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)
