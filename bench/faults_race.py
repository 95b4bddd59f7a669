"""`faults.py race`: two servers on one database get the same requests at once; one server gets them in turn.

The events of each trace are split over several requests that set disjoint fields (creates,
updates sent before or after their creates, trace-level merges of metadata and tags, OTLP spans
of one trace in two requests), so any order of arrival must store the same rows. The racing
database is then compared with a reference database that received every request once, in order,
column by column (created_at and updated_at aside; tags as a set, since their order is arrival order).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import otlp_load
import psycopg
import requests
from faults_load import (
    PROJECT,
    PUBLIC,
    SECRET,
    Server,
    create_database,
    internal_errors,
    logged_errors,
    pg_log_count,
    scratch_cluster,
    server_env,
)
from ingest_bench import _spans

IGNORED = {"created_at", "updated_at", "project_id"}
TABLES = ("traces", "observations", "scores")


class Request:
    def __init__(self, kind: str, body: bytes) -> None:
        self.kind, self.body = kind, body

    def send(self, session: requests.Session, url: str, statuses: Counter, lock: threading.Lock) -> None:
        """POST until a 2xx without event errors, like an SDK retrying with the same ids."""
        path = "/api/public/otel/v1/traces" if self.kind == "otlp" else "/api/public/ingestion"
        content_type = "application/x-protobuf" if self.kind == "otlp" else "application/json"
        for attempt in range(1, 30):
            try:
                response = session.post(
                    url + path, data=self.body, headers={"Content-Type": content_type}, timeout=60
                )
                status = str(response.status_code)
                if status.startswith("2") and self.kind == "ingestion" and response.json()["errors"]:
                    status = f"{status}-with-errors"
            except requests.RequestException as exc:
                status = type(exc).__name__
            with lock:
                statuses[status] += 1
            if status in ("200", "207"):
                return
            time.sleep(0.1 * attempt)
        raise RuntimeError(f"a {self.kind} request never got a 2xx")


def _event(kind: str, body: dict, at: datetime) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "timestamp": _iso(at), "body": body}


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def legacy_pieces(trace_id: str, n: int, rng: random.Random) -> list[list[dict]]:
    """Five pieces of one trace, each setting fields no other piece sets (metadata keys disjoint)."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
    t1, t2, t3 = t0 + timedelta(seconds=1), t0 + timedelta(seconds=2), t0 + timedelta(seconds=3)
    span, gen, event, gen2 = f"{trace_id}-span", f"{trace_id}-gen", f"{trace_id}-event", f"{trace_id}-gen2"
    return [
        [
            _event(
                "trace-create",
                {
                    "id": trace_id,
                    "timestamp": _iso(t0),
                    "name": f"race-{n % 7}",
                    "userId": f"user-{n % 5}",
                    "input": {"q": f"question {n}"},
                    "metadata": {"a": n},
                    "tags": ["alpha", f"t{n % 3}"],
                },
                t0,
            )
        ],
        [
            _event(
                "trace-create",
                {
                    "id": trace_id,
                    "timestamp": _iso(t0),
                    "sessionId": f"session-{n % 11}",
                    "release": "r1",
                    "output": {"a": f"answer {n}"},
                    "metadata": {"b": n * 2},
                    "tags": ["beta"],
                },
                t0,
            )
        ],
        [
            _event(
                "span-create",
                {
                    "id": span,
                    "traceId": trace_id,
                    "name": "retrieve",
                    "startTime": _iso(t1),
                    "input": {"k": 3},
                    "metadata": {"c": 1},
                },
                t1,
            ),
            _event(
                "generation-create",
                {
                    "id": gen,
                    "traceId": trace_id,
                    "parentObservationId": span,
                    "name": "llm",
                    "model": rng.choice(["gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet-20241022"]),
                    "modelParameters": {"temperature": 0.2},
                    "startTime": _iso(t1),
                    "input": json.loads(otlp_load.chat_input(rng)),
                },
                t1,
            ),
            _event(
                "generation-create",
                {
                    "id": gen2,
                    "traceId": trace_id,
                    "name": "rerank",
                    "model": "gpt-4o-mini",
                    "startTime": _iso(t2),
                },
                t2,
            ),
        ],
        [
            _event(
                "span-update",
                {
                    "id": span,
                    "traceId": trace_id,
                    "endTime": _iso(t2),
                    "output": {"docs": n},
                    "level": "WARNING",
                    "metadata": {"d": 2},
                },
                t2,
            ),
            _event(
                "generation-update",
                {
                    "id": gen,
                    "traceId": trace_id,
                    "endTime": _iso(t3),
                    "completionStartTime": _iso(t2),
                    "output": json.loads(otlp_load.chat_output(rng)),
                    "usage": {"input": rng.randint(10, 900), "output": rng.randint(5, 300)},
                },
                t3,
            ),
        ],
        [
            _event(
                "event-create",
                {"id": event, "traceId": trace_id, "name": "done", "startTime": _iso(t3), "level": "ERROR"},
                t3,
            ),
            # An update that names no trace (traceId is optional): it must still reach the trace's totals.
            _event(
                "generation-update",
                {"id": gen2, "endTime": _iso(t3), "usage": {"input": 40, "output": 2}, "statusMessage": "ok"},
                t3,
            ),
            _event(
                "score-create",
                {"id": f"{trace_id}-score", "traceId": trace_id, "name": "quality", "value": n % 10 / 10},
                t3,
            ),
        ],
    ]


def build_requests(traces: int, seed: int) -> tuple[list[Request], dict[str, list[str]]]:
    """Legacy batches of 5 pieces of different traces, overlapping differently per piece; OTLP halves."""
    rng = random.Random(seed)
    trace_ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(traces)]
    pieces = [legacy_pieces(trace_id, n, rng) for n, trace_id in enumerate(trace_ids)]
    out: list[Request] = []
    group = 5
    for p in range(5):
        offset = p * 2
        order = trace_ids[offset:] + trace_ids[:offset]
        index = {t: i for i, t in enumerate(trace_ids)}
        for start in range(0, traces, group):
            events = [e for t in order[start : start + group] for e in pieces[index[t]][p]]
            out.append(Request("ingestion", json.dumps({"batch": events}).encode()))
    # OTLP: each trace's 10 spans in two requests of 5 (children, then children and root).
    bodies, _ = otlp_load.build_payloads(max(1, traces // 5), 10, 5, seed)
    otlp_traces = sorted({s.trace_id.hex() for body in bodies for s in _spans(body)})
    otlp_spans = sorted({s.span_id.hex() for body in bodies for s in _spans(body)})
    out += [Request("otlp", body) for body in bodies]
    ids = {
        "traces": trace_ids + otlp_traces,
        "observations": [f"{t}-{k}" for t in trace_ids for k in ("span", "gen", "gen2", "event")]
        + otlp_spans,
        "scores": [f"{t}-score" for t in trace_ids],
    }
    return out, ids


def send_all(
    urls_and_orders: list[tuple[str, list[Request]]], clients: int, auth: tuple[str, str] = (PUBLIC, SECRET)
) -> Counter:
    """Each url gets its list of requests from `clients` threads; all urls at the same time."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(len(urls_and_orders) * clients)
    threads = []
    for url, order in urls_and_orders:
        queue = list(reversed(order))

        def worker(url: str = url, queue: list = queue) -> None:
            session = requests.Session()
            session.auth = auth
            start.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    request = queue.pop()
                request.send(session, url, statuses, lock)

        threads += [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def rows(database_url: str, table: str, ids: list[str], project: str = PROJECT) -> dict[str, dict]:
    with psycopg.connect(database_url) as conn:
        cursor = conn.execute(
            f"SELECT * FROM {table} WHERE project_id = %s AND id = ANY(%s)",
            (project, ids),
        )
        names = [d.name for d in cursor.description]
        out: dict[str, dict] = {}
        duplicates = 0
        for row in cursor.fetchall():
            values = {k: v for k, v in zip(names, row, strict=True) if k not in IGNORED}
            if "tags" in values:
                values["tags"] = sorted(values["tags"])
            duplicates += values["id"] in out
            out[values["id"]] = values
    if duplicates:
        raise AssertionError(f"{duplicates} duplicate ids in {table}")
    return out


def compare(
    race_url: str,
    reference_url: str,
    ids: dict[str, list[str]],
    race_project: str = PROJECT,
    reference_project: str = PROJECT,
) -> dict:
    """Every column of every row of the two projects; the ids of the two are the same."""
    result: dict = {"differences": []}
    for table in TABLES:
        got = rows(race_url, table, ids[table], race_project)
        want = rows(reference_url, table, ids[table], reference_project)
        result[f"{table}_expected"] = len(ids[table])
        result[f"{table}_reference"] = len(want)
        result[f"{table}_race"] = len(got)
        for row_id in sorted(set(got) | set(want)):
            a, b = got.get(row_id), want.get(row_id)
            if a is None or b is None:
                result["differences"].append(
                    {"table": table, "id": row_id, "missing_in": "race" if a is None else "reference"}
                )
                continue
            for column in sorted(set(a) | set(b)):
                if a.get(column) != b.get(column):
                    result["differences"].append(
                        {
                            "table": table,
                            "id": row_id,
                            "column": column,
                            "race": str(a.get(column))[:120],
                            "reference": str(b.get(column))[:120],
                        }
                    )
    result["differing_values"] = len(result["differences"])
    result["differences"] = result["differences"][:10]
    return result


def run_race(args, emit: Callable[[dict], None]) -> bool:
    ok = True
    with scratch_cluster() as pgdata:
        race_url = create_database(pgdata, "race")
        reference_url = create_database(pgdata, "reference")
        logs = Path(pgdata.parent)
        # Replicas share SECRET_KEY and SALT (API keys are stored as salted hashes).
        env = server_env(race_url, args.workers)
        first = Server(env, logs / "race-1.log").start()
        second = Server(env, logs / "race-2.log", migrate=False)
        reference = Server(server_env(reference_url, 1), logs / "reference.log")
        servers = [first, second, reference]
        try:
            second.start()
            reference.start()
            for n in range(1, args.rounds + 1):
                requests_, ids = build_requests(args.traces, args.seed * 1000 + n)
                rng = random.Random(n)
                # Server one in a shuffled order; server two in the same order (the same request at the
                # same moment) in odd rounds, in another shuffle in even rounds.
                order_one = rng.sample(requests_, len(requests_))
                order_two = order_one if n % 2 else rng.sample(requests_, len(requests_))
                deadlocks_before = pg_log_count(pgdata, "deadlock detected")
                began = time.monotonic()
                statuses = send_all([(first.url, order_one), (second.url, order_two)], args.clients)
                raced_s = time.monotonic() - began
                reference_statuses = send_all([(reference.url, requests_)], 1)
                deadlocks = pg_log_count(pgdata, "deadlock detected") - deadlocks_before
                result = compare(race_url, reference_url, ids)
                bad_status = {k: v for k, v in statuses.items() if k not in ("200", "207")}
                held = result["differing_values"] == 0 and deadlocks == 0 and not bad_status
                ok &= held
                emit(
                    {
                        "scenario": "race",
                        "round": n,
                        "same_order": n % 2 == 1,
                        "requests_per_server": len(requests_),
                        "race_s": round(raced_s, 2),
                        "statuses": dict(statuses),
                        "reference_statuses": dict(reference_statuses),
                        "deadlocks_in_pg_log": deadlocks,
                        **result,
                        "held": held,
                    }
                )
        finally:
            for server in servers:
                server.stop()
        texts = [server.log_text() for server in servers]
    figures = {
        "tracebacks": sum(text.count("Traceback") for text in texts),
        "internal_server_errors": sum(internal_errors(text) for text in texts),
        "logged_errors": [logged_errors(text) for text in texts],
    }
    ok &= figures["tracebacks"] == 0
    emit({"scenario": "race", "rounds": args.rounds, **figures, "verdict": "PASS" if ok else "FAIL"})
    return ok
