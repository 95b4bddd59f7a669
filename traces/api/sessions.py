"""GET /sessions and GET /sessions/{id}: sessions are traces sharing a session id."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from accounts.access import api_route
from traces.api.params import Params, answers_bad_request, not_found, page_params
from traces.api.serializers import session_json, trace_json
from traces.models import Trace
from traces.queries import sessions


@api_route()
@answers_bad_request
def list_sessions(request: HttpRequest) -> JsonResponse:
    params = Params(request.GET)
    page = page_params(params)
    rows = sessions(
        request.project,
        from_timestamp=params.timestamp("fromTimestamp"),
        to_timestamp=params.timestamp("toTimestamp"),
        environments=params.csv("environment"),
    )
    total = rows.count()
    data = [
        session_json(row["session_id"], request.project.id, row["created_at"], row["environment"])
        for row in rows[page.offset : page.offset + page.limit]
    ]
    return JsonResponse({"data": data, "meta": page.meta(total)})


@api_route()
@answers_bad_request
def get_session(request: HttpRequest, session_id: str) -> JsonResponse:
    traces = list(
        Trace.objects.for_project(request.project).filter(session_id=session_id).order_by("timestamp", "id")
    )
    if not traces:
        return not_found("Session")
    created_at = min(trace.timestamp for trace in traces)
    environment = max(trace.environment for trace in traces)
    data = session_json(session_id, request.project.id, created_at, environment)
    data["traces"] = [trace_json(trace) for trace in traces]
    return JsonResponse(data)
