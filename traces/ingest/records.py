"""What every ingestion path (legacy batches, OTLP, single-object routes) produces for the writer.

`fields` holds only what the client actually provided, keyed by model field name
(traces.models.Trace / Observation / Score), with Python values: aware datetimes,
JSON-able values for JSON columns, lists of str for tags. Missing keys mean "keep what is
stored", which is how an update that arrives before its create still merges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TraceRecord:
    id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class ObservationRecord:
    id: str
    trace_id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScoreRecord:
    id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    traces: list[TraceRecord] = field(default_factory=list)
    observations: list[ObservationRecord] = field(default_factory=list)
    scores: list[ScoreRecord] = field(default_factory=list)
