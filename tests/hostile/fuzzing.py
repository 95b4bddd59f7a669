"""schemathesis against a live server: shared by the CI test and bench/schemathesis_run.py.

The run uses the `st` command line of the schemathesis package (one process, its own report), with
Basic auth of a project key. Keys given here must belong to a throwaway project: the run sends DELETE
requests with whatever ids it invents or finds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ST = Path(sys.executable).with_name("st")
# The checks that decide the run: no 5xx, every response matching the documented schema, status code
# and content type. (negative_data_rejection and friends judge validation strictness: Langfuse's
# contract is lenient on unknown fields and extra parameters, and so are we.)
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@dataclass
class FuzzResult:
    returncode: int
    output: str
    report: dict

    @property
    def failures(self) -> list:
        return [e for e in self.report.get("events", []) if e.get("kind") == "failure"]


def run(
    base_url: str,
    public_key: str,
    secret_key: str,
    *,
    max_examples: int,
    seed: int = 1,
    phases: str = "examples,coverage,fuzzing",
    workers: int = 1,
    report_dir: Path,
    checks: str = CHECKS,
    extra: list[str] | None = None,
    timeout: float | None = None,
) -> FuzzResult:
    report_dir.mkdir(parents=True, exist_ok=True)
    report_path = report_dir / "schemathesis.json"
    command = [
        str(ST),
        "run",
        f"{base_url}/api/public/openapi.json",
        "--url",
        base_url,
        "--auth",
        f"{public_key}:{secret_key}",
        "--checks",
        checks,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--generation-deterministic",
        "--phases",
        phases,
        "--workers",
        str(workers),
        "--no-color",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
        *(extra or []),
    ]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, check=False, cwd=report_dir
    )
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        report = {}
    return FuzzResult(done.returncode, done.stdout + done.stderr, report)
