"""What happens before Django touches the database: pick it, start it, wait for it."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from langfuse_ui import embedded_db
from langfuse_ui.config import ConfigError, parse_database_url

NO_DATABASE_COMMANDS = {
    "help",
    "--help",
    "-h",
    "version",
    "--version",
    "makemigrations",
    "check",
    "shell_plus",
}

# Connection errors that waiting will not cure: say so at once instead of after the timeout.
PERMANENT_ERRORS = (
    "password authentication failed",
    "does not exist",
    "no pg_hba.conf",
    "could not translate host name",
    "failed to resolve host",
    "name or service not known",
    "invalid connection option",
    "invalid sslmode",
    "invalid port",
    "invalid integer value",
)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def fail(message: str) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr)
    raise SystemExit(2)


def prepare_database(argv: list[str] | None = None) -> None:
    """Start the embedded cluster when DATABASE_URL is unset; stop it on exit when we were its last user."""
    argv = sys.argv if argv is None else argv
    command = argv[1] if len(argv) > 1 else "help"
    if os.environ.get("DATABASE_URL") or command in NO_DATABASE_COMMANDS:
        return
    pgdata = embedded_db.data_dir()
    try:
        embedded_db.acquire(pgdata)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        fail(f"the embedded PostgreSQL in {pgdata} did not start: {exc}")
    atexit.register(_release, pgdata)
    # Make SIGTERM and SIGHUP run the atexit handlers too. Uvicorn captures SIGTERM while it
    # serves and raises it again after its graceful shutdown, which lands here.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)


def _release(pgdata: Path) -> None:
    try:
        embedded_db.release(pgdata)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"error: the embedded PostgreSQL in {pgdata} did not stop: {one_line(exc)}", file=sys.stderr)


def _exit_on_signal(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


def wait_for_database(url: str, timeout: float, *, say: Callable[[str], object] = print) -> None:
    """Wait until PostgreSQL at url answers; fail with one line naming DATABASE_URL otherwise."""
    import psycopg

    try:
        settings = parse_database_url(url)
    except ConfigError as exc:
        fail(str(exc))
    options = {k: v for k, v in settings["OPTIONS"].items() if k != "connect_timeout"}
    params = {
        "dbname": settings["NAME"],
        "user": settings["USER"] or None,
        "password": settings["PASSWORD"] or None,
        "host": settings["HOST"] or None,
        "port": settings["PORT"] or None,
        "connect_timeout": "3",
        **options,
    }
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        try:
            psycopg.connect(psycopg.conninfo.make_conninfo(**params)).close()
        except psycopg.Error as exc:
            reason = one_line(exc) or exc.__class__.__name__
            if not _retryable(exc, reason) or time.monotonic() >= deadline:
                fail(f"DATABASE_URL: cannot connect to {_redacted(url)}: {reason}")
            if not waited:
                say(f"Waiting for the database at {_redacted(url)} ({reason}) ...")
                waited = True
            time.sleep(1)
        else:
            if waited:
                say("The database is up.")
            return


def _retryable(exc: Exception, reason: str) -> bool:
    import psycopg

    lowered = reason.lower()
    return isinstance(exc, psycopg.OperationalError) and not any(
        words in lowered for words in PERMANENT_ERRORS
    )


def _redacted(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password:
            parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
        return urlunsplit(parts)
    except ValueError:
        return "(unparseable)"
