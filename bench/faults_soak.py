"""`faults.py soak`: a steady OTLP load for many minutes; memory per server process, latency per minute.

Requests of 100 spans (10 traces of 10 spans, fresh ids each) are scheduled at a fixed rate from
the start (open loop: a slow answer does not lower the offered rate, it makes the next request
late, and the lag is reported). Every 10 s: RSS of each server process and of PostgreSQL, and the
machine's load average. One JSON line per minute, then a summary with the verdict.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg
import requests
from faults_load import (
    PUBLIC,
    SECRET,
    OtlpTemplates,
    Server,
    create_database,
    logged_errors,
    percentile,
    scratch_cluster,
    server_env,
)

SPANS_PER_REQUEST = 100


class Schedule:
    def __init__(self, rate: float, duration: float) -> None:
        self.rate, self.duration = rate, duration
        self.start = time.monotonic()
        self.index = 0
        self.lock = threading.Lock()

    def next_slot(self) -> float | None:
        with self.lock:
            at = self.start + self.index / self.rate
            self.index += 1
        # The run ends on the clock: when the server falls behind, the remaining slots are not sent.
        return (
            at if time.monotonic() - self.start < self.duration and at - self.start < self.duration else None
        )


def _role(proc: psutil.Process) -> str:
    """uvicorn's workers by pid, or multiprocessing's resource tracker (a small helper process)."""
    with contextlib.suppress(psutil.Error):
        if "resource_tracker" in " ".join(proc.cmdline()):
            return "resource-tracker"
    return f"worker-{proc.pid}"


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, bytes) in MB per minute."""
    if len(samples) < 2:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [b / 2**20 for _, b in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def run_soak(args, emit: Callable[[dict], None]) -> bool:
    from langfuse_ui import embedded_db

    templates = OtlpTemplates(count=8)
    duration = args.minutes * 60
    with scratch_cluster() as pgdata:
        url = create_database(pgdata, "soak")
        server = Server(server_env(url, args.workers), Path(pgdata.parent) / "server.log").start()
        calibration = None
        if args.spans_per_s <= 0:
            calibration = calibrate(server.url, templates, args.clients, args.calibrate_s)
            args.spans_per_s = calibration["spans_per_s"] // 2
            emit({"scenario": "soak", "calibration": calibration, "soak_spans_per_s": args.spans_per_s})
        rate = args.spans_per_s / SPANS_PER_REQUEST
        # Processes by name, found again at each sample: uvicorn replaces a worker that misses its
        # health-check ping (timeout_worker_healthcheck, 5 s), and the new one is measured too.
        names: list[str] = []
        lock = threading.Lock()
        per_minute: dict[int, list[float]] = {}
        statuses: dict[int, Counter] = {}
        lags: list[float] = []
        samples: list[dict] = []
        schedule = Schedule(rate, duration)

        def client(seed: int) -> None:
            rng = random.Random(seed)
            session = requests.Session()
            session.auth = (PUBLIC, SECRET)
            headers = {"Content-Type": "application/x-protobuf"}
            while (at := schedule.next_slot()) is not None:
                body = templates.unit(rng).body
                wait = at - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                began = time.monotonic()
                try:
                    status = str(
                        session.post(
                            f"{server.url}/api/public/otel/v1/traces", data=body, headers=headers, timeout=60
                        ).status_code
                    )
                except requests.RequestException as exc:
                    status = type(exc).__name__
                ended = time.monotonic()
                minute = int((began - schedule.start) // 60)
                with lock:
                    per_minute.setdefault(minute, []).append(ended - began)
                    statuses.setdefault(minute, Counter())[status] += 1
                    lags.append(max(0.0, began - at))

        def sampler(stop: threading.Event) -> None:
            while not stop.is_set():
                rss = {}
                with contextlib.suppress(psutil.Error):
                    for proc in server.processes():
                        name = "master" if proc.pid == server.process.pid else _role(proc)
                        if name not in names:
                            names.append(name)
                        with contextlib.suppress(psutil.Error):
                            rss[name] = proc.memory_info().rss
                pg = 0
                for proc in embedded_db.cluster_processes(pgdata):
                    with contextlib.suppress(psutil.Error):
                        pg += proc.memory_info().rss
                samples.append(
                    {
                        "t": time.monotonic() - schedule.start,
                        "rss": rss,
                        "pg_rss": pg,
                        "load": os.getloadavg(),
                    }
                )
                stop.wait(10)

        stop = threading.Event()
        sampling = threading.Thread(target=sampler, args=(stop,), daemon=True)
        sampling.start()
        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        reported = 0
        try:
            while any(t.is_alive() for t in threads):
                time.sleep(1)
                current = int((time.monotonic() - schedule.start) // 60)
                while reported < current:
                    emit(_minute_line(reported, per_minute, statuses, samples, lock))
                    reported += 1
            for thread in threads:
                thread.join()
            while reported <= max(per_minute, default=-1):
                emit(_minute_line(reported, per_minute, statuses, samples, lock))
                reported += 1
            stop.set()
            sampling.join(15)
            with psycopg.connect(url) as conn:
                observations = conn.execute("SELECT count(*) FROM observations").fetchone()[0]
                size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        finally:
            stop.set()
            server.stop()
        tracebacks = server.log_text().count("Traceback")
        emit({"scenario": "soak", "logged_errors": logged_errors(server.log_text())})
    if calibration:
        observations -= calibration["requests"] * SPANS_PER_REQUEST
    return _summary(args, emit, per_minute, statuses, samples, lags, names, observations, size, tracebacks)


def calibrate(url: str, templates: OtlpTemplates, clients: int, seconds: float) -> dict:
    """The server's throughput right now: `clients` threads sending back to back for `seconds`."""
    count, errors, lock = [0], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        session.auth = (PUBLIC, SECRET)
        while time.monotonic() < deadline:
            body = templates.unit(rng).body
            try:
                ok = session.post(
                    f"{url}/api/public/otel/v1/traces",
                    data=body,
                    headers={"Content-Type": "application/x-protobuf"},
                    timeout=60,
                ).ok
            except requests.RequestException:
                ok = False
            with lock:
                count[0] += 1
                errors[0] += not ok

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(10_000 + n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return {
        "seconds": round(elapsed, 1),
        "requests": count[0],
        "errors": errors[0],
        "spans_per_s": round(count[0] * SPANS_PER_REQUEST / elapsed),
        "load1": round(os.getloadavg()[0], 2),
    }


def _minute_line(minute, per_minute, statuses, samples, lock) -> dict:
    with lock:
        latencies = list(per_minute.get(minute, []))
        counts = dict(statuses.get(minute, Counter()))
    inside = [s for s in samples if minute * 60 <= s["t"] < (minute + 1) * 60]
    last = inside[-1] if inside else (samples[-1] if samples else None)
    return {
        "scenario": "soak",
        "minute": minute + 1,
        "requests": len(latencies),
        "spans_per_s": round(len(latencies) * SPANS_PER_REQUEST / 60),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
        "statuses": counts,
        "rss_mb": {k: round(v / 2**20) for k, v in last["rss"].items() if v} if last else None,
        "pg_rss_mb": round(last["pg_rss"] / 2**20) if last else None,
        "load1": round(last["load"][0], 2) if last else None,
    }


def _summary(args, emit, per_minute, statuses, samples, lags, names, observations, size, tracebacks) -> bool:
    errors = sum(n for c in statuses.values() for k, n in c.items() if not k.startswith("2"))
    total = sum(len(v) for v in per_minute.values())
    memory = {}
    flat = True
    for name in names:
        series = [(s["t"], s["rss"][name]) for s in samples if s["rss"].get(name)]
        if not series:
            continue
        half = [p for p in series if p[0] >= series[-1][0] / 2]
        start_mb, end_mb = series[0][1] / 2**20, series[-1][1] / 2**20
        growth_second_half = (half[-1][1] - half[0][1]) / 2**20 if half else 0
        memory[name] = {
            "start_mb": round(start_mb, 1),
            "end_mb": round(end_mb, 1),
            "peak_mb": round(max(b for _, b in series) / 2**20, 1),
            "growth_mb": round(end_mb - start_mb, 1),
            "slope_mb_per_min": round(slope_per_minute(series), 3),
            "slope_second_half_mb_per_min": round(slope_per_minute(half), 3),
            "growth_second_half_mb": round(growth_second_half, 1),
        }
        # Flat: the second half of the run adds less than 5 % of the process's starting size.
        flat &= growth_second_half < 0.05 * start_mb
    p99s = [percentile(v, 99) * 1000 for m, v in sorted(per_minute.items()) if len(v) > 10]
    full = p99s[1:-1] or p99s  # the first minute warms up; the last may be partial
    first, last = full[: max(1, len(full) // 4)], full[-max(1, len(full) // 4) :]
    p99_ratio = (sum(last) / len(last)) / (sum(first) / len(first)) if full else None
    stable = p99_ratio is not None and p99_ratio < 2
    loads = [s["load"][0] for s in samples]
    all_latencies = [x for v in per_minute.values() for x in v]
    ok = errors == 0 and flat and stable and tracebacks == 0
    emit(
        {
            "scenario": "soak",
            "minutes": args.minutes,
            "offered_spans_per_s": args.spans_per_s,
            "workers": args.workers,
            "achieved_spans_per_s": round(total * SPANS_PER_REQUEST / (args.minutes * 60)),
            "requests_planned_not_sent": round(args.spans_per_s * args.minutes * 60 / SPANS_PER_REQUEST)
            - total,
            "requests": total,
            "errors": errors,
            "observations_stored": observations,
            "expected_observations": total * SPANS_PER_REQUEST - errors * SPANS_PER_REQUEST,
            "database_mb": round(size / 2**20),
            "p50_ms": round(percentile(all_latencies, 50) * 1000, 1) if all_latencies else None,
            "p99_ms": round(percentile(all_latencies, 99) * 1000, 1) if all_latencies else None,
            "p99_per_minute_ms": [round(x) for x in p99s],
            "p99_last_quarter_over_first_quarter": round(p99_ratio, 2) if p99_ratio else None,
            "late_starts_over_1s": sum(1 for lag in lags if lag > 1),
            "max_start_lag_s": round(max(lags), 2) if lags else None,
            "memory": memory,
            "workers_seen": sum(1 for name in names if name.startswith("worker-")),
            "pg_rss_mb_start_end": [round(samples[0]["pg_rss"] / 2**20), round(samples[-1]["pg_rss"] / 2**20)]
            if samples
            else None,
            "load1_min_mean_max": [
                round(min(loads), 2),
                round(sum(loads) / len(loads), 2),
                round(max(loads), 2),
            ]
            if loads
            else None,
            "cpus": os.cpu_count(),
            "tracebacks": tracebacks,
            "memory_flat": flat,
            "p99_stable": stable,
            "verdict": "PASS" if ok else "FAIL",
        }
    )
    return ok
