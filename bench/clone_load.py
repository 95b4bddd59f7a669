"""Multiply a seeded project for benchmarks: each copy repeats every trace, observation and score
with new ids (suffix `~c<k>`), sessions of their own, and times shifted by k seconds.

seed_demo writes about 400 traces a second on a busy two-core machine (Python builds every row);
this copies inside PostgreSQL instead, so 1,000,000 traces / 10,000,000 observations take minutes:

    DEBUG=true DATABASE_URL=... python manage.py seed_demo --traces 134000 --days 30 --now 2026-11-27T00:00:00Z
    DATABASE_URL=... python bench/clone_load.py --copies 9

Each copy is one transaction, so an interrupted run leaves whole copies; running again skips the
copies already present. The secondary indexes of the three tables are dropped first and built again
at the end (much faster than maintaining them row by row); an interrupted run prints the statements
that build them again, and --indexes-only runs them.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import psycopg

# Per table: columns that get the copy's suffix, and the time columns shifted by k seconds.
SUFFIXED = {
    "traces": ["id", "session_id"],
    "observations": ["id", "trace_id", "parent_observation_id"],
    "scores": ["id", "trace_id", "observation_id", "session_id"],
}
SHIFTED = {
    "traces": ["timestamp", "start_time", "end_time"],
    "observations": ["start_time", "end_time", "completion_start_time"],
    "scores": ["timestamp"],
}


def columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in rows]


def secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid IN ('traces'::regclass, 'observations'::regclass, 'scores'::regclass) "
        "AND NOT indisprimary ORDER BY 1"
    ).fetchall()
    return list(rows)


def build(conn: psycopg.Connection, indexes: list[tuple[str, str]]) -> None:
    conn.execute("SET maintenance_work_mem = '512MB'")
    for name, definition in indexes:
        started = time.monotonic()
        conn.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        print(f"index {name} built in {time.monotonic() - started:.0f}s", flush=True)
    for table in ("traces", "observations", "scores"):
        conn.execute(f"VACUUM (ANALYZE) {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", default="demo-project")
    parser.add_argument("--copies", type=int, default=9)
    parser.add_argument(
        "--indexes-from", metavar="FILE", help="index definitions saved by an interrupted run"
    )
    args = parser.parse_args()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        saved = Path(args.indexes_from) if args.indexes_from else None
        if saved:
            indexes = [tuple(line.split("\t", 1)) for line in saved.read_text().splitlines() if line]
        else:
            indexes = secondary_indexes(conn)
            Path("clone_load_indexes.tsv").write_text("".join(f"{n}\t{d}\n" for n, d in indexes))
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")
            print(f"dropped {len(indexes)} indexes (saved in clone_load_indexes.tsv)", flush=True)
        for k in range(1, args.copies + 1):
            suffix = f"~c{k}"
            done = conn.execute(
                "SELECT 1 FROM traces WHERE project_id = %s AND id LIKE %s LIMIT 1",
                [args.project, f"%{suffix}"],
            ).fetchone()
            if done:
                print(f"copy {k}: present, skipped")
                continue
            started = time.monotonic()
            with conn.transaction():
                for table in ("traces", "observations", "scores"):
                    names = columns(conn, table)
                    exprs = []
                    for name in names:
                        if name in SUFFIXED[table]:
                            exprs.append(f"{name} || '{suffix}'")
                        elif name in SHIFTED[table]:
                            exprs.append(f"{name} + interval '{k} seconds'")
                        else:
                            exprs.append(f'"{name}"')
                    column_list = ", ".join(f'"{name}"' for name in names)
                    count = conn.execute(
                        f"INSERT INTO {table} ({column_list}) SELECT {', '.join(exprs)} FROM {table} "
                        "WHERE project_id = %s AND id NOT LIKE '%%~c%%'",
                        [args.project],
                    ).rowcount
                    print(f"copy {k}: {count:,} {table}", flush=True)
            print(f"copy {k} done in {time.monotonic() - started:.0f}s", flush=True)
        build(conn, indexes)


if __name__ == "__main__":
    main()
