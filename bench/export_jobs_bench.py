#!/usr/bin/env python3
"""Export job benchmark: time, throughput and peak Python memory of one export job to a bucket.

Seeds --traces traces (about --input-bytes of input each) into a project of its own in a scratch
embedded PostgreSQL (.data/bench-postgres, database bench_exports) unless --database-url names
one; seeding is idempotent. The bucket is moto's S3 server in a child process on loopback (its
memory is not counted). For each size in --sizes the job exports the newest N traces (a filter
on a tag the seeding puts on them) and prints wall time, rows/s, MB/s and the peak of memory
allocated by Python during the job (tracemalloc): the figure that shows whether memory grows
with the export. Run by hand; never from the test suite.

  .venv/bin/python bench/export_jobs_bench.py --traces 100000 --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "bench_exports"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--sizes", default="10000,100000", help="rows per export, comma separated")
    parser.add_argument("--input-bytes", type=int, default=1000)
    parser.add_argument("--format", default="jsonl", choices=["csv", "jsonl"])
    parser.add_argument("--database-url", help="default: a scratch embedded PostgreSQL")
    return parser.parse_args()


def setup_django(database_url: str | None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        from langfuse_ui import embedded_db

        pgdata = embedded_db.data_dir("bench-postgres")
        embedded_db.acquire(pgdata, DATABASE)
        import atexit

        atexit.register(embedded_db.release, pgdata)
        os.environ["DATABASE_URL"] = embedded_db.database_url(pgdata, DATABASE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langfuse_ui.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("SALT", "bench-only-salt")
    import django

    django.setup()


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, endpoint
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto server did not start")


def seed(traces: int, input_bytes: int):
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import Organization, Project
    from traces.models import Trace

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(id="bench-org", defaults={"name": "Bench"})
    project, _ = Project.objects.get_or_create(
        id="bench-exports", defaults={"organization": org, "name": "exports"}
    )
    have = Trace.objects.filter(project=project).count()
    now = timezone.now()
    text = "x" * input_bytes
    for start in range(have, traces, 5_000):
        Trace.objects.bulk_create(
            Trace(
                project=project,
                id=f"bench-{i:08d}",
                name=f"call-{i % 17}",
                timestamp=now - timedelta(seconds=i),
                tags=["bench"],
                input={"messages": [{"role": "user", "content": text}]},
                output={"role": "assistant", "content": "ok"},
                total_tokens=100,
            )
            for i in range(start, min(traces, start + 5_000))
        )
    return project


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    moto, endpoint = start_moto()
    try:
        os.environ.update(
            {
                "LANGFUSE_S3_BATCH_EXPORT_BUCKET": "bench-exports",
                "LANGFUSE_S3_BATCH_EXPORT_ENDPOINT": endpoint,
                "LANGFUSE_S3_BATCH_EXPORT_ACCESS_KEY_ID": "bench",
                "LANGFUSE_S3_BATCH_EXPORT_SECRET_ACCESS_KEY": "bench",
                "LANGFUSE_S3_BATCH_EXPORT_FORCE_PATH_STYLE": "true",
            }
        )
        from traces import export_jobs
        from traces.export_jobs_bucket import client, export_bucket

        client(export_bucket()).create_bucket(Bucket="bench-exports")
        project = seed(args.traces, args.input_bytes)
        print(
            f"{args.traces:,} traces in the project; format {args.format}; input about {args.input_bytes} B"
        )
        print(f"{'rows':>9} {'seconds':>8} {'rows/s':>8} {'MB':>8} {'MB/s':>6} {'peak Python MB':>15}")
        for size in [int(s) for s in args.sizes.split(",")]:
            until = project_time_of(project, size)
            job = export_jobs.queue_export(project, None, f"since={until}&order=desc", args.format)
            tracemalloc.start()
            started = time.monotonic()
            (done,) = export_jobs.run_pending(limit=1)
            seconds = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            head = client(export_bucket()).head_object(Bucket="bench-exports", Key=done.object_key)
            megabytes = head["ContentLength"] / 1e6
            assert done.pk == job.pk and done.status == "done", done.error
            print(
                f"{done.rows_written:>9,} {seconds:>8.1f} {done.rows_written / seconds:>8,.0f} "
                f"{megabytes:>8.1f} {megabytes / seconds:>6.1f} {peak / 1e6:>15.1f}"
            )
        # The same rows read and encoded without a bucket: the server's side alone.
        from django.http import QueryDict
        from django.utils import timezone

        from traces.exports import csv_chunks, iter_trace_chunks, jsonl_chunks
        from traces.forms import TraceListForm

        encode = jsonl_chunks if args.format == "jsonl" else csv_chunks
        state = TraceListForm(QueryDict("order=desc")).state()
        started, size = time.monotonic(), 0
        for block in encode(iter_trace_chunks(project, state, timezone.now())):
            size += len(block.encode())
        seconds = time.monotonic() - started
        print(
            f"read and encode only, all {args.traces:,} rows: {seconds:.1f}s, {args.traces / seconds:,.0f} rows/s, {size / 1e6 / seconds:.1f} MB/s"
        )
    finally:
        moto.terminate()
        moto.wait(10)


def project_time_of(project, rows: int) -> str:
    """The trace-list `since` value that selects the newest `rows` traces."""
    from traces.models import Trace

    timestamps = (
        Trace.objects.filter(project=project).order_by("-timestamp").values_list("timestamp", flat=True)
    )
    oldest = timestamps[rows - 1]
    return oldest.strftime("%Y-%m-%dT%H:%M:%S")


if __name__ == "__main__":
    main()
