"""Pieces of bench/faults.py: a scratch cluster, real server processes, retrying clients, row counts.

Clients behave like the SDKs: a request that fails (no answer, 429 or 5xx) is sent again with the
same event and span ids until it gets a 2xx, so a request the server committed but never
acknowledged comes back as a duplicate, which the server must absorb.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import otlp_load  # noqa: E402
from ingest_bench import _spans, free_port  # noqa: E402

PROJECT = "faults"
PUBLIC, SECRET = "pk-lf-faults", "sk-lf-faults"
TERMINAL_4XX = {400, 401, 403, 404, 413, 415, 422}


@contextlib.contextmanager
def scratch_cluster(keep: bool = False):
    """A new embedded PostgreSQL in /tmp (short socket path); yields its data folder."""
    from langfuse_ui import embedded_db

    pgdata = Path(tempfile.mkdtemp(prefix="langfuse-faults-")) / "pg"
    embedded_db.start(pgdata, "postgres")
    try:
        yield pgdata
    finally:
        if not keep:
            embedded_db.destroy(pgdata)
            with contextlib.suppress(OSError):
                pgdata.parent.rmdir()


def create_database(pgdata: Path, name: str) -> str:
    from langfuse_ui import embedded_db

    with psycopg.connect(embedded_db.database_url(pgdata, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return embedded_db.database_url(pgdata, name)


def server_env(database_url: str, workers: int) -> dict[str, str]:
    """Production mode (DEBUG=false) with throwaway secrets and one provisioned project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANGFUSE_", "DATABASE_"))}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(32),
        SALT=secrets.token_urlsafe(16),
        WEB_CONCURRENCY=str(workers),
        LANGFUSE_INIT_ORG_ID="faults-org",
        LANGFUSE_INIT_PROJECT_ID=PROJECT,
        LANGFUSE_INIT_PROJECT_PUBLIC_KEY=PUBLIC,
        LANGFUSE_INIT_PROJECT_SECRET_KEY=SECRET,
        LANGFUSE_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
    )
    return env


class Server:
    """`manage.py serve` in its own process group, so a SIGKILL takes the master and its workers."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None, migrate: bool = True):
        self.env, self.log_path = env, log
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.migrate = migrate
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> Server:
        args = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not self.migrate:
            args.append("--no-migrate")
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(requests.RequestException):
                # /health, not /ready: /ready also answers 503 for migration files added since the start.
                if requests.get(f"{self.url}/api/public/health", timeout=2).status_code == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout}s; see {self.log_path}")

    def processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def sigkill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.sigkill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


# ---------------------------------------------------------------------------------------------
# Requests with known ids


@dataclass
class Unit:
    """One request body and what it must leave in the database once acknowledged."""

    kind: str  # "otlp" or "ingestion"
    body: bytes
    traces: list[str]
    observations: list[str]
    scores: list[str] = field(default_factory=list)
    tokens: int = 0  # total tokens over the unit's observations (legacy units)


class OtlpTemplates:
    """OTLP bodies of whole traces; each copy gets fresh trace and span ids by byte replacement.

    Building and serialising 100 spans costs more than the server's share of the CPU would
    allow during a soak; swapping the 16- and 8-byte ids in the serialised body costs ~1 ms.
    """

    def __init__(self, count: int = 4, traces_per_body: int = 10, spans_per_trace: int = 10) -> None:
        self.templates = []
        for seed in range(count):
            bodies, _ = otlp_load.build_payloads(
                traces_per_body, spans_per_trace, traces_per_body * spans_per_trace, 10**6 + seed
            )
            spans = list(_spans(bodies[0]))
            ids = sorted({s.trace_id for s in spans}) + [s.span_id for s in spans]
            # Every place an id occurs (its own field, parent_span_id of its children), found once:
            # the copies are then written in one pass, never replacing bytes a new id brought in.
            places = []
            for index, old in enumerate(ids):
                at = bodies[0].find(old)
                while at >= 0:
                    places.append((at, index))
                    at = bodies[0].find(old, at + 1)
            self.templates.append((bodies[0], ids, places, len({s.trace_id for s in spans})))

    def unit(self, rng: random.Random) -> Unit:
        body, ids, places, n_traces = rng.choice(self.templates)
        new = [rng.randbytes(len(old)) for old in ids]
        out = bytearray(body)
        for at, index in places:
            out[at : at + len(ids[index])] = new[index]
        return Unit("otlp", bytes(out), [t.hex() for t in new[:n_traces]], [s.hex() for s in new[n_traces:]])


def legacy_unit(rng: random.Random, traces: int = 5, generations: int = 3) -> Unit:
    """A /api/public/ingestion batch: per trace a trace-create, generations and one score."""
    events, trace_ids, obs_ids, score_ids, tokens = [], [], [], [], 0
    for _ in range(traces):
        trace_id = str(uuid.uuid4())
        trace_ids.append(trace_id)
        events.append(_event("trace-create", {"id": trace_id, "name": "faults", "userId": "u1"}))
        for k in range(generations):
            obs_id = f"{trace_id}-g{k}"
            obs_ids.append(obs_id)
            usage = {"input": rng.randint(10, 900), "output": rng.randint(5, 300)}
            tokens += usage["input"] + usage["output"]
            body = {
                "id": obs_id,
                "traceId": trace_id,
                "name": "llm",
                "model": "gpt-4o-mini",
                "startTime": "2026-01-01T00:00:01Z",
                "endTime": "2026-01-01T00:00:02Z",
                "input": otlp_load.chat_input(rng),
                "output": otlp_load.chat_output(rng),
                "usage": usage,
            }
            events.append(_event("generation-create", body))
        score_id = f"{trace_id}-s"
        score_ids.append(score_id)
        events.append(_event("score-create", {"id": score_id, "traceId": trace_id, "name": "ok", "value": 1}))
    body = json.dumps({"batch": events}).encode()
    return Unit("ingestion", body, trace_ids, obs_ids, score_ids, tokens)


def _event(kind: str, body: dict, timestamp: str = "2026-01-01T00:00:00Z") -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "timestamp": timestamp, "body": body}


# ---------------------------------------------------------------------------------------------
# Clients


class Tally:
    """What the clients saw: status counts, acknowledged units, latencies, timeline of failures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.acked: list[Unit] = []
        self.abandoned: list[Unit] = []
        self.retries = 0
        self.latencies: list[tuple[float, float]] = []  # (monotonic end, seconds)
        self.failures: list[float] = []  # monotonic times of non-2xx answers and errors
        self.ack_times: list[float] = []  # monotonic times of 2xx answers
        self.server_errors: list[str] = []  # bodies of 500s, for the report

    def record(self, status: str, started: float, ended: float, text: str = "") -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append((ended, ended - started))
            if status.startswith("2"):
                self.ack_times.append(ended)
            else:
                self.failures.append(ended)
            if status == "500" and len(self.server_errors) < 5:
                self.server_errors.append(text[:300])


def send_until_acked(
    session: requests.Session,
    url: str | Callable[[], str],
    unit: Unit,
    tally: Tally,
    give_up_after: float = 180,
) -> bool:
    """POST the unit until a 2xx; url may be a callable (a server restarted on another port)."""
    path = "/api/public/otel/v1/traces" if unit.kind == "otlp" else "/api/public/ingestion"
    content_type = "application/x-protobuf" if unit.kind == "otlp" else "application/json"
    deadline = time.monotonic() + give_up_after
    attempt = 0
    while True:
        attempt += 1
        started = time.monotonic()
        try:
            response = session.post(
                (url() if callable(url) else url) + path,
                data=unit.body,
                headers={"Content-Type": content_type},
                timeout=30,
            )
            status, text = str(response.status_code), response.text
        except requests.RequestException as exc:
            status, text = type(exc).__name__, str(exc)
            session.close()  # a fresh connection after a reset
        tally.record(status, started, time.monotonic(), text)
        if status.startswith("2") and not _has_retryable_event_errors(unit, text):
            with tally.lock:
                tally.acked.append(unit)
                tally.retries += attempt - 1
            return True
        if (status.isdigit() and int(status) in TERMINAL_4XX) or time.monotonic() > deadline:
            with tally.lock:
                tally.abandoned.append(unit)
            return False
        time.sleep(min(2.0, 0.1 * 2 ** min(attempt, 5)) * (0.5 + random.random()))


def _has_retryable_event_errors(unit: Unit, text: str) -> bool:
    if unit.kind != "ingestion":
        return False
    errors = json.loads(text).get("errors") or []
    if any(e.get("status", 500) < 500 for e in errors):
        raise RuntimeError(f"the server rejected events of a valid batch: {errors[:3]}")
    return bool(errors)


class Load:
    """Client threads that each send fresh units until stopped, retrying every failure."""

    def __init__(
        self,
        url: str,
        otlp_clients: int,
        ingestion_clients: int,
        templates: OtlpTemplates,
        seed: int = 1,
        auth: tuple[str, str] = (PUBLIC, SECRET),
    ) -> None:
        self.url, self.templates, self.auth = url, templates, auth
        self.tally = Tally()
        self.stop_event = threading.Event()
        self.in_flight: dict[int, Unit] = {}
        kinds = ["otlp"] * otlp_clients + ["ingestion"] * ingestion_clients
        self.threads = [
            threading.Thread(target=self._client, args=(kind, seed * 100 + n), daemon=True)
            for n, kind in enumerate(kinds)
        ]

    def _client(self, kind: str, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        session.auth = self.auth
        while not self.stop_event.is_set():
            unit = self.templates.unit(rng) if kind == "otlp" else legacy_unit(rng)
            self.in_flight[seed] = unit
            send_until_acked(session, lambda: self.url, unit, self.tally)
            self.in_flight.pop(seed, None)

    def start(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def wait_acked(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.tally.acked) < count and time.monotonic() < deadline:
            time.sleep(0.05)

    def finish(self, timeout: float = 240) -> None:
        """Stop starting new units; let each client get its unit in flight acknowledged."""
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)


# ---------------------------------------------------------------------------------------------
# What is stored


def stored_counts(database_url: str, acked: list[Unit], project: str = PROJECT) -> dict:
    """Compare the database with what the clients had acknowledged: missing ids, extra rows, totals."""
    traces = sorted({t for u in acked for t in u.traces})
    observations = [o for u in acked for o in u.observations]
    scores = [s for u in acked for s in u.scores]
    expected_obs_per_trace: Counter = Counter()
    for unit in acked:
        per_trace = len(unit.observations) // len(unit.traces)
        for trace_id in unit.traces:
            expected_obs_per_trace[trace_id] += per_trace
    with psycopg.connect(database_url) as conn:

        def one(sql: str, *params) -> int:
            return conn.execute(sql, params).fetchone()[0]

        total_traces = one("SELECT count(*) FROM traces WHERE project_id = %s", project)
        total_obs = one("SELECT count(*) FROM observations WHERE project_id = %s", project)
        total_scores = one("SELECT count(*) FROM scores WHERE project_id = %s", project)
        found_traces = one(
            "SELECT count(*) FROM traces WHERE project_id = %s AND id = ANY(%s)", project, traces
        )
        found_obs = one(
            "SELECT count(*) FROM observations WHERE project_id = %s AND id = ANY(%s)", project, observations
        )
        found_scores = one(
            "SELECT count(*) FROM scores WHERE project_id = %s AND id = ANY(%s)", project, scores
        )
        rows = conn.execute(
            "SELECT id, observation_count, total_tokens FROM traces WHERE project_id = %s AND id = ANY(%s)",
            (project, traces),
        ).fetchall()
        actual_per_trace = dict(
            conn.execute(
                "SELECT trace_id, count(*) FROM observations WHERE project_id = %s AND trace_id = ANY(%s)"
                " GROUP BY trace_id",
                (project, traces),
            ).fetchall()
        )
    wrong_aggregates = sum(
        1 for trace_id, count, _tokens in rows if count != expected_obs_per_trace[trace_id]
    ) + sum(1 for t in traces if actual_per_trace.get(t, 0) != expected_obs_per_trace[t])
    legacy_tokens = sum(u.tokens for u in acked if u.kind == "ingestion")
    legacy_traces = {t for u in acked if u.kind == "ingestion" for t in u.traces}
    stored_tokens = sum(tokens for trace_id, _c, tokens in rows if trace_id in legacy_traces)
    return {
        "acked_traces": len(traces),
        "acked_observations": len(observations),
        "acked_scores": len(scores),
        "missing_traces": len(traces) - found_traces,
        "missing_observations": len(observations) - found_obs,
        "missing_scores": len(scores) - found_scores,
        "rows_traces": total_traces,
        "rows_observations": total_obs,
        "rows_scores": total_scores,
        "traces_with_wrong_counts": wrong_aggregates,
        "legacy_tokens_expected": legacy_tokens,
        "legacy_tokens_stored": stored_tokens,
    }


def units_stored(database_url: str, units: list[Unit], project: str = PROJECT) -> int:
    """How many of these units have their first observation in the database."""
    firsts = [u.observations[0] for u in units]
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM observations WHERE project_id = %s AND id = ANY(%s)", (project, firsts)
        ).fetchone()[0]


def counts_hold(counts: dict, abandoned: int) -> bool:
    """Everything acknowledged is stored, once; nothing else is, unless a client gave up on a unit."""
    exact = (
        counts["missing_traces"] == counts["missing_observations"] == counts["missing_scores"] == 0
        and counts["traces_with_wrong_counts"] == 0
        and counts["legacy_tokens_expected"] == counts["legacy_tokens_stored"]
    )
    no_extra = (
        counts["rows_traces"] == counts["acked_traces"]
        and counts["rows_observations"] == counts["acked_observations"]
        and counts["rows_scores"] == counts["acked_scores"]
    )
    return exact and (no_extra or abandoned > 0)


def percentile(values: list[float], p: float) -> float | None:
    return otlp_load.percentile(values, p)


def logged_errors(text: str) -> dict[str, int]:
    """ERROR lines of a server log by logger and message start, e.g. {"django.request: Internal Server": 2}."""
    found: Counter = Counter()
    for line in text.splitlines():
        if " ERROR " in line:
            logger_and_message = line.split(" ERROR ", 1)[1]
            found[" ".join(logger_and_message.split()[:3])] += 1
    return dict(found)


def internal_errors(text: str) -> int:
    """Requests that ended in a 500 (Django logs each as 'Internal Server Error: <path>')."""
    return text.count("Internal Server Error")


def pg_log_count(pgdata: Path, needle: str) -> int:
    log = pgdata / "log"
    return log.read_text(errors="replace").count(needle) if log.exists() else 0
