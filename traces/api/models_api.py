"""GET /models, GET /models/{id}, DELETE /models/{id}: the project's models and the defaults.

Defaults (project=None) are visible to every project and read-only; a project overrides one by
creating its own model with the same modelName.
"""

from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.access import api_error, api_route
from traces.api.params import Params, answers_bad_request, not_found, page_params
from traces.api.serializers import model_json
from traces.models import LlmModel


@api_route()
@answers_bad_request
def list_models(request: HttpRequest) -> JsonResponse:
    page = page_params(Params(request.GET))
    models = LlmModel.objects.available_to(request.project)
    total = models.count()
    rows = models.order_by(
        F("project_id").asc(nulls_last=True), "model_name", F("start_date").desc(nulls_last=True), "id"
    ).prefetch_related("pricing_tiers__prices")[page.offset : page.offset + page.limit]
    return JsonResponse({"data": [model_json(m) for m in rows], "meta": page.meta(total)})


def _model(request: HttpRequest, model_id: str) -> LlmModel | None:
    models = LlmModel.objects.available_to(request.project).prefetch_related("pricing_tiers__prices")
    return models.filter(id=model_id).first()


@api_route()
def get_model(request: HttpRequest, model_id: str) -> JsonResponse:
    model = _model(request, model_id)
    if model is None:
        return not_found("Model")
    return JsonResponse(model_json(model))


@api_route()
def delete_model(request: HttpRequest, model_id: str) -> HttpResponse:
    model = LlmModel.objects.available_to(request.project).filter(id=model_id).first()
    if model is None:
        return not_found("Model")
    if model.project_id is None:
        return api_error(
            "Langfuse-managed default models are read-only. To change its prices, create a project model "
            "with the same modelName; project models win over defaults.",
            403,
            "Forbidden",
        )
    model.delete()
    return HttpResponse(status=204)
