"""A chart as the page shows it: a Plotly figure spec, and a table of the same numbers (with the
exact values for CSV and a link per cell to the traces behind it).

Figures are plain plotly.js specs (dicts): building them through plotly.graph_objects validates
every attribute and cost ~60 ms per chart in measurements, more than the query behind it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from traces.dashboards.series import Line, TimeSeries

PALETTE = [
    "#2563eb",
    "#f97316",
    "#16a34a",
    "#dc2626",
    "#9333ea",
    "#0891b2",
    "#ca8a04",
    "#db2777",
    "#4b5563",
    "#65a30d",
]
EMPTY = "\u2013"  # an en dash for a missing number
BUCKET_FORMATS = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "week of %Y-%m-%d"}


@dataclass(frozen=True)
class Cell:
    text: str
    value: Any = None  # the exact value, for CSV
    href: str | None = None
    numeric: bool = False


@dataclass
class Chart:
    key: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[Cell]]
    figure: dict | None = None
    footer: list[Cell] = field(default_factory=list)

    @property
    def data_id(self) -> str:
        return f"chart-{self.key}-data"

    @property
    def empty(self) -> bool:
        return not self.rows

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        for row in [*self.rows, *([self.footer] if self.footer else [])]:
            writer.writerow([csv_value(cell.value if cell.value is not None else "") for cell in row])
        return out.getvalue()


def csv_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# --- Formatting ------------------------------------------------------------------------------


def usd(value: Decimal | float | None) -> str:
    return EMPTY if value is None else f"${value:,.6f}"


def count(value: int | None) -> str:
    return EMPTY if value is None else f"{value:,}"


def seconds(value: float | None) -> str:
    return EMPTY if value is None else f"{value:,.3f} s"


def percent(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.1%}"


def number(value: float | None) -> str:
    return EMPTY if value is None else f"{value:,.3f}"


def money(value: Decimal) -> Cell:
    return Cell(usd(value), value, numeric=True)


# --- Figures ---------------------------------------------------------------------------------

HOVER = {
    "usd": "%{y:$,.6f}",
    "tokens": "%{y:,}",
    "seconds": "%{y:,.3f} s",
    "count": "%{y:,}",
    "ratio": "%{y:.1%}",
    "score": "%{y:,.3f}",
}


def plain(value: Any) -> Any:
    """What plotly.js plots: floats for Decimals, ISO strings for datetimes."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def layout(unit: str, **extra: Any) -> dict:
    axis = {"tickformat": "$,.4~f"} if unit == "usd" else {"tickformat": ".0%"} if unit == "ratio" else {}
    return {
        "margin": {"l": 60, "r": 20, "t": 10, "b": 40},
        "height": 300,
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.2},
        "yaxis": {"rangemode": "tozero", **axis},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        **extra,
    }


def time_trace(line: Line, labels: list[str], unit: str, kind: str, hrefs: list[str], i: int) -> dict:
    trace = {
        "type": kind,
        "name": line.name,
        "x": labels,
        "y": [plain(value) for value in line.values],
        "customdata": hrefs,
        "hovertemplate": f"{line.name}<br>%{{x}}<br>{HOVER[unit]}<extra></extra>",
        "marker": {"color": PALETTE[i % len(PALETTE)]},
    }
    if kind == "scatter":
        trace.update(mode="lines+markers", connectgaps=False, line={"color": PALETTE[i % len(PALETTE)]})
    return trace


def time_chart(
    key: str,
    title: str,
    description: str,
    series: TimeSeries,
    *,
    unit: str,
    bucket: str,
    fmt: Callable[[Any], str],
    link: Callable[[datetime, Line | None], str | None],
    kind: str = "bar",
    total: bool = False,
) -> Chart:
    """One row per bucket and one column per line; bars stack."""
    buckets = series.buckets
    rows = []
    for i, bucket_start in enumerate(buckets):
        row = [Cell(bucket_start.strftime(BUCKET_FORMATS[bucket]), bucket_start, link(bucket_start, None))]
        row += [
            Cell(fmt(line.values[i]), line.values[i], link(bucket_start, line), True) for line in series.lines
        ]
        if total:
            value = sum(line.values[i] for line in series.lines)
            row.append(Cell(fmt(value), value, numeric=True))
        rows.append(row)
    columns = ["Bucket", *[line.name for line in series.lines], *(["Total"] if total else [])]
    labels = [bucket_start.strftime(BUCKET_FORMATS[bucket]) for bucket_start in buckets]
    data = [
        time_trace(line, labels, unit, kind, [link(b, line) or "" for b in buckets], i)
        for i, line in enumerate(series.lines)
    ]
    figure = None
    if series.lines:
        figure = {"data": data, "layout": layout(unit, barmode="stack", xaxis={"type": "category"})}
    footer = []
    if total and series.lines:
        sums = [line.total for line in series.lines]
        footer = [Cell("Total"), *[Cell(fmt(s), s, numeric=True) for s in sums]]
        footer.append(Cell(fmt(sum(sums)), sum(sums), numeric=True))
    return Chart(key, title, description, columns, rows if series.lines else [], figure, footer)


def bar_figure(labels: list[str], values: list[Any], hrefs: list[str | None], unit: str) -> dict:
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels,
                "x": [plain(value) for value in values],
                "customdata": [href or "" for href in hrefs],
                "hovertemplate": f"%{{y}}<br>{HOVER[unit].replace('y', 'x')}<extra></extra>",
                "marker": {"color": PALETTE[0]},
            }
        ],
        "layout": layout(
            unit,
            height=max(200, 28 * len(labels) + 60),
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"rangemode": "tozero", **({"tickformat": "$,.4~f"} if unit == "usd" else {})},
            margin={"l": 10, "r": 20, "t": 10, "b": 40},
        ),
    }


def grouped_figure(
    labels: list[str], lines: list[tuple[str, list[Any]]], hrefs: list[str | None], unit: str
) -> dict:
    data = [
        {
            "type": "bar",
            "name": name,
            "x": labels,
            "y": [plain(value) for value in values],
            "customdata": [href or "" for href in hrefs],
            "hovertemplate": f"%{{x}}<br>{name}: {HOVER[unit]}<extra></extra>",
            "marker": {"color": PALETTE[i % len(PALETTE)]},
        }
        for i, (name, values) in enumerate(lines)
    ]
    return {"data": data, "layout": layout(unit, barmode="group", xaxis={"automargin": True})}
