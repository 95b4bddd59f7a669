"""Values per time bucket: cost by model, tokens by usage type, latency percentiles, trace volume
and error rate. Buckets are date_trunc(hour|day|week) of the trace's timestamp in UTC; a bucket
without data is 0 for sums and counts and None (a gap) for percentiles and averages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from traces.dashboards import percentiles, rollups
from traces.dashboards.base import OBSERVATIONS, SECONDS, Scope, with_traces

NO_MODEL = "(no model)"


@dataclass(frozen=True)
class Line:
    name: str
    values: list[Any]  # one per bucket

    @property
    def total(self) -> Any:
        return sum(value for value in self.values if value is not None)


@dataclass(frozen=True)
class TimeSeries:
    buckets: list[datetime]
    lines: list[Line]


def pivot(
    buckets: list[datetime], rows: list[tuple], zero: Any, order: list[str] | None = None
) -> TimeSeries:
    """(bucket, line name, value) rows into one line per name, largest total first unless `order`."""
    index = {bucket: i for i, bucket in enumerate(buckets)}
    values: dict[str, list[Any]] = defaultdict(lambda: [zero] * len(buckets))
    for bucket, name, value in rows:
        values[name][index[bucket]] = value
    lines = [Line(name, series) for name, series in values.items()]
    if order is not None:
        lines.sort(key=lambda line: order.index(line.name) if line.name in order else len(order))
    else:
        lines.sort(key=lambda line: (-line.total, line.name))
    return TimeSeries(buckets, lines)


def bucket_of(column: str = "t.timestamp") -> str:
    return f"date_trunc(%s, {column}, 'UTC')"


def cost_by_model(scope: Scope) -> TimeSeries:
    if span := rollups.span_of(scope):
        rows = rollups.cost_by_model(scope, span, NO_MODEL)
        return pivot(scope.period.buckets(), rows, Decimal(0))
    rows = with_traces(
        scope,
        f"""SELECT {bucket_of()}, coalesce(o.provided_model_name, %s), sum(o.total_cost)
            FROM t {OBSERVATIONS}
            WHERE o.total_cost IS NOT NULL
            GROUP BY 1, 2""",
        [scope.period.bucket, NO_MODEL, scope.project_id],
    )
    return pivot(scope.period.buckets(), rows, Decimal(0))


USAGE_ORDER = ["input", "input_cached_tokens", "output", "output_reasoning_tokens"]


def tokens_by_usage_type(scope: Scope) -> TimeSeries:
    """Every usage type the observations carry (input, output, cached, reasoning, audio, ...),
    except the `total` they add up to."""
    if span := rollups.span_of(scope):
        rows = rollups.tokens_by_usage_type(scope, span)
    else:
        rows = with_traces(
            scope,
            f"""SELECT {bucket_of()}, u.key, sum(u.value::numeric)
                FROM t {OBSERVATIONS}
                CROSS JOIN LATERAL jsonb_each(o.usage_details) AS u(key, value)
                WHERE o.usage_details <> '{{}}'::jsonb AND jsonb_typeof(u.value) = 'number' AND u.key <> 'total'
                GROUP BY 1, 2""",
            [scope.period.bucket, scope.project_id],
        )
    rows = [(bucket, key, int(value) if value == int(value) else value) for bucket, key, value in rows]
    series = pivot(scope.period.buckets(), rows, 0)
    known = [line for name in USAGE_ORDER for line in series.lines if line.name == name]
    rest = [line for line in series.lines if line.name not in USAGE_ORDER]
    return TimeSeries(series.buckets, known + rest)


PERCENTILES = ["p50", "p95", "p99"]


def latency_percentiles(scope: Scope) -> TimeSeries:
    """Trace latency (first observation's start to last one's end) p50/p95/p99 per bucket, from the
    latency rollups when the filters allow (the same numbers); hour buckets from hour rows only."""
    if days := percentiles.days_of(scope, whole_days=scope.period.bucket != "hour"):
        grouping = percentiles.by_time(scope.period.bucket)
        found = percentiles.exact(scope, days, percentiles.TRACE, grouping, percentiles.QUANTILES)
        flat = [(row.group, name, row.values[i]) for row in found for i, name in enumerate(PERCENTILES)]
        return pivot(scope.period.buckets(), flat, None, order=PERCENTILES)
    seconds = SECONDS.format(start="t.start_time", end="t.end_time")
    rows = with_traces(
        scope,
        f"""SELECT {bucket_of()},
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds}),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY {seconds}),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY {seconds})
            FROM t WHERE t.start_time IS NOT NULL AND t.end_time IS NOT NULL
            GROUP BY 1""",
        [scope.period.bucket],
    )
    flat = [(row[0], name, row[i + 1]) for row in rows for i, name in enumerate(PERCENTILES)]
    return pivot(scope.period.buckets(), flat, None, order=PERCENTILES)


@dataclass(frozen=True)
class Volume:
    buckets: list[datetime]
    traces: list[int]
    errors: list[int]

    @property
    def error_rates(self) -> list[float | None]:
        return [
            errors / count if count else None for count, errors in zip(self.traces, self.errors, strict=True)
        ]


def trace_volume(scope: Scope) -> Volume:
    if span := rollups.span_of(scope):
        rows = rollups.trace_volume(scope, span)
    else:
        rows = with_traces(
            scope,
            f"SELECT {bucket_of()}, count(*), count(*) FILTER (WHERE t.error_count > 0) FROM t GROUP BY 1",
            [scope.period.bucket],
        )
    buckets = scope.period.buckets()
    index = {bucket: i for i, bucket in enumerate(buckets)}
    traces, errors = [0] * len(buckets), [0] * len(buckets)
    for bucket, count, failed in rows:
        traces[index[bucket]], errors[index[bucket]] = count, failed
    return Volume(buckets, traces, errors)


def score_averages(scope: Scope) -> TimeSeries:
    """Average value per numeric or boolean score name per bucket (trace and observation scores
    of the matching traces; categorical scores have no average). The average is
    sum(value::numeric) / count, the same with the rollups or without (a float sum is not)."""
    if span := rollups.span_of(scope):
        rows = rollups.score_averages(scope, span)
    else:
        rows = with_traces(
            scope,
            f"""SELECT {bucket_of()}, s.name, sum(s.value::numeric) / count(*)
                FROM t {rollups.SCORES} WHERE {rollups.AVERAGED}
                GROUP BY 1, 2""",
            [scope.period.bucket, scope.project_id],
        )
    rows = [(bucket, name, float(average)) for bucket, name, average in rows]
    series = pivot(scope.period.buckets(), rows, None)
    return TimeSeries(series.buckets, sorted(series.lines, key=lambda line: line.name))
