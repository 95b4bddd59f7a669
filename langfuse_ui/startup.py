"""What happens before Django touches the database: pick it, start it, wait for it."""

from __future__ import annotations

import atexit
import os
import signal
import sys
import time

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


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def prepare_database(argv: list[str] | None = None) -> None:
    """Start the embedded cluster when DATABASE_URL is unset; stop it on exit if we started it."""
    argv = sys.argv if argv is None else argv
    command = argv[1] if len(argv) > 1 else "help"
    if os.environ.get("DATABASE_URL") or command in NO_DATABASE_COMMANDS:
        return
    pgdata = embedded_db.data_dir()
    try:
        started = embedded_db.start(pgdata)
    except (RuntimeError, OSError) as exc:
        fail(f"the embedded PostgreSQL in {pgdata} did not start: {exc}")
    if started:
        atexit.register(embedded_db.stop, pgdata)
        # Make SIGTERM run atexit handlers too (uvicorn re-raises it after its own shutdown).
        signal.signal(signal.SIGTERM, _exit_on_signal)


def _exit_on_signal(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


def wait_for_database(url: str, timeout: float, *, say=print) -> None:
    """Wait until PostgreSQL at url answers; fail with one line naming DATABASE_URL otherwise."""
    import psycopg

    try:
        settings = parse_database_url(url)
    except ConfigError as exc:
        fail(str(exc))
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        connect_timeout="3",
        **{k: v for k, v in settings["OPTIONS"].items() if k != "connect_timeout"},
    )
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            psycopg.connect(conninfo).close()
            return
        except psycopg.OperationalError as exc:
            reason = " ".join(str(exc).split()) or exc.__class__.__name__
            if not _retryable(reason) or time.monotonic() >= deadline:
                fail(f"DATABASE_URL: cannot connect to {_redacted(url)}: {reason}")
            if not announced:
                say(f"Waiting for the database at {_redacted(url)} ({reason}) ...")
                announced = True
            time.sleep(1)


def _retryable(reason: str) -> bool:
    lowered = reason.lower()
    permanent = ("password authentication failed", "does not exist", "no pg_hba.conf", "role ")
    return not any(word in lowered for word in permanent)


def _redacted(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
