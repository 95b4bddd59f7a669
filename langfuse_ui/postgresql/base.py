"""Django's PostgreSQL backend, with a connection pool that fails fast when the database is down.

psycopg's pool makes a request wait its whole timeout (DATABASE_POOL_TIMEOUT, 10 s) when the
database is unreachable, then raises; SDKs and health probes give up long before that. Here a
request waits a short while for a pooled connection; if none comes, a direct connection
attempt tells a busy pool (keep waiting) from a database that is down (OperationalError at
once, which the middleware answers with 503 + Retry-After).
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool, PoolTimeout

FIRST_WAIT_SECONDS = 1.5


class FailFastPool:
    """Django's psycopg pool seen through getconn() that does not wait for a database that is down."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def getconn(self, timeout: float | None = None) -> psycopg.Connection:
        timeout = self._pool.timeout if timeout is None else timeout
        first_wait = min(FIRST_WAIT_SECONDS, timeout)
        try:
            return self._pool.getconn(timeout=first_wait)
        except PoolTimeout:
            pass
        # Every connection is busy, or the database is unreachable and the pool is waiting to
        # reconnect: a direct connection raises OperationalError at once in the second case.
        psycopg.connect(self._pool.conninfo, **self._pool.kwargs).close()
        return self._pool.getconn(timeout=max(timeout - first_wait, 0.1))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> FailFastPool | None:
        pool = super().pool
        return FailFastPool(pool) if pool is not None else None
