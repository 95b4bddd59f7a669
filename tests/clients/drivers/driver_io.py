"""Shared by the driver scripts, which run under each client's own Python (no Django, no project imports).

A driver reads the scenario from CLIENT_SCENARIO, talks to LANGFUSE_HOST / LANGFUSE_BASE_URL with the keys
in LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY, and prints one JSON line (prefixed) with the ids it created.
"""

from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace
from typing import Any

RESULT_PREFIX = "CLIENT-RESULT "


def load_scenario() -> dict[str, Any]:
    return json.loads(os.environ["CLIENT_SCENARIO"])


def report(result: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def prompt_source(prompt: dict[str, Any]) -> SimpleNamespace:
    """What a prompt client is built from (the API model), without fetching it from the server."""
    return SimpleNamespace(
        name=prompt["name"],
        version=prompt["version"],
        prompt=prompt["prompt"],
        config={},
        labels=["production"],
        tags=[],
        commit_message=None,
        type="text",
    )
