"""What the dashboard rollup triggers cost the ingestion writer: the same batches written with the
triggers enabled and disabled, alternating round by round in one database so machine load drifts
hit both sides alike.

Each round writes --batches batches of --traces-per-batch traces (one trace-create, one span and
--generations generations each, chat-sized input/output, usage for pricing) through
traces.ingest.writer.store_batch in this process, then the same number of updates (an end time and
usage on every generation, as SDKs send them). Prints the median and total write time per side.

    DATABASE_URL=postgresql://.../scratch python bench/rollup_write_cost.py --rounds 6

The database must be migrated and scratch: the bench project's rows are deleted first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langfuse_ui.settings")
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
os.environ.setdefault("SALT", "bench-only-salt")

TRIGGERS = [
    ("traces", "dashboard_traces_inserted"),
    ("traces", "dashboard_traces_updated"),
    ("traces", "dashboard_traces_deleted"),
    ("observations", "dashboard_observations_inserted"),
    ("observations", "dashboard_observations_updated"),
    ("observations", "dashboard_observations_deleted"),
]


def events(round_: int, batch: int, args) -> tuple[list[dict], list[dict]]:
    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=round_ * 7 + batch)
    creates, updates = [], []
    for t in range(args.traces_per_batch):
        trace_id = f"r{round_}-b{batch}-t{t}"
        at = (start + timedelta(seconds=t)).isoformat()
        creates.append({"type": "trace-create", "body": {"id": trace_id, "timestamp": at, "name": "agent"}})
        creates.append(
            {"type": "span-create", "body": {"id": f"{trace_id}-s", "traceId": trace_id, "startTime": at}}
        )
        for g in range(args.generations):
            obs_id = f"{trace_id}-g{g}"
            creates.append(
                {
                    "type": "generation-create",
                    "body": {
                        "id": obs_id,
                        "traceId": trace_id,
                        "parentObservationId": f"{trace_id}-s",
                        "startTime": at,
                        "model": "gpt-4o-mini",
                        "input": [{"role": "user", "content": "Summarise the quarterly report. " * 20}],
                        "output": {"role": "assistant", "content": "The quarter went well. " * 20},
                        "usageDetails": {"input": 420, "output": 96},
                    },
                }
            )
            end = (start + timedelta(seconds=t + 2)).isoformat()
            updates.append(
                {
                    "type": "generation-update",
                    "body": {
                        "id": obs_id,
                        "traceId": trace_id,
                        "endTime": end,
                        "usageDetails": {"input": 430},
                    },
                }
            )
    for number, event in enumerate(creates + updates):
        event["id"] = f"e{number}"
        event["timestamp"] = start.isoformat()
    return creates, updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds per side")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--traces-per-batch", type=int, default=10)
    parser.add_argument("--generations", type=int, default=4)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from accounts.models import Organization, Project
    from traces.ingest.legacy import parse_batch
    from traces.ingest.writer import store_batch
    from traces.models import Observation, Trace
    from traces.pricing_defaults import load_default_prices

    load_default_prices()
    org, _ = Organization.objects.get_or_create(id="rollup-bench-org", defaults={"name": "bench"})
    project, _ = Project.objects.get_or_create(id="rollup-bench", defaults={"organization": org, "name": "b"})
    Observation.objects.filter(project=project).delete()
    Trace.objects.filter(project=project).delete()

    def set_triggers(enabled: bool) -> None:
        with connection.cursor() as cursor:
            for table, name in TRIGGERS:
                cursor.execute(f"ALTER TABLE {table} {'ENABLE' if enabled else 'DISABLE'} TRIGGER {name}")

    samples: dict[bool, list[float]] = {True: [], False: []}
    try:
        for round_ in range(args.rounds * 2):
            enabled = round_ % 2 == 1
            set_triggers(enabled)
            batches = [events(round_, b, args) for b in range(args.batches)]
            parsed = [(parse_batch(c).batch, parse_batch(u).batch) for c, u in batches]
            for creates, updates in parsed:
                for batch in (creates, updates):
                    started = time.perf_counter()
                    store_batch(project.id, batch)
                    samples[enabled].append((time.perf_counter() - started) * 1000)
    finally:
        set_triggers(True)
    spans = args.traces_per_batch * (1 + args.generations)
    for enabled in (False, True):
        values = samples[enabled]
        print(
            f"triggers {'on ' if enabled else 'off'}: {len(values)} writes of {spans} spans (creates and updates "
            f"alternating), median {statistics.median(values):.1f} ms, mean {statistics.mean(values):.1f} ms, "
            f"total {sum(values) / 1000:.1f} s"
        )
    off, on = statistics.median(samples[False]), statistics.median(samples[True])
    print(f"median write time with triggers: {on / off - 1:+.1%}; load average {os.getloadavg()}")
    Observation.objects.filter(project=project).delete()
    Trace.objects.filter(project=project).delete()


if __name__ == "__main__":
    main()
