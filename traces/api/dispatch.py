"""One view per URL of the read API, choosing the handler by HTTP method.

Several paths are shared between reads and writes (ingestion_routes.py, config_routes.py):
GET /scores vs POST /scores, GET /traces vs DELETE /traces vs legacy POST /traces, ...
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from traces.api import (
    config_routes,
    ingestion_routes,
    metrics,
    models_api,
    observations_read,
    score_configs,
    scores_read,
    sessions,
    traces_read,
)

View = Callable[..., HttpResponse]


def methods(**views: View) -> View:
    """A view that hands GET (and HEAD), POST, PATCH, DELETE to the handler given for it."""

    @csrf_exempt
    def dispatch(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        method = "GET" if request.method == "HEAD" else request.method
        if any(isinstance(v, str) and "\x00" in v for v in kwargs.values()):
            # No stored id holds a NUL character (ingestion refuses them, PostgreSQL text cannot hold one).
            return JsonResponse(
                {"message": "Not found: ids never contain NUL characters", "error": "NotFound"}, status=404
            )
        view = views.get(method)
        if view is None:
            allowed = sorted(views)
            response = JsonResponse(
                {
                    "message": f"Method {request.method} not allowed here; use {', '.join(allowed)}",
                    "error": "MethodNotAllowedError",
                },
                status=405,
            )
            response["Allow"] = ", ".join(allowed)
            return response
        return view(request, *args, **kwargs)

    return dispatch


traces = methods(
    GET=traces_read.list_traces, DELETE=traces_read.delete_traces, POST=ingestion_routes.create_trace
)
trace = methods(GET=traces_read.get_trace, DELETE=traces_read.delete_trace)
observations = methods(GET=observations_read.list_observations)
observation = methods(GET=observations_read.get_observation)
observations_v2 = methods(GET=observations_read.list_observations_v2)
session_list = methods(GET=sessions.list_sessions)
session = methods(GET=sessions.get_session)
scores = methods(GET=scores_read.list_scores, POST=ingestion_routes.create_scores)
score = methods(GET=scores_read.get_score, DELETE=scores_read.delete_score)
scores_v2 = methods(GET=scores_read.list_scores)
score_v2 = methods(GET=scores_read.get_score)
scores_v3 = methods(GET=scores_read.list_scores_v3)
score_config_list = methods(GET=score_configs.list_score_configs, POST=config_routes.create_score_config)
score_config = methods(GET=score_configs.get_score_config, PATCH=config_routes.update_score_config)
model_list = methods(GET=models_api.list_models, POST=config_routes.create_model)
model = methods(GET=models_api.get_model, DELETE=models_api.delete_model)
metrics_daily = methods(GET=metrics.daily)
