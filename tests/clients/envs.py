"""One cached environment per real client package set: Python venvs under .data/client-venvs/<name>/, and one
npm folder for the JavaScript clients under .data/client-node/.

An environment is reused when its marker file lists the same pinned requirements and Python version; otherwise
it is rebuilt from scratch with the machine's pip (or npm) from the package registry. A file lock per environment keeps
concurrent test processes (pytest-xdist, two helpers) from building the same one at once.

Prebuild everything (e.g. in CI before the tests): ``python -m tests.clients.envs``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
VENVS_DIR = BASE_DIR / ".data" / "client-venvs"
MARKER = "client-env.json"
INSTALL_TIMEOUT = float(os.environ.get("CLIENT_VENV_INSTALL_TIMEOUT", "900"))


NODE_DIR = BASE_DIR / ".data" / "client-node"


@dataclass(frozen=True)
class ClientEnv:
    name: str
    requirements: tuple[str, ...]
    kind: str = "python"  # or "node": requirements are npm "name@version" specs

    @property
    def path(self) -> Path:
        return NODE_DIR if self.kind == "node" else VENVS_DIR / self.name

    @property
    def node_modules(self) -> Path:
        return self.path / "node_modules"

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"


# Versions that do not conflict share one environment: LiteLLM's "langfuse" callback needs langfuse>=4.7,<5,
# and its "langfuse_otel" / "otel" callbacks need only the OpenTelemetry SDK and OTLP/HTTP exporter.
ENVS: dict[str, ClientEnv] = {
    env.name: env
    for env in (
        ClientEnv("langfuse5", ("langfuse==5.0.4", "langchain-core==1.8.3")),
        ClientEnv(
            "langfuse4-litellm",
            (
                "langfuse==4.18.0",
                "litellm==1.110.2",
                "opentelemetry-sdk>=1.33,<2",
                "opentelemetry-exporter-otlp-proto-http>=1.33,<2",
            ),
        ),
        ClientEnv("langfuse3", ("langfuse==3.15.0",)),
        ClientEnv("langfuse2", ("langfuse==2.60.10",)),
        # JS SDK 5.x (OTLP/JSON through the OpenTelemetry JS SDK) and the legacy langfuse 3.x npm package.
        ClientEnv(
            "node",
            (
                "@langfuse/otel@5.11.1",
                "@langfuse/tracing@5.11.1",
                "@langfuse/client@5.11.1",
                "@opentelemetry/api@1.9.1",
                "@opentelemetry/sdk-trace-node@2.12.1",
                "@opentelemetry/sdk-trace-base@2.12.1",
                "@opentelemetry/core@2.12.1",
                "@opentelemetry/exporter-trace-otlp-http@0.223.0",
                "langfuse@3.39.2",
            ),
            kind="node",
        ),
    )
}


class ClientEnvError(RuntimeError):
    pass


def _wanted_marker(env: ClientEnv) -> dict:
    if env.kind == "node":
        return {"requirements": list(env.requirements), "python": None}
    return {
        "requirements": list(env.requirements),
        "python": ".".join(map(str, sys.version_info[:3])),
    }


def is_ready(env: ClientEnv) -> bool:
    marker = env.path / MARKER
    try:
        found = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    installed = env.node_modules.is_dir() if env.kind == "node" else env.python.exists()
    return {k: found.get(k) for k in ("requirements", "python")} == _wanted_marker(env) and installed


def _run(cmd: list[str], what: str, timeout: float) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    env.pop("PYTHONPATH", None)
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise ClientEnvError(f"{what}: timed out after {timeout:.0f}s ({' '.join(cmd)})") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise ClientEnvError(f"{what}: exit {result.returncode} ({' '.join(cmd)})\n{tail}")


def _build_node(env: ClientEnv) -> None:
    if shutil.which("npm") is None:
        raise ClientEnvError("npm is not installed; the JavaScript client tests need Node.js 18+ and npm")
    shutil.rmtree(env.path, ignore_errors=True)
    env.path.mkdir(parents=True)
    dependencies = dict(spec.rsplit("@", 1) for spec in env.requirements)
    package = {"name": "client-node", "private": True, "version": "0.0.0", "dependencies": dependencies}
    (env.path / "package.json").write_text(json.dumps(package, indent=2))
    _run(
        ["npm", "install", "--prefix", str(env.path), "--no-audit", "--no-fund", "--loglevel=error"],
        f"installing {', '.join(env.requirements)} into {env.path}",
        INSTALL_TIMEOUT,
    )


def _build(env: ClientEnv) -> None:
    if env.kind == "node":
        _build_node(env)
        _write_marker(env)
        return
    shutil.rmtree(env.path, ignore_errors=True)
    base_python = getattr(sys, "_base_executable", sys.executable)
    _run([base_python, "-m", "venv", str(env.path)], f"creating venv {env.name}", 120)
    _run(
        [
            str(env.python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--timeout",
            "60",
            "--retries",
            "3",
            *env.requirements,
        ],
        f"installing {', '.join(env.requirements)} into {env.path}",
        INSTALL_TIMEOUT,
    )
    _write_marker(env)


def _write_marker(env: ClientEnv) -> None:
    marker = {**_wanted_marker(env), "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (env.path / MARKER).write_text(json.dumps(marker, indent=2))


def ensure(name: str) -> tuple[ClientEnv, float]:
    """The environment, built if missing or stale, and the seconds this call spent (waiting included)."""
    env = ENVS[name]
    started = time.monotonic()
    if is_ready(env):
        return env, time.monotonic() - started
    VENVS_DIR.mkdir(parents=True, exist_ok=True)
    with open(VENVS_DIR / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it; wait, then re-check
        try:
            if not is_ready(env):
                _build(env)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return env, time.monotonic() - started


def ensure_all(names: list[str]) -> dict[str, tuple[ClientEnv, float]]:
    """Build several environments in parallel (downloads overlap); raises the first failure."""
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        futures = {name: pool.submit(ensure, name) for name in names}
        return {name: future.result() for name, future in futures.items()}


if __name__ == "__main__":
    wanted = sys.argv[1:] or list(ENVS)
    for name, (_, seconds) in ensure_all(wanted).items():
        print(f"{name}: ready in {seconds:.1f}s")
