"""Periodic refresh of the dashboard rollups inside the server: one daemon thread per `manage.py serve`.

Writes of traces and observations only mark the hours they change; this thread recomputes the marked
hours' rollup rows from the raw rows (traces.dashboards.rollups.refresh), so dashboards read fewer raw
rows. Dashboards are exact whether it has run or not. One refresh runs at a time across replicas (an
advisory lock); the others skip their round.
LANGFUSE_DASHBOARD_REFRESH_SECONDS (default 60) sets the period; 0 turns it off (then run
`manage.py dashboard_rollups --refresh` from cron, or let the dashboards read the raw rows).
"""

from __future__ import annotations

import logging
import threading

from django.db import connection

from langfuse_ui.background import log_failed_round
from langfuse_ui.config import env_int
from traces.dashboards import rollups

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60


def interval_seconds() -> int:
    return env_int("LANGFUSE_DASHBOARD_REFRESH_SECONDS", DEFAULT_INTERVAL_SECONDS, minimum=0)


def run_once() -> None:
    try:
        rollups.refresh()
    except Exception as exc:
        log_failed_round(log, "Dashboard rollup refresh", exc)


def start(seconds: int, stop: threading.Event) -> threading.Thread | None:
    """Start the refresh thread (None when seconds is 0); it ends when `stop` is set."""
    if seconds <= 0:
        return None

    def loop() -> None:
        while not stop.wait(seconds):
            try:
                run_once()
            finally:
                connection.close()

    thread = threading.Thread(target=loop, name="dashboard-refresh", daemon=True)
    thread.start()
    return thread
