"""Run a client driver in its own virtual environment against the live server, and read back what it stored."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from accounts.models import Project
from tests.clients.envs import ClientEnv

DRIVERS_DIR = Path(__file__).resolve().parent / "drivers"
RESULT_PREFIX = "CLIENT-RESULT "
# Variables of this process that must not leak into a client's process.
_DROPPED_PREFIXES = ("LANGFUSE_", "OTEL_", "LITELLM_", "DJANGO_", "PYTHON", "VIRTUAL_ENV", "NODE_")


@dataclass
class ClientServer:
    url: str
    public_key: str
    secret_key: str
    project: Project
    log: Path

    def get(self, path: str, **params: Any) -> Any:
        response = requests.get(
            f"{self.url}/api/public/{path}",
            params=params,
            auth=(self.public_key, self.secret_key),
            timeout=15,
        )
        assert response.status_code == 200, f"GET {path} -> {response.status_code}: {response.text[:500]}"
        return response.json()

    def trace(self, trace_id: str) -> dict[str, Any]:
        return self.get(f"traces/{trace_id}")

    def scores(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("v2/scores", limit=100, **filters)["data"]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def client_environment(
    server: ClientServer, scenario: dict[str, Any], extra: dict[str, str] | None = None
) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update(
        {
            "LANGFUSE_HOST": server.url,
            "LANGFUSE_BASE_URL": server.url,
            "LANGFUSE_PUBLIC_KEY": server.public_key,
            "LANGFUSE_SECRET_KEY": server.secret_key,
            "CLIENT_SCENARIO": json.dumps(scenario),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            # No telemetry or model-cost downloads from the clients.
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_TELEMETRY": "False",
            "ANONYMIZED_TELEMETRY": "False",
            **(extra or {}),
        }
    )
    return env


def run_driver(
    env: ClientEnv,
    driver: str,
    server: ClientServer,
    scenario: dict[str, Any],
    *args: str,
    extra_env: dict[str, str] | None = None,
    timeout: float = 120,
) -> dict[str, Any]:
    """Run drivers/<driver>.py (.cjs under node) in the client's environment; the JSON it reports, or a failure
    with the driver's and the server's logs."""
    if env.kind == "node":
        cmd = ["node", str(DRIVERS_DIR / f"{driver}.cjs"), *args]
        extra_env = {"NODE_PATH": str(env.node_modules), **(extra_env or {})}
    else:
        cmd = [str(env.python), str(DRIVERS_DIR / f"{driver}.py"), *args]
    try:
        done = subprocess.run(
            cmd,
            env=client_environment(server, scenario, extra_env),
            cwd=DRIVERS_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"{driver} did not finish within {timeout}s\nstdout:\n{exc.stdout}\nstderr:\n{exc.stderr}\n"
            f"server log:\n{server.log_tail()}"
        ) from exc
    results = [
        line[len(RESULT_PREFIX) :] for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)
    ]
    if done.returncode != 0 or not results:
        raise AssertionError(
            f"{driver} exited {done.returncode}\nstdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-6000:]}\n"
            f"server log:\n{server.log_tail()}"
        )
    print(f"--- {driver} stderr ---\n{done.stderr[-20000:]}")  # pytest shows it when the test fails
    result = json.loads(results[-1])
    result["stderr"] = done.stderr
    return result


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        assert item["name"] not in found, f"two items named {item['name']!r}"
        found[item["name"]] = item
    return found
