"""Every chart of the project dashboard, by key: the query behind it and how it is drawn.

Each builder takes a Scope and returns a Chart whose table holds exactly the numbers plotted,
and whose cells link to the traces list filtered to that bar or point.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from traces.dashboards import breakdowns, scores, series
from traces.dashboards.base import Scope
from traces.dashboards.charts import (
    BUCKET_FORMATS,
    PALETTE,
    Cell,
    Chart,
    bar_figure,
    count,
    grouped_figure,
    layout,
    money,
    number,
    percent,
    seconds,
    time_chart,
    usd,
)
from traces.dashboards.series import NO_MODEL, Line

NONE_LABELS = {
    "team": "(no team)",
    "user": "(no user)",
    "name": "(no name)",
    "environment": "(none)",
    "release": "(no release)",
    "session": "(no session)",
}


def cost_over_time(scope: Scope) -> Chart:
    def link(bucket: datetime, line: Line | None) -> str:
        model = line.name if line is not None and line.name != NO_MODEL else None
        return scope.bucket_link(bucket, **({"model": model} if model else {}))

    return time_chart(
        "cost-by-model",
        "Cost over time by model",
        "Sum of observation costs, stacked by the model the client named.",
        series.cost_by_model(scope),
        unit="usd",
        bucket=scope.period.bucket,
        fmt=usd,
        link=link,
        total=True,
    )


def tokens_over_time(scope: Scope) -> Chart:
    return time_chart(
        "tokens-by-type",
        "Tokens over time by usage type",
        "Input, cached input, output, reasoning and any other usage type the observations report.",
        series.tokens_by_usage_type(scope),
        unit="tokens",
        bucket=scope.period.bucket,
        fmt=count,
        link=lambda bucket, line: scope.bucket_link(bucket),
        total=True,
    )


def latency_over_time(scope: Scope) -> Chart:
    return time_chart(
        "latency",
        "Trace latency percentiles over time",
        "p50, p95 and p99 of trace latency (first observation's start to last observation's end).",
        series.latency_percentiles(scope),
        unit="seconds",
        bucket=scope.period.bucket,
        fmt=seconds,
        link=lambda bucket, line: scope.bucket_link(bucket),
        kind="scatter",
    )


def volume_over_time(scope: Scope) -> Chart:
    volume = series.trace_volume(scope)
    hrefs = [scope.bucket_link(bucket) for bucket in volume.buckets]
    errors_hrefs = [scope.bucket_link(bucket, level="ERROR") for bucket in volume.buckets]
    rates = volume.error_rates
    x = [bucket.strftime(BUCKET_FORMATS[scope.period.bucket]) for bucket in volume.buckets]
    figure = {
        "data": [
            {
                "type": "bar",
                "name": "Traces",
                "x": x,
                "y": volume.traces,
                "customdata": hrefs,
                "hovertemplate": "%{x}<br>%{y:,} traces<extra></extra>",
                "marker": {"color": "#2563eb"},
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Error rate",
                "x": x,
                "y": rates,
                "yaxis": "y2",
                "customdata": errors_hrefs,
                "hovertemplate": "%{x}<br>%{y:.1%} with errors<extra></extra>",
                "line": {"color": "#dc2626"},
            },
        ],
        "layout": layout(
            "count",
            xaxis={"type": "category"},
            yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero"},
        ),
    }
    fmt = BUCKET_FORMATS[scope.period.bucket]
    rows = [
        [
            Cell(bucket.strftime(fmt), bucket, hrefs[i]),
            Cell(count(volume.traces[i]), volume.traces[i], hrefs[i], True),
            Cell(count(volume.errors[i]), volume.errors[i], errors_hrefs[i], True),
            Cell(percent(rates[i]), rates[i], numeric=True),
        ]
        for i, bucket in enumerate(volume.buckets)
    ]
    total, errors = sum(volume.traces), sum(volume.errors)
    footer = [
        Cell("Total"),
        Cell(count(total), total, numeric=True),
        Cell(count(errors), errors, numeric=True),
        Cell(percent(errors / total if total else None), errors / total if total else None, numeric=True),
    ]
    return Chart(
        "volume",
        "Trace volume and error rate",
        "Traces per bucket, and the share of them with at least one ERROR observation.",
        ["Bucket", "Traces", "With errors", "Error rate"],
        rows if total else [],
        figure,
        footer,
    )


def scores_over_time(scope: Scope) -> Chart:
    return time_chart(
        "scores",
        "Score averages over time",
        "Average value of each numeric and boolean score (booleans as 0/1) of the matching traces.",
        series.score_averages(scope),
        unit="score",
        bucket=scope.period.bucket,
        fmt=number,
        link=lambda bucket, line: scope.bucket_link(bucket, **({"score_name": line.name} if line else {})),
        kind="scatter",
    )


def cost_breakdown(dimension: str, key: str, title: str, description: str, *, skip_empty: bool = False):
    def build(scope: Scope) -> Chart:
        groups = breakdowns.cost_by(scope, dimension, skip_empty=skip_empty)
        labels, hrefs, rows = [], [], []
        for group in groups:
            if group.other:
                label, href = "(all others)", None
            elif group.key is None:
                label, href = NONE_LABELS[dimension], None
            else:
                label, href = group.key, scope.link(**group_filter(scope, dimension, group.key))
            labels.append(label)
            hrefs.append(href)
            rows.append(
                [
                    Cell(label, group.key if not group.other else label, href),
                    money(group.cost),
                    Cell(count(group.traces), group.traces, numeric=True),
                    Cell(count(group.tokens), group.tokens, numeric=True),
                ]
            )
        heading, title_text = dimension.capitalize(), title
        if dimension == "team":
            heading, title_text = f"Team ({scope.team_key})", f"{title} (metadata key “{scope.team_key}”)"
        figure = bar_figure(labels, [group.cost for group in groups], hrefs, "usd") if groups else None
        return Chart(key, title_text, description, [heading, "Cost", "Traces", "Tokens"], rows, figure)

    return build


def group_filter(scope: Scope, dimension: str, value: str) -> dict:
    if dimension == "team":
        return {"meta_key": scope.team_key, "meta_value": value}
    return {dimension: value}


def most_expensive_traces(scope: Scope) -> Chart:
    found = breakdowns.most_expensive_traces(scope)
    base = f"/project/{scope.project_id}/traces/"
    rows = [
        [
            Cell(trace.id, trace.id, base + trace.id),
            Cell(trace.name or "", trace.name),
            Cell(trace.user_id or "", trace.user_id),
            Cell(trace.timestamp.strftime("%Y-%m-%d %H:%M:%S"), trace.timestamp),
            money(trace.cost),
            Cell(count(trace.tokens), trace.tokens, numeric=True),
            Cell(seconds(trace.latency), trace.latency, numeric=True),
        ]
        for trace in found
    ]
    labels = [f"{trace.name or trace.id} · {trace.id[:8]}" for trace in found]
    figure = (
        bar_figure(labels, [t.cost for t in found], [base + t.id for t in found], "usd") if found else None
    )
    return Chart(
        "top-traces",
        "Most expensive traces",
        "The 20 traces with the highest total cost.",
        ["Trace", "Name", "User", "Time", "Cost", "Tokens", "Latency"],
        rows,
        figure,
    )


def percentile_chart(
    key: str,
    title: str,
    description: str,
    heading: str,
    found: list,
    link: Callable[[str | None], str | None],
) -> Chart:
    labels = [row.key or "(none)" for row in found]
    hrefs = [link(row.key) for row in found]
    rows = [
        [
            Cell(labels[i], row.key, hrefs[i]),
            Cell(count(row.count), row.count, numeric=True),
            *[Cell(seconds(value), value, numeric=True) for value in (row.p50, row.p95, row.p99)],
        ]
        for i, row in enumerate(found)
    ]
    lines = [(name, [getattr(row, name) for row in found]) for name in ("p50", "p95", "p99")]
    figure = grouped_figure(labels, lines, hrefs, "seconds") if found else None
    return Chart(key, title, description, [heading, "Count", "p50", "p95", "p99"], rows, figure)


def latency_by_model(scope: Scope) -> Chart:
    return percentile_chart(
        "latency-by-model",
        "Latency by model",
        "Duration percentiles of observations that name a model (top 20 models by count).",
        "Model",
        breakdowns.latency_by_model(scope),
        lambda model: scope.link(model=model) if model else None,
    )


def latency_by_name(scope: Scope) -> Chart:
    return percentile_chart(
        "latency-by-name",
        "Latency by trace name",
        "Trace latency percentiles per trace name, the agent or workflow (top 20 by count).",
        "Trace name",
        breakdowns.latency_by_trace_name(scope),
        lambda name: scope.link(name=name) if name else None,
    )


def time_to_first_token(scope: Scope) -> Chart:
    return percentile_chart(
        "ttft",
        "Time to first token",
        "Completion start minus start of generations that report it, per model.",
        "Model",
        breakdowns.time_to_first_token(scope),
        lambda model: scope.link(model=model) if model and model != NO_MODEL else None,
    )


def scores_by_prompt(scope: Scope) -> Chart:
    found = scores.by_prompt_version(scope)
    versions = sorted({(row.prompt, row.version) for row in found})
    labels = [f"{prompt} v{version}" for prompt, version in versions]
    names = sorted({row.score for row in found})
    average = {(row.score, row.prompt, row.version): row.average for row in found}
    lines = [(name, [average.get((name, *version)) for version in versions]) for name in names]
    rows = [
        [
            Cell(row.score, row.score, scope.link(score_name=row.score)),
            Cell(row.prompt, row.prompt, f"/project/{scope.project_id}/prompts/{row.prompt}"),
            Cell(str(row.version), row.version, numeric=True),
            Cell(number(row.average), row.average, numeric=True),
            Cell(count(row.count), row.count, numeric=True),
        ]
        for row in found
    ]
    hrefs = [None] * len(labels)
    figure = grouped_figure(labels, lines, hrefs, "score") if found else None
    return Chart(
        "scores-by-prompt",
        "Scores by prompt version",
        "Average score per prompt version: a generation's score counts for its prompt, a trace's "
        "score for each prompt version its generations used.",
        ["Score", "Prompt", "Version", "Average", "Count"],
        rows,
        figure,
    )


def score_distribution(scope: Scope) -> Chart:
    found = scores.distribution(scope)
    names = sorted({row.score for row in found})
    data = []
    for i, name in enumerate(names):
        mine = [row for row in found if row.score == name]
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": [row.value for row in mine],
                "y": [row.count for row in mine],
                "customdata": [scope.link(score_name=name) for _ in mine],
                "hovertemplate": f"{name} = %{{x}}<br>%{{y:,}} scores<extra></extra>",
                "marker": {"color": PALETTE[i % len(PALETTE)]},
            }
        )
    rows = [
        [
            Cell(row.score, row.score, scope.link(score_name=row.score)),
            Cell(row.value, row.value),
            Cell(count(row.count), row.count, numeric=True),
        ]
        for row in found
    ]
    figure = None
    if found:
        figure = {"data": data, "layout": layout("count", barmode="group", xaxis={"type": "category"})}
    return Chart(
        "score-distribution",
        "Score distributions",
        "How often each value occurs per score: categories, true/false, numbers rounded to 2 decimals.",
        ["Score", "Value", "Count"],
        rows,
        figure,
    )


CHARTS: dict[str, Callable[[Scope], Chart]] = {
    "cost-by-model": cost_over_time,
    "cost-by-team": cost_breakdown(
        "team", "cost-by-team", "Cost by team", "Trace cost grouped by a metadata key of the trace."
    ),
    "cost-by-user": cost_breakdown(
        "user", "cost-by-user", "Cost by user", "The 20 users with the highest cost, then everyone else."
    ),
    "cost-by-name": cost_breakdown(
        "name", "cost-by-name", "Cost by trace name", "Trace cost per trace name: the agent or workflow."
    ),
    "cost-by-environment": cost_breakdown(
        "environment", "cost-by-environment", "Cost by environment", "Trace cost per environment."
    ),
    "cost-by-release": cost_breakdown(
        "release", "cost-by-release", "Cost by release", "Trace cost per release."
    ),
    "top-sessions": cost_breakdown(
        "session",
        "top-sessions",
        "Most expensive sessions",
        "The 20 sessions with the highest cost, then all other sessions.",
        skip_empty=True,
    ),
    "top-traces": most_expensive_traces,
    "tokens-by-type": tokens_over_time,
    "volume": volume_over_time,
    "latency": latency_over_time,
    "latency-by-model": latency_by_model,
    "latency-by-name": latency_by_name,
    "ttft": time_to_first_token,
    "scores": scores_over_time,
    "scores-by-prompt": scores_by_prompt,
    "score-distribution": score_distribution,
}
