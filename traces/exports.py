"""Trace exports: every trace matching a traces-list filter, as CSV or JSON Lines, streamed.

Rows are read in keyset chunks (the list's own sort and filter, CHUNK_SIZE rows per query), and
each chunk is encoded and handed to the response before the next is read, so a million rows
need neither one long query nor the memory to hold them. No transaction stays open between
chunks; a trace ingested during the export shows up or not, as on the list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from traces.keyset import keyset_page
from traces.list_queries import SORT_KEYS, matching_traces
from traces.models import Trace

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


def csv_chunks(chunks: Iterator[list[Trace]]) -> Iterator[str]:
    """The header, then one block of CSV lines per chunk of traces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    for traces in chunks:
        buffer.seek(0)
        buffer.truncate()
        for trace in traces:
            record = record_of(trace)
            writer.writerow([_csv_cell(record[column]) for column in COLUMNS])
        yield buffer.getvalue()


def jsonl_chunks(chunks: Iterator[list[Trace]]) -> Iterator[str]:
    """One block of JSON lines per chunk of traces."""
    for traces in chunks:
        yield "".join(_JSON.encode(record_of(trace)) + "\n" for trace in traces)


async def as_async(blocks: Iterator[str]) -> AsyncIterator[str]:
    """The same blocks for an ASGI server: each one is produced (its query run) in Django's
    sync thread. Django would otherwise read a sync iterator to its end before sending a byte."""
    end = object()
    produce = sync_to_async(lambda: next(blocks, end), thread_sensitive=True)
    while (block := await produce()) is not end:
        yield block
