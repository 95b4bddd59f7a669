"""The numbers at the top of the dashboard, for the window and the one before it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from traces.dashboards import percentiles, rollups
from traces.dashboards.base import SECONDS, Scope, with_traces
from traces.dashboards.charts import count, percent, seconds, usd

FORMATS = {"cost": usd, "tokens": count, "traces": count, "error_rate": percent, "p95_latency": seconds}


@dataclass(frozen=True)
class Totals:
    traces: int
    cost: Decimal
    tokens: int
    errors: int
    p95_latency: float | None  # seconds, over traces that have a start and an end

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.traces if self.traces else None


@dataclass(frozen=True)
class Change:
    label: str
    key: str
    current: float | Decimal | int | None
    previous: float | Decimal | int | None
    lower_is_better: bool | None = True  # None: neither direction is good or bad

    @property
    def ratio(self) -> float | None:
        """Relative change against the previous window; None when there is nothing to compare."""
        if self.current is None or self.previous in (None, 0):
            return None
        return float(self.current) / float(self.previous) - 1

    @property
    def text(self) -> str:
        return FORMATS[self.key](self.current)

    @property
    def previous_text(self) -> str:
        return FORMATS[self.key](self.previous)

    @property
    def change_text(self) -> str:
        ratio = self.ratio
        return "no previous data" if ratio is None else f"{ratio:+.1%} vs previous"

    @property
    def direction(self) -> str:
        ratio = self.ratio
        if ratio is None or ratio == 0:
            return "flat"
        if self.lower_is_better is None:
            return "up" if ratio > 0 else "down"
        worse = ratio > 0 if self.lower_is_better else ratio < 0
        return "worse" if worse else "better"


LATENCY = SECONDS.format(start="start_time", end="end_time")
TOTALS_SQL = f"""
SELECT count(*), coalesce(sum(total_cost), 0), coalesce(sum(total_tokens), 0),
       count(*) FILTER (WHERE error_count > 0),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY {LATENCY})
           FILTER (WHERE start_time IS NOT NULL AND end_time IS NOT NULL)
FROM t
"""
P95_SQL = f"""
SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY {LATENCY})
FROM t WHERE start_time IS NOT NULL AND end_time IS NOT NULL
"""


def p95_latency(scope: Scope) -> float | None:
    """From the daily latency rollup when the filters allow (the same number), else the raw rows."""
    if days := percentiles.days_of(scope):
        found = percentiles.exact(scope, days, percentiles.TRACE, percentiles.WHOLE, (0.95,))
        return found[0].values[0] if found else None
    [(p95,)] = with_traces(scope, P95_SQL)
    return p95


def totals(scope: Scope) -> Totals:
    """Counts and sums from the hourly rollups, p95 from the daily latency rollup, when the filters
    allow; otherwise from the raw rows."""
    if span := rollups.span_of(scope):
        count, cost, tokens, errors = rollups.totals(scope, span)
        p95 = p95_latency(scope)
        return Totals(traces=count, cost=cost, tokens=tokens, errors=errors, p95_latency=p95)
    [(count, cost, tokens, errors, p95)] = with_traces(scope, TOTALS_SQL)
    return Totals(traces=count, cost=Decimal(cost), tokens=int(tokens), errors=errors, p95_latency=p95)


def changes(scope: Scope) -> list[Change]:
    """Each headline number now and in the window of the same length just before."""
    now, before = totals(scope), totals(scope.previous)
    return [
        Change("Total cost", "cost", now.cost, before.cost),
        Change("Tokens", "tokens", now.tokens, before.tokens),
        Change("Traces", "traces", now.traces, before.traces, lower_is_better=None),
        Change("Error rate", "error_rate", now.error_rate, before.error_rate),
        Change("p95 latency", "p95_latency", now.p95_latency, before.p95_latency),
    ]
