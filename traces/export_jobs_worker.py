"""The export worker inside the server: one daemon thread per `manage.py serve`.

Each round it queues the scheduled daily exports of the previous UTC day (checked every ten
minutes; the database makes the queueing idempotent across replicas) and runs every job it
can claim. A job queued
in this process wakes it at once; others are found at the next poll.
LANGFUSE_EXPORT_WORKER_POLL_SECONDS (default 5) sets the poll, 0 turns the thread off (run
`manage.py run_export_jobs` from a scheduler instead).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import connection

from langfuse_ui.background import log_failed_round
from langfuse_ui.config import env_int
from traces import export_jobs

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 5
DAILY_CHECK_SECONDS = 600  # a project that turns the daily export on gets yesterday's within this
_wake = threading.Event()


def poll_seconds() -> int:
    return env_int("LANGFUSE_EXPORT_WORKER_POLL_SECONDS", DEFAULT_POLL_SECONDS, minimum=0)


def wake() -> None:
    """A job was queued: let this process's worker look now instead of at the next poll."""
    _wake.set()


def run_round(worker: str, state: dict) -> None:
    now = time.monotonic()
    if now - state.get("daily_checked", -DAILY_CHECK_SECONDS) >= DAILY_CHECK_SECONDS:
        queued = export_jobs.queue_daily_exports()
        if queued:
            log.info("Queued %d daily exports", len(queued))
        state["daily_checked"] = now
    for job in export_jobs.run_pending(worker):
        log.info(
            "Export job %s of project %s: %s, %d rows", job.pk, job.project_id, job.status, job.rows_written
        )


def start(seconds: int, stop: threading.Event) -> threading.Thread | None:
    """Start the worker thread (None when seconds is 0); it ends when `stop` is set."""
    if seconds <= 0:
        return None
    worker = export_jobs.worker_id()

    def loop() -> None:
        state: dict = {}
        while not stop.is_set():
            try:
                run_round(worker, state)
            except Exception as exc:
                log_failed_round(log, "Export worker round", exc)
            finally:
                connection.close()  # this thread's own connection; none is held between rounds
            _wake.wait(seconds)
            _wake.clear()

    def stopper() -> None:
        stop.wait()
        _wake.set()

    thread = threading.Thread(target=loop, name="export-worker", daemon=True)
    thread.start()
    threading.Thread(target=stopper, name="export-worker-stop", daemon=True).start()
    return thread
