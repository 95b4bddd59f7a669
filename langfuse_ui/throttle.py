"""Failure rate limits that hold across server processes and replicas.

Failures are counted in PostgreSQL (one atomic upsert per failed attempt, fixed windows), so N
replicas share one count. Successful requests never write: each process remembers the buckets it
has seen go over their limit and refuses them from memory until the window ends. A replica that has
not seen a bucket's block yet learns it on that bucket's next failure, so across N replicas an
attacker gains at most N extra attempts per window.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass

from django.db import connection

MAX_REMEMBERED_BLOCKS = 10_000

clock = time.time  # seconds since the epoch; windows are aligned to it on every process
_blocked_until: dict[str, float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Limit:
    """At most `failures` failed attempts per bucket in each window of `window_seconds`."""

    kind: str
    failures: int
    window_seconds: int = 60

    def bucket(self, value: str) -> str:
        # Hashed: a fixed-size primary key whatever a client sends, and no raw keys in the table.
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return f"{self.kind}:{digest}"


def retry_after(buckets: list[str]) -> int | None:
    """Seconds until the latest block among these buckets ends, from this process's memory."""
    if not _blocked_until:
        return None
    now = clock()
    until = max((_blocked_until.get(bucket, 0.0) for bucket in buckets), default=0.0)
    return math.ceil(until - now) if until > now else None


def record_failure(checks: list[tuple[Limit, str]]) -> int | None:
    """Count one failure in each bucket; the Retry-After seconds if any bucket is now over its limit."""
    now = clock()
    longest = None
    with connection.cursor() as cursor:
        for limit, value in checks:
            if limit.failures <= 0:
                continue
            window = int(now // limit.window_seconds)
            bucket = limit.bucket(value)
            cursor.execute(
                """
                INSERT INTO langfuse_auth_failure_window AS t (bucket, "window", failures)
                VALUES (%s, %s, 1)
                ON CONFLICT (bucket) DO UPDATE SET
                    failures = CASE WHEN t."window" = EXCLUDED."window" THEN t.failures + 1 ELSE 1 END,
                    "window" = EXCLUDED."window"
                RETURNING failures
                """,
                [bucket, window],
            )
            failures = cursor.fetchone()[0]
            if failures == 1:  # first failure of a window: forget the buckets of older windows
                cursor.execute(
                    'DELETE FROM langfuse_auth_failure_window WHERE bucket LIKE %s AND "window" < %s',
                    [f"{limit.kind}:%", window - 1],
                )
            if failures > limit.failures:
                until = (window + 1) * limit.window_seconds
                _remember_block(bucket, until)
                seconds = math.ceil(until - now)
                longest = max(longest or 0, seconds)
    return longest


def _remember_block(bucket: str, until: float) -> None:
    with _lock:
        if len(_blocked_until) >= MAX_REMEMBERED_BLOCKS:
            now = clock()
            for stale in [key for key, end in _blocked_until.items() if end <= now]:
                del _blocked_until[stale]
            if len(_blocked_until) >= MAX_REMEMBERED_BLOCKS:
                _blocked_until.clear()  # under a flood of addresses, the database count still holds
        _blocked_until[bucket] = until


def forget_blocks() -> None:
    """Clear this process's memory of blocks (tests; the database counts stay)."""
    with _lock:
        _blocked_until.clear()
