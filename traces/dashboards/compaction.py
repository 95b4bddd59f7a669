"""Periodic compaction of the dashboard rollups inside the server: one daemon thread per `manage.py serve`.

Every write of traces or observations appends signed delta rows to the rollups (no lock waits for
writers); folding them into one row per key keeps the dashboard's reads small. Compaction is exact
whenever and wherever it runs, so several replicas may run it at once.
LANGFUSE_DASHBOARD_COMPACT_MINUTES (default 5) sets the period; 0 turns it off (then run
`manage.py dashboard_rollups --compact` from cron).
"""

from __future__ import annotations

import logging
import threading

from django.db import connection

from langfuse_ui.background import log_failed_round
from langfuse_ui.config import env_int
from traces.dashboards import rollups

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 5


def interval_minutes() -> int:
    return env_int("LANGFUSE_DASHBOARD_COMPACT_MINUTES", DEFAULT_INTERVAL_MINUTES, minimum=0)


def run_once() -> None:
    try:
        rollups.compact()
    except Exception as exc:
        log_failed_round(log, "Dashboard rollup compaction", exc)


def start(minutes: int, stop: threading.Event) -> threading.Thread | None:
    """Start the compaction thread (None when minutes is 0); it ends when `stop` is set."""
    if minutes <= 0:
        return None

    def loop() -> None:
        while not stop.wait(minutes * 60):
            try:
                run_once()
            finally:
                connection.close()

    thread = threading.Thread(target=loop, name="dashboard-compaction", daemon=True)
    thread.start()
    return thread
