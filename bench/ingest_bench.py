#!/usr/bin/env python3
"""Ingestion benchmark: spans/s committed AND queryable, request latency, server memory, raw ceiling.

Starts a scratch embedded PostgreSQL (or uses --database-url), migrates it, starts `manage.py serve`
with --workers processes, then:
  1. OTLP: bench/otlp_load.py sends --traces traces of --spans-per-trace spans, --batch-spans per request,
     --concurrency clients; after the last 2xx it polls the public API until every trace is readable.
  2. /api/public/ingestion: the same volume as legacy JSON batches (trace + generation events).
  3. The raw PostgreSQL ceiling of the same rows (bench/pg_ceiling.py, staged COPY + upsert) on the same
     server, so the ratio is measured in the same run on the same machine.
Prints one JSON line per part, then a summary. Run by hand; never from the test suite.

  .venv/bin/python bench/ingest_bench.py --traces 3000 --workers 2
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import otlp_load  # noqa: E402

PUBLIC, SECRET = "pk-lf-bench", "sk-lf-bench"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Memory:
    """Peak resident memory of the server process tree, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def sample(self) -> int:
        procs = [self.root, *self.root.children(recursive=True)]
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.sample())
            time.sleep(0.2)


class Cpu:
    """CPU seconds (user + system) of process trees, read before and after a part of the run.

    CPU time is the figure to compare between runs on a shared machine: wall time depends on what
    the other tenants do, the CPU a request costs mostly does not. Children that already exited are
    counted through their parent's `children_*` times (the postmaster and uvicorn reap theirs).
    """

    def __init__(self, server_pid: int, pgdata: Path | None) -> None:
        self.server = psutil.Process(server_pid)
        self.postmaster = _postmaster(pgdata) if pgdata else None

    @staticmethod
    def tree(root: psutil.Process | None) -> float:
        if root is None:
            return 0.0
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                times = child.cpu_times()
                total += times.user + times.system
        return total

    def read(self) -> dict[str, float]:
        me = psutil.Process().cpu_times()
        return {
            "server": self.tree(self.server),
            "postgres": self.tree(self.postmaster),
            "client": me.user + me.system,
        }

    @staticmethod
    def per_10k(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
        """CPU seconds per 10,000 spans (or events) of each side between two readings."""
        return {side: round((after[side] - before[side]) * 10_000 / items, 2) for side in before}


def _postmaster(pgdata: Path) -> psutil.Process | None:
    try:
        return psutil.Process(int((pgdata / "postmaster.pid").read_text().splitlines()[0]))
    except (OSError, ValueError, IndexError, psutil.Error):
        return None


def wait_queryable(url: str, trace_ids: list[str], timeout: float = 300) -> float:
    """Seconds until the last of trace_ids answers 200 on GET /api/public/traces/{id}."""
    start = time.monotonic()
    session = requests.Session()
    session.auth = (PUBLIC, SECRET)
    pending = list(trace_ids)
    while pending and time.monotonic() - start < timeout:
        still = []
        for trace_id in pending:
            if session.get(f"{url}/api/public/traces/{trace_id}", timeout=30).status_code != 200:
                still.append(trace_id)
        pending = still
        if pending:
            time.sleep(0.2)
    if pending:
        raise SystemExit(f"{len(pending)} traces not queryable after {timeout}s")
    return time.monotonic() - start


def legacy_batches(traces: int, spans_per_trace: int, batch_events: int) -> tuple[list[bytes], list[str]]:
    rng = random.Random(11)
    events, ids = [], []
    now = "2026-01-01T00:00:00.000Z"
    for _ in range(traces):
        trace_id = str(uuid.uuid4())
        ids.append(trace_id)
        events.append(
            {
                "id": str(uuid.uuid4()),
                "type": "trace-create",
                "timestamp": now,
                "body": {"id": trace_id, "name": "bench", "userId": f"u{rng.randint(1, 50)}"},
            }
        )
        for _k in range(spans_per_trace - 1):
            events.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "generation-create",
                    "timestamp": now,
                    "body": {
                        "id": str(uuid.uuid4()),
                        "traceId": trace_id,
                        "name": "llm",
                        "model": "gpt-4o-mini",
                        "startTime": now,
                        "endTime": now,
                        "input": otlp_load.chat_input(rng),
                        "output": otlp_load.chat_output(rng),
                        "usage": {"input": rng.randint(50, 900), "output": 200},
                    },
                }
            )
    bodies = [
        json.dumps({"batch": events[i : i + batch_events]}).encode()
        for i in range(0, len(events), batch_events)
    ]
    return bodies, ids


def run_legacy(url: str, bodies: list[bytes], concurrency: int) -> dict:
    latencies, failures, lock = [], [], threading.Lock()
    queue = list(bodies)
    header = "Basic " + base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            t = time.perf_counter()
            response = session.post(
                f"{url}/api/public/ingestion",
                data=body,
                timeout=60,
                headers={"Content-Type": "application/json", "Authorization": header},
            )
            with lock:
                latencies.append((time.perf_counter() - t) * 1000)
                if response.status_code != 207 or response.json()["errors"]:
                    failures.append(response.status_code)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "elapsed_s": round(elapsed, 3),
        "requests": len(bodies),
        "failures": len(failures),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--traces", type=int, default=3000)
    ap.add_argument("--spans-per-trace", type=int, default=10)
    ap.add_argument("--batch-spans", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2, help="server worker processes (WEB_CONCURRENCY)")
    ap.add_argument("--database-url", help="an empty scratch database; default: a new embedded cluster")
    ap.add_argument("--skip-ceiling", action="store_true")
    ap.add_argument(
        "--no-rollup-triggers",
        action="store_true",
        help="disable the dashboard rollup triggers once the server has migrated (to measure their cost)",
    )
    ap.add_argument(
        "--sql",
        action="append",
        default=[],
        help="run this statement once the server has migrated, e.g. 'DROP INDEX obs_trace_model' to measure an index",
    )
    args = ap.parse_args()

    from langfuse_ui import embedded_db

    scratch = None
    if args.database_url:
        database_url = args.database_url
    else:
        scratch = Path(tempfile.mkdtemp(prefix="langfuse-bench-")) / "pg"
        embedded_db.start(scratch, "bench")
        database_url = embedded_db.database_url(scratch, "bench")
    try:
        _run(args, database_url, scratch)
    finally:
        if scratch is not None:
            embedded_db.destroy(scratch)
            shutil.rmtree(scratch.parent, ignore_errors=True)


def _run(args: argparse.Namespace, database_url: str, scratch: Path | None) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # Production mode, as deployed (DEBUG=true would also record every SQL statement).
        "DEBUG": "false",
        "SECRET_KEY": "bench-secret-key-not-for-production-use-0123456789",
        "SALT": "bench-salt",
        "WEB_CONCURRENCY": str(args.workers),
        "LANGFUSE_INIT_ORG_ID": "bench-org",
        "LANGFUSE_INIT_PROJECT_ID": "bench",
        "LANGFUSE_INIT_PROJECT_PUBLIC_KEY": PUBLIC,
        "LANGFUSE_INIT_PROJECT_SECRET_KEY": SECRET,
        "LANGFUSE_LOG_LEVEL": "warning",
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--host", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/api/public/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or too busy to answer within 1 s
                pass
            time.sleep(0.2)
        statements = list(args.sql)
        if args.no_rollup_triggers:
            statements += [
                f"ALTER TABLE {table} DISABLE TRIGGER USER" for table in ("traces", "observations")
            ]
        if statements:
            import psycopg

            with psycopg.connect(database_url, autocommit=True) as conn:
                for statement in statements:
                    conn.execute(statement)
        memory = Memory(server.pid)
        idle_rss = memory.sample()
        memory.thread.start()
        cpu = Cpu(server.pid, scratch)
        load_before = os.getloadavg()

        bodies, n_spans = otlp_load.build_payloads(
            args.traces, args.spans_per_trace, args.batch_spans, random.randint(1, 10**9)
        )
        trace_ids = sorted({s.trace_id.hex() for body in bodies[-1:] for s in _spans(body)})
        cpu_before = cpu.read()
        accepted, latencies, statuses, errors = otlp_load.run(
            f"{url}/api/public/otel/v1/traces", bodies, args.concurrency, auth=(PUBLIC, SECRET)
        )
        queryable = wait_queryable(url, trace_ids)
        cpu_after = cpu.read()
        total = accepted + queryable
        otlp = {
            "part": "otlp",
            "spans": n_spans,
            "requests": len(bodies),
            "accepted_s": round(accepted, 2),
            "queryable_s": round(total, 2),
            "spans_per_s_queryable": round(n_spans / total),
            "p50_ms": round(otlp_load.percentile(latencies, 50) * 1000, 1),
            "p95_ms": round(otlp_load.percentile(latencies, 95) * 1000, 1),
            "statuses": {str(k): v for k, v in statuses.items()},
            "errors": len(errors),
            "cpu_s_per_10k": Cpu.per_10k(cpu_before, cpu_after, n_spans),
            "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        }
        print(json.dumps(otlp), flush=True)

        legacy_bodies, legacy_ids = legacy_batches(args.traces, args.spans_per_trace, args.batch_spans)
        cpu_before = cpu.read()
        result = run_legacy(url, legacy_bodies, args.concurrency)
        queryable = wait_queryable(url, legacy_ids[-5:])
        cpu_after = cpu.read()
        legacy = {
            "part": "ingestion",
            "events": args.traces * args.spans_per_trace,
            **result,
            "events_per_s_queryable": round(
                args.traces * args.spans_per_trace / (result["elapsed_s"] + queryable)
            ),
            "cpu_s_per_10k": Cpu.per_10k(cpu_before, cpu_after, args.traces * args.spans_per_trace),
        }
        print(json.dumps(legacy), flush=True)
        memory.stop.set()
        mem = {
            "part": "memory",
            "workers": args.workers,
            "idle_mb": round(idle_rss / 2**20),
            "peak_mb": round(memory.peak / 2**20),
        }
        print(json.dumps(mem), flush=True)
    finally:
        server.terminate()
        server.wait(30)

    ceiling = None
    if not args.skip_ceiling:
        out = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "pg_ceiling.py"),
                "--dsn",
                database_url,
                "--traces",
                str(args.traces),
                "--spans-per-trace",
                str(args.spans_per_trace),
                "--batch",
                str(args.batch_spans),
                "--reps",
                "1",
                "--indexes",
                "pk+2",
                "--methods",
                "upsert_executemany_new,staged_copy_upsert_new",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        ceiling = max(r.get("rows_per_sec", 0) for r in rows)
        print(json.dumps({"part": "pg_ceiling", "best_rows_per_s": ceiling, "runs": rows}), flush=True)
    summary = {
        "part": "summary",
        "spans_per_s_queryable": otlp["spans_per_s_queryable"],
        "p95_ms": otlp["p95_ms"],
        "cpu_s_per_10k_spans": otlp["cpu_s_per_10k"],
        "loadavg": [round(v, 2) for v in os.getloadavg()],
    }
    if ceiling:
        summary["ratio_to_raw_ceiling"] = round(otlp["spans_per_s_queryable"] / ceiling, 3)
    print(json.dumps(summary), flush=True)


def _spans(body: bytes):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest.FromString(body)
    for resource in request.resource_spans:
        for scope in resource.scope_spans:
            yield from scope.spans


if __name__ == "__main__":
    main()
