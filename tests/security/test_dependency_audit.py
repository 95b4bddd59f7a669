"""The CI dependency audit (.ci/audit_dependencies.py) reads pip-audit's report the way it should."""

from __future__ import annotations

import runpy
from pathlib import Path

AUDIT = runpy.run_path(str(Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"))
summarise = AUDIT["summarise"]


def test_a_known_vulnerability_is_reported_with_its_fixed_versions():
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "5.2.0",
                "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.2"]}],
            },
            {"name": "requests", "version": "2.32.5", "vulns": []},
        ]
    }
    assert summarise(report) == (["django 5.2.0: PYSEC-2025-1 (fixed in 5.2.2)"], 2, 0)


def test_packages_the_service_does_not_know_are_counted_as_skipped_not_safe():
    report = {
        "dependencies": [
            {"name": "uvicorn", "skip_reason": "Dependency not found on PyPI and could not be audited"},
            {"name": "requests", "version": "2.32.5", "vulns": []},
        ]
    }
    assert summarise(report) == ([], 1, 1)
