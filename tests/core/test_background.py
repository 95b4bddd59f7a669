"""Background threads log one line per round while the database is down, a traceback otherwise."""

from __future__ import annotations

import logging

from django.db import OperationalError

from langfuse_ui.background import log_failed_round

log = logging.getLogger("tests.background")


def test_an_unreachable_database_is_one_warning_line_without_traceback(caplog):
    with caplog.at_level(logging.DEBUG, logger="tests.background"):
        log_failed_round(log, "Export worker round", OperationalError("connection refused"))
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        "Export worker round skipped: the database is unavailable (connection refused); "
        "the next round tries again"
    )


def test_any_other_failure_keeps_its_traceback(caplog):
    try:
        raise KeyError("job")
    except KeyError as exc:
        with caplog.at_level(logging.DEBUG, logger="tests.background"):
            log_failed_round(log, "Retention purge", exc)
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.exc_info[0] is KeyError
    assert "Retention purge failed" in record.getMessage()
