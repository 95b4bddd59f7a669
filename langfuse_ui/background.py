"""What the server's background threads (retention, exports, rollup refresh) share."""

from __future__ import annotations

import logging

from langfuse_ui.middleware import database_unavailable


def log_failed_round(log: logging.Logger, what: str, exc: BaseException) -> None:
    """One line while the database is unreachable (a long outage must not fill the log with
    tracebacks); the whole traceback for anything else."""
    if database_unavailable(exc):
        log.warning("%s skipped: the database is unavailable (%s); the next round tries again", what, exc)
    else:
        log.error("%s failed; the next round tries again", what, exc_info=exc)
