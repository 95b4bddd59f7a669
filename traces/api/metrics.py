"""GET /metrics/daily: per day, traces, observations, cost and usage per model (Langfuse's legacy
route, still called by older SDKs and scripts)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from accounts.access import api_route
from traces.api.params import Params, answers_bad_request, page_params
from traces.queries import DailyMetrics, TraceFilters, daily_days, daily_metrics, traces_matching


def daily_json(day: DailyMetrics) -> dict:
    return {
        "date": day.day.isoformat(),
        "countTraces": day.count_traces,
        "countObservations": day.count_observations,
        "totalCost": day.total_cost,
        "usage": [
            {
                "model": usage.model,
                "inputUsage": usage.input_usage,
                "outputUsage": usage.output_usage,
                "totalUsage": usage.total_usage,
                "countTraces": usage.count_traces,
                "countObservations": usage.count_observations,
                "totalCost": usage.total_cost,
            }
            for usage in day.usage
        ],
    }


@api_route()
@answers_bad_request
def daily(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    page = page_params(params)
    filters = TraceFilters(
        name=params.get("traceName"),
        user_id=params.get("userId"),
        tags=params.getlist("tags"),
        environments=params.csv("environment"),
        from_timestamp=params.timestamp("fromTimestamp"),
        to_timestamp=params.timestamp("toTimestamp"),
    )
    traces = traces_matching(request.project, filters)
    days = daily_days(traces)
    total = days.count()
    rows = list(days[page.offset : page.offset + page.limit])
    data = [daily_json(day) for day in daily_metrics(request.project, traces, rows)]
    return JsonResponse({"data": data, "meta": page.meta(total)})
