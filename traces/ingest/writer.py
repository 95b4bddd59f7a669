"""Store a Batch: idempotent upserts that merge in any order, costs, and trace aggregates.

Everything happens in one transaction; when store_batch returns, the data is committed.
Rows are written in id order so concurrent requests touching the same traces lock them in
the same order and cannot deadlock; a deadlock or serialization failure is retried anyway.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone
from psycopg import errors as pg_errors
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.types.json import Jsonb

from traces.ingest.records import Batch, ObservationRecord, ScoreRecord, TraceRecord
from traces.ingest.sanitize import clean_text, jsonb_text
from traces.models import Observation, Score, Trace

log = logging.getLogger(__name__)

RETRIES = 3
RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure, pg_errors.UndefinedTable)
PRICED_TYPES = {"GENERATION", "EMBEDDING"}


class JsonText(str):
    """JSON already serialised by jsonb_text, sent to PostgreSQL as jsonb without re-encoding."""


class JsonTextDumper(Dumper):
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: JsonText) -> bytes:
        return obj.encode()


_MISSING = object()


@dataclass
class Table:
    """Column order and value conversion of one data table, worked out once from the model."""

    model: type[models.Model]
    name: str = ""
    columns: list[str] = field(default_factory=list)
    # (column, is_json, default factory, max length of its text) in column order
    plan: list[tuple[str, bool, Any, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.model._meta.db_table
        for f in self.model._meta.concrete_fields:
            self.columns.append(f.column)
            is_json = isinstance(f, models.JSONField)
            if f.has_default():
                default = f.get_default
                if is_json and (not callable(f.default) or f.default in (dict, list)):
                    constant = JsonText(jsonb_text(f.get_default()))
                    default = lambda constant=constant: constant  # noqa: E731
            else:
                default = lambda: None  # noqa: E731
            # varchar(n) columns (and arrays of them) clip longer text instead of failing the batch.
            limit = getattr(getattr(f, "base_field", f), "max_length", None)
            self.plan.append((f.column, is_json, default, limit))

    @staticmethod
    def _convert(is_json: bool, raw: Any, limit: int | None = None) -> Any:
        if raw is None or type(raw) is JsonText:
            return raw
        if is_json:
            return JsonText(jsonb_text(raw))
        if type(raw) is str:
            return clean_text(raw)[:limit]
        if type(raw) is list:
            return [clean_text(v)[:limit] if type(v) is str else v for v in raw]
        return raw

    def row(self, values: dict[str, Any]) -> list[Any]:
        convert = self._convert
        out = []
        for column, is_json, default, limit in self.plan:
            raw = values.get(column, _MISSING)
            out.append(default() if raw is _MISSING else convert(is_json, raw, limit))
        return out


TRACES = Table(Trace)
OBSERVATIONS = Table(Observation)
SCORES = Table(Score)

# How a provided value merges with the stored one; anything else replaces it.
TRACE_MERGE = {
    "metadata": "coalesce(t.metadata, '{}'::jsonb) || EXCLUDED.metadata",
    "tags": "t.tags || ARRAY(SELECT x FROM unnest(EXCLUDED.tags) AS x WHERE NOT x = ANY(t.tags))",
    "timestamp": "LEAST(t.timestamp, EXCLUDED.timestamp)",
}
OBSERVATION_MERGE = {
    "metadata": "coalesce(t.metadata, '{}'::jsonb) || EXCLUDED.metadata",
}


def store_batch(project_id: str, batch: Batch) -> None:
    """Write the batch; retry on deadlock or serialization failure."""
    traces = _merge_by_id(batch.traces)
    observations = _merge_by_id(batch.observations)
    scores = _merge_by_id(batch.scores)
    for attempt in range(1, RETRIES + 1):
        try:
            with transaction.atomic():
                _write(project_id, traces, observations, scores)
            return
        except (DatabaseError, psycopg.Error) as exc:
            # Django wraps errors of its own cursors; the COPY cursor raises psycopg's directly.
            cause = exc.__cause__ if isinstance(exc, DatabaseError) else exc
            if attempt == RETRIES or not isinstance(cause, RETRYABLE):
                raise
            if isinstance(cause, pg_errors.UndefinedTable):
                # The session lost its staging tables (e.g. a pooler ran DISCARD ALL): make them anew.
                connection.connection.__dict__.pop("langfuse_stages", None)
            log.info("retrying ingestion write after %s (attempt %d)", cause.__class__.__name__, attempt)
            time.sleep(0.05 * attempt)


def _merge_by_id(records: Iterable) -> list:
    """Fold several records for one id (create then updates) into one, later values winning."""
    records = list(records)
    if len({record.id for record in records}) == len(records):  # the usual case: nothing to fold
        return sorted(records, key=lambda record: record.id)
    merged: dict[str, Any] = {}
    for record in records:
        current = merged.get(record.id)
        if current is None:
            merged[record.id] = type(record)(**{**record.__dict__, "fields": dict(record.fields)})
            continue
        for key, value in record.fields.items():
            if key == "metadata" and isinstance(value, dict) and isinstance(current.fields.get(key), dict):
                current.fields[key] = {**current.fields[key], **value}
            elif key == "tags" and isinstance(current.fields.get(key), list):
                current.fields[key] = current.fields[key] + [t for t in value if t not in current.fields[key]]
            else:
                current.fields[key] = value
        if isinstance(record, ObservationRecord) and record.trace_id:
            current.trace_id = record.trace_id
    return [merged[key] for key in sorted(merged)]


def _write(
    project_id: str,
    traces: list[TraceRecord],
    observations: list[ObservationRecord],
    scores: list[ScoreRecord],
) -> None:
    now = timezone.now()
    observation_rows = _observation_rows(project_id, observations) if observations else []

    trace_rows = {t.id: ({**t.fields}, set(t.fields)) for t in traces}
    # Every observation's trace gets a row, so nothing is orphaned when its trace-create comes later.
    for obs in observations:
        if obs.trace_id and obs.trace_id not in trace_rows:
            insert = {
                "timestamp": obs.fields.get("start_time") or now,
                "environment": obs.fields.get("environment") or "default",
            }
            trace_rows[obs.trace_id] = (insert, set())
    # A trace inserted by this batch has no observations but this batch's: its totals are
    # computed here and written with the insert (insert-only columns, never in the update).
    totals = trace_totals(observation_rows)
    for trace_id, (values, _provided) in trace_rows.items():
        values.update(totals.get(trace_id, {}))
    inserted = (
        _upsert(TRACES, project_id, now, sorted(trace_rows.items()), TRACE_MERGE) if trace_rows else set()
    )

    merged_into: set[str] = set()
    if observation_rows:
        new = _upsert(OBSERVATIONS, project_id, now, observation_rows, OBSERVATION_MERGE)
        # An update merged with what was stored: price the merged row again, and recompute its
        # trace from storage (insert totals above counted only this batch's part of the row).
        updated = [o for o in observations if o.id not in new]
        if updated:
            _price_observations(project_id, [o.id for o in updated])
            merged_into = {o.trace_id for o in updated if o.trace_id}
            unnamed = [o.id for o in updated if not o.trace_id]
            if unnamed:
                merged_into |= _lock_stored_traces(project_id, unnamed)
    if scores:
        rows = [(s.id, (dict(s.fields), set(s.fields) | {"_all"})) for s in scores]
        _upsert(SCORES, project_id, now, rows, {})
    # Traces that existed already (or that a concurrent request inserted first) are
    # recomputed from everything stored.
    stale = sorted(
        ({o.trace_id for o in observations if o.trace_id} | set(trace_rows)) - inserted | merged_into
    )
    if stale:
        refresh_trace_aggregates(project_id, stale)


def _lock_stored_traces(project_id: str, observation_ids: list[str]) -> set[str]:
    """The traces of stored observations an update named no trace for, locked in id order.

    Their rows were not locked by this batch's trace upsert; the lock makes the aggregate
    refresh that follows see every concurrent writer's committed observations.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT id FROM traces WHERE project_id = %s AND id IN (
                   SELECT trace_id FROM observations WHERE project_id = %s AND id = ANY(%s))
               ORDER BY id FOR UPDATE""",
            [project_id, project_id, observation_ids],
        )
        return {row[0] for row in cursor.fetchall()}


def _observation_rows(project_id: str, observations: list[ObservationRecord]) -> list:
    prompt_ids = _prompt_ids(project_id, observations)
    rows = []
    for obs in observations:
        values = dict(obs.fields)
        if "prompt_name" in values:
            values["prompt_id"] = prompt_ids.get((values["prompt_name"], values.get("prompt_version")))
        # Priced before it is written: exact for a new row, which is this record. A row that
        # turns out to exist already is priced again after the merge (see _write).
        values.update(_pricing_columns(project_id, values))
        provided = set(values)
        if obs.trace_id:
            values["trace_id"] = obs.trace_id
            provided.add("trace_id")
        rows.append((obs.id, (values, provided)))
    return rows


def _numbers(details: Any) -> dict[str, float]:
    if not isinstance(details, dict):
        return {}
    return {k: v for k, v in details.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def trace_totals(observation_rows: list) -> dict[str, dict[str, Any]]:
    """The aggregate columns of each trace over these observation rows; the same rules as AGGREGATE_SQL."""
    totals: dict[str, dict[str, Any]] = {}
    for _obs_id, (values, _provided) in observation_rows:
        trace_id = values.get("trace_id")
        if not trace_id:
            continue
        start = values.get("start_time")
        end = values.get("end_time") or start
        if start is not None and end is not None and end < start:
            end = start
        usage = _numbers(values.get("usage_details"))
        cost = _numbers(values.get("cost_details"))
        total = totals.setdefault(
            trace_id,
            {
                "start_time": None,
                "end_time": None,
                "observation_count": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "total_tokens": 0,
                "input_cost": Decimal(0),
                "output_cost": Decimal(0),
                "total_cost": Decimal(0),
                "error_count": 0,
                "warning_count": 0,
            },
        )
        if start is not None:
            total["start_time"] = start if total["start_time"] is None else min(total["start_time"], start)
            total["end_time"] = end if total["end_time"] is None else max(total["end_time"], end)
        total["observation_count"] += 1
        total["input_tokens"] += int(sum(v for k, v in usage.items() if "input" in k))
        total["output_tokens"] += int(sum(v for k, v in usage.items() if "output" in k))
        total["total_tokens"] += int(usage["total"] if "total" in usage else sum(usage.values()))
        total["input_cost"] += sum((Decimal(str(v)) for k, v in cost.items() if "input" in k), Decimal(0))
        total["output_cost"] += sum((Decimal(str(v)) for k, v in cost.items() if "output" in k), Decimal(0))
        total["total_cost"] += Decimal(str(values.get("total_cost") or 0))
        level = values.get("level")
        total["error_count"] += level == "ERROR"
        total["warning_count"] += level == "WARNING"
    return totals


def _upsert(
    table: Table,
    project_id: str,
    now: datetime,
    rows: list[tuple[str, tuple[dict, set]]],
    merge: dict[str, str],
) -> set[str]:
    """Insert the new rows, merge the stored ones; returns the ids this call inserted (not updated).

    Most rows of a batch are new: they all go in by one INSERT ... ON CONFLICT DO NOTHING, whatever
    columns each provided. Only rows already stored are then upserted, one statement per set of
    provided columns (the columns an update may overwrite). Besides fewer statements, this fires
    the statement-level triggers of the table once, not twice per set: ON CONFLICT DO UPDATE fires
    the UPDATE triggers as well as the INSERT ones.
    """
    built = []
    for row_id, (values, provided) in rows:
        values = {**values, "project_id": project_id, "id": row_id, "updated_at": now}
        values.setdefault("created_at", now)
        built.append((row_id, provided, table.row(values)))
    column_list = ", ".join(f'"{c}"' for c in table.columns)
    stage = f"stage_{table.name}"
    insert = f"INSERT INTO {table.name} AS t ({column_list}) SELECT {column_list} FROM {stage} ORDER BY id"
    with _server_cursor() as cursor:
        # Rows go in by COPY to a session-local staging table, then one INSERT ... SELECT
        # writes them: about twice as fast as a statement per row, and no giant SQL text.
        _ensure_stage(cursor, stage, table.name)
        new = _staged(
            cursor,
            stage,
            column_list,
            [row for _row_id, _provided, row in built],
            f"{insert} ON CONFLICT (project_id, id) DO NOTHING RETURNING t.id",
        )
        inserted = {row_id for (row_id,) in new}
        groups: dict[frozenset, list[list[Any]]] = {}
        for row_id, provided, row in built:
            if row_id not in inserted:
                groups.setdefault(frozenset(provided), []).append(row)
        for provided, value_rows in groups.items():
            if "_all" in provided:
                update = [c for c in table.columns if c not in ("project_id", "id", "created_at")]
            else:
                update = [c for c in table.columns if c in provided and c not in ("project_id", "id")]
                update.append("updated_at")
            assignments = ", ".join(f'"{c}" = {merge.get(c, f"EXCLUDED.{c}")}' for c in update)
            # A row deleted since the first statement is inserted here: xmax = 0 tells.
            merged = _staged(
                cursor,
                stage,
                column_list,
                value_rows,
                f"{insert} ON CONFLICT (project_id, id) DO UPDATE SET {assignments}"
                " RETURNING t.id, (t.xmax = 0) AS inserted",
            )
            inserted.update(row_id for row_id, was_inserted in merged if was_inserted)
    return inserted


def _staged(
    cursor: psycopg.Cursor, stage: str, column_list: str, value_rows: list[list[Any]], statement: str
) -> list[tuple]:
    """COPY value_rows into the staging table, run statement (which reads it), empty it again."""
    with cursor.copy(f"COPY {stage} ({column_list}) FROM STDIN") as copy:
        for row in value_rows:
            copy.write_row(row)
    cursor.execute(statement)
    result = cursor.fetchall()
    # Emptied at once, not only at commit: a caller's outer transaction may hold several batches.
    cursor.execute(f"DELETE FROM {stage}")
    return result


def _ensure_stage(cursor: psycopg.Cursor, stage: str, table: str) -> None:
    """Create the session's staging table once per database connection, not once per request.

    The table is remembered only after the creating transaction commits: a rollback undoes
    the CREATE, and the next request must then create it again.
    """
    made: set[str] = cursor.connection.__dict__.setdefault("langfuse_stages", set())
    if stage in made:
        return
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    transaction.on_commit(lambda: made.add(stage))


def _server_cursor() -> psycopg.Cursor:
    """A cursor with server-side parameters, so repeated statements are prepared once.

    Django's own cursors bind client-side: they would quote every value into the text.
    """
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    cursor.adapters.register_dumper(JsonText, JsonTextDumper)
    return cursor


def _prompt_ids(project_id: str, observations: list[ObservationRecord]) -> dict:
    """The prompt versions that generations name, looked up once for the whole batch."""
    from prompts.links import prompt_ids_for

    pairs = {
        (o.fields["prompt_name"], o.fields.get("prompt_version"))
        for o in observations
        if o.fields.get("prompt_name") and o.fields.get("prompt_version") is not None
    }
    return prompt_ids_for(project_id, pairs) if pairs else {}


def _pricing_columns(project_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """usage_details, cost_details, total_cost, model and tier of an observation's fields."""
    from traces.pricing import compute_cost
    from traces.usage import normalize_usage

    model = fields.get("provided_model_name")
    usage = fields.get("provided_usage_details")
    cost = fields.get("provided_cost_details")
    if fields.get("type") not in PRICED_TYPES and not model and not usage and not cost:
        return {}
    params = fields.get("model_parameters")
    metadata = fields.get("metadata")
    result = compute_cost(
        project_id,
        model or "",
        normalize_usage(usage_details=usage or {}),
        cost or {},
        params if isinstance(params, dict) else {},
        metadata if isinstance(metadata, dict) else {},
        fields.get("start_time"),
    )
    return {
        "usage_details": result.usage_details,
        "cost_details": {k: float(v) for k, v in result.cost_details.items()},
        "total_cost": result.total_cost,
        "internal_model_id": result.internal_model_id,
        "usage_pricing_tier_id": result.tier_id,
        "usage_pricing_tier_name": result.tier_name,
    }


def _price_observations(project_id: str, ids: list[str]) -> None:
    """Price the merged rows of observations that existed before this batch."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT id, type, start_time, provided_model_name, provided_usage_details, provided_cost_details,
                      model_parameters, metadata
               FROM observations WHERE project_id = %s AND id = ANY(%s)""",
            [project_id, ids],
        )
        rows = cursor.fetchall()
    updates = []
    for obs_id, obs_type, start, model, *json_columns in rows:
        usage, cost, params, metadata = (_loads(v) for v in json_columns)  # Django hands JSONB back as text
        fields = {
            "type": obs_type,
            "start_time": start,
            "provided_model_name": model,
            "provided_usage_details": usage,
            "provided_cost_details": cost,
            "model_parameters": params,
            "metadata": metadata,
        }
        columns = _pricing_columns(project_id, fields)
        if not columns:
            continue
        updates.append(
            [
                obs_id,
                Jsonb(columns["usage_details"]),
                Jsonb(columns["cost_details"]),
                columns["total_cost"],
                columns["internal_model_id"],
                columns["usage_pricing_tier_id"],
                columns["usage_pricing_tier_name"],
            ]
        )
    if not updates:
        return
    values = ", ".join(["(%s, %s::jsonb, %s::jsonb, %s::numeric, %s, %s, %s)"] * len(updates))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE observations AS o SET usage_details = v.usage, cost_details = v.cost, total_cost = v.total,
                       internal_model_id = v.model_id, usage_pricing_tier_id = v.tier_id,
                       usage_pricing_tier_name = v.tier_name
                FROM (VALUES {values}) AS v(id, usage, cost, total, model_id, tier_id, tier_name)
                WHERE o.project_id = %s AND o.id = v.id""",
            [value for row in updates for value in row] + [project_id],
        )


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


AGGREGATE_SQL = """
WITH obs AS MATERIALIZED (
    SELECT trace_id,
           min(start_time) AS first_start,
           max(greatest(coalesce(end_time, start_time), start_time)) AS last_end,
           count(*) AS n,
           sum((SELECT coalesce(sum(v::numeric), 0) FROM jsonb_each_text(usage_details) AS u(k, v)
                WHERE k LIKE '%%input%%' AND jsonb_typeof(usage_details -> k) = 'number')) AS input_tokens,
           sum((SELECT coalesce(sum(v::numeric), 0) FROM jsonb_each_text(usage_details) AS u(k, v)
                WHERE k LIKE '%%output%%' AND jsonb_typeof(usage_details -> k) = 'number')) AS output_tokens,
           sum(CASE WHEN jsonb_typeof(usage_details -> 'total') = 'number' THEN (usage_details ->> 'total')::numeric
                    ELSE (SELECT coalesce(sum(v::numeric), 0) FROM jsonb_each_text(usage_details) AS u(k, v)
                          WHERE jsonb_typeof(usage_details -> k) = 'number') END) AS total_tokens,
           sum((SELECT coalesce(sum(v::numeric), 0) FROM jsonb_each_text(cost_details) AS c(k, v)
                WHERE k LIKE '%%input%%' AND jsonb_typeof(cost_details -> k) = 'number')) AS input_cost,
           sum((SELECT coalesce(sum(v::numeric), 0) FROM jsonb_each_text(cost_details) AS c(k, v)
                WHERE k LIKE '%%output%%' AND jsonb_typeof(cost_details -> k) = 'number')) AS output_cost,
           sum(coalesce(total_cost, 0)) AS total_cost,
           count(*) FILTER (WHERE level = 'ERROR') AS errors,
           count(*) FILTER (WHERE level = 'WARNING') AS warnings
    FROM observations
    WHERE project_id = %(project)s AND trace_id = ANY(%(ids)s)
    GROUP BY trace_id
)
UPDATE traces AS t SET
    start_time = obs.first_start, end_time = obs.last_end, observation_count = obs.n,
    input_tokens = obs.input_tokens, output_tokens = obs.output_tokens, total_tokens = obs.total_tokens,
    input_cost = obs.input_cost, output_cost = obs.output_cost, total_cost = obs.total_cost,
    error_count = obs.errors, warning_count = obs.warnings
FROM obs
WHERE t.project_id = %(project)s AND t.id = ANY(%(ids)s) AND t.id = obs.trace_id
"""


def refresh_trace_aggregates(project_id: str, trace_ids: list[str]) -> None:
    """Recompute the denormalised totals of these traces from their observations.

    The CTE is MATERIALIZED and the traces side names the ids too, so the plan stays a
    single pass even on fresh tables without statistics (otherwise PostgreSQL may re-run
    the aggregate once per trace row of the project).
    """
    with connection.cursor() as cursor:
        cursor.execute(AGGREGATE_SQL, {"project": project_id, "ids": trace_ids})
