"""Small factories for traces-list tests: traces, observations and scores with chosen fields."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from traces.models import Observation, Score, Trace

_ids = itertools.count(1)
ROW_ID = re.compile(r'data-trace-id="([^"]+)"')


def make_trace(project, trace_id: str | None = None, *, ago: timedelta = timedelta(0), **fields) -> Trace:
    now: datetime = fields.pop("now", None) or timezone.now()
    timestamp = fields.pop("timestamp", now - ago)
    latency = fields.pop("latency", None)
    if latency is not None:
        fields.setdefault("start_time", timestamp)
        fields.setdefault("end_time", timestamp + timedelta(seconds=latency))
    if "total_cost" in fields:
        fields["total_cost"] = Decimal(str(fields["total_cost"]))
    return Trace.objects.create(
        project=project, id=trace_id or f"t-{next(_ids)}", timestamp=timestamp, **fields
    )


def make_traces(project, count: int, prefix: str = "t", **fields) -> list[Trace]:
    """count traces one second apart, newest first: prefix-0 is the newest."""
    now = timezone.now()
    return Trace.objects.bulk_create(
        Trace(
            project=project,
            id=f"{prefix}-{i:04d}",
            timestamp=now - timedelta(seconds=i),
            **{"name": f"{prefix}-name-{i}", **fields},
        )
        for i in range(count)
    )


def make_observation(project, trace: Trace, **fields) -> Observation:
    return Observation.objects.create(project=project, id=f"o-{next(_ids)}", trace_id=trace.id, **fields)


def make_score(project, trace: Trace, name: str, value: float | None = None, **fields) -> Score:
    return Score.objects.create(
        project=project, id=f"s-{next(_ids)}", trace_id=trace.id, name=name, value=value, **fields
    )


def row_ids(html: str) -> list[str]:
    """The trace ids of the rows of a rendered traces table, top to bottom."""
    return ROW_ID.findall(html)
