#!/usr/bin/env python3
"""Long schemathesis run against /api/public/openapi.json of a live server (run by hand).

Starts a scratch embedded PostgreSQL database (or uses --database-url), migrates it, creates a
throwaway organisation and project with a project key and an organisation key, starts
`manage.py serve` (DEBUG=false), then runs schemathesis (`st run`) twice:
  1. every operation with the project key (DELETEs included: they can only reach the throwaway project);
  2. the organisation routes (/organizations/*, /projects*) with the organisation key.
Checks: no 5xx, responses matching the documented schema, documented status codes and content types.
Prints the figures of each pass as one JSON line and exits non-zero when a failure was found.

  .venv/bin/python bench/schemathesis_run.py --max-examples 100 --phases examples,coverage,fuzzing,stateful
  .venv/bin/python bench/schemathesis_run.py --max-examples 30 --seed 7    # shorter, another seed
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "langfuse_fuzz"


def setup_django(database_url: str | None) -> str:
    if not database_url:
        from langfuse_ui import embedded_db

        pgdata = embedded_db.data_dir("bench-postgres")
        embedded_db.acquire(pgdata, DATABASE)
        atexit.register(embedded_db.release, pgdata)
        database_url = embedded_db.database_url(pgdata, DATABASE)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langfuse_ui.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SALT", "bench-only-salt")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_model_prices", verbosity=0)
    return database_url


def throwaway_keys() -> tuple[tuple[str, str], tuple[str, str]]:
    from accounts import api_keys
    from accounts.models import Organization, Project

    suffix = uuid.uuid4().hex[:8]
    org = Organization.objects.create(name=f"fuzz-{suffix}")
    project = Project.objects.create(organization=org, name=f"fuzz-{suffix}")
    key, secret = api_keys.create_api_key(project=project, note="schemathesis")
    org_key, org_secret = api_keys.create_api_key(organization=org, note="schemathesis")
    return (key.public_key, secret), (org_key.public_key, org_secret)


def figures(label: str, result, elapsed: float) -> dict:
    report = result.report
    failures = report.get("failures") or []
    return {
        "pass": label,
        "exit_code": result.returncode,
        "seconds": round(elapsed, 1),
        "operations_tested": (report.get("operations") or {}).get("tested"),
        "test_cases": (report.get("test_cases") or {}).get("generated"),
        "unique_failures": (report.get("test_cases") or {}).get("unique_failures"),
        "errors": len(report.get("errors") or []),
        "failures": [json.dumps(f)[:400] for f in failures][:50],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="default: a scratch embedded PostgreSQL (.data/bench-postgres)"
    )
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report-dir", type=Path, default=None, help="keep the schemathesis reports here")
    args = parser.parse_args()

    database_url = setup_django(args.database_url)
    from tests.hostile import fuzzing
    from tests.live import start_server

    (public, secret), (org_public, org_secret) = throwaway_keys()
    report_root = args.report_dir or Path(tempfile.mkdtemp(prefix="schemathesis-"))
    report_root.mkdir(parents=True, exist_ok=True)
    server = start_server(
        database_url,
        report_root / "server.log",
        extra_env={"DEBUG": "false", "SECRET_KEY": os.environ["SECRET_KEY"], "SALT": os.environ["SALT"]},
        timeout=180,
    )
    ok = True
    try:
        passes = [
            ("project-key", public, secret, []),
            (
                "organisation-key",
                org_public,
                org_secret,
                ["--include-path-regex", r"^/api/public/(organizations|projects)"],
            ),
        ]
        for label, user, password, extra in passes:
            started = time.monotonic()
            result = fuzzing.run(
                server.url,
                user,
                password,
                max_examples=args.max_examples,
                seed=args.seed,
                phases=args.phases,
                workers=args.workers,
                report_dir=report_root / label,
                extra=extra,
            )
            line = figures(label, result, time.monotonic() - started)
            print(json.dumps(line), flush=True)
            if result.returncode != 0:
                ok = False
                print(result.output[-20000:], file=sys.stderr)
    finally:
        server.stop()
    tracebacks = (report_root / "server.log").read_text().count("Traceback")
    print(json.dumps({"server_tracebacks": tracebacks, "reports": str(report_root)}), flush=True)
    return 0 if ok and not tracebacks else 1


if __name__ == "__main__":
    sys.exit(main())
