"""Dependency audit for CI: pip-audit over the installed environment, read by this script.

Fails (exit 1) when an installed package has a known vulnerability, naming it and the fixed versions.
When the vulnerability service cannot be reached or knows none of the packages (pip-audit then says
"not found on PyPI" for each), it warns and passes: CI must not turn red because an outside service
is down, and the warning says how much went unaudited. AUDIT_REQUIRED=true makes that a failure too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def summarise(report: dict) -> tuple[list[str], int, int]:
    """(one line per vulnerability, packages audited, packages skipped) of a pip-audit JSON report."""
    found, audited, skipped = [], 0, 0
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            skipped += 1
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            found.append(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    return found, audited, skipped


def main() -> int:
    required = os.environ.get("AUDIT_REQUIRED", "").lower() in ("1", "true", "yes")
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        result = subprocess.run(
            [
                str(VENV_BIN / "pip-audit"),
                "--progress-spinner",
                "off",
                "--skip-editable",
                "-f",
                "json",
                "-o",
                str(output),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        report = json.loads(output.read_text()) if output.exists() and output.stat().st_size else None
    if report is None:
        print(f"dependency audit: WARNING pip-audit could not run its audit: {result.stderr.strip()[-500:]}")
        return 1 if required else 0
    found, audited, skipped = summarise(report)
    if found:
        print("dependency audit: FAILED, known vulnerabilities in installed packages:")
        print("\n".join(f"  {line}" for line in found))
        return 1
    print(f"dependency audit: {audited} packages audited, no known vulnerability", end="")
    if skipped:
        print(
            f"; WARNING {skipped} could not be audited (the vulnerability service did not know them or was unreachable)"
        )
        return 1 if required and audited == 0 else 0
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
