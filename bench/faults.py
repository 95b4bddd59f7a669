#!/usr/bin/env python3
"""Fault checks of issue 9: kill the server, restart PostgreSQL, race two servers, soak.

Each subcommand starts its own scratch embedded PostgreSQL and real `manage.py serve` processes in
production mode (DEBUG=false), prints one JSON line per round and a final JSON verdict line
("verdict": "PASS" or "FAIL"); the exit code is 0 on PASS. Run by hand, one at a time:

  .venv/bin/python bench/faults.py kill --rounds 5
  .venv/bin/python bench/faults.py pg-restart --rounds 5
  .venv/bin/python bench/faults.py race --rounds 5 --traces 300
  .venv/bin/python bench/faults.py soak --minutes 20          # at half the throughput measured first

Results and what they mean: docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_load import (
    Load,
    OtlpTemplates,
    Server,
    counts_hold,
    create_database,
    internal_errors,
    logged_errors,
    scratch_cluster,
    server_env,
    stored_counts,
    units_stored,
)


def emit(payload: dict) -> None:
    print(json.dumps(payload), flush=True)


def logs_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="langfuse-faults-logs-"))


def log_figures(server: Server) -> dict:
    """Tracebacks and ERROR lines of the server log; a 500 is logged as 'Internal Server Error'."""
    text = server.log_text()
    return {
        "tracebacks": text.count("Traceback"),
        "internal_server_errors": internal_errors(text),
        "logged_errors": logged_errors(text),
    }


def cmd_kill(args: argparse.Namespace) -> bool:
    """SIGKILL the whole server (master and workers) under load, start it again, check every 2xx."""
    templates = OtlpTemplates()
    ok = True
    with scratch_cluster() as pgdata:
        url = create_database(pgdata, "kill")
        logs = logs_dir()
        server = Server(server_env(url, args.workers), logs / "server.log").start()
        rng = random.Random(args.seed)
        acked_before = []
        try:
            for n in range(1, args.rounds + 1):
                load = Load(server.url, args.otlp_clients, args.ingestion_clients, templates, seed=n).start()
                time.sleep(rng.uniform(2, 6))
                acked_at_kill = len(load.tally.acked)
                server.sigkill()
                killed = time.monotonic()
                # Requests cut off by the kill whose transaction had committed: their retries are duplicates.
                answered = {id(unit) for unit in load.tally.acked}
                in_flight = [unit for unit in list(load.in_flight.values()) if id(unit) not in answered]
                committed_unanswered = units_stored(url, in_flight)
                time.sleep(args.down_s)
                server.migrate = False
                server.start()
                back = time.monotonic() - killed
                time.sleep(args.after_s)
                load.finish()
                acked_before += load.tally.acked
                counts = stored_counts(url, acked_before)
                held = counts_hold(counts, len(load.tally.abandoned))
                ok &= held
                emit(
                    {
                        "scenario": "kill",
                        "round": n,
                        "acked_at_kill": acked_at_kill,
                        "in_flight_at_kill": len(in_flight),
                        "of_which_committed": committed_unanswered,
                        "acked": len(load.tally.acked),
                        "retried_requests": load.tally.retries,
                        "abandoned": len(load.tally.abandoned),
                        "statuses": dict(load.tally.statuses),
                        "restart_s": round(back, 2),
                        **counts,
                        "held": held,
                    }
                )
        finally:
            server.stop()
        figures = log_figures(server)
    ok &= figures["internal_server_errors"] == 0
    emit({"scenario": "kill", "rounds": args.rounds, **figures, "verdict": "PASS" if ok else "FAIL"})
    return ok


def cmd_pg_restart(args: argparse.Namespace) -> bool:
    """Stop PostgreSQL (fast shutdown) under load, keep it down a while, start it; the server is untouched."""
    from langfuse_ui import embedded_db

    templates = OtlpTemplates()
    ok = True
    with scratch_cluster() as pgdata:
        url = create_database(pgdata, "restart")
        logs = logs_dir()
        server = Server(server_env(url, args.workers), logs / "server.log").start()
        rng = random.Random(args.seed)
        acked_before = []
        try:
            for n in range(1, args.rounds + 1):
                load = Load(server.url, args.otlp_clients, args.ingestion_clients, templates, seed=n).start()
                time.sleep(rng.uniform(2, 5))
                stopped = time.monotonic()
                embedded_db.stop(pgdata)
                time.sleep(args.down_s)
                embedded_db.start(pgdata, "postgres")
                started = time.monotonic()
                # Resumed = the first 2xx answered after PostgreSQL was back, without touching the server.
                resumed = None
                while resumed is None and time.monotonic() < started + 60:
                    later = [t for t in load.tally.ack_times if t > started]
                    resumed = min(later) - started if later else None
                    time.sleep(0.05)
                failures = [t for t in load.tally.failures if t > stopped]
                time.sleep(args.after_s)
                load.finish()
                acked_before += load.tally.acked
                counts = stored_counts(url, acked_before)
                statuses = dict(load.tally.statuses)
                bad = {k: v for k, v in statuses.items() if k.startswith("5") and k != "503"}
                held = counts_hold(counts, len(load.tally.abandoned)) and not bad and resumed is not None
                ok &= held
                emit(
                    {
                        "scenario": "pg-restart",
                        "round": n,
                        "down_s": round(started - stopped, 2),
                        "first_2xx_after_start_s": None if resumed is None else round(resumed, 2),
                        "last_failure_after_start_s": round(max(failures) - started, 2) if failures else None,
                        "acked": len(load.tally.acked),
                        "retried_requests": load.tally.retries,
                        "abandoned": len(load.tally.abandoned),
                        "statuses": statuses,
                        "server_errors": load.tally.server_errors,
                        **counts,
                        "held": held,
                    }
                )
        finally:
            server.stop()
        figures = log_figures(server)
    ok &= figures["internal_server_errors"] == 0
    emit(
        {
            "scenario": "pg-restart",
            "rounds": args.rounds,
            **figures,
            "server_log": str(logs / "server.log"),
            "verdict": "PASS" if ok else "FAIL",
        }
    )
    return ok


def cmd_race(args: argparse.Namespace) -> bool:
    from faults_race import run_race

    return run_race(args, emit)


def cmd_soak(args: argparse.Namespace) -> bool:
    from faults_soak import run_soak

    return run_soak(args, emit)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("kill", "pg-restart"):
        p = sub.add_parser(name)
        p.add_argument("--rounds", type=int, default=5)
        p.add_argument("--workers", type=int, default=2, help="server worker processes")
        p.add_argument("--otlp-clients", type=int, default=2)
        p.add_argument("--ingestion-clients", type=int, default=2)
        p.add_argument("--down-s", type=float, default=1.0 if name == "kill" else 3.0)
        p.add_argument("--after-s", type=float, default=3.0, help="load after the restart")
        p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("race")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--traces", type=int, default=300)
    p.add_argument("--workers", type=int, default=2, help="worker processes of each of the two servers")
    p.add_argument("--clients", type=int, default=4, help="client threads per server")
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("soak")
    p.add_argument("--minutes", type=float, default=20)
    p.add_argument(
        "--spans-per-s", type=int, default=0, help="offered rate; 0: half of what a calibration run measures"
    )
    p.add_argument("--calibrate-s", type=float, default=60, help="length of the calibration run")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--clients", type=int, default=6)
    args = ap.parse_args()
    commands = {"kill": cmd_kill, "pg-restart": cmd_pg_restart, "race": cmd_race, "soak": cmd_soak}
    sys.exit(0 if commands[args.command](args) else 1)


if __name__ == "__main__":
    threading.excepthook = lambda hook: print(f"client thread failed: {hook.exc_value!r}", file=sys.stderr)
    main()
