"""Exports: every trace matching a traces-list filter (or every session matching the sessions
list's search), as CSV or JSON Lines, streamed.

Rows are read in keyset chunks (the list's own sort and filter, CHUNK_SIZE rows per query), and
each chunk is encoded and handed to the response before the next is read, so a million rows
need neither one long query nor the memory to hold them. No transaction stays open between
chunks; a trace ingested during the export shows up or not, as on the list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from traces.keyset import keyset_page
from traces.list_queries import SORT_KEYS, matching_traces
from traces.models import Trace
from traces.people_queries import Group, group_page

CHUNK_SIZE = 1_000
COLUMNS = [
    "id",
    "timestamp",
    "name",
    "userId",
    "sessionId",
    "release",
    "version",
    "environment",
    "tags",
    "level",
    "latencySeconds",
    "observationCount",
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "inputCost",
    "outputCost",
    "totalCost",
    "input",
    "output",
    "metadata",
]


class ExportEncoder(DjangoJSONEncoder):
    """Costs as JSON numbers (the public API's form), datetimes as ISO 8601."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


_JSON = ExportEncoder(ensure_ascii=False, separators=(",", ":"))


def iter_trace_chunks(
    project, state: dict, now: datetime, chunk_size: int = CHUNK_SIZE, where: Q | None = None
) -> Iterator[list[Trace]]:
    """The matching traces in the list's order, one list of at most chunk_size rows per query;
    `where` narrows the list's filter further (the day of a scheduled export)."""
    sort = SORT_KEYS[state["sort"]]
    qs = matching_traces(project, state, now)
    if where is not None:
        qs = qs.filter(where)
    qs = qs.annotate(sort_key=sort.expression())
    cursor = None
    while True:
        page = keyset_page(
            qs,
            key="sort_key",
            parse=sort.parse,
            descending=state["order"] == "desc",
            after=cursor,
            size=chunk_size,
        )
        if page.rows:
            yield page.rows
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def level_of(trace: Trace) -> str:
    if trace.error_count:
        return "ERROR"
    if trace.warning_count:
        return "WARNING"
    return "DEFAULT"


def record_of(trace: Trace) -> dict[str, Any]:
    """One trace as an export record, with the public API's camelCase names."""
    return {
        "id": trace.id,
        "timestamp": trace.timestamp,
        "name": trace.name,
        "userId": trace.user_id,
        "sessionId": trace.session_id,
        "release": trace.release,
        "version": trace.version,
        "environment": trace.environment,
        "tags": list(trace.tags or []),
        "level": level_of(trace),
        "latencySeconds": trace.latency_seconds,
        "observationCount": trace.observation_count,
        "inputTokens": trace.input_tokens,
        "outputTokens": trace.output_tokens,
        "totalTokens": trace.total_tokens,
        "inputCost": trace.input_cost,
        "outputCost": trace.output_cost,
        "totalCost": trace.total_cost,
        "input": trace.input,
        "output": trace.output,
        "metadata": trace.metadata,
    }


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict | list | bool):
        return _JSON.encode(value)
    return value


def csv_chunks(
    chunks: Iterator[list], columns: list[str] = COLUMNS, record: Callable[[Any], dict] = record_of
) -> Iterator[str]:
    """The header, then one block of CSV lines per chunk of rows (traces by default)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield buffer.getvalue()
    for rows in chunks:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            values = record(row)
            writer.writerow([_csv_cell(values[column]) for column in columns])
        yield buffer.getvalue()


def jsonl_chunks(chunks: Iterator[list], record: Callable[[Any], dict] = record_of) -> Iterator[str]:
    """One block of JSON lines per chunk of rows (traces by default)."""
    for rows in chunks:
        yield "".join(_JSON.encode(record(row)) + "\n" for row in rows)


# --- Sessions -------------------------------------------------------------------------------

SESSION_COLUMNS = [
    "id",
    "firstTraceTimestamp",
    "lastTraceTimestamp",
    "durationSeconds",
    "traceCount",
    "userIds",
    "environments",
    "inputTokens",
    "outputTokens",
    "totalTokens",
    "totalCost",
]


def iter_session_chunks(project, state: dict, chunk_size: int = CHUNK_SIZE) -> Iterator[list[Group]]:
    """The sessions of the sessions list (its search), newest first, chunk_size per step."""
    state = {**state, "after": "", "before": ""}
    while True:
        page = group_page(project, "session", state, size=chunk_size)
        if page.rows:
            yield page.rows
        if not page.next_cursor:
            return
        state["after"] = page.next_cursor


def session_record(session: Group) -> dict[str, Any]:
    return {
        "id": session.id,
        "firstTraceTimestamp": session.first_seen,
        "lastTraceTimestamp": session.last_seen,
        "durationSeconds": session.duration_seconds,
        "traceCount": session.trace_count,
        "userIds": sorted(session.users),
        "environments": sorted(session.environments),
        "inputTokens": session.input_tokens,
        "outputTokens": session.output_tokens,
        "totalTokens": session.total_tokens,
        "totalCost": session.total_cost,
    }


def session_csv_chunks(chunks: Iterator[list[Group]]) -> Iterator[str]:
    return csv_chunks(chunks, SESSION_COLUMNS, session_record)


def session_jsonl_chunks(chunks: Iterator[list[Group]]) -> Iterator[str]:
    return jsonl_chunks(chunks, session_record)


async def as_async(blocks: Iterator[str]) -> AsyncIterator[str]:
    """The same blocks for an ASGI server: each one is produced (its query run) in Django's
    sync thread. Django would otherwise read a sync iterator to its end before sending a byte."""
    end = object()
    produce = sync_to_async(lambda: next(blocks, end), thread_sensitive=True)
    while (block := await produce()) is not end:
        yield block
