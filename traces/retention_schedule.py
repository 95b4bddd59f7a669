"""The periodic retention purge inside the server: one daemon thread per `manage.py serve`.

Every replica may run it; the advisory lock in traces/retention.py lets one purge at a time
and the others skip that round. LANGFUSE_RETENTION_INTERVAL_MINUTES (default 60) sets the
period, 0 turns it off (run `manage.py purge_retention` from cron instead).
"""

from __future__ import annotations

import logging
import threading

from django.db import connection

from langfuse_ui.background import log_failed_round
from langfuse_ui.config import env_int
from traces.retention import PurgeBusy, purge_all

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 60
FIRST_RUN_DELAY_SECONDS = 60  # start-up (migrations, first requests) goes first


def interval_minutes() -> int:
    return env_int("LANGFUSE_RETENTION_INTERVAL_MINUTES", DEFAULT_INTERVAL_MINUTES, minimum=0)


def run_once() -> None:
    """One round: purge every project with a window, unless another replica is at it."""
    try:
        run = purge_all()
    except PurgeBusy:
        log.info("Retention purge skipped: another replica is running it")
        return
    except Exception as exc:
        log_failed_round(log, "Retention purge", exc)
        return
    for project_id, result in run.projects.items():
        if result.total:
            log.info("Retention purge of project %s: %s", project_id, result)


def start(minutes: int, stop: threading.Event, first_delay: float = FIRST_RUN_DELAY_SECONDS):
    """Start the purge thread (None when minutes is 0); it ends when `stop` is set."""
    if minutes <= 0:
        return None

    def loop() -> None:
        delay = first_delay
        while not stop.wait(delay):
            try:
                run_once()
            finally:
                connection.close()  # this thread's own connection; none is held between rounds
            delay = minutes * 60

    thread = threading.Thread(target=loop, name="retention-purge", daemon=True)
    thread.start()
    return thread
