"""GET /score-configs and GET /score-configs/{id} (creating and updating live with ingestion)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from accounts.access import api_route
from traces.api.params import Params, answers_bad_request, not_found, page_params
from traces.api.serializers import score_config_json
from traces.models import ScoreConfig


@api_route()
@answers_bad_request
def list_score_configs(request: HttpRequest) -> JsonResponse:
    page = page_params(Params(request.GET))
    configs = ScoreConfig.objects.for_project(request.project)
    total = configs.count()
    rows = configs.order_by("-created_at", "id")[page.offset : page.offset + page.limit]
    return JsonResponse({"data": [score_config_json(c) for c in rows], "meta": page.meta(total)})


@api_route()
def get_score_config(request: HttpRequest, config_id: str) -> JsonResponse:
    config = ScoreConfig.objects.for_project(request.project).filter(id=config_id).first()
    if config is None:
        return not_found("Score config")
    return JsonResponse(score_config_json(config))
